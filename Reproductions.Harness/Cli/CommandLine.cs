using System.CommandLine;

namespace Reproductions.Harness.Cli;

/// <summary>The harness's command line: one subcommand per job. Each area adds its commands in <see cref="Build"/>.</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        // Before libtorch allocates anything: large CPU tensors on huge pages (loading MNIST twice as fast here).
        Data.TorchCpuMemory.EnableHugePages();
        // Redirected output (logs, CI) reports a width of 80, which would fold the result tables; keep them whole.
        if (!Spectre.Console.AnsiConsole.Profile.Capabilities.Interactive) Spectre.Console.AnsiConsole.Profile.Width = 200;
        return Build().Parse(args).Invoke();
    }

    public static RootCommand Build()
    {
        var root = new RootCommand("Reproductions: published deep-learning findings as tests that run.");
        root.Add(ReproduceCommand.Create());
        root.Add(ReportCommand.Create());
        root.Add(TrainCommand.Create());
        root.Add(BenchCommand.Create());
        root.Add(DataCommand.Create());
        root.Add(BaselinesCommand.Create());
        return root;
    }
}
