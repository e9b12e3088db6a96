using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using static System.FormattableString;

namespace Reproductions.Harness.Data;

/// <summary>
/// Extracts a .tgz (gzip-compressed tar, as npm packs) into a folder, refusing anything that could write outside
/// it: entries whose path is absolute or climbs out with "..", symbolic and hard links, and device or FIFO entries.
/// A truncated or corrupt archive gives an <see cref="InvalidDataException"/> naming the archive.
/// </summary>
public static class SafeTarExtractor
{
    /// <summary>Extracts <paramref name="archivePath"/> into <paramref name="targetFolder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> ExtractTarGz(string archivePath, string targetFolder)
    {
        using var file = File.OpenRead(archivePath);
        return ExtractTarGz(file, archivePath, targetFolder);
    }

    public static IReadOnlyList<string> ExtractTarGz(Stream archive, string archiveName, string targetFolder)
    {
        var target = Path.GetFullPath(targetFolder);
        Directory.CreateDirectory(target);
        var written = new List<string>();
        string? current = null;
        var gzipLength = archive.CanSeek ? archive.Length : -1;
        try
        {
            using var gzip = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
            var counting = new CountingStream(gzip);
            using (var reader = new TarReader(counting, leaveOpen: true))
            {
                while (reader.GetNextEntry(copyData: false) is { } entry)
                {
                    current = entry.Name;
                    var destination = ResolveInside(target, entry.Name, archiveName);
                    switch (entry.EntryType)
                    {
                        case TarEntryType.Directory:
                            Directory.CreateDirectory(destination);
                            break;
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                            using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write))
                                entry.DataStream?.CopyTo(output);
                            written.Add(destination);
                            break;
                        case TarEntryType.GlobalExtendedAttributes:
                            break;
                        default:
                            throw new InvalidDataException(Invariant(
                                $"Refusing tar entry '{entry.Name}' in '{archiveName}': entry type {entry.EntryType} ") +
                                (entry.LinkName is { Length: > 0 } link ? $"(link to '{link}') " : "") +
                                "is not extracted; only regular files and folders are.");
                    }
                }
            }
            // Drain what follows the tar's end, then check the gzip trailer's length field (ISIZE): the deflate
            // decoder accepts a stream cut inside the trailer without complaint.
            counting.CopyTo(Stream.Null);
            if (archive.CanSeek)
            {
                if (gzipLength < 18)
                    throw new InvalidDataException(Invariant(
                        $"The archive '{archiveName}' is truncated or corrupt: {gzipLength} bytes, less than the 18 of even an empty gzip file."));
                Span<byte> trailer = stackalloc byte[4];
                archive.Seek(-4, SeekOrigin.End);
                archive.ReadExactly(trailer);
                var isize = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
                if (isize != (uint)counting.BytesRead)
                    throw new InvalidDataException(Invariant(
                        $"The archive '{archiveName}' is truncated or corrupt: its gzip trailer records {isize} uncompressed bytes (mod 2^32), ") +
                        Invariant($"but {counting.BytesRead} were read."));
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException or FormatException
                                       && ex.Message.IndexOf(archiveName, StringComparison.Ordinal) < 0)
        {
            throw new InvalidDataException(
                $"The archive '{archiveName}' is truncated or corrupt" +
                (current is null ? "" : $" (last entry read: '{current}')") + $": {ex.Message}", ex);
        }
        return written;
    }

    /// <summary>The full path of <paramref name="entryName"/> under <paramref name="target"/>, or an exception naming the entry.</summary>
    public static string ResolveInside(string target, string entryName, string archiveName)
    {
        if (string.IsNullOrEmpty(entryName) || entryName.Contains('\0'))
            throw new InvalidDataException($"Refusing tar entry '{entryName}' in '{archiveName}': empty or invalid name.");
        if (Path.IsPathRooted(entryName) || entryName.StartsWith('/') || entryName.StartsWith('\\'))
            throw new InvalidDataException(
                $"Refusing tar entry '{entryName}' in '{archiveName}': absolute path, it would be written outside '{target}'.");
        var root = Path.GetFullPath(target);
        var rootWithSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(root, entryName));
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal) && full != root)
            throw new InvalidDataException(
                $"Refusing tar entry '{entryName}' in '{archiveName}': its path resolves to '{full}', outside '{target}'.");
        return full;
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            BytesRead += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
