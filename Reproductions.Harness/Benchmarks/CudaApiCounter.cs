using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Reproductions.Harness.Benchmarks;

/// <summary>
/// The CUDA driver calls a piece of work issues, counted by name: kernel launches, copies and host synchronisations.
/// </summary>
/// <param name="Calls">Each driver function's name (e.g. <c>cuLaunchKernel</c>, <c>cuStreamSynchronize</c>) and how often it
/// was entered.</param>
public sealed record CudaApiCounts(IReadOnlyDictionary<string, long> Calls)
{
    /// <summary>Kernel launches: <c>cuLaunchKernel</c> and its variants (Ex, cooperative, per-thread stream), and graph launches;
    /// not <c>cuLaunchHostFunc</c>, which runs a host function.</summary>
    public static bool IsLaunch(string name) =>
        (name.StartsWith("cuLaunch", StringComparison.Ordinal) && !name.StartsWith("cuLaunchHostFunc", StringComparison.Ordinal)) ||
        name.StartsWith("cuGraphLaunch", StringComparison.Ordinal);

    /// <summary>Copies and fills of device memory (<c>cuMemcpy*</c>, <c>cuMemset*</c>): GPU operations that are not kernels.</summary>
    public static bool IsCopy(string name) =>
        name.StartsWith("cuMemcpy", StringComparison.Ordinal) || name.StartsWith("cuMemset", StringComparison.Ordinal);

    /// <summary>Calls that make the host wait for the device: every <c>*Synchronize</c>, and the copies that are not
    /// <c>Async</c> (a blocking copy returns once the data has arrived).</summary>
    public static bool IsSync(string name) =>
        name.Contains("Synchronize", StringComparison.Ordinal) ||
        (name.StartsWith("cuMemcpy", StringComparison.Ordinal) && !name.Contains("Async", StringComparison.Ordinal));

    public long Launches => Sum(IsLaunch);
    public long Copies => Sum(IsCopy);
    public long Syncs => Sum(IsSync);

    private long Sum(Func<string, bool> kind) => Calls.Where(c => kind(c.Key)).Sum(c => c.Value);

    /// <summary>The calls made between two readings of one counter.</summary>
    public static CudaApiCounts operator -(CudaApiCounts after, CudaApiCounts before) =>
        new(after.Calls.Select(c => (c.Key, Count: c.Value - before.Calls.GetValueOrDefault(c.Key)))
            .Where(c => c.Count != 0).ToFrozenDictionary(c => c.Key, c => c.Count, StringComparer.Ordinal));

    /// <summary>The most frequent calls, e.g. "cuLaunchKernel 31, cuMemsetD32Async 2".</summary>
    public string Describe(int top = 8) =>
        Calls.Count == 0 ? "no driver calls" : string.Join(", ", Calls.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(top)
            .Select(c => FormattableString.Invariant($"{c.Key} {c.Value}"))) + (Calls.Count > top ? FormattableString.Invariant($" (+{Calls.Count - top} more)") : "");
}

/// <summary>
/// Counts the CUDA driver calls this process makes while it is subscribed, through CUPTI's callback API (libcupti, which PyTorch's
/// CUDA wheels and the CUDA toolkit ship). TorchSharp 0.107 has no profiler; the driver is where every kernel launch passes,
/// whichever library (libtorch, cuBLAS) and thread (autograd's device thread included) issues it, so this counts the launches a
/// step really makes, where the count of tensors it creates is only a bound.
/// </summary>
/// <remarks>
/// <para>The library is <c>REPRO_CUPTI</c> (a path) when set, else <c>libcupti.so</c> (any version the loader finds; libtorch
/// may have loaded it already); <c>REPRO_CUPTI=off</c> counts nothing. Only its C entry points are used (<c>cuptiSubscribe</c>, <c>cuptiEnableDomain</c>,
/// <c>cuptiUnsubscribe</c>), bound at run time, so nothing changes where it is absent.</para>
/// <para>CUPTI takes one subscriber per process, so one counter is active at a time. While subscribed, every driver call pays for a
/// callback: subscribe around the work to count (a step), never around timed work.</para>
/// <para>Each driver call is counted at its entry, by the function name CUPTI passes (<c>CUpti_CallbackData.functionName</c>, the
/// pointer after the 4-byte call site, aligned to 8), so no callback id of a particular CUDA version is hard-coded.</para>
/// </remarks>
public sealed class CudaApiCounter : IDisposable
{
    /// <summary>The environment variable that names libcupti's path.</summary>
    public const string EnvironmentVariable = "REPRO_CUPTI";

    private const int DriverApiDomain = 1; // CUPTI_CB_DOMAIN_DRIVER_API
    private const int ApiEnter = 0; // CUPTI_API_ENTER
    private const int FunctionNameOffset = 8; // CUpti_CallbackData { CUpti_ApiCallbackSite callbackSite; const char* functionName; ... }
    private const int MaxCallbackId = 4096; // driver callback ids are a few hundred; larger ones go to one bucket

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int SubscribeFn(out IntPtr subscriber, IntPtr callback, IntPtr userdata);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int EnableDomainFn(uint enable, IntPtr subscriber, int domain);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int UnsubscribeFn(IntPtr subscriber);

    private sealed record Api(string Path, SubscribeFn Subscribe, EnableDomainFn EnableDomain, UnsubscribeFn Unsubscribe);

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Api> Loaded = new(StringComparer.Ordinal);
    private static CudaApiCounter? active;

    private readonly Api api;
    private readonly IntPtr subscriber;
    private readonly long[] calls = new long[MaxCallbackId + 1];
    private readonly string?[] names = new string?[MaxCallbackId + 1];
    private bool disposed;

    private CudaApiCounter(Api api, IntPtr subscriber)
    {
        this.api = api;
        this.subscriber = subscriber;
    }

    /// <summary>The library the counter reads: REPRO_CUPTI's path when set, else what the loader finds by name.</summary>
    public string Library => api.Path;

    /// <summary>
    /// Starts counting where <paramref name="device"/> is a CUDA device and libcupti loads; else null, with the reason (a line for
    /// the bench's output: the CPU has no kernels, or where to point <c>REPRO_CUPTI</c>).
    /// </summary>
    public static CudaApiCounter? TryStart(torch.Device device, out string reason)
    {
        if (device.type != DeviceType.CUDA)
        {
            reason = $"kernel launches are not counted on the {device.type.ToString().ToLowerInvariant()} (no kernels)";
            return null;
        }
        var path = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } p ? p : null;
        if (string.Equals(path, "off", StringComparison.OrdinalIgnoreCase))
        {
            reason = $"kernel launches are not counted ({EnvironmentVariable}=off)";
            return null;
        }
        return TryStart(path, out reason);
    }

    /// <summary>Runs <paramref name="work"/> once: its driver calls where a counter starts on <paramref name="device"/>, else null.</summary>
    public static CudaApiCounts? CountOn(torch.Device device, Action work)
    {
        using var counter = TryStart(device, out _);
        if (counter is not null) return counter.Count(work);
        work();
        return null;
    }

    /// <summary>Starts counting with libcupti at <paramref name="library"/> (null: <c>libcupti.so</c> by name); else null, with the reason.</summary>
    public static unsafe CudaApiCounter? TryStart(string? library, out string reason)
    {
        lock (Gate)
        {
            if (active is not null)
            {
                reason = "kernel launches are not counted: another counter is subscribed (CUPTI takes one subscriber per process)";
                return null;
            }
            if (Load(library, out reason) is not { } api) return null;
            var callback = (IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, int, uint, IntPtr, void>)&OnCall;
            var result = api.Subscribe(out var subscriber, callback, IntPtr.Zero);
            if (result != 0)
            {
                reason = FormattableString.Invariant($"kernel launches are not counted: cuptiSubscribe in {api.Path} returned {result} (39: another CUPTI client, such as a profiler, is subscribed)");
                return null;
            }
            var counter = new CudaApiCounter(api, subscriber);
            active = counter;
            result = api.EnableDomain(1, subscriber, DriverApiDomain);
            if (result != 0)
            {
                counter.Dispose();
                reason = FormattableString.Invariant($"kernel launches are not counted: cuptiEnableDomain (driver API) in {api.Path} returned {result}");
                return null;
            }
            reason = $"kernel launches counted by CUPTI ({api.Path})";
            return counter;
        }
    }

    private static Api? Load(string? library, out string reason)
    {
        var key = library ?? "";
        if (Loaded.TryGetValue(key, out var known))
        {
            reason = "";
            return known;
        }
        IntPtr handle = IntPtr.Zero;
        var candidates = library is not null ? [library] : new[] { "libcupti.so", "libcupti.so.13", "libcupti.so.12" };
        var found = candidates.FirstOrDefault(c => NativeLibrary.TryLoad(c, out handle));
        if (found is null)
        {
            reason = library is not null
                ? $"kernel launches are not counted: {EnvironmentVariable} = '{library}' does not load as a library (expected the path of libcupti.so, e.g. in PyTorch's nvidia/*/lib)"
                : $"kernel launches are not counted: libcupti.so was not found (set {EnvironmentVariable} to its path; PyTorch's CUDA wheels ship it under nvidia/*/lib)";
            return null;
        }
        T Export<T>(string name) => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(handle, name));
        try
        {
            var api = new Api(found, Export<SubscribeFn>("cuptiSubscribe"), Export<EnableDomainFn>("cuptiEnableDomain"), Export<UnsubscribeFn>("cuptiUnsubscribe"));
            Loaded[key] = api;
            reason = "";
            return api;
        }
        catch (EntryPointNotFoundException e)
        {
            reason = $"kernel launches are not counted: {found} is not CUPTI ({e.Message})";
            return null;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnCall(IntPtr userdata, int domain, uint callbackId, IntPtr data)
    {
        var counter = active;
        if (counter is null || domain != DriverApiDomain || data == IntPtr.Zero || Marshal.ReadInt32(data) != ApiEnter) return;
        var slot = (int)Math.Min(callbackId, MaxCallbackId);
        if (counter.names[slot] is null)
        {
            var name = Marshal.ReadIntPtr(data, FunctionNameOffset);
            counter.names[slot] = slot == MaxCallbackId ? "(callback id past 4096)"
                : name == IntPtr.Zero ? $"(callback id {callbackId})" : Marshal.PtrToStringUTF8(name) ?? $"(callback id {callbackId})";
        }
        Interlocked.Increment(ref counter.calls[slot]);
    }

    /// <summary>Every driver call counted so far, by name.</summary>
    public CudaApiCounts Read()
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i <= MaxCallbackId; i++)
        {
            var n = Interlocked.Read(ref calls[i]);
            if (n != 0 && names[i] is { } name) counts[name] = counts.GetValueOrDefault(name) + n;
        }
        return new CudaApiCounts(counts.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>The driver calls <paramref name="work"/> makes (on any thread of this process while it runs).</summary>
    public CudaApiCounts Count(Action work)
    {
        var before = Read();
        work();
        return Read() - before;
    }

    public void Dispose()
    {
        lock (Gate)
        {
            if (disposed) return;
            disposed = true;
            api.EnableDomain(0, subscriber, DriverApiDomain);
            api.Unsubscribe(subscriber);
            if (ReferenceEquals(active, this)) active = null;
        }
    }
}
