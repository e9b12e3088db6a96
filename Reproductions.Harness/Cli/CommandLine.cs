using System.CommandLine;
using Reproductions.Harness.Infrastructure;

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
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // An unknown option or value is bad input (exit 2, as the README's table says), not the parser's generic 1.
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message.ReplaceLineEndings(" ").Replace('\t', ' ')}");
            Console.Error.WriteLine("See --help for the commands and their options.");
            return ExitCodes.BadInput;
        }
        return parse.Invoke();
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
        root.Add(MergeCommand.Create());
        return root;
    }

    /// <summary>
    /// Refuses an empty path ("") given to <paramref name="option"/> as bad input naming the option: it is no folder or
    /// file (and would otherwise mean the current folder, or fall back to the default).
    /// </summary>
    public static Option<string?> NonEmptyPath(this Option<string?> option)
    {
        option.Validators.Add(result => RejectEmpty(result, $"{option.Name}: the path is empty; give a path, or leave {option.Name} out."));
        return option;
    }

    /// <summary>The same for every path given to <paramref name="argument"/>.</summary>
    public static Argument<string[]> NonEmptyPaths(this Argument<string[]> argument)
    {
        argument.Validators.Add(result => RejectEmpty(result, $"{argument.Name}: a path is empty; name a folder."));
        return argument;
    }

    /// <summary>
    /// The same for the one path given to <paramref name="argument"/>, saying what it names (<paramref name="expected"/>, "the
    /// path of a training config JSON file"). Path arguments are strings checked so, never <see cref="FileInfo"/> or
    /// <see cref="DirectoryInfo"/>, whose parser refuses an empty path with an error that names a .NET type.
    /// </summary>
    public static Argument<string> NonEmptyPath(this Argument<string> argument, string expected)
    {
        argument.Validators.Add(result => RejectEmpty(result, $"{argument.Name}: the path is empty; give {expected}."));
        return argument;
    }

    private static void RejectEmpty(System.CommandLine.Parsing.SymbolResult result, string error)
    {
        if (result.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value))) result.AddError(error);
    }
}
