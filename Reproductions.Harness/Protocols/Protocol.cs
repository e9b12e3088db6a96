using Reproductions.Harness.Infrastructure;
using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Protocols;

/// <summary>
/// A kind of experiment (training runs; the gradient competition; ...). It declares the keys of a finding profile it
/// reads, binds them into an <see cref="Experiment"/> (whose units of work are content-hashed and run through the one
/// <see cref="ExperimentStore"/>), names the metrics it measures and the figures it draws. A new kind is one subclass,
/// registered in a <see cref="ProtocolCatalog"/>: the runner, the store, the report and the CLI take it as it is.
/// </summary>
public abstract class Protocol
{
    /// <summary>The name a config gives in <c>"protocol"</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The keys of a profile section this protocol binds (the finding's own keys are read by the finding loader).</summary>
    public abstract IReadOnlySet<string> Keys { get; }

    /// <summary>The figure kinds a finding's <c>report.figures</c> may ask this protocol for.</summary>
    public abstract IReadOnlySet<string> FigureKinds { get; }

    /// <summary>The metrics the report table shows when a finding's config names none.</summary>
    public abstract IReadOnlyList<string> DefaultMetrics { get; }

    /// <summary>Whether <paramref name="metric"/> is one this protocol measures (checked when a config is loaded).</summary>
    public abstract bool IsMetric(string metric);

    /// <summary>The names of the metrics it measures, for error messages.</summary>
    public abstract IEnumerable<string> Metrics { get; }

    /// <summary>The columns a finding's <c>report.tables</c> may ask for (none: the protocol draws no extra tables).</summary>
    public virtual IReadOnlySet<string> TableColumns { get; } = new HashSet<string>();

    /// <summary>How the report names, scales and prints a metric.</summary>
    public virtual MetricDisplay Display(string metric) => MetricDisplay.For(metric);

    /// <summary>Binds a profile section (the full profile, or the full profile with a quick profile's changes applied).</summary>
    public abstract Experiment Bind(ProtocolSection section);
}

/// <summary>
/// A finding profile's settings as a protocol sees them: the merged section, where it came from (for errors), the
/// profile's name, the configs folder (for configs/defaults.json) and the dataset the user asked for in place of the
/// config's own (<c>--dataset</c>; null: the config's).
/// </summary>
public sealed record ProtocolSection(IConfiguration Section, string Where, string Profile, string ConfigsFolder, string? Dataset = null)
{
    /// <summary>configs/defaults.json as the first layer of every training config.</summary>
    public ConfigLayer Defaults
    {
        get
        {
            var path = Path.Combine(ConfigsFolder, "defaults.json");
            return ConfigLayer.FromSection(ConfigFiles.Relative(path), ConfigLoader.ReadJson(path));
        }
    }

    public string? this[string key] => Section[key];

    public IConfigurationSection GetSection(string key) => Section.GetSection(key);

    /// <summary>
    /// The named training runs under <paramref name="key"/> (a finding's runs, the gradient competition's regimes), each a
    /// config layered over configs/defaults.json and the section's <c>base</c> (and, last, the dataset asked for in place of
    /// the config's); at least one. <paramref name="what"/> says what to define when there is none.
    /// </summary>
    public IReadOnlyList<RunDefinition> Runs(string key, string what)
    {
        var defaults = Defaults;
        var baseLayer = ConfigLayer.FromSection($"{Where}:base", GetSection("base"));
        ConfigLayer[] dataset = Dataset is null ? [] : [ConfigLayer.FromPairs($"--dataset {Dataset}", ("dataset", Dataset))];
        var runs = GetSection(key).GetChildren()
            .Select(r => new RunDefinition(r.Key, [defaults, baseLayer, ConfigLayer.FromSection($"{Where}:{key}:{r.Key}", r), .. dataset]))
            .ToList();
        return runs.Count > 0 ? runs : throw new ConfigException($"{Where}: {key} is empty or missing; define {what}.");
    }

    /// <summary>A list of seeds: present, non-empty, non-negative integers, no repeats.</summary>
    public IReadOnlyList<long> Seeds(string key = "seeds")
    {
        var seeds = GetSection(key).GetChildren().Select(c => ConfigFiles.Integer(Where, key, c.Value, 0)).ToList();
        if (seeds.Count == 0) throw new ConfigException($"{Where}: {key} is empty or missing; list at least one seed.");
        if (seeds.Distinct().Count() != seeds.Count) throw new ConfigException($"{Where}: {key} repeat a value: [{string.Join(", ", seeds)}].");
        return seeds;
    }
}

/// <summary>
/// One finding profile's experiment, bound from its config: the seeds, the units of work it needs (<see cref="Plan"/>)
/// and how their stored results become measurements (<see cref="Measure"/>).
/// </summary>
public abstract class Experiment
{
    public abstract Protocol Protocol { get; }

    /// <summary>The dataset every unit reads (the store and the baselines are keyed by it).</summary>
    public abstract string Dataset { get; }

    /// <summary>The seeds the measurements are replicated over (training seeds; trial seeds).</summary>
    public abstract IReadOnlyList<long> Seeds { get; }

    /// <summary>The groups it measures, in order (a training run; a protocol variant in a regime).</summary>
    public abstract IReadOnlyList<string> Groups { get; }

    /// <summary>The device its configs ask for (auto, cpu, cuda); REPRO_DEVICE overrides it.</summary>
    public abstract DeviceChoice Device { get; }

    /// <summary>
    /// The units of work on <paramref name="deviceType"/>, every unit after those it reads. The plan has the same shape
    /// on every device type (unit i is the same work), so stored results of another device type can stand in.
    /// </summary>
    public abstract IReadOnlyList<Work> Plan(string deviceType, string label);

    /// <summary>
    /// The plan, with every run that asks to be stacked training in its stack of <paramref name="stacks"/> where it has one
    /// (stacks that span the findings of one run set: <see cref="StackPool"/>). A run's key does not depend on its stack
    /// where the pool forms them, so both plans store and read the same results. Protocols that stack nothing keep the default.
    /// </summary>
    public virtual IReadOnlyList<Work> Plan(string deviceType, string label, StackPool stacks) => Plan(deviceType, label);

    /// <summary>
    /// The measurements from the stored results of the plan's units (<paramref name="results"/>[i] is unit i's, or null
    /// where it is not stored): what can be measured from what is stored, and what is missing.
    /// </summary>
    public abstract Measured Measure(IReadOnlyList<Work> plan, IReadOnlyList<object?> results, string trainCommand);
}

/// <summary>A statistic of all seeds' data together: its estimate, its 95% interval (NaN ends where it has none) and the points it is formed over.</summary>
public sealed record PooledStatistic(double Estimate, double Low, double High, int Points);

/// <summary>One group of measurements: its name, the setting it ran with (phases, protocol variant) and its devices.</summary>
public sealed record MeasuredGroup(string Name, string Setting, IReadOnlyList<string> Devices);

/// <summary>Where and for whom a protocol draws a finding's figures.</summary>
/// <param name="Prefix">The start of every file name: "Fxx-&lt;dataset&gt;".</param>
/// <param name="Title">The start of every title: "Fxx".</param>
/// <param name="MarkPaper">Whether to mark the paper's numbers (the full profile).</param>
/// <param name="Reference">The paper's value of (group, metric), or null.</param>
/// <param name="Dataset">The dataset's display name where it is not the paper's (titles name it); null on the paper's.</param>
public sealed record FigureTarget(string Folder, string Prefix, string Title, string Profile, bool MarkPaper, Func<string, string, string?> Reference, string? Dataset = null)
{
    /// <summary>What every title ends with in brackets: "quick profile", or "quick profile, Fashion-MNIST" off the paper's dataset.</summary>
    public string Edition => Dataset is null ? $"{Profile} profile" : $"{Profile} profile, {Dataset}";
}

/// <summary>
/// What an experiment measured from its stored results: per group and metric, one value (or one per layer) per seed;
/// what is missing; and the protocol's tables and figures. Tests, claims, baselines, the console and the report read
/// the same numbers from here.
/// </summary>
public abstract class Measured
{
    public abstract Experiment Experiment { get; }

    public IReadOnlyList<long> Seeds => Experiment.Seeds;

    /// <summary>The groups measured for every seed, in display order.</summary>
    public abstract IReadOnlyList<MeasuredGroup> Groups { get; }

    /// <summary>What the store lacks, by group, and the command that runs it.</summary>
    public abstract IReadOnlyList<MissingRun> Missing { get; }

    /// <summary>The report table's heading of the groups ("run", "variant/regime").</summary>
    public abstract string GroupHeading { get; }

    /// <summary>The report table's heading of a group's setting, e.g. "phases (epochs x batch @ lr)".</summary>
    public abstract string SettingHeading { get; }

    /// <summary>
    /// A metric of a group: per seed (in <see cref="Seeds"/> order) its components (one for a scalar, one per layer for
    /// layerCosines); null when the group or metric is not measured.
    /// </summary>
    public abstract IReadOnlyList<IReadOnlyList<double>>? Values(string group, string metric);

    /// <summary>
    /// A statistic formed over all seeds' data together (a fit over batch sizes with its 95% interval, a rank correlation
    /// over points), for claims on pooled data; null when the protocol has none of that name.
    /// </summary>
    public virtual PooledStatistic? Pooled(string group, string metric) => null;

    /// <summary>A metric's value at every epoch, per seed (for claims on how it moves); null when the protocol keeps no history.</summary>
    public virtual IReadOnlyList<IReadOnlyList<double>>? History(string group, string metric) => null;

    /// <summary>Every device the stored results came from (described).</summary>
    public abstract IReadOnlyList<string> Devices { get; }

    /// <summary>Compute time of the stored results, seconds.</summary>
    public abstract double Seconds { get; }

    /// <summary>When the newest stored result was completed (null when nothing is stored).</summary>
    public abstract DateTime? Newest { get; }

    /// <summary>Tables beside the main one (e.g. the gradient competition's per-batch-size numbers).</summary>
    public virtual IReadOnlyList<ReportTable> Tables(ReportSpec spec) => [];

    /// <summary>Draws the figures <paramref name="spec"/> asks for into <paramref name="target"/>'s folder, atomically.</summary>
    public abstract IReadOnlyList<FigureSection> DrawFigures(ReportSpec spec, FigureTarget target);

    /// <summary>Whether anything is measured at all.</summary>
    public bool IsEmpty => Groups.Count == 0;
}
