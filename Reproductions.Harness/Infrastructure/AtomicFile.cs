using System.Text;

namespace Reproductions.Harness.Infrastructure;

/// <summary>
/// Writes files so that a reader (or a process killed mid-write) sees either the old content or the new, never
/// a torn file: the content goes to a temporary file in the same folder, is flushed to disk, then renamed over
/// the target.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string content) =>
        WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(content));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var bytes = content.ToArray();
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> atomically.</summary>
    public static void Copy(string from, string to) =>
        Write(to, stream =>
        {
            using var source = File.OpenRead(from);
            source.CopyTo(stream);
        });

    /// <summary>Streams content into <paramref name="path"/> atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
