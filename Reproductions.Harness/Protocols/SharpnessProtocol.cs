using System.Globalization;
using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Protocols;

/// <summary>
/// What the sharpness protocol measures beside its training runs (configs/sharp-minima.json, <c>sharpness</c>): Keskar et
/// al.'s phi for each eps, in the full space and in a random subspace of <see cref="SubspaceDimensions"/> unit columns,
/// under a cap of <see cref="Evaluations"/> loss evaluations (forward and backward passes over the evaluation set), at
/// the final point of <see cref="Runs"/>; one space and eps at the kept checkpoints of <see cref="AlongTraining"/>; and
/// the loss and accuracy along the line through two runs' final points (<see cref="Parametric"/>).
/// </summary>
/// <param name="EvaluationSamples">The loss is over a fixed, seeded subset of this many of the run's training samples; null: all of them.</param>
/// <param name="BfgsIterations">The iteration cap of the bounded BFGS in the subspace (the paper: 10 iterations of L-BFGS-B).</param>
public sealed record SharpnessSettings(
    IReadOnlyList<double> Epsilons, int SubspaceDimensions, int Evaluations, int BfgsIterations, int? EvaluationSamples,
    IReadOnlyList<string> Runs, AlongTrainingSettings? AlongTraining, ParametricSettings? Parametric);

/// <summary>Sharpness at each kept checkpoint of <paramref name="Runs"/> (their configs keep weights), in one space and for one eps.</summary>
/// <param name="Space">"full" or "subspace".</param>
public sealed record AlongTrainingSettings(IReadOnlyList<string> Runs, string Space, double Epsilon);

/// <summary>The paper's 1-D parametric plot: x(a) = a x_large + (1 - a) x_small for <paramref name="Points"/> values of a in [From, To].</summary>
public sealed record ParametricSettings(string Small, string Large, int Points, double From, double To)
{
    public IReadOnlyList<double> Alphas => Enumerable.Range(0, Points).Select(i => From + (To - From) * i / (Points - 1)).ToList();
}

/// <summary>
/// Keskar et al. 2017's experiment (F19-F21): training runs (small and large batch, the same optimiser; the blog's SGD
/// runs), each trained once per seed from the seed's initial point, then the sharpness of each run's final point, the
/// sharpness along training at kept checkpoints, and the parametric line between the small- and the large-batch points.
/// Measures every training metric of the runs (as the training protocol does) and the sharpness metrics
/// (<see cref="SharpnessMetrics"/>); draws the runs' curves, sharpness against the training loss, and the parametric
/// plot; tabulates SB against LB in the paper's form.
/// </summary>
public sealed class SharpnessProtocol : Protocol
{
    public const string ProtocolName = "sharpness";

    public override string Name => ProtocolName;

    public override IReadOnlySet<string> Keys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "seeds", "base", "runs", "sharpness" };

    public override IReadOnlySet<string> FigureKinds { get; } = new HashSet<string>(StringComparer.Ordinal) { "curves", SharpnessFigures.VersusLoss, SharpnessFigures.Parametric };

    public override IReadOnlyList<string> DefaultMetrics { get; } = ["trainAccuracy", "testAccuracy", "sharpnessFull1e-3"];

    public override IReadOnlySet<string> TableColumns { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { SharpnessFigures.MaximiserTable, SharpnessFigures.CheckpointTable };

    public override bool IsMetric(string metric) => MetricNames.IsKnown(metric) || RunMetrics.Known.ContainsKey(metric) || SharpnessMetrics.IsMetric(metric);

    public override IEnumerable<string> Metrics => MetricNames.All.Concat(RunMetrics.Known.Keys).Concat(SharpnessMetrics.Names);

    public override MetricDisplay Display(string metric) =>
        SharpnessMetrics.Display(metric) ?? (RunMetrics.Known.TryGetValue(metric, out var m) ? m.Display : MetricDisplay.For(metric));

    public override Experiment Bind(ProtocolSection section)
    {
        var where = section.Where;
        var training = (TrainingExperiment)new TrainingProtocol().Bind(section);
        var s = section.GetSection("sharpness");
        if (!s.Exists()) throw new ConfigException($"{where}: sharpness is missing: say what to measure (epsilons, subspaceDimensions, evaluations, bfgsIterations, runs).");
        var at = $"{where}:sharpness";
        RejectUnknown(s, at, "epsilons", "subspaceDimensions", "evaluations", "bfgsIterations", "evaluationSamples", "runs", "alongTraining", "parametric");
        RejectUnknown(s.GetSection("alongTraining"), $"{at}:alongTraining", "runs", "space", "epsilon");
        RejectUnknown(s.GetSection("parametric"), $"{at}:parametric", "small", "large", "points", "from", "to");
        var epsilons = s.GetSection("epsilons").GetChildren().Select(c => ConfigFiles.Number(at, "epsilons", c.Value)).ToList();
        if (epsilons.Count == 0 || epsilons.Any(e => !(e > 0 && e < 1)))
            throw new ConfigException($"{at}: epsilons = [{string.Join(", ", epsilons.Select(e => e.ToString(CultureInfo.InvariantCulture)))}]: expected at least one box size in (0, 1), e.g. [0.001, 0.0005].");
        var dimensions = (int)ConfigFiles.Integer(at, "subspaceDimensions", s["subspaceDimensions"], 1);
        var evaluations = (int)ConfigFiles.Integer(at, "evaluations", s["evaluations"], 2);
        var iterations = (int)ConfigFiles.Integer(at, "bfgsIterations", s["bfgsIterations"], 1);
        int? samples = s["evaluationSamples"] is { } n ? (int)ConfigFiles.Integer(at, "evaluationSamples", n, 1) : null;
        string Run(string key, string? name) =>
            training.Groups.FirstOrDefault(g => string.Equals(g, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ConfigException($"{at}:{key} = '{name ?? "(missing)"}': not a run of this profile (it has {string.Join(", ", training.Groups)}).");
        var runs = s.GetSection("runs").GetChildren().Select(c => Run("runs", c.Value)).ToList();
        if (runs.Count == 0) throw new ConfigException($"{at}: runs is missing: name the runs whose final points are measured.");

        AlongTrainingSettings? along = null;
        if (s.GetSection("alongTraining") is { } a && a.Exists())
        {
            var space = a["space"] ?? "full";
            if (space is not ("full" or "subspace")) throw new ConfigException($"{at}:alongTraining:space = '{space}': expected full or subspace.");
            var alongRuns = a.GetSection("runs").GetChildren().Select(c => Run("alongTraining:runs", c.Value)).ToList();
            foreach (var r in alongRuns)
                if (training.Run(r).ForSeed(training.Seeds[0]).KeepWeights is null)
                    throw new ConfigException($"{at}:alongTraining:runs names '{r}', whose config keeps no weights along training (set keepWeights on the run).");
            along = new AlongTrainingSettings(alongRuns, space, ConfigFiles.Number(at, "alongTraining:epsilon", a["epsilon"]));
        }
        ParametricSettings? parametric = null;
        if (s.GetSection("parametric") is { } p && p.Exists())
        {
            parametric = new ParametricSettings(Run("parametric:small", p["small"]), Run("parametric:large", p["large"]),
                (int)ConfigFiles.Integer(at, "parametric:points", p["points"] ?? "25", 2),
                ConfigFiles.Number(at, "parametric:from", p["from"] ?? "-1"), ConfigFiles.Number(at, "parametric:to", p["to"] ?? "2"));
            if (!(parametric.From < parametric.To)) throw new ConfigException($"{at}:parametric: from must be below to.");
        }
        var settings = new SharpnessSettings(epsilons, dimensions, evaluations, iterations, samples, runs, along, parametric);
        var trainCount = training.Runs.Select(r => r.ForSeed(training.Seeds[0]).TrainSamples ?? Data.DatasetSpecs.Get(training.Dataset).TrainCount).Min();
        if (samples > trainCount)
            throw new ConfigException($"{at}: evaluationSamples = {samples}: more than the {trainCount} training samples the runs train on.");
        return new SharpnessExperiment(this, training, settings);
    }

    private static void RejectUnknown(Microsoft.Extensions.Configuration.IConfigurationSection section, string where, params string[] known)
    {
        foreach (var child in section.GetChildren())
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                throw new ConfigException($"{where}: unknown key '{child.Key}'. Known keys: {string.Join(", ", known.Order(StringComparer.Ordinal))}.");
    }
}

/// <summary>One profile's sharpness experiment: its training runs, then the sharpness units that read their weights.</summary>
public sealed class SharpnessExperiment(SharpnessProtocol protocol, TrainingExperiment training, SharpnessSettings settings) : Experiment
{
    public TrainingExperiment Training { get; } = training;
    public SharpnessSettings Settings { get; } = settings;

    public override Protocol Protocol => protocol;
    public override string Dataset => Training.Dataset;
    public override IReadOnlyList<long> Seeds => Training.Seeds;
    public override DeviceChoice Device => Training.Device;
    public override IReadOnlyList<string> Groups => Training.Groups;

    /// <summary>
    /// The training units (run-major, seeds inner), then per measured run and seed its final-point sharpness, then per
    /// along-training run and seed its checkpoints' sharpness, then per seed the parametric line.
    /// </summary>
    public override IReadOnlyList<Work> Plan(string deviceType, string label) => Plan(deviceType, label, StackPool.Empty);

    public override IReadOnlyList<Work> Plan(string deviceType, string label, StackPool stacks)
    {
        var plan = Training.Plan(deviceType, label, stacks).ToList();
        TrainingWork Run(string run, long seed) => (TrainingWork)plan[Training.Groups.ToList().FindIndex(g => g == run) * Seeds.Count + Seeds.ToList().IndexOf(seed)];
        foreach (var run in Settings.Runs)
            foreach (var seed in Seeds)
                plan.Add(new SharpnessWork(Run(run, seed), Settings, SharpnessWork.FinalPoint, deviceType, $"{label} {run} seed {seed} sharpness"));
        foreach (var run in Settings.AlongTraining?.Runs ?? [])
            foreach (var seed in Seeds)
                plan.Add(new SharpnessWork(Run(run, seed), Settings, SharpnessWork.AlongTraining, deviceType, $"{label} {run} seed {seed} sharpness along training"));
        if (Settings.Parametric is { } p)
            foreach (var seed in Seeds)
                plan.Add(new ParametricWork(Run(p.Small, seed), Run(p.Large, seed), Settings, deviceType, $"{label} {p.Small} to {p.Large} seed {seed} parametric line"));
        return plan;
    }

    public override Measured Measure(IReadOnlyList<Work> plan, IReadOnlyList<object?> results, string trainCommand)
    {
        var trainingCount = (Training.Runs.Count + Training.AccumulationChecks.Count) * Seeds.Count;
        var training = (TrainingMeasured)Training.Measure(plan.Take(trainingCount).ToList(), results.Take(trainingCount).ToList(), trainCommand);
        var final = new Dictionary<string, IReadOnlyList<SharpnessResult>>(StringComparer.OrdinalIgnoreCase);
        var along = new Dictionary<string, IReadOnlyList<SharpnessResult>>(StringComparer.OrdinalIgnoreCase);
        var missing = training.Missing.ToList();
        var i = trainingCount;
        void Collect(IReadOnlyList<string> runs, Dictionary<string, IReadOnlyList<SharpnessResult>> into, string what)
        {
            foreach (var run in runs)
            {
                var found = Seeds.Select(_ => results[i++] as SharpnessResult).ToList();
                if (found.All(r => r is not null)) into[run] = found!;
                else missing.Add(new MissingRun($"{run} {what}", found.Count(r => r is not null), Seeds.Count, trainCommand));
            }
        }
        Collect(Settings.Runs, final, "sharpness");
        Collect(Settings.AlongTraining?.Runs ?? [], along, "sharpness along training");
        IReadOnlyList<ParametricLine>? lines = null;
        if (Settings.Parametric is { } p)
        {
            var found = Seeds.Select(_ => results[i++] as ParametricLine).ToList();
            if (found.All(r => r is not null)) lines = found!;
            else missing.Add(new MissingRun($"{p.Small} to {p.Large} parametric line", found.Count(r => r is not null), Seeds.Count, trainCommand));
        }
        return new SharpnessMeasured(this, training, final, along, lines, missing);
    }
}
