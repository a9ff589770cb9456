using System.Reflection;
using System.Runtime.CompilerServices;

namespace Snapper.Sampling;

/// <summary>
/// Compiles Snapper's sampling code before the capture starts. A method is JIT-compiled on its first call, and the
/// first samples call many for the first time (the running threads' walk, the stack checks), each compile adding to a
/// pause the target sits through: the second and third pause of a session were 4-6 ms instead of 0.2. Compiled now,
/// while the target runs, they cost it nothing but the CPU time.
/// </summary>
static class SamplingCode
{
    static bool _compiled;

    public static void Compile()
    {
        if (_compiled) return;
        _compiled = true;
        const BindingFlags all = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        foreach (var type in typeof(SamplingCode).Assembly.GetTypes())
        {
            if (type.Namespace?.StartsWith("Snapper.Sampling", StringComparison.Ordinal) != true || type.ContainsGenericParameters) continue;
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (method.IsAbstract || method.ContainsGenericParameters || method.GetMethodImplementationFlags().HasFlag(MethodImplAttributes.InternalCall)) continue;
                try
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or TypeLoadException or BadImageFormatException)
                {
                    // A method the runtime will not compile ahead of its call (a P/Invoke stub, say): its first call pays.
                }
            }
        }
    }
}
