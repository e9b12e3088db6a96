using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Protocols;

/// <summary>
/// Stacks that span the findings of one run set: every run of the selected findings (profile, datasets) that asks to be
/// stacked trains with every other run there of its schedule (<see cref="StackSchedule.Signature"/>), whichever finding
/// asked for it. Formed only on a device where a stacked model's numbers do not depend on the rest of its stack
/// (<see cref="StackWork.SizeFree"/>), so a run keeps its key whatever the selection, and a finding run or read alone
/// (<see cref="Experiment.Plan(string, string)"/>, with stacks of its own) stores and reads the same results. Elsewhere
/// the pool is empty and each finding stacks its own runs.
/// </summary>
public sealed class StackPool
{
    private readonly Dictionary<string, StackWork> byMember;

    private StackPool(Dictionary<string, StackWork> byMember) => this.byMember = byMember;

    /// <summary>No stacks: each finding stacks its own runs.</summary>
    public static StackPool Empty { get; } = new([]);

    /// <summary>The distinct stacks of the pool, in the order their first runs come.</summary>
    public IReadOnlyList<StackWork> Stacks => byMember.Values.Distinct().ToList();

    /// <summary>
    /// The pool of the findings whose plans (each formed on its own, <see cref="Experiment.Plan(string, string)"/>) are
    /// <paramref name="plans"/>, on <paramref name="deviceType"/>: their stacked runs, grouped by schedule across them.
    /// </summary>
    public static StackPool Of(IEnumerable<IReadOnlyList<Work>> plans, string deviceType)
    {
        if (!StackWork.SizeFree(deviceType)) return Empty;
        var runs = plans.SelectMany(p => p).OfType<TrainingWork>().Where(w => w.Stack is not null && w.DeviceType == deviceType)
            .Select(w => (w.Config, w.Label, StackSchedule.Signature(w.Config))).ToList();
        var stacks = StackWork.Form(runs, deviceType);
        var byMember = new Dictionary<string, StackWork>(StringComparer.Ordinal);
        foreach (var stack in stacks.Values)
            foreach (var hash in stack.MemberHashes)
                byMember[hash] = stack;
        return new StackPool(byMember);
    }

    /// <summary>The pool's stack that trains <paramref name="config"/> on <paramref name="deviceType"/>, or null when it has none.</summary>
    public StackWork? StackOf(TrainingConfig config, string deviceType) =>
        byMember.Count > 0 && byMember.TryGetValue(TrainingWork.Hash(config, deviceType), out var stack) ? stack : null; // the key holds the device type
}
