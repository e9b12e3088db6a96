namespace Reproductions.Harness.Infrastructure;

/// <summary>
/// Where the project's data-only folders live. The repository root is found by walking up from the working
/// directory (then from the assembly's folder) to the folder holding Reproductions.sln; REPRO_ROOT overrides.
/// </summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;
    public static string Configs => Path.Combine(Root, "configs");
    public static string Baselines => Path.Combine(Root, "baselines");
    public static string Artifacts =>
        Environment.GetEnvironmentVariable("REPRO_ARTIFACTS") is { Length: > 0 } a ? Path.GetFullPath(a) : Path.Combine(Root, "artifacts");

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("REPRO_ROOT") is { Length: > 0 } explicitRoot)
            return Path.GetFullPath(explicitRoot);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Reproductions.sln")))
                    return dir.FullName;
        }
        throw new BadInputException(
            "Could not find the repository root (a folder holding Reproductions.sln) above the working directory " +
            $"'{Directory.GetCurrentDirectory()}' or '{AppContext.BaseDirectory}'. Run from inside the checkout or set REPRO_ROOT.");
    }
}
