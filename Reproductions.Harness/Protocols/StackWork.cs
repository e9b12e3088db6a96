using System.Globalization;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Protocols;

/// <summary>What a stack of training runs stores: every member's run record, in the stack's order.</summary>
public sealed record StackRecord(List<RunRecord> Members);

/// <summary>
/// Training runs that share a schedule, trained as one stacked model (<see cref="StackedSession"/>): the unit the store
/// keeps for the stack, read by each member's <see cref="TrainingWork"/>, which stores its own record as its own run. The
/// stack's folder keeps each finished member's final weights (<see cref="WeightsFileOf"/>); its scratch folder, the
/// stack's checkpoints, so a killed stack resumes where it stopped.
/// </summary>
public sealed class StackWork : Work<StackRecord>
{
    /// <summary>Bump when the stacked trainer's arithmetic changes: part of every stacked run's hash.</summary>
    public const string Arithmetic = "baddbmm-1";
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

    /// <summary>Every member's sample passes: a stack does the work of its runs in fewer, larger operations.</summary>
    public override double Cost => Configs.Sum(TrainingWork.Passes);

    /// <summary>The file of member <paramref name="index"/>'s final weights in the stack's folder.</summary>
    public static string WeightsFileOf(int index) => string.Create(CultureInfo.InvariantCulture, $"member-{index:D3}.weights");

    /// <summary>
    /// The units of <paramref name="runs"/> (configs with their labels, in plan order): a run that asks to be stacked trains in
    /// the stack of every run here that shares its schedule (<see cref="StackSchedule.Signature"/>), in the order the runs
    /// come, each distinct config once; the others alone. Decided from the configs alone, so the same runs always form the same stacks.
    /// </summary>
    public static IReadOnlyList<Work> Group(IReadOnlyList<(TrainingConfig Config, string Label)> runs, string deviceType)
    {
        // Each run's schedule once (a serialisation of its config): the key of its stack.
        var signatures = runs.Select(r => r.Config.Stack ? StackSchedule.Signature(r.Config) : null).ToList();
        var stacks = runs.Zip(signatures).Where(x => x.Second is not null)
            .GroupBy(x => x.Second!, x => x.First, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g =>
            {
                // Two runs of a profile with one config (a control repeated under another name) are one run, as in the store.
                var distinct = g.Select(r => r.Config).DistinctBy(c => System.Text.Json.JsonSerializer.Serialize(c, Infrastructure.JsonDefaults.Options)).ToList();
                return new StackWork(distinct, deviceType, $"{Common(g.Select(r => r.Label).ToList())} ({distinct.Count} runs stacked)");
            }, StringComparer.Ordinal);
        return runs.Select((r, i) => (Work)new TrainingWork(r.Config, deviceType, r.Label, signatures[i] is { } key ? stacks[key] : null)).ToList();
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
        var checkpoints = new RunCheckpoints(context.Scratch, Key.Hash, options.Log);
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
        for (var m = 0; m < session.Models; m++)
            if (session.Diverged[m] is null) session.SaveWeights(m, Path.Combine(context.Folder, WeightsFileOf(m)));
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
        return new StackRecord(members);
    }

    public override string? Problem(object result)
    {
        if (result is not StackRecord stack) return $"it holds a {result.GetType().Name}, not a stack's records";
        if (stack.Members.Count != Configs.Count) return $"it holds {stack.Members.Count} runs, the stack has {Configs.Count}";
        for (var m = 0; m < Configs.Count; m++)
            if (stack.Members[m].Problem(Configs[m], MemberHashes[m]) is { } problem) return $"its run {m + 1}: {problem}";
        return null;
    }
}
