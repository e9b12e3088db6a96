using System.Globalization;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Store;

/// <summary>One share of a run set: shard <see cref="Index"/> (1-based) of <see cref="Count"/>.</summary>
public sealed record Shard(int Index, int Count)
{
    /// <summary>Parses "k/n" (1 &lt;= k &lt;= n); anything else is a <see cref="BadInputException"/> that says what was expected.</summary>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && n >= 1 && k >= 1 && k <= n)
            return new Shard(k, n);
        throw new BadInputException($"--shard '{text}': expected k/n with whole numbers 1 <= k <= n (e.g. 2/4: the second of four shards).");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}

/// <summary>
/// The run set of a selection of findings, and its deterministic split into shards. Units are shared by key (findings share
/// runs); a unit and every unit it reads (a stack and its members, the gradient competition and its regime runs, the
/// sharpness measurements and their training runs) form one group that a shard takes whole, so no shard waits for
/// another's results and none runs a unit twice. Groups go to shards by their estimated cost (<see cref="Work.Cost"/>),
/// largest first, each to the shard with the least so far (ties: the lower shard, then the group's first key), decided
/// from the run set alone: every shard computes the same split, so n processes started with 1/n ... n/n cover the run
/// set exactly once. All shards must be given the same findings, profile and datasets, and run on the same device type.
/// </summary>
public static class RunSet
{
    /// <summary>Every unit of <paramref name="plans"/> and everything they read, each once (by key), in first-seen order.</summary>
    public static IReadOnlyList<Work> Units(IEnumerable<IEnumerable<Work>> plans)
    {
        var seen = new Dictionary<string, Work>(StringComparer.Ordinal);
        void Add(Work work)
        {
            if (seen.ContainsKey(work.Key.ToString())) return;
            foreach (var read in work.Reads) Add(read);
            seen[work.Key.ToString()] = work;
        }
        foreach (var plan in plans)
            foreach (var work in plan)
                Add(work);
        return seen.Values.ToList();
    }

    /// <summary>The units joined by what they read (connected through <see cref="Work.Reads"/>), each group in <paramref name="units"/>' order.</summary>
    public static IReadOnlyList<IReadOnlyList<Work>> Groups(IReadOnlyList<Work> units)
    {
        var index = units.Select((w, i) => (w.Key.ToString(), i)).ToDictionary(x => x.Item1, x => x.i, StringComparer.Ordinal);
        var parent = Enumerable.Range(0, units.Count).ToArray();
        int Find(int i) => parent[i] == i ? i : parent[i] = Find(parent[i]);
        for (var i = 0; i < units.Count; i++)
            foreach (var read in units[i].Reads)
                if (index.TryGetValue(read.Key.ToString(), out var j))
                    parent[Find(i)] = Find(j);
        return units.Select((w, i) => (w, root: Find(i))).GroupBy(x => x.root).Select(g => (IReadOnlyList<Work>)g.Select(x => x.w).ToList()).ToList();
    }

    /// <summary>The groups of <paramref name="units"/> assigned to each of <paramref name="count"/> shards (index 0 is shard 1).</summary>
    public static IReadOnlyList<IReadOnlyList<IReadOnlyList<Work>>> Split(IReadOnlyList<Work> units, int count)
    {
        var shards = Enumerable.Range(0, count).Select(_ => new List<IReadOnlyList<Work>>()).ToArray();
        var load = new double[count];
        var ordered = Groups(units)
            .Select(g => (Group: g, Cost: g.Sum(w => Math.Max(1, w.Cost)), First: g.Select(w => w.Key.ToString()).Min(StringComparer.Ordinal)!))
            .OrderByDescending(g => g.Cost).ThenBy(g => g.First, StringComparer.Ordinal);
        foreach (var (group, cost, _) in ordered)
        {
            var target = Array.IndexOf(load, load.Min());
            shards[target].Add(group);
            load[target] += cost;
        }
        // Within a shard, the run set's own order (what is read comes before what reads it).
        var position = units.Select((w, i) => (w.Key.ToString(), i)).ToDictionary(x => x.Item1, x => x.i, StringComparer.Ordinal);
        return shards.Select(s => (IReadOnlyList<IReadOnlyList<Work>>)s.OrderBy(g => position[g[0].Key.ToString()]).ToList()).ToList();
    }

    /// <summary>The units shard <paramref name="shard"/> runs, in an order where each comes after what it reads.</summary>
    public static IReadOnlyList<Work> Share(IReadOnlyList<Work> units, Shard shard) =>
        Split(units, shard.Count)[shard.Index - 1].SelectMany(g => g).ToList();
}
