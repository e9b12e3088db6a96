using Reproductions.Harness.Cli;

return CommandLine.Run(args);
