using System.CommandLine;

namespace Reproductions.Harness.Cli;

/// <summary>The harness's command line: one subcommand per job. Each area adds its commands in <see cref="Build"/>.</summary>
public static class CommandLine
{
    public static int Run(string[] args) => Build().Parse(args).Invoke();

    public static RootCommand Build()
    {
        var root = new RootCommand("Reproductions: published deep-learning findings as tests that run.");
        root.Add(DataCommand.Create());
        return root;
    }
}
