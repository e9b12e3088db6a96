using System.Globalization;
using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

/// <summary>A fresh folder under the system temp folder, deleted on dispose. Tests never touch the real baselines/.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "repro-baseline-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

/// <summary>
/// Base of the fixtures that exercise baselines on disk: per test, a clean environment (no CI, no accept opt-in, restored
/// afterwards) and a fresh baseline folder under the system temp folder with a store on it (deleted afterwards).
/// </summary>
public abstract class BaselineFolderFixture
{
    private TempFolder _folder = null!;
    private EnvironmentScope _environment = null!;

    protected BaselineStore Store { get; private set; } = null!;

    /// <summary>The test's baseline folder (the store's root).</summary>
    protected string FolderPath => _folder.Path;

    /// <summary>The test's environment scope, for setting CI or REPRO_ACCEPT_BASELINES (restored after the test).</summary>
    private protected EnvironmentScope Variables => _environment;

    [SetUp]
    public void CreateFolderAndCleanEnvironment()
    {
        _environment = EnvironmentScope.Clean();
        _folder = new TempFolder();
        Store = new BaselineStore(_folder.Path);
    }

    [TearDown]
    public void RestoreEnvironmentAndDeleteFolder()
    {
        _environment.Dispose();
        _folder.Dispose();
    }
}

/// <summary>Sets environment variables and restores their previous values on dispose.</summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _previous = new(StringComparer.Ordinal);

    public EnvironmentScope Set(string name, string? value)
    {
        if (!_previous.ContainsKey(name))
            _previous[name] = System.Environment.GetEnvironmentVariable(name);
        System.Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    /// <summary>CI and REPRO_ACCEPT_BASELINES unset: a developer machine with no opt-in.</summary>
    public static EnvironmentScope Clean() =>
        new EnvironmentScope().Set(BaselineEnvironment.CiVariable, null).Set(BaselineEnvironment.AcceptVariable, null);

    public void Dispose()
    {
        foreach (var (name, value) in _previous)
            System.Environment.SetEnvironmentVariable(name, value);
        _previous.Clear();
    }
}

/// <summary>Sets the current culture (and UI culture) and restores them on dispose.</summary>
internal sealed class CultureScope : IDisposable
{
    private readonly CultureInfo _culture = CultureInfo.CurrentCulture;
    private readonly CultureInfo _uiCulture = CultureInfo.CurrentUICulture;

    public CultureScope(CultureInfo culture)
    {
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = culture;
    }

    /// <summary>
    /// de-DE, or (the projects run with InvariantGlobalization, where de-DE has no data) a culture formatted like it:
    /// decimal comma, dot for thousands, and a non-ASCII minus sign for good measure.
    /// </summary>
    public static CultureInfo GermanLike()
    {
        try
        {
            var german = CultureInfo.GetCultureInfo("de-DE");
            if (german.NumberFormat.NumberDecimalSeparator == ",") return german;
        }
        catch (CultureNotFoundException)
        {
            // Invariant globalization: build it below.
        }
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.PercentDecimalSeparator = ",";
        culture.NumberFormat.NegativeSign = "\u2212";
        return culture;
    }

    public void Dispose()
    {
        CultureInfo.CurrentCulture = _culture;
        CultureInfo.CurrentUICulture = _uiCulture;
    }
}

internal static class Samples
{
    public static readonly int[] Seeds = [11, 22, 33];

    /// <summary>Synthetic samples of finding F99 (profile "quick") with accuracy around 0.95 and loss around 0.2.</summary>
    public static MetricSamples Typical(double accuracyShift = 0, double lossShift = 0) =>
        new MetricSamples("F99", "quick", "mnist", Seeds)
            .Add("accuracy", new[] { 0.950, 0.952, 0.948 }.Select(v => v + accuracyShift))
            .Add("loss", new[] { 0.20, 0.21, 0.19 }.Select(v => v + lossShift));

    public static MachineInfo Machine { get; } = new("TestOS 1.0 (X64)", 8, "Test CPU", "cpu", "0.107.0", ".NET test");

    public static Baseline Baseline(MetricSamples samples, BandPolicy? policy = null) =>
        Harness.Baselines.Baseline.FromSamples(samples, policy ?? BandPolicy.Default, Machine,
            new DateTime(2025, 1, 31, 12, 0, 0, DateTimeKind.Utc));
}
