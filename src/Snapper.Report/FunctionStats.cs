using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// How often one method was seen. <see cref="Self"/>: samples whose innermost frame is this method.
/// <see cref="Total"/>: samples with this method anywhere on the stack, counted once per sample even when it recurses.
/// </summary>
public sealed record FunctionStats(MethodIdentity Method, long Self, long Total);

/// <summary>How many samples one thread contributed (one per snapshot it was seen in, empty stacks included).</summary>
public sealed record ThreadStats(ThreadInfo Thread, long Samples);
