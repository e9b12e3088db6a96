using System.Runtime.InteropServices;

namespace Reproductions.Harness.Data;

/// <summary>
/// libtorch's CPU allocator (c10) backs allocations of 2 MB and more with transparent huge pages when the native
/// environment has THP_MEM_ALLOC_ENABLE=1 (Linux; read once, at its first allocation). On virtual machines where
/// first-touch page faults are dear (measured here: about 0.6 s to fill a fresh 188 MB tensor with 4 KB pages,
/// 25 ms with huge pages), this is most of the cost of turning MNIST's 47 MB of pixels into float32.
/// <see cref="EnableHugePages"/> sets the variable in the native environment (Environment.SetEnvironmentVariable
/// only changes .NET's copy) unless it is already set; it only takes effect if libtorch has not yet allocated.
/// </summary>
public static class TorchCpuMemory
{
    public const string Variable = "THP_MEM_ALLOC_ENABLE";
    private static readonly Lazy<bool> Enabled = new(Enable);

    /// <summary>Returns whether THP_MEM_ALLOC_ENABLE is set (by the user or now). Idempotent; a no-op off Linux.</summary>
    public static bool EnableHugePages() => Enabled.Value;

    private static bool Enable()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } existing) return existing != "0";
        try
        {
            if (SetEnv(Variable, "1", overwrite: 0) != 0) return false;
            Environment.SetEnvironmentVariable(Variable, "1");
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "setenv", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetEnv(
        [MarshalAs(UnmanagedType.LPUTF8Str)] string name,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string value,
        int overwrite);
}
