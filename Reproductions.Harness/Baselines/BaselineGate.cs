using System.Globalization;
using System.Text;

namespace Reproductions.Harness.Baselines;

/// <summary>What <see cref="BaselineGate.Check"/> decided.</summary>
/// <param name="Passed">Whether the run matches its baseline (or the baseline was written by explicit opt-in).</param>
/// <param name="Message">Human-readable outcome with the comparison table and, on failure, what to do next.</param>
public sealed record BaselineVerdict(bool Passed, string Message)
{
    /// <summary>The comparison, when a baseline could be read.</summary>
    public BaselineComparison? Comparison { get; init; }

    /// <summary>The received file written by this check, if any.</summary>
    public string? ReceivedPath { get; init; }

    /// <summary>The verified file written by this check (REPRO_ACCEPT_BASELINES=1 outside CI), if any.</summary>
    public string? WrittenBaselinePath { get; init; }

    public override string ToString() => Message;
}

/// <summary>
/// The "no drift" check of a finding test: compares fresh samples with the stored baseline and decides. It never
/// references NUnit; a test turns a failed verdict into <c>Assert.Fail(verdict.Message)</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Baseline present and every metric in band: pass; a stale received file is removed.</item>
/// <item>Mismatch: the fresh numbers are written as &lt;finding&gt;.received.json and the verdict fails with the table and the
/// accept command.</item>
/// <item>Baseline missing (or unreadable): received file written; the verdict fails and says how to create the baseline.</item>
/// <item>REPRO_ACCEPT_BASELINES=1 without CI: the verified baseline is written directly and the verdict passes, saying so.
/// With CI set the variable is ignored, with a note.</item>
/// </list>
/// </remarks>
public static class BaselineGate
{
    public static BaselineVerdict Check(BaselineStore store, MetricSamples measured, BandPolicy policy, string device)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        if (measured.Count == 0)
            throw new ArgumentException($"{measured.Finding} ({measured.Profile}): no metrics were measured, nothing to check.", nameof(measured));

        var (profile, dataset, finding) = (measured.Profile, measured.Dataset, measured.Finding);
        var title = $"Baseline {finding} ({profile}, {dataset})";
        var verifiedPath = store.Path(profile, dataset, finding);
        var fresh = Baseline.FromSamples(measured, policy, MachineInfo.Capture(device));
        var acceptCommand = BaselineEnvironment.AcceptCommand(profile, dataset, finding);

        var notes = new StringBuilder();
        var acceptRequested = BaselineEnvironment.AcceptRequested;
        if (acceptRequested && BaselineEnvironment.IsCi)
            notes.Append("Note: ").Append(BaselineEnvironment.AcceptVariable).Append(" is ignored because ")
                .Append(BaselineEnvironment.CiVariable).Append(" is set ('").Append(BaselineEnvironment.CiValue)
                .Append("'); baselines are never written on CI.\n");
        var refusals = BaselineAcceptance.Problems(fresh);
        if (acceptRequested && !BaselineEnvironment.IsCi && refusals.Count > 0)
        {
            var refused = store.WriteReceived(fresh, dataset);
            return new BaselineVerdict(false,
                $"{title}: {BaselineEnvironment.AcceptVariable}=1 is set, but these numbers may not become the baseline ({refusals.Count} problem(s)):\n  - " +
                string.Join("\n  - ", refusals) + $"\nThey were written to '{refused}' for review.\n") { ReceivedPath = refused };
        }
        var writeDirectly = acceptRequested && !BaselineEnvironment.IsCi;

        Baseline? stored = null;
        BaselineFormatException? unreadable = null;
        try
        {
            stored = store.TryLoad(profile, dataset, finding);
        }
        catch (BaselineFormatException e)
        {
            unreadable = e;
        }
        var comparison = stored is null ? null : BaselineComparison.Compare(stored, measured);

        if (writeDirectly)
        {
            var written = store.WriteVerified(fresh, dataset);
            var message = new StringBuilder();
            message.Append(title).Append(": ").Append(BaselineEnvironment.AcceptVariable).Append("=1 is set and ")
                .Append(BaselineEnvironment.CiVariable).Append(" is not, so the measured numbers were written as the baseline '")
                .Append(written).Append("'. Review the change and commit it.\n");
            if (comparison is not null)
            {
                message.Append(comparison.Passed
                    ? "The previous baseline already matched:\n"
                    : "The previous baseline did not match:\n").Append(comparison.RenderTable());
            }
            else if (unreadable is not null)
            {
                message.Append("It replaced an unreadable file: ").Append(unreadable.Message).Append('\n');
            }
            else
            {
                message.Append("There was no baseline before. Stored bands:\n").Append(RenderBands(fresh));
            }
            return new BaselineVerdict(true, message.ToString()) { Comparison = comparison, WrittenBaselinePath = written };
        }

        if (comparison is { Passed: true })
        {
            var removed = store.DeleteReceived(profile, dataset, finding);
            var message = new StringBuilder();
            message.Append(notes).Append(title).Append(": all ")
                .Append(comparison.Rows.Count.ToString(CultureInfo.InvariantCulture)).Append(" metrics within band.\n")
                .Append(comparison.RenderTable());
            if (removed)
                message.Append("Removed the stale received file '").Append(store.ReceivedPath(profile, dataset, finding)).Append("'.\n");
            return new BaselineVerdict(true, message.ToString()) { Comparison = comparison };
        }

        var received = store.WriteReceived(fresh, dataset);
        var failure = new StringBuilder();
        failure.Append(notes);
        if (comparison is not null)
        {
            var failing = comparison.Failures.Select(r => r.Metric).ToArray();
            failure.Append(title).Append(": drift from the stored baseline '").Append(verifiedPath).Append("'");
            failure.Append(failing.Length > 0 ? $" in {string.Join(", ", failing)}.\n" : ".\n");
            failure.Append(comparison.RenderTable());
            failure.Append("Baseline measured on: ").Append(comparison.Baseline.Machine.Describe())
                .Append(", ").Append(comparison.Baseline.CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append('\n');
            failure.Append("This run on:          ").Append(fresh.Machine.Describe()).Append('\n');
            failure.Append("The fresh numbers are in '").Append(received).Append("'. If the change is intended, review that file and accept it:\n");
        }
        else
        {
            failure.Append(title).Append(": ");
            failure.Append(unreadable is not null
                ? $"the stored baseline cannot be read. {unreadable.Message}\n"
                : $"no baseline yet at '{verifiedPath}'.\n");
            failure.Append("The measured numbers and their bands were written to '").Append(received).Append("':\n");
            failure.Append(RenderBands(fresh));
            failure.Append("To create the baseline, review that file and accept it:\n");
        }
        failure.Append("  ").Append(acceptCommand).Append('\n');
        failure.Append("or re-run the test with ").Append(BaselineEnvironment.AcceptVariable)
            .Append("=1 to write it directly (ignored when ").Append(BaselineEnvironment.CiVariable).Append(" is set).\n");
        return new BaselineVerdict(false, failure.ToString()) { Comparison = comparison, ReceivedPath = received };
    }

    /// <summary>The metrics of a baseline with their bands and rules, aligned.</summary>
    private static string RenderBands(Baseline baseline)
    {
        var rows = baseline.Metrics
            .Select(kv => new[] { kv.Key, NumberText.Format(kv.Value.Value, 6), NumberText.Format(kv.Value.HalfWidth), kv.Value.Rule })
            .Prepend(["metric", "value", "band", "rule"])
            .ToList();
        var widths = Enumerable.Range(0, 3).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var r in rows)
            text.Append(r[0].PadRight(widths[0])).Append("  ").Append(r[1].PadLeft(widths[1])).Append("  ")
                .Append(r[2].PadLeft(widths[2])).Append("  ").Append(r[3]).Append('\n');
        return text.ToString();
    }
}
