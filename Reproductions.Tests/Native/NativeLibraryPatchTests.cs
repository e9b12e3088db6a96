using Reproductions.Native;
using static TorchSharp.torch;

namespace Reproductions.Tests.Native;

/// <summary>
/// libLibTorchSharp.so (TorchSharp 0.107) names GLIBCXX_3.4.32, which Debian 12 / Ubuntu 22.04 lack. The build marks that
/// requirement weak in the output copy (never in the NuGet cache); these tests prove it and that TorchSharp then runs.
/// </summary>
[Unit]
public class NativeLibraryPatchTests
{
    private static string OutputCopy => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static string? NuGetCacheCopy()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    [Test]
    public void The_output_copy_requires_GLIBCXX_3_4_32_only_weakly()
    {
        Assume.That(OperatingSystem.IsLinux(), "the native patch applies to Linux builds");
        File.Exists(OutputCopy).Should().BeTrue($"the build copies the native library to {OutputCopy}");
        ElfVersionNeedPatcher.Inspect(OutputCopy).Should().Be((true, true));
    }

    [Test]
    public void The_NuGet_cache_copy_is_left_untouched()
    {
        var cached = NuGetCacheCopy();
        Assume.That(cached, Is.Not.Null, "TorchSharp 0.107.0 is not in the NuGet cache at the usual place");
        ElfVersionNeedPatcher.Inspect(cached!).Should().Be((true, false));
    }

    [Test]
    public void TorchSharp_loads_and_runs_a_tensor_op()
    {
        using var a = arange(1, 5, dtype: ScalarType.Float32).reshape(2, 2);
        using var product = a.matmul(a);
        product.data<float>().ToArray().Should().Equal(7f, 10f, 15f, 22f);
    }

    [Test]
    public void Patching_is_idempotent_and_flips_one_bit()
    {
        var original = NuGetCacheCopy() ?? OutputCopy;
        var copy = Path.Combine(Path.GetTempPath(), $"libLibTorchSharp-{Guid.NewGuid():N}.so");
        File.Copy(original, copy);
        try
        {
            var before = File.ReadAllBytes(copy);
            var wasWeak = ElfVersionNeedPatcher.Inspect(copy).Weak;
            ElfVersionNeedPatcher.Patch(copy).Should().Be(wasWeak ? ElfPatchOutcome.AlreadyWeak : ElfPatchOutcome.Patched);
            ElfVersionNeedPatcher.Patch(copy).Should().Be(ElfPatchOutcome.AlreadyWeak);
            ElfVersionNeedPatcher.Inspect(copy).Should().Be((true, true));
            var after = File.ReadAllBytes(copy);
            after.Length.Should().Be(before.Length);
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
            changed.Length.Should().Be(wasWeak ? 0 : 1, "only the VER_FLG_WEAK bit of one vna_flags changes");
            if (!wasWeak) (after[changed[0]] ^ before[changed[0]]).Should().Be(0x2);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Test]
    public void A_library_without_the_requirement_is_left_alone()
    {
        Assume.That(File.Exists("/bin/ls"), "needs an ELF executable that does not use libstdc++");
        ElfVersionNeedPatcher.Inspect("/bin/ls").Should().Be((false, false));
    }

    [Test]
    public void Malformed_files_get_errors_that_name_them()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-elf-{Guid.NewGuid():N}.so");
        try
        {
            File.WriteAllBytes(path, new byte[100]);
            var act = () => ElfVersionNeedPatcher.Patch(path);
            act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(path).And.Contain("not an ELF file");

            var truncated = File.ReadAllBytes(NuGetCacheCopy() ?? OutputCopy).AsSpan(0, 4096).ToArray();
            File.WriteAllBytes(path, truncated);
            act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(path).And.Contain("truncated");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
