using System.Globalization;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Protocols;

/// <summary>What a stack of training runs stores: every member's run record, in the stack's order.</summary>
public sealed record StackRecord(List<RunRecord> Members)
{
    /// <summary>
    /// The SHA-256 of each weights file in the stack's folder (each finished member's final weights,
    /// <see cref="StackWork.WeightsFileOf"/>), by file name, so that a member's run copies only what the stack wrote
    /// (<see cref="RunRecord.CheckedWeights(IReadOnlyDictionary{string, string}?, string, string, string)"/>). Null in
    /// stacks stored before it was recorded: their weights are copied unchecked.
    /// </summary>
    public Dictionary<string, string>? WeightsSha256 { get; init; }
}

/// <summary>
/// Training runs that share a schedule, trained as one stacked model (<see cref="StackedSession"/>): the unit the store
/// keeps for the stack, read by each member's <see cref="TrainingWork"/>, which stores its own record as its own run. The
/// stack's folder keeps each finished member's final weights (<see cref="WeightsFileOf"/>, with their SHA-256 in its record:
/// <see cref="StackRecord.WeightsSha256"/>); its scratch folder, the stack's checkpoints, so a killed stack resumes where it
/// stopped.
/// </summary>
public sealed class StackWork : Work<StackRecord>
{
    /// <summary>
    /// Bump when the stacked trainer's arithmetic changes: part of every stacked run's hash. 2: each model's geometry is
    /// reduced over its own slice (it was over the stacked dimensions, whose order of additions moved the last bit with the
    /// stack's size).
    /// </summary>
    public const string Arithmetic = "baddbmm-2";

    /// <summary>
    /// Whether a stacked model's numbers on <paramref name="deviceType"/> are the same bit for bit whatever else is in its
    /// stack, so that its key leaves out the stack's size and stacks may span findings (<see cref="StackPool"/>). Measured on
    /// the CPU (<c>On_the_cpu_a_model_trains_bit_for_bit_the_same_in_stacks_of_any_size</c>: weights and every number of one
    /// epoch, in stacks of 1, 2, 3, 5 and 8, each step kind). Not on CUDA until measured there: cuBLAS may choose its batched
    /// kernel by the number of matrices, so there a stacked run's key holds its stack's size and stacks stay within a finding.
    /// </summary>
    public static bool SizeFree(string deviceType) => deviceType == "cpu";
    public const string Kind = "training-stack";

    public StackWork(IReadOnlyList<TrainingConfig> configs, string deviceType, string label)
    {
        StackSchedule.Check(configs);
        Configs = configs;
        DeviceType = deviceType;
        Label = label;
        MemberHashes = configs.Select(c => TrainingWork.Hash(c, deviceType, configs.Count)).ToList();
        if (MemberHashes.Distinct().Count() != MemberHashes.Count)
            throw new ConfigException($"{label}: two runs of one stack have the same config (seed and learning rate); a stack trains distinct runs.");
        Key = new StoreKey(configs[0].Dataset, Kind, ContentHash(new { formatVersion = TrainingWork.FormatVersion, device = deviceType, members = MemberHashes }));
    }

    public IReadOnlyList<TrainingConfig> Configs { get; }
    /// <summary>Each member's run hash, in the stack's order.</summary>
    public IReadOnlyList<string> MemberHashes { get; }
    public override string DeviceType { get; }
    public override string Label { get; }
    public override StoreKey Key { get; }

    /// <summary>Its runs' sample passes, trained as one: every step's rows for each model, its overhead once.</summary>
    public override double Cost => TrainingWork.Passes(Configs[0], DeviceType, Configs.Count);

    /// <summary>The file of member <paramref name="index"/>'s final weights in the stack's folder.</summary>
    public static string WeightsFileOf(int index) => string.Create(CultureInfo.InvariantCulture, $"member-{index:D3}.weights");

    /// <summary>
    /// The units of <paramref name="runs"/> (configs with their labels, in plan order): a run that asks to be stacked trains in
    /// its stack of <paramref name="pool"/> when the pool has it (a stack spanning findings), otherwise in the stack of every
    /// run here that shares its schedule (<see cref="StackSchedule.Signature"/>), in the order the runs come, each distinct
    /// config once; the others alone. Decided from the configs alone, so the same runs always form the same stacks.
    /// </summary>
    public static IReadOnlyList<Work> Group(IReadOnlyList<(TrainingConfig Config, string Label)> runs, string deviceType, StackPool? pool = null)
    {
        var pooled = runs.Select(r => r.Config.Stack ? pool?.StackOf(r.Config, deviceType) : null).ToList();
        // Each run's schedule once (a serialisation of its config): the key of its stack.
        var signatures = runs.Select((r, i) => r.Config.Stack && pooled[i] is null ? StackSchedule.Signature(r.Config) : null).ToList();
        var stacks = Form(runs.Zip(signatures).Where(x => x.Second is not null).Select(x => (x.First.Config, x.First.Label, x.Second!)), deviceType);
        return runs.Select((r, i) => (Work)new TrainingWork(r.Config, deviceType, r.Label, pooled[i] ?? (signatures[i] is { } key ? stacks[key] : null))).ToList();
    }

    /// <summary>One stack per schedule signature of <paramref name="runs"/>, each distinct config once, in the order they come.</summary>
    internal static Dictionary<string, StackWork> Form(IEnumerable<(TrainingConfig Config, string Label, string Signature)> runs, string deviceType) =>
        runs.GroupBy(x => x.Signature, StringComparer.Ordinal).ToDictionary(g => g.Key, g =>
        {
            // Two runs with one config (a control repeated under another name; a run two findings share) are one run, as in the store.
            var distinct = g.Select(r => r.Config).DistinctBy(c => System.Text.Json.JsonSerializer.Serialize(c, Infrastructure.JsonDefaults.Options)).ToList();
            return new StackWork(distinct, deviceType, $"{StackLabel(g.Select(r => r.Label).ToList())} ({distinct.Count} runs stacked)");
        }, StringComparer.Ordinal);

    /// <summary>
    /// A stack's label from its runs': the words they share from the start, per finding when they come from several
    /// ("F01 full bs64 + F03 full").
    /// </summary>
    private static string StackLabel(IReadOnlyList<string> labels)
    {
        var findings = labels.GroupBy(l => l.Split(' ')[0], StringComparer.Ordinal).ToList();
        return findings.Count == 1 ? Common(labels) : string.Join(" + ", findings.Select(f => Common(f.ToList())));
    }

    /// <summary>The words the labels share from the start ("F01 full bs64 seed 1", "... seed 2" give "F01 full bs64").</summary>
    private static string Common(IReadOnlyList<string> labels)
    {
        var words = labels[0].Split(' ');
        var shared = words.Length;
        foreach (var other in labels.Skip(1).Select(l => l.Split(' ')))
            shared = Math.Min(shared, words.Zip(other).TakeWhile(p => p.First == p.Second).Count());
        // "F01 full bs64 seed 1" and "... seed 2" share "F01 full bs64 seed": the dangling "seed" goes.
        if (shared > 0 && words[shared - 1] == "seed" && labels.Count > 1) shared--;
        return shared == 0 ? "stack" : string.Join(' ', words.Take(shared));
    }

    public override StackRecord Run(WorkContext context)
    {
        var options = context.Options;
        var first = Configs[0];
        var data = (options.Data ?? Data.DataSets.Get)(first.Dataset);
        using var session = new StackedSession(Configs, data);
        if (Devices.TypeName(session.Device) != DeviceType)
            throw new InvalidOperationException($"{Label}: planned for {DeviceType}, but this machine resolves its device to {Devices.TypeName(session.Device)}.");
        var checkpoints = new RunCheckpoints(context.Scratch, Key.Hash, options.Log, context.SetAside);
        var resumedFrom = checkpoints.Restore(session);
        var earlier = session.Histories.Max(h => h.Sum(e => e.TrainSeconds + e.EvalSeconds)) * session.Models;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The first going model's last epoch, with the stack's whole epoch time (each record holds its share): what the progress line shows and its time left is estimated from.
        EpochMetrics? Last() => session.Histories.Zip(session.Diverged).Where(x => x.Second is null).Select(x => x.First.LastOrDefault()).FirstOrDefault() is { } e
            ? e with { TrainSeconds = e.TrainSeconds * session.Models, EvalSeconds = e.EvalSeconds * session.Models }
            : null;
        options.Progress?.Report(new TrainingProgress(Key.Hash, Label, session.CompletedEpochs, first.TotalEpochs, Last(), TimeSpan.Zero,
            resumedFrom > 0 ? $"resumed at epoch {resumedFrom}" : "training"));
        while (!session.Finished)
        {
            options.Cancel.ThrowIfCancellationRequested();
            var before = session.Diverged.ToArray();
            session.RunEpoch();
            for (var m = 0; m < session.Models; m++)
                if (before[m] is null && session.Diverged[m] is { } d)
                    options.Log?.Invoke($"{Label}: seed {Configs[m].Seed} at lr {Configs[m].Phases[0].LearningRate.ToString(CultureInfo.InvariantCulture)} diverged at epoch {d.Epoch}: {d.Reason}. Stored as an outcome, not a result; the stack goes on.");
            checkpoints.Save(session);
            options.Progress?.Report(new TrainingProgress(Key.Hash, Label, session.CompletedEpochs, first.TotalEpochs, Last(), clock.Elapsed, "training"));
        }
        var finished = Enumerable.Range(0, session.Models).Where(m => session.Diverged[m] is null).ToList();
        foreach (var m in finished) session.SaveWeights(m, Path.Combine(context.Folder, WeightsFileOf(m)));
        var seconds = (earlier + clock.Elapsed.TotalSeconds) / session.Models;
        var members = Enumerable.Range(0, session.Models).Select(m => new RunRecord
        {
            Status = session.Diverged[m] is null ? RunStatus.Finished : RunStatus.Diverged,
            Divergence = session.Diverged[m],
            Hash = MemberHashes[m],
            FormatVersion = TrainingWork.FormatVersion,
            Config = Configs[m],
            Device = Devices.TypeName(session.Device),
            DeviceDetail = Devices.Describe(session.Device),
            Epochs = session.Histories[m].ToList(),
            InitialWeightNorm = session.InitialWeightNorms[m],
            InitialBiasNorm = session.InitialBiasNorms[m],
            CompletedUtc = DateTime.UtcNow,
            // The stack's wall time shared evenly: together the members took it all.
            TrainingSeconds = seconds,
            ResumedFromEpoch = resumedFrom,
        }).ToList();
        return new StackRecord(members) { WeightsSha256 = RunRecord.HashWeights(context.Folder, finished.Select(WeightsFileOf)) };
    }

    public override string? Problem(object result)
    {
        if (result is not StackRecord stack) return $"it holds a {result.GetType().Name}, not a stack's records";
        if (stack.Members.Count != Configs.Count) return $"it holds {stack.Members.Count} runs, the stack has {Configs.Count}";
        for (var m = 0; m < Configs.Count; m++)
            if (TrainingWork.RecordProblem(stack.Members[m], Configs[m], MemberHashes[m]) is { } problem) return $"its run {m + 1}: {problem}";
        return null;
    }
}
