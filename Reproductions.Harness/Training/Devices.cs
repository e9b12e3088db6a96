using static TorchSharp.torch;

namespace Reproductions.Harness.Training;

public static class Devices
{
    /// <summary>REPRO_DEVICE (auto, cpu, cuda) overrides a config's device choice for the whole process.</summary>
    public const string EnvironmentVariable = "REPRO_DEVICE";

    public static bool CudaAvailable => cuda.is_available();

    public static DeviceChoice? FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value)) return null;
        // Only the names: Enum.TryParse would also take a number ("5") or a list of names ("cpu,cuda").
        return Enum.GetNames<DeviceChoice>().FirstOrDefault(n => string.Equals(n, value.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name
            ? Enum.Parse<DeviceChoice>(name)
            : throw new ConfigException($"{EnvironmentVariable} = '{value}': expected auto, cpu or cuda.");
    }

    public static Device Resolve(DeviceChoice choice) => (FromEnvironment() ?? choice) switch
    {
        DeviceChoice.Cpu => CPU,
        DeviceChoice.Cuda when CudaAvailable => CUDA,
        DeviceChoice.Cuda => throw new Infrastructure.BadInputException(
            "The config asks for device 'cuda', but TorchSharp finds no CUDA device (build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU)."),
        _ => CudaAvailable ? CUDA : CPU,
    };

    /// <summary>The device type's name as runs are keyed by it: "cpu" or "cuda".</summary>
    public static string TypeName(Device device) => device.type.ToString().ToLowerInvariant();

    /// <summary>A short description for reports: "cpu (2 threads)" or "cuda (NVIDIA H100 ...)".</summary>
    public static string Describe(Device device) =>
        device.type == TorchSharp.DeviceType.CUDA
            ? $"cuda ({cuda.device_count()} device(s))"
            : $"cpu ({get_num_threads()} threads, {Environment.ProcessorCount} cores)";
}
