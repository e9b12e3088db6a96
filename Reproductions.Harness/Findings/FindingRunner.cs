using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Findings;

/// <summary>
/// Runs a finding profile's experiment through the store, whatever its protocol: every unit of its plan that is not
/// stored yet runs (those it reads first), then the stored results are measured. <see cref="Stored"/> measures what is
/// stored, running nothing: the report and the checks of runs made on another machine read it.
/// </summary>
public static class FindingRunner
{
    /// <summary>REPRO_RUN_DEVICE=cuda reads the results stored for that device type (made on a GPU machine, copied here); nothing runs.</summary>
    public const string RunDeviceVariable = "REPRO_RUN_DEVICE";

    /// <summary>The device type REPRO_RUN_DEVICE names, or null; anything but cpu and cuda is an error.</summary>
    public static string? RunDevice()
    {
        var value = Environment.GetEnvironmentVariable(RunDeviceVariable);
        if (string.IsNullOrWhiteSpace(value)) return null;
        var device = value.Trim().ToLowerInvariant();
        return device is "cpu" or "cuda" ? device : throw new ConfigException($"{RunDeviceVariable} = '{value}': expected cpu or cuda.");
    }

    /// <summary>The command that runs a finding profile's experiment.</summary>
    public static string RunCommand(string profile, string finding) =>
        $"dotnet run --project Reproductions.Harness -- reproduce --profile {profile} --findings {finding}";

    public static string Label(FindingProfile finding) => $"{finding.Finding} {finding.Profile}";

    /// <summary>The device type <paramref name="finding"/>'s units run on, on this machine.</summary>
    public static string DeviceType(FindingProfile finding) => Devices.TypeName(Devices.Resolve(finding.Experiment.Device));

    /// <summary>
    /// The stacks that span <paramref name="findings"/> (<see cref="StackPool"/>) on each device type they run on here: what
    /// <c>reproduce</c> trains them in when it runs them together.
    /// </summary>
    public static IReadOnlyDictionary<string, StackPool> Pools(IReadOnlyList<FindingProfile> findings) =>
        findings.GroupBy(DeviceType).ToDictionary(g => g.Key, g => StackPool.Of(g.Select(f => f.Experiment.Plan(g.Key, Label(f))), g.Key));

    /// <summary>
    /// Runs (or reuses) every unit of the finding's experiment on this machine's device, then measures. With
    /// <paramref name="pools"/> (<see cref="Pools"/>), its stacked runs train in the stacks that span the findings run together.
    /// </summary>
    public static Measured Run(FindingProfile finding, ExperimentStore store, RunOptions? options = null, IReadOnlyDictionary<string, StackPool>? pools = null)
    {
        var deviceType = DeviceType(finding);
        var plan = finding.Experiment.Plan(deviceType, Label(finding), pools?.GetValueOrDefault(deviceType) ?? StackPool.Empty);
        var results = plan.Select(w => RunUnlessReadsDiverged(w, store, options)).ToList();
        return finding.Experiment.Measure(plan, results, RunCommand(finding.Profile, finding.Finding));
    }

    /// <summary>
    /// The unit's result, run first if needed; null, running nothing, when it reads a training run that diverged (a diverged
    /// run has no final weights): the protocol's measurement lists the unit as not measured beside the diverged run, and
    /// the report decides the exit code from the divergence (4, or an outcome the profile expects).
    /// </summary>
    private static object? RunUnlessReadsDiverged(Work unit, ExperimentStore store, RunOptions? options)
    {
        foreach (var read in unit.Reads)
            if (store.GetOrRunUntyped(read, options) is RunRecord { Status: RunStatus.Diverged } diverged)
            {
                options?.Log?.Invoke($"{unit.Label}: not run: it reads {read.Label}, which diverged at epoch {diverged.Divergence?.Epoch}.");
                return null;
            }
        return store.GetOrRunUntyped(unit, options);
    }

    /// <summary>
    /// Measures what the store holds, running nothing. Each unit is looked up under <paramref name="deviceType"/> when
    /// given; otherwise under the device type the configs (or REPRO_DEVICE) ask for, and with "auto" under this
    /// machine's device type first, then the other (results made on a GPU machine, read on a CPU one).
    /// </summary>
    public static Measured Stored(FindingProfile finding, ExperimentStore store, string? deviceType = null)
    {
        var here = Devices.CudaAvailable ? "cuda" : "cpu";
        string[] candidates = deviceType is not null ? [deviceType] : (Devices.FromEnvironment() ?? finding.Experiment.Device) switch
        {
            DeviceChoice.Cpu => ["cpu"],
            DeviceChoice.Cuda => ["cuda"],
            _ => [here, here == "cuda" ? "cpu" : "cuda"],
        };
        var plans = candidates.Select(d => finding.Experiment.Plan(d, Label(finding))).ToList();
        var results = new object?[plans[0].Count];
        for (var i = 0; i < results.Length; i++)
            foreach (var plan in plans)
                if (store.TryLoadUntyped(plan[i]) is { } result)
                {
                    results[i] = result;
                    break;
                }
        return finding.Experiment.Measure(plans[0], results, RunCommand(finding.Profile, finding.Finding));
    }
}
