using System.Text.Json;
using Reproductions.Harness.Data;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using static TorchSharp.torch;

namespace Reproductions.Harness.Benchmarks;

/// <summary>Prices the device work of training: a step of a given shape, an evaluated sample, a sample pass.</summary>
public interface IStepPricer
{
    /// <summary>Seconds of one step of phase <paramref name="phase"/> of <paramref name="config"/> for <paramref name="models"/>
    /// models (stacked where the config says so), micro-batches included.</summary>
    double StepSeconds(TrainingConfig config, int phase, int models);

    /// <summary>Seconds to evaluate one sample (loss and accuracy) for <paramref name="models"/> models of <paramref name="config"/>.</summary>
    double EvalSecondsPerSample(TrainingConfig config, int models);

    /// <summary>Seconds of one sample pass (forward and backward at a large batch): the price of a unit whose work is known
    /// only as <see cref="Work.Cost"/> in the trainer's passes (the sharpness measurements, the parametric line).</summary>
    double SecondsPerPass { get; }

    /// <summary>Seconds per sample of a literal gradient-competition trial of <paramref name="profile"/> at batch size
    /// <paramref name="batchSize"/>, on the device of its regime config <paramref name="regime"/>, stacked and fused as the
    /// trial engine runs it.</summary>
    double TrialSecondsPerSample(CompetitionProfile profile, TrainingConfig regime, int batchSize);
}

/// <summary>How a unit's time is estimated.</summary>
public enum Pricing
{
    /// <summary>By its training steps at the measured time of a step of their shape, and its evaluations.</summary>
    Steps,
    /// <summary>By its <see cref="Work.Cost"/> in sample passes at the measured time of a pass.</summary>
    Passes,
    /// <summary>By its own engine's measured time per sample (the gradient competition's literal trials; its single-step
    /// trials, a gather and one product each from activations formed once, are left out).</summary>
    Engine,
    /// <summary>Not estimated (<see cref="Work.CostIsTrainerPasses"/> is false and no engine of its own prices it): its seconds are 0.</summary>
    None,
}

/// <summary>One unit's estimate: its device steps (sequential: one process runs them one after another) and seconds.</summary>
public sealed record UnitEstimate(Work Unit, long Steps, double Seconds, Pricing Pricing);

/// <summary>What one finding adds to the run set (units another finding brought in earlier are not counted again).</summary>
/// <param name="NotEstimated">Of its units, those not estimated (<see cref="Pricing.None"/>).</param>
public sealed record FindingEstimate(string Finding, int Units, long Steps, double Seconds, int NotEstimated);

/// <summary>The estimated time of a run set on one device, and what <c>--shard k/n</c> would make of it.</summary>
/// <param name="Longest">The costliest group of units that one process runs (a stack and its members, a protocol and the runs
/// it reads): no number of shards finishes sooner than it.</param>
/// <param name="ShardSeconds">For each shard count n, the estimated seconds of the most loaded of the n shards that
/// <see cref="RunSet.Split"/> forms (balanced by <see cref="Work.Cost"/>, not by this estimate).</param>
public sealed record RunSetEstimate(IReadOnlyList<FindingEstimate> Findings, IReadOnlyList<UnitEstimate> Units,
    (string Label, double Seconds) Longest, IReadOnlyDictionary<int, double> ShardSeconds)
{
    public double Seconds => Units.Sum(u => u.Seconds);
    public long Steps => Units.Sum(u => u.Steps);
    public IReadOnlyList<UnitEstimate> NotEstimated => Units.Where(u => u.Pricing == Pricing.None).ToList();
}

/// <summary>
/// Estimates how long a run set takes on this device before anything trains: each training unit's steps, phase by phase, at
/// the time of a step of its shape measured on the device (<see cref="MeasuredStepPricer"/>), plus its evaluations; other
/// units at their <see cref="Work.Cost"/> in sample passes where those are the trainer's passes, the rest named as not
/// estimated. Units stored already are counted as if they were not (the estimate is of the work, not of what is left).
/// </summary>
public static class RunSetEstimator
{
    /// <summary>The shard counts the estimate splits the run set into.</summary>
    public static readonly IReadOnlyList<int> ShardCounts = [1, 2, 4, 8, 16];

    /// <summary>The steps and evaluated samples of <paramref name="config"/> trained for <paramref name="models"/> models.</summary>
    public static (long Steps, double Seconds) Price(TrainingConfig config, int models, IStepPricer pricer)
    {
        long samples = DatasetSpecs.TrainingSamples(config);
        long steps = 0;
        double seconds = 0;
        for (var p = 0; p < config.Phases.Count; p++)
        {
            var phase = config.Phases[p];
            var phaseSteps = phase.Epochs * ((samples + phase.BatchSize - 1) / phase.BatchSize);
            steps += phaseSteps;
            seconds += phaseSteps * pricer.StepSeconds(config, p, models);
        }
        var evaluations = Enumerable.Range(1, config.TotalEpochs).Count(e => e % config.Evaluation.Interval == 0 || e == config.TotalEpochs);
        var evaluated = Math.Min(samples, config.Evaluation.TrainSubset ?? samples) + DatasetSpecs.Get(config.Dataset).TestCount;
        return (steps, seconds + evaluations * evaluated * pricer.EvalSecondsPerSample(config, models));
    }

    /// <summary>One unit's estimate: a lone run or a stack by its steps; a stacked member nothing (its stack pays); others by passes.</summary>
    public static UnitEstimate Of(Work unit, IStepPricer pricer) => unit switch
    {
        TrainingWork { Stack: null } lone => Estimate(unit, Price(lone.Config, 1, pricer)),
        TrainingWork => new UnitEstimate(unit, 0, 0, Pricing.Steps),
        StackWork stack => Estimate(unit, Price(stack.Configs[0], stack.Configs.Count, pricer)),
        CompetitionWork competition when competition.Reads is [TrainingWork regime, ..] => new UnitEstimate(unit, 0,
            GradientCompetitionBench.EstimateLiteralSeconds(competition.Profile, b => pricer.TrialSecondsPerSample(competition.Profile, regime.Config, b)), Pricing.Engine),
        { CostIsTrainerPasses: true } => new UnitEstimate(unit, 0, Math.Max(1, unit.Cost) * pricer.SecondsPerPass, Pricing.Passes),
        _ => new UnitEstimate(unit, 0, 0, Pricing.None),
    };

    private static UnitEstimate Estimate(Work unit, (long Steps, double Seconds) price) => new(unit, price.Steps, price.Seconds, Pricing.Steps);

    /// <summary>
    /// The estimate of the run set of <paramref name="plans"/> (each finding's plan, in order, labelled by its finding): per
    /// finding what it adds, in total, its longest group, and the most loaded shard of each of <see cref="ShardCounts"/>.
    /// </summary>
    public static RunSetEstimate Estimate(IReadOnlyList<(string Finding, IReadOnlyList<Work> Plan)> plans, IStepPricer pricer)
    {
        var units = RunSet.Units(plans.Select(p => p.Plan));
        var byKey = units.ToDictionary(u => u.Key.ToString(), u => Of(u, pricer), StringComparer.Ordinal);
        var counted = new HashSet<string>(StringComparer.Ordinal);
        var findings = new List<FindingEstimate>();
        foreach (var (finding, plan) in plans)
        {
            var added = RunSet.Units([plan]).Where(u => counted.Add(u.Key.ToString())).Select(u => byKey[u.Key.ToString()]).ToList();
            findings.Add(new FindingEstimate(finding, added.Count, added.Sum(u => u.Steps), added.Sum(u => u.Seconds), added.Count(u => u.Pricing == Pricing.None)));
        }
        double GroupSeconds(IEnumerable<Work> group) => group.Sum(u => byKey[u.Key.ToString()].Seconds);
        var longest = RunSet.Groups(units).Select(g => (Label: g.MaxBy(u => byKey[u.Key.ToString()].Seconds)!.Label, Seconds: GroupSeconds(g)))
            .MaxBy(g => g.Seconds);
        var shards = ShardCounts.ToDictionary(n => n, n => RunSet.Split(units, n).Max(shard => shard.Sum(GroupSeconds)));
        return new RunSetEstimate(findings, units.Select(u => byKey[u.Key.ToString()]).ToList(), longest, shards);
    }
}

/// <summary>
/// Prices steps by timing them on this device: for each step shape (the model, the optimiser, the batch and micro-batch
/// sizes, the number of models and whether they are stacked; not the rate, the seed or the epochs) two short epochs through
/// the harness's own trainer (<see cref="TrainingSession"/>, or <see cref="StackedSession"/> for a stack of seeds 1..models),
/// the first untimed, the second's training and evaluation seconds read from its metrics. The epochs are
/// <see cref="StepsTimed"/> steps long, then, where those took less than <see cref="TargetSeconds"/>, timed again as long as
/// it takes to fill it (<see cref="StepsFor"/>): a GPU's 1 ms step is not measured on 4 steps and an epoch's setup. A pass
/// costs what a step of the lone bs-1024 shape costs per sample. A gradient-competition trial costs its samples at the trial
/// engine's time per sample, timed at each batch size of its profile.
/// </summary>
public sealed class MeasuredStepPricer(Func<string, TrainingData> data, Action<string>? log = null) : IStepPricer
{
    /// <summary>Steps in each of the two calibration epochs of the first probe of a shape.</summary>
    public const int StepsTimed = 4;

    /// <summary>
    /// The training time a timed epoch should last: a shape whose first probe was shorter is probed again with more steps.
    /// A quarter of a second keeps the per-epoch setup (each model's data order, the rates' copy, the closing sync) under a
    /// few per cent of it on a GPU, and adds at most half a second (two epochs) per shape.
    /// </summary>
    public const double TargetSeconds = 0.25;

    private readonly Dictionary<string, (double Step, double EvalPerSample)> measured = new(StringComparer.Ordinal);
    private readonly System.Diagnostics.Stopwatch spent = new();

    /// <summary>The step shapes measured so far.</summary>
    public int Shapes => measured.Count;

    /// <summary>The seconds spent measuring them.</summary>
    public double CalibrationSeconds => spent.Elapsed.TotalSeconds;

    public double StepSeconds(TrainingConfig config, int phase, int models) => Measure(config, phase, models).Step;

    public double EvalSecondsPerSample(TrainingConfig config, int models) => Measure(config, 0, models).EvalPerSample;

    public double SecondsPerPass
    {
        get
        {
            var reference = new TrainingConfig { Model = new ModelConfig { Widths = [784, 1024, 1024, 10] }, Phases = [new PhaseConfig { Epochs = 1, BatchSize = 1024, LearningRate = 0.01 }] };
            return StepSeconds(reference, 0, 1) / 1024;
        }
    }

    /// <summary>The probe of a shape: its phase alone for two epochs of <paramref name="steps"/> steps, evaluated every epoch.</summary>
    public static TrainingConfig Probe(TrainingConfig config, int phase, long seed, int steps)
    {
        var p = config.Phases[phase];
        return new TrainingConfig
        {
            Dataset = config.Dataset,
            Preprocessing = config.Preprocessing,
            TrainSamples = p.BatchSize * steps,
            Model = config.Model,
            Optimizer = config.Optimizer,
            LossReduction = config.LossReduction,
            Evaluation = new EvaluationConfig { ChunkSize = config.Evaluation.ChunkSize, TrainSubset = null, Interval = 1 },
            Seed = seed,
            Device = config.Device,
            Stack = config.Stack,
            // The probe trains at the rate of the phase's first step, warm-up included, as the run does: its full rate without
            // the warm-up may blow up the probe (F16's bs 8192 at lr 1.28). The rate is not part of a step's shape, so it
            // changes no timing.
            Phases = [new PhaseConfig { Epochs = 2, BatchSize = p.BatchSize, LearningRate = p.RateAt(0, steps), Accumulation = p.Accumulation }],
        };
    }

    private readonly Dictionary<string, IReadOnlyDictionary<int, double>> trialTimes = new(StringComparer.Ordinal);

    /// <summary>
    /// Times every batch size of the profile's literal trials once per profile and device
    /// (<see cref="GradientCompetitionBench.ProfileTimePerSample"/>: the engine as the protocol runs it, 8 steps a trial,
    /// best of two), on the first call for that profile.
    /// </summary>
    public double TrialSecondsPerSample(CompetitionProfile profile, TrainingConfig regime, int batchSize)
    {
        var device = Devices.Resolve(regime.Device);
        var key = $"{profile.Source} {profile.Profile} {Devices.TypeName(device)} {string.Join('-', regime.Model.Widths)}";
        if (!trialTimes.TryGetValue(key, out var times))
            times = trialTimes[key] = Calibrating(() => GradientCompetitionBench.ProfileTimePerSample(profile, regime.Model.Widths, device, each: t =>
                    log?.Invoke(FormattableString.Invariant($"gradient-competition trial at B={t.BatchSize} ({t.Trials} stacked, {t.Steps} steps timed): {t.SecondsPerSample * 1e6:F2} us/sample")))
                .ToDictionary(t => t.BatchSize, t => t.SecondsPerSample));
        return times.TryGetValue(batchSize, out var seconds) ? seconds
            : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"not a batch size of the {profile.Profile} profile's trials");
    }

    /// <summary>
    /// The steps of a second probe of a shape whose first probe of <paramref name="stepsTimed"/> steps took
    /// <paramref name="secondsPerStep"/> each, on a training set of <paramref name="batches"/> batches: enough to last
    /// <see cref="TargetSeconds"/>, at most <paramref name="batches"/>; null where the first probe lasted long enough or the
    /// training set holds no more batches.
    /// </summary>
    public static int? StepsFor(double secondsPerStep, int stepsTimed, long batches)
    {
        if (!(secondsPerStep > 0) || secondsPerStep * stepsTimed >= TargetSeconds || batches <= stepsTimed) return null;
        return (int)Math.Min(batches, Math.Ceiling(TargetSeconds / secondsPerStep));
    }

    private (double Step, double EvalPerSample) Measure(TrainingConfig config, int phase, int models)
    {
        var p = config.Phases[phase];
        var shape = JsonSerializer.Serialize(new { config.Dataset, config.Preprocessing, config.Model, config.Optimizer, config.LossReduction, p.BatchSize, p.Accumulation, config.Stack, models }, JsonDefaults.Options);
        if (measured.TryGetValue(shape, out var known)) return known;
        return Calibrating(() =>
        {
            var training = data(config.Dataset);
            // Fewer steps where the training set holds fewer batches (the probe trains on a subset of it).
            var batches = training.TrainImages.shape[0] / p.BatchSize;
            var steps = (int)Math.Clamp(batches, 1, StepsTimed);
            var result = Time(config, phase, models, steps, training, shape);
            if (StepsFor(result.Step, steps, batches) is { } more)
            {
                steps = more;
                result = Time(config, phase, models, steps, training, shape);
            }
            measured[shape] = result;
            log?.Invoke(FormattableString.Invariant($"step of {(config.Stack ? $"{models} stacked" : "a lone run")} at bs {p.BatchSize}{(p.Accumulation is { } a ? $" ({a} micro-batches)" : "")}, {config.Optimizer.Kind.ToString().ToLowerInvariant()}{(config.Optimizer.Momentum > 0 ? " with momentum" : "")}: {result.Step * 1e3:F3} ms ({steps} steps timed); evaluation {result.EvalPerSample * 1e6:F3} us/sample"));
            return result;
        });
    }

    /// <summary>Runs <paramref name="work"/> with its time counted into <see cref="CalibrationSeconds"/>.</summary>
    private T Calibrating<T>(Func<T> work)
    {
        spent.Start();
        try
        {
            return work();
        }
        finally
        {
            spent.Stop();
        }
    }

    /// <summary>Seconds per step and per evaluated sample of the shape's probe: two epochs of <paramref name="steps"/> steps, the second timed.</summary>
    private static (double Step, double EvalPerSample) Time(TrainingConfig config, int phase, int models, int steps, TrainingData training, string shape)
    {
        var probe = Probe(config, phase, 1, steps);
        var evaluated = probe.TrainSamples!.Value + training.TestImages.shape[0];
        EpochMetrics second;
        double factor;
        if (probe.Stack)
        {
            using var session = new StackedSession(Enumerable.Range(1, models).Select(seed => Probe(config, phase, seed, steps)).ToList(), training);
            var first = session.RunEpoch();
            // Every model diverged in the first epoch: a stack trains no further, so that epoch is the one timed (it carries
            // the start-up's costs, so the figure errs high). The step's arithmetic is the same on blown-up numbers.
            second = (session.Finished ? first : session.RunEpoch()).FirstOrDefault(m => m is not null)
                     ?? throw new InvalidOperationException($"The calibration stack of {shape} measured no model in two epochs of {steps} steps.");
            factor = models; // a stacked model's times are the stack's shared evenly
        }
        else
        {
            using var session = new TrainingSession(probe, training);
            session.RunEpoch();
            second = session.RunEpoch();
            factor = 1;
        }
        return (second.TrainSeconds * factor / steps, second.EvalSeconds * factor / evaluated);
    }
}
