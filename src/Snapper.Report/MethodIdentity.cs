using Snapper.Store;

namespace Snapper.Report;

/// <summary>How a frame is drawn and grouped in reports: the target's own code, framework code, runtime transitions, native code.</summary>
public enum FrameCategory
{
    Own,
    Framework,
    Transition,
    Native,
}

/// <summary>
/// A method without its source position. Frames are interned per line (<see cref="FrameInfo.File"/>, <see cref="FrameInfo.Line"/>),
/// but people read profiles per method, so every report groups the lines of one method under this key.
/// </summary>
public readonly record struct MethodIdentity(FrameKind Kind, string Module, string TypeName, string MethodName)
{
    public static MethodIdentity Of(FrameInfo frame) => new(frame.Kind, frame.Module, frame.TypeName, frame.MethodName);

    /// <summary>Same rule as <see cref="FrameInfo.DisplayName"/>, so a method reads the same everywhere.</summary>
    public string DisplayName => TypeName.Length == 0 ? MethodName : TypeName + "." + MethodName;

    public FrameCategory Category => Kind switch
    {
        FrameKind.Transition => FrameCategory.Transition,
        FrameKind.Native => FrameCategory.Native,
        _ => IsFrameworkModule(Module) ? FrameCategory.Framework : FrameCategory.Own,
    };

    /// <summary>
    /// Framework assemblies are recognised by name only: the store keeps the file name, not the path, and the names
    /// Microsoft ships under are stable enough for colouring. Ordinal so the answer never depends on the culture.
    /// </summary>
    static bool IsFrameworkModule(string module) =>
        module.StartsWith("System.", StringComparison.Ordinal)
        || module.StartsWith("Microsoft.", StringComparison.Ordinal)
        || module is "System" or "mscorlib" or "mscorlib.dll" or "netstandard" or "netstandard.dll";
}
