using System.Diagnostics;
using System.Runtime.InteropServices;
using Reproductions.Harness.Benchmarks;
using Reproductions.Harness.Infrastructure;
using TorchSharp;

namespace Reproductions.Tests.Benchmarks;

/// <summary>
/// The CUPTI launch counter, against a stand-in libcupti (Native/fake_cupti.c, built here with the C compiler) that plays the
/// CUDA driver: the binding, the callback's reading of CUPTI's data, threads, one subscriber at a time, and the messages where it
/// cannot count. The real library only runs on a GPU machine (tools/gpu/device-run.sh).
/// </summary>
[Unit, NonParallelizable]
public class CudaApiCounterTests
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void CallFn(uint cbid, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void CallsOnThreadFn(uint cbid, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, int times);

    private string library = "";
    private CallFn driverCall = null!;
    private CallFn runtimeCall = null!;
    private CallsOnThreadFn callsOnThread = null!;

    [OneTimeSetUp]
    public void BuildTheStandIn()
    {
        var source = Path.Combine(RepoPaths.Root, "Reproductions.Tests", "Native", "fake_cupti.c");
        library = Path.Combine(Path.GetTempPath(), $"repro-fake-cupti-{Environment.ProcessId}.so");
        try
        {
            using var cc = Process.Start(new ProcessStartInfo("cc", ["-shared", "-fPIC", "-O1", "-o", library, source, "-lpthread"])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            var errors = cc.StandardError.ReadToEnd();
            cc.WaitForExit();
            if (cc.ExitCode != 0) Assert.Fail($"cc could not build {source}: {errors}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Ignore("No C compiler (cc) on this machine to build the CUPTI stand-in: the counter's binding is unchecked here.");
        }
        var handle = NativeLibrary.Load(library);
        driverCall = Marshal.GetDelegateForFunctionPointer<CallFn>(NativeLibrary.GetExport(handle, "fake_driver_call"));
        runtimeCall = Marshal.GetDelegateForFunctionPointer<CallFn>(NativeLibrary.GetExport(handle, "fake_runtime_call"));
        callsOnThread = Marshal.GetDelegateForFunctionPointer<CallsOnThreadFn>(NativeLibrary.GetExport(handle, "fake_driver_calls_on_thread"));
    }

    [OneTimeTearDown]
    public void Remove()
    {
        if (library.Length > 0) File.Delete(library);
    }

    [Test]
    public void It_counts_each_driver_call_once_by_name_on_any_thread_and_sorts_launches_copies_and_syncs()
    {
        using var counter = CudaApiCounter.TryStart(library, out var reason);
        counter.Should().NotBeNull(reason);
        reason.Should().Contain(library);
        var counts = counter!.Count(() =>
        {
            for (var i = 0; i < 3; i++) driverCall(307, "cuLaunchKernel");
            driverCall(652, "cuLaunchKernelEx");
            driverCall(600, "cuLaunchHostFunc");
            driverCall(279, "cuMemcpyDtoHAsync_v2");
            driverCall(276, "cuMemcpyDtoH_v2");
            driverCall(131, "cuStreamSynchronize");
            runtimeCall(211, "cudaLaunchKernel"); // the runtime domain: its launch reaches the driver as a driver call of its own
            callsOnThread(307, "cuLaunchKernel", 5);
        });
        counts.Calls.Should().BeEquivalentTo(new Dictionary<string, long>
        {
            ["cuLaunchKernel"] = 8, ["cuLaunchKernelEx"] = 1, ["cuLaunchHostFunc"] = 1,
            ["cuMemcpyDtoHAsync_v2"] = 1, ["cuMemcpyDtoH_v2"] = 1, ["cuStreamSynchronize"] = 1,
        }, "each call is counted at its entry only, in the driver domain, on whichever thread makes it");
        counts.Launches.Should().Be(9, "the host function is not a kernel");
        counts.Copies.Should().Be(2);
        counts.Syncs.Should().Be(2, "the stream synchronisation and the blocking copy; the async copy does not wait");
        counts.Describe(2).Should().Be("cuLaunchKernel 8, cuLaunchHostFunc 1 (+4 more)");
        counter.Count(() => { }).Calls.Should().BeEmpty("a window with no calls counts none");
    }

    [Test]
    public void One_counter_at_a_time_and_nothing_is_counted_after_it_stops()
    {
        var first = CudaApiCounter.TryStart(library, out _)!;
        CudaApiCounter.TryStart(library, out var reason).Should().BeNull();
        reason.Should().Contain("one subscriber per process");
        var before = first.Read();
        first.Dispose();
        driverCall(307, "cuLaunchKernel");
        first.Read().Should().BeEquivalentTo(before, "the stopped counter unsubscribed");
        using var second = CudaApiCounter.TryStart(library, out reason);
        second.Should().NotBeNull(reason);
        second!.Count(() => driverCall(307, "cuLaunchKernel")).Launches.Should().Be(1, "its counts start from nothing");
    }

    [Test]
    public void Where_it_cannot_count_it_says_why()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-libcupti.so");
        CudaApiCounter.TryStart(missing, out var reason).Should().BeNull();
        reason.Should().Contain(CudaApiCounter.EnvironmentVariable).And.Contain(missing).And.Contain("libcupti.so");
        CudaApiCounter.TryStart(torch.CPU, out reason).Should().BeNull();
        reason.Should().Contain("not counted on the cpu");
        var was = Environment.GetEnvironmentVariable(CudaApiCounter.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(CudaApiCounter.EnvironmentVariable, "off");
            CudaApiCounter.TryStart(new torch.Device(DeviceType.CUDA), out reason).Should().BeNull();
            reason.Should().Contain("REPRO_CUPTI=off");
            Environment.SetEnvironmentVariable(CudaApiCounter.EnvironmentVariable, library);
            using var counter = CudaApiCounter.TryStart(new torch.Device(DeviceType.CUDA), out reason);
            counter.Should().NotBeNull(reason);
            counter!.Library.Should().Be(library, "the variable names the library");
        }
        finally
        {
            Environment.SetEnvironmentVariable(CudaApiCounter.EnvironmentVariable, was);
        }
        // A library that is not CUPTI: the C library, which has none of its entry points.
        CudaApiCounter.TryStart("libc.so.6", out reason).Should().BeNull();
        reason.Should().Contain("is not CUPTI");
    }
}
