namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// Learns where a runtime structure keeps a field, from observations of the DAC's walks: each observation names the
/// places that held the expected value. A place is taken once it was found in at least <see cref="MinVotes"/>
/// observations and in nearly all of those that show the value somewhere. Votes, not an intersection, because some
/// observations do not show the field at all (a P/Invoke frame whose call has just returned, or an inactive one left
/// linked in a method that has moved on), and those do not count: counted, a service whose threads were often walked
/// by the DAC in such a state (each such walk another observation) saw the share drop under the bar, the layout
/// unlearned, every P/Invoke frame refused to the DAC, and so more such observations (3-4 times the DAC walks, in one
/// run in three on ShopService). Places found equally often agree on every observation so far (two fields pointing to
/// the same block): the first found is taken.
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
        var any = false;
        foreach (var place in places)
        {
            _votes[place] = _votes.GetValueOrDefault(place) + 1;
            any = true;
        }
        if (any) _observations++;
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
