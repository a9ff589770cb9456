using System.Reflection;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The DAC's COM interfaces that ClrMD holds but does not expose (IXCLRDataProcess, ISOSDacInterface), for the few
/// calls Snapper needs that ClrMD has no public method for. Found by reflection through ClrMD's own objects only, a
/// few levels deep; null when this ClrMD version is shaped differently, and the callers then do without.
/// </summary>
static class DacInterfaces
{
    /// <param name="wrapperTypeName">ClrMD's internal wrapper class: "ClrDataProcess", "SOSDac".</param>
    /// <returns>The interface pointer (the wrapper's Self), or null.</returns>
    public static nint? Find(ClrRuntime runtime, string wrapperTypeName)
    {
        try
        {
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            var level = new List<object> { runtime };
            for (var depth = 0; depth < 4 && level.Count > 0; depth++)
            {
                var next = new List<object>();
                foreach (var item in level)
                {
                    if (!seen.Add(item)) continue;
                    if (item.GetType().Name == wrapperTypeName) return SelfOf(item);
                    for (var type = item.GetType(); type is not null; type = type.BaseType)
                        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                            if (!field.FieldType.IsValueType && field.GetValue(item) is { } value && value.GetType().Assembly == typeof(ClrRuntime).Assembly)
                                next.Add(value);
                }
                level = next;
            }
        }
        catch (Exception e) when (e is TargetInvocationException or FieldAccessException or MemberAccessException or InvalidCastException)
        {
        }
        return null;
    }

    /// <summary>The interface pointer, a property of the wrapper's base class.</summary>
    static nint? SelfOf(object wrapper)
    {
        for (var type = wrapper.GetType(); type is not null; type = type.BaseType)
            if (type.GetProperty("Self", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly) is { } self)
                return self.GetValue(wrapper) as nint?;
        return null;
    }
}
