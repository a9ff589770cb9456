using System.Reflection;
using System.Reflection.Emit;

namespace Snapper.TestTarget;

/// <summary>
/// Code compiled all the time: a thread emits a type of new methods, calls each often enough to be promoted, then
/// pauses without compiling, so that the runtime's background worker compiles them again optimized (tier 1), and
/// starts over with the next type. The JIT is always writing code somewhere: a walk that asked the runtime about code
/// it had not finished (its GC info not yet written) killed Snapper (see SosCodeHeaders).
/// </summary>
static class Tiering
{
    const int MethodsPerType = 200, CallsToPromote = 60;
    static long _types;

    public static long Types => Interlocked.Read(ref _types);

    public static void Start() => new Thread(Run) { IsBackground = true, Name = "Tiering driver" }.Start();

    static void Run()
    {
        var sink = 0;
        for (var generation = 0; ; generation++)
        {
            var methods = Emit(generation);
            for (var call = 0; call < CallsToPromote; call++)
                foreach (var method in methods) sink += method(call);
            // No new code for a while: the runtime promotes code only once compiling has been quiet for 100 ms.
            Thread.Sleep(250);
            foreach (var method in methods) sink += method(sink);
            Interlocked.Increment(ref _types);
        }
    }

    /// <summary>A type of <see cref="MethodsPerType"/> methods, each a chain of 40 tests and arithmetic on its argument.</summary>
    static Func<int, int>[] Emit(int generation)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName($"Tiering{generation}"), AssemblyBuilderAccess.Run);
        var type = assembly.DefineDynamicModule("Tiering").DefineType("Generated", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        for (var i = 0; i < MethodsPerType; i++)
        {
            var il = type.DefineMethod($"M{i}", MethodAttributes.Public | MethodAttributes.Static, typeof(int), [typeof(int)]).GetILGenerator();
            var value = il.DeclareLocal(typeof(int));
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Stloc, value);
            for (var k = 0; k < 40; k++)
            {
                var skip = il.DefineLabel();
                il.Emit(OpCodes.Ldloc, value);
                il.Emit(OpCodes.Ldc_I4, k + i);
                il.Emit(OpCodes.And);
                il.Emit(OpCodes.Brfalse, skip);
                il.Emit(OpCodes.Ldloc, value);
                il.Emit(OpCodes.Ldc_I4, 31 + k);
                il.Emit(OpCodes.Mul);
                il.Emit(OpCodes.Ldc_I4, k ^ i);
                il.Emit(OpCodes.Xor);
                il.Emit(OpCodes.Stloc, value);
                il.MarkLabel(skip);
            }
            il.Emit(OpCodes.Ldloc, value);
            il.Emit(OpCodes.Ret);
        }
        return type.CreateType().GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(method => method.CreateDelegate<Func<int, int>>()).ToArray();
    }
}
