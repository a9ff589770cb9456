namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// Learns where a runtime structure keeps a field, from observations of the DAC's walks: each observation names the
/// places that held the expected value. A place is taken once it was found in at least <see cref="MinVotes"/>
/// observations and in nearly all of them. Votes, not an intersection, because a few observations do not show the field
/// at all (a P/Invoke frame whose call has just returned, say). Places found equally often agree on every observation
/// so far (two fields pointing to the same block): the first found is taken.
/// </summary>
sealed class LayoutVotes<T> where T : notnull
{
    const int MinVotes = 3;
    const double MinShare = 0.8;

    readonly Dictionary<T, int> _votes = new();
    int _observations;

    public bool IsLearned => Learned(out _);

    public void Observe(IEnumerable<T> places)
    {
        _observations++;
        foreach (var place in places) _votes[place] = _votes.GetValueOrDefault(place) + 1;
    }

    public bool Learned(out T place)
    {
        place = default!;
        var best = 0;
        foreach (var (candidate, votes) in _votes)
            if (votes > best) (place, best) = (candidate, votes);
        return best >= MinVotes && best >= MinShare * _observations;
    }
}
