using System.Globalization;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Training;

/// <summary>
/// A training run's checkpoints in its scratch folder: <c>checkpoint-&lt;epoch&gt;.bin</c>, one after every epoch, the
/// newest two kept. A resumed run takes the newest that passes its checks; one that fails (torn, corrupted, another
/// run's) is moved aside with its path reported (never deleted, never used) into <paramref name="setAside"/> (default:
/// beside it; a run's scratch folder is removed once its result is stored, so the store passes a folder outside it), and
/// the next older one is tried, else the run starts over.
/// </summary>
public sealed class RunCheckpoints(string folder, string runHash, Action<string>? log = null, string? setAside = null)
{
    public const int Keep = 2;

    public string Folder { get; } = folder;

    public string PathOf(int epoch) => Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"checkpoint-{epoch:D5}.bin"));

    /// <summary>The checkpoint files present, newest first.</summary>
    public IReadOnlyList<string> Files() => Directory.Exists(Folder)
        ? Directory.GetFiles(Folder, "checkpoint-*.bin").OrderByDescending(f => f, StringComparer.Ordinal).ToList()
        : [];

    /// <summary>Restores the newest good checkpoint into <paramref name="session"/>; returns its epochs (0: none, start over).</summary>
    public int Restore(ICheckpointed session)
    {
        foreach (var path in Files())
        {
            var restored = SetAside.ReadOrMove<object>(path, () =>
            {
                session.LoadCheckpoint(path, runHash);
                return session;
            }, log, "trying an older checkpoint.", setAside);
            if (restored is not null) return session.CompletedEpochs;
        }
        return 0;
    }

    /// <summary>Writes the checkpoint of the epochs done so far and drops all but the newest <see cref="Keep"/>.</summary>
    public void Save(ICheckpointed session)
    {
        Directory.CreateDirectory(Folder);
        session.SaveCheckpoint(PathOf(session.CompletedEpochs), runHash);
        foreach (var old in Files().Skip(Keep)) File.Delete(old);
    }
}
