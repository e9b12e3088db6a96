using System.Security.Cryptography;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Training;

/// <summary>Something a run's checkpoints can save and restore: a training session, or a stack of them.</summary>
public interface ICheckpointed
{
    int CompletedEpochs { get; }
    void SaveCheckpoint(string path, string runHash);
    void LoadCheckpoint(string path, string runHash);
}

/// <summary>
/// The file a checkpoint is written as, atomically: a header (the format's magic number, the run's hash, the epochs and
/// steps done, the payload's length and SHA-256) then the payload, so that a torn, corrupted or misplaced checkpoint is
/// recognised before anything of it is used.
/// </summary>
public static class CheckpointFile
{
    public static void Write(string path, int magic, string runHash, int completedEpochs, long steps, byte[] payload) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(magic);
            writer.Write(runHash);
            writer.Write(completedEpochs);
            writer.Write(steps);
            writer.Write(payload.LongLength);
            writer.Write(SHA256.HashData(payload));
            writer.Write(payload);
        });

    /// <summary>
    /// Reads and checks a checkpoint of run <paramref name="runHash"/>: magic, hash, length, SHA-256 and epochs within
    /// <paramref name="totalEpochs"/>. A file that fails is a <see cref="CorruptStateException"/> naming it and why.
    /// </summary>
    public static (int CompletedEpochs, long Steps, byte[] Payload) Read(string path, int magic, string runHash, int totalEpochs)
    {
        int completed;
        long steps;
        byte[] payload;
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            if (reader.ReadInt32() != magic) throw Bad(path, runHash, "wrong magic number (not a checkpoint of this format)");
            var hash = reader.ReadString();
            if (hash != runHash) throw Bad(path, runHash, $"it belongs to run {hash}");
            completed = reader.ReadInt32();
            steps = reader.ReadInt64();
            var length = reader.ReadInt64();
            var checksum = reader.ReadBytes(32);
            if (length < 0 || length != stream.Length - stream.Position)
                throw Bad(path, runHash, $"its payload should hold {length} bytes, the file has {stream.Length - stream.Position}");
            payload = reader.ReadBytes((int)length);
            if (!SHA256.HashData(payload).AsSpan().SequenceEqual(checksum)) throw Bad(path, runHash, "its SHA-256 does not match its content");
        }
        catch (EndOfStreamException)
        {
            throw Bad(path, runHash, "it is truncated");
        }
        catch (Exception e) when (e is FormatException or IOException and not (FileNotFoundException or DirectoryNotFoundException))
        {
            // A malformed header: a length prefix that is not one (FormatException), a negative string length (IOException).
            throw Bad(path, runHash, $"its header is malformed ({e.Message})");
        }
        if (completed < 1 || completed > totalEpochs) throw Bad(path, runHash, $"it holds {completed} epochs, the config has {totalEpochs}");
        return (completed, steps, payload);
    }

    public static CorruptStateException Bad(string path, string runHash, string why) => new($"{path}: not a usable checkpoint of run {runHash}: {why}.");
}
