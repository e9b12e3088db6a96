using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Reproductions.Harness.Reporting;

/// <summary>
/// The environment a report was built in (report.json from format 5 on), so that two reports can be told apart by
/// code or by environment (<see cref="ReportChanges"/>). Every field is read, never guessed: null where it cannot be read
/// here (no git checkout, no CUDA, no nvidia-smi).
/// </summary>
/// <param name="Commit">The checkout's HEAD commit, read from .git (a worktree's .git file, loose or packed refs), else
/// from <c>git rev-parse HEAD</c>; null when neither works. Uncommitted edits are not seen.</param>
/// <param name="TorchSharp">TorchSharp's package version (its assembly's informational version, without the source hash).</param>
/// <param name="LibTorch">The libtorch version TorchSharp is built against (<c>torch.__version__</c>).</param>
/// <param name="Cuda">When CUDA is available: the CUDA version of TorchSharp's CUDA backend (TorchSharp keeps it in a
/// constant it does not make public; read by reflection, null if that fails); null without CUDA.</param>
/// <param name="Driver">When CUDA is available: the NVIDIA driver's version (nvidia-smi, else /proc/driver/nvidia/version).</param>
/// <param name="Device">When CUDA is available: the GPU(s) by name as nvidia-smi lists them ("NVIDIA H200", "2 x NVIDIA H100").</param>
/// <param name="Os">Operating system description and architecture.</param>
/// <param name="Runtime">The .NET runtime.</param>
/// <param name="RunDevices">The devices the stored runs of the report were made on, as the sections record them (e.g.
/// "cpu (2 threads, 2 cores)"): the runs may come from another machine than the one that built the report.</param>
public sealed partial record ReportEnvironment(
    string? Commit,
    string? TorchSharp,
    string? LibTorch,
    string? Cuda,
    string? Driver,
    string? Device,
    string Os,
    string Runtime,
    IReadOnlyList<string> RunDevices)
{
    /// <summary>The fields as the report and the comparison name them, in order, with their values.</summary>
    public IReadOnlyList<(string Name, string? Value)> Fields() =>
    [
        ("commit", Commit), ("TorchSharp", TorchSharp), ("libtorch", LibTorch), ("CUDA", Cuda), ("driver", Driver),
        ("GPU", Device), ("OS", Os), (".NET", Runtime), ("run devices", RunDevices.Count == 0 ? null : string.Join("; ", RunDevices)),
    ];

    /// <summary>This process's environment, with the devices of <paramref name="sections"/>' stored runs.</summary>
    public static ReportEnvironment Capture(IReadOnlyList<FindingSection> sections)
    {
        var cuda = CudaAvailable();
        var (device, driver) = cuda ? NvidiaSmi() : (null, null);
        return new ReportEnvironment(
            GitHead.Read(Infrastructure.RepoPaths.Root),
            Baselines.MachineInfo.ReadTorchSharpVersion(),
            LibTorchVersion(),
            cuda ? TorchSharpCudaVersion() : null,
            cuda ? driver ?? ProcDriverVersion() : null,
            device,
            $"{RuntimeInformation.OSDescription.Trim()} ({RuntimeInformation.OSArchitecture})",
            RuntimeInformation.FrameworkDescription,
            RunDevicesOf(sections));
    }

    /// <summary>The distinct devices of the sections' stored runs, in ordinal order.</summary>
    public static IReadOnlyList<string> RunDevicesOf(IEnumerable<FindingSection> sections) =>
        sections.SelectMany(s => s.Devices ?? []).Distinct().Order(StringComparer.Ordinal).ToList();

    private static bool CudaAvailable()
    {
        try
        {
            return Training.Devices.CudaAvailable;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            return false; // libtorch not loadable here: no CUDA to speak of
        }
    }

    private static string? LibTorchVersion()
    {
        try
        {
            return global::TorchSharp.torch.__version__;
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException)
        {
            return null;
        }
    }

    /// <summary>TorchSharp's private constant <c>cudaVersion</c> (the CUDA its CUDA backend is built for), or null.</summary>
    private static string? TorchSharpCudaVersion()
    {
        var field = typeof(global::TorchSharp.torch).GetField("cudaVersion", BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Public);
        return field is { IsLiteral: true } && field.GetRawConstantValue() is string { Length: > 0 } version ? version : null;
    }

    /// <summary>GPU names and the driver version from nvidia-smi; nulls when it is not there or fails.</summary>
    private static (string? Device, string? Driver) NvidiaSmi()
    {
        var lines = Tool.Run("nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader");
        if (lines is null) return (null, null);
        var gpus = lines.Select(l => l.Split(',', StringSplitOptions.TrimEntries)).Where(p => p.Length == 2 && p[0].Length > 0).ToList();
        if (gpus.Count == 0) return (null, null);
        var names = gpus.GroupBy(p => p[0], StringComparer.Ordinal)
            .Select(g => g.Count() == 1 ? g.Key : string.Create(CultureInfo.InvariantCulture, $"{g.Count()} x {g.Key}"));
        var drivers = gpus.Select(p => p[1]).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        return (string.Join(", ", names), drivers.Count == 0 ? null : string.Join(", ", drivers));
    }

    /// <summary>The kernel module's version from /proc/driver/nvidia/version (Linux), or null.</summary>
    private static string? ProcDriverVersion()
    {
        try
        {
            const string path = "/proc/driver/nvidia/version";
            if (!File.Exists(path)) return null;
            var match = DriverLine().Match(File.ReadAllText(path));
            return match.Success ? match.Groups[1].Value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"Kernel Module\s+(?:for\s+\S+\s+)?([0-9][0-9.]+)", RegexOptions.CultureInvariant)]
    private static partial Regex DriverLine();
}

/// <summary>Runs a tool on PATH with a timeout; its stdout lines, or null when it is missing, fails or hangs.</summary>
internal static class Tool
{
    public static IReadOnlyList<string>? Run(string file, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }
            return process.ExitCode == 0 ? output.Result.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null; // not installed, or not startable here
        }
    }
}

/// <summary>
/// The commit a checkout's HEAD names, read from its .git without git: a .git folder or a worktree's .git file
/// ("gitdir: ..."), HEAD as a ref (loose under refs/, in the common dir of a worktree, or in packed-refs) or detached.
/// </summary>
public static partial class GitHead
{
    /// <summary>HEAD's commit under <paramref name="root"/>, from .git, else from <c>git rev-parse HEAD</c>; null when neither answers.</summary>
    public static string? Read(string root) => FromFiles(root) ?? FromGit(root);

    /// <summary>HEAD's commit read from the files of <paramref name="root"/>'s .git alone; null where they do not say.</summary>
    public static string? FromFiles(string root)
    {
        try
        {
            var dotGit = Path.Combine(root, ".git");
            string gitDir;
            if (Directory.Exists(dotGit)) gitDir = dotGit;
            else if (File.Exists(dotGit) && File.ReadAllText(dotGit).Trim() is var pointer && pointer.StartsWith("gitdir:", StringComparison.Ordinal))
                gitDir = Path.GetFullPath(pointer["gitdir:".Length..].Trim(), root);
            else return null;

            var headFile = Path.Combine(gitDir, "HEAD");
            if (!File.Exists(headFile)) return null;
            var head = File.ReadAllText(headFile).Trim();
            if (Hash().IsMatch(head)) return head.ToLowerInvariant();
            if (!head.StartsWith("ref:", StringComparison.Ordinal)) return null;
            var reference = head["ref:".Length..].Trim();
            if (reference.Length == 0 || reference.Contains("..", StringComparison.Ordinal)) return null;

            var commonFile = Path.Combine(gitDir, "commondir");
            var commonDir = File.Exists(commonFile) ? Path.GetFullPath(File.ReadAllText(commonFile).Trim(), gitDir) : gitDir;
            foreach (var dir in new[] { gitDir, commonDir }.Distinct())
            {
                var loose = Path.Combine(dir, reference.Replace('/', Path.DirectorySeparatorChar));
                if (File.Exists(loose) && File.ReadAllText(loose).Trim() is var value && Hash().IsMatch(value)) return value.ToLowerInvariant();
            }
            var packed = Path.Combine(commonDir, "packed-refs");
            if (File.Exists(packed))
                foreach (var line in File.ReadLines(packed))
                {
                    var parts = line.Split(' ', 2, StringSplitOptions.TrimEntries);
                    if (parts.Length == 2 && parts[1] == reference && Hash().IsMatch(parts[0])) return parts[0].ToLowerInvariant();
                }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private static string? FromGit(string root) =>
        Tool.Run("git", "-C", root, "rev-parse", "HEAD") is [var line, ..] && Hash().IsMatch(line) ? line.ToLowerInvariant() : null;

    /// <summary>A full commit hash: 40 hex digits (SHA-1) or 64 (SHA-256).</summary>
    [GeneratedRegex("^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$", RegexOptions.CultureInvariant)]
    private static partial Regex Hash();
}
