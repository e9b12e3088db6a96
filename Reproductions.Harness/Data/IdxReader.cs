using System.Buffers.Binary;
using System.IO.Compression;
using static System.FormattableString;

namespace Reproductions.Harness.Data;

/// <summary>
/// An IDX image file (magic 0x00000803): <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/>
/// unsigned bytes, row-major. <see cref="Pixels"/> is exactly Count * Rows * Columns bytes (a view into the file's
/// bytes, past the 16-byte header).
/// </summary>
public sealed record IdxImages(string Source, int Count, int Rows, int Columns, ReadOnlyMemory<byte> Pixels)
{
    public int PixelsPerImage => Rows * Columns;
}

/// <summary>An IDX label file (magic 0x00000801): <see cref="Count"/> labels, one unsigned byte each.</summary>
public sealed record IdxLabels(string Source, int Count, ReadOnlyMemory<byte> Labels);

/// <summary>
/// Reads the IDX files of MNIST-like datasets, raw or gzip-compressed (recognised by the 1f 8b magic, not by the
/// file name). Every defect is an <see cref="InvalidDataException"/> that names the file, the field, and the
/// expected and actual values.
/// </summary>
public static class IdxReader
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;
    /// <summary>Decompression stops past this size (the largest MNIST-like file is 47 MB): no gzip bomb gets through.</summary>
    public const long MaxRawBytes = 512L * 1024 * 1024;
    private const int ImagesHeaderBytes = 16;
    private const int LabelsHeaderBytes = 8;

    /// <summary>Whether the bytes start with the gzip magic 1f 8b.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;

    /// <summary>Reads a file and returns its raw (decompressed, if it was gzip) bytes.</summary>
    public static byte[] ReadRawBytes(string path) => Decompress(File.ReadAllBytes(path), path);

    /// <summary>Returns <paramref name="bytes"/> unchanged if they are not gzip, else their decompressed content.</summary>
    public static byte[] Decompress(byte[] bytes, string source)
    {
        if (!IsGzip(bytes)) return bytes;
        using var output = new MemoryStream(bytes.Length * 2);
        try
        {
            using var input = new MemoryStream(bytes, writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                if (output.Length + read > MaxRawBytes)
                    throw new InvalidDataException(Invariant(
                        $"{source}: the gzip stream decompresses to more than {MaxRawBytes} bytes, far beyond any dataset file here."));
                output.Write(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw new InvalidDataException(Invariant($"{source}: the gzip stream is corrupt or truncated ({ex.Message})."), ex);
        }
        CheckGzipTrailer(bytes, output.Length, source);
        return output.ToArray();
    }

    /// <summary>
    /// Throws unless the gzip trailer's length field (ISIZE, the uncompressed length mod 2^32) matches what was
    /// decompressed: .NET's decoder accepts a stream that ends early (inside the deflate data or the trailer)
    /// without complaint. Assumes one gzip member, as the dataset files and npm tarballs have.
    /// </summary>
    public static void CheckGzipTrailer(ReadOnlySpan<byte> compressed, long decompressedLength, string source)
    {
        const int minimum = 18; // 10-byte header and 8-byte trailer
        if (compressed.Length < minimum)
            throw new InvalidDataException(Invariant(
                $"{source}: the gzip stream is truncated: {compressed.Length} bytes, less than the {minimum} of even an empty gzip file."));
        var isize = BinaryPrimitives.ReadUInt32LittleEndian(compressed[^4..]);
        if (isize != (uint)decompressedLength)
            throw new InvalidDataException(Invariant(
                $"{source}: the gzip stream is truncated or corrupt: its trailer records {isize} uncompressed bytes (mod 2^32), ") +
                Invariant($"but {decompressedLength} were decompressed."));
    }

    public static IdxImages ReadImages(string path, int rows = 28, int columns = 28) =>
        ParseImages(ReadRawBytes(path), path, rows, columns);

    public static IdxLabels ReadLabels(string path, int classCount = 10) =>
        ParseLabels(ReadRawBytes(path), path, classCount);

    /// <summary>Parses an IDX image file (gzip accepted) whose images must be <paramref name="rows"/> x <paramref name="columns"/>.</summary>
    public static IdxImages ParseImages(byte[] bytes, string source, int rows = 28, int columns = 28)
    {
        bytes = Decompress(bytes, source);
        CheckMagic(bytes, source, ImagesMagic, "images (unsigned bytes, 3 dimensions)");
        if (bytes.Length < ImagesHeaderBytes)
            throw Invalid(source, Invariant($"the header is {bytes.Length} bytes, expected {ImagesHeaderBytes} ") +
                                  "(magic number, image count, rows, columns: 4 bytes each, big-endian)");
        var count = ReadCount(bytes, 4, source, "image count (bytes 4-7)");
        var actualRows = ReadCount(bytes, 8, source, "rows (bytes 8-11)");
        var actualColumns = ReadCount(bytes, 12, source, "columns (bytes 12-15)");
        if (actualRows != rows || actualColumns != columns)
            throw Invalid(source, Invariant($"the image dimensions (rows and columns fields, bytes 8-15) are {actualRows}x{actualColumns}, ") +
                                  Invariant($"expected {rows}x{columns}"));
        var expectedPayload = (long)count * rows * columns;
        CheckPayload(bytes.Length - ImagesHeaderBytes, expectedPayload, source,
            Invariant($"{count} images of {rows}x{columns} pixels"));
        return new IdxImages(source, count, rows, columns, bytes.AsMemory(ImagesHeaderBytes, (int)expectedPayload));
    }

    /// <summary>Parses an IDX label file (gzip accepted) whose labels must lie in 0 .. <paramref name="classCount"/> - 1.</summary>
    public static IdxLabels ParseLabels(byte[] bytes, string source, int classCount = 10)
    {
        bytes = Decompress(bytes, source);
        CheckMagic(bytes, source, LabelsMagic, "labels (unsigned bytes, 1 dimension)");
        if (bytes.Length < LabelsHeaderBytes)
            throw Invalid(source, Invariant($"the header is {bytes.Length} bytes, expected {LabelsHeaderBytes} ") +
                                  "(magic number, label count: 4 bytes each, big-endian)");
        var count = ReadCount(bytes, 4, source, "label count (bytes 4-7)");
        CheckPayload(bytes.Length - LabelsHeaderBytes, count, source, Invariant($"{count} labels of 1 byte"));
        var labels = bytes.AsSpan(LabelsHeaderBytes, count);
        var firstBad = labels.IndexOfAnyExceptInRange((byte)0, (byte)Math.Clamp(classCount - 1, 0, 255));
        if (firstBad >= 0)
            throw Invalid(source, Invariant($"the label at index {firstBad} is {labels[firstBad]}, expected a class in 0-{classCount - 1}"));
        return new IdxLabels(source, count, bytes.AsMemory(LabelsHeaderBytes, count));
    }

    /// <summary>Throws unless the label file holds exactly one label per image.</summary>
    public static void EnsureSameCount(IdxImages images, IdxLabels labels)
    {
        if (images.Count != labels.Count)
            throw Invalid(labels.Source, Invariant($"the label count (bytes 4-7) is {labels.Count}, expected {images.Count} ") +
                                         Invariant($"to match the image count of {images.Source}"));
    }

    /// <summary>How many labels of each class 0 .. <paramref name="classCount"/> - 1.</summary>
    public static int[] CountLabels(IdxLabels labels, int classCount = 10)
    {
        var counts = new int[classCount];
        foreach (var label in labels.Labels.Span) counts[label]++;
        return counts;
    }

    private static void CheckMagic(byte[] bytes, string source, int expected, string what)
    {
        if (bytes.Length < 4)
            throw Invalid(source, Invariant($"the file is {bytes.Length} bytes, too short for the magic number (bytes 0-3), ") +
                                  Invariant($"expected 0x{expected:X8} for IDX {what}"));
        var actual = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (actual != expected)
            throw Invalid(source, Invariant($"the magic number (bytes 0-3) is 0x{actual:X8}, expected 0x{expected:X8} for IDX {what}") +
                                  (actual == (expected == ImagesMagic ? LabelsMagic : ImagesMagic)
                                      ? Invariant($" (0x{actual:X8} is the other IDX kind: images and labels swapped?)")
                                      : ""));
    }

    private static int ReadCount(byte[] bytes, int offset, string source, string field)
    {
        var value = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset));
        if (value > int.MaxValue)
            throw Invalid(source, Invariant($"the {field} is {value}, expected at most {int.MaxValue}"));
        return (int)value;
    }

    private static void CheckPayload(long actual, long expected, string source, string promise)
    {
        if (actual < expected)
            throw Invalid(source, Invariant($"the payload is truncated: the header promises {promise} = {expected} bytes, ") +
                                  Invariant($"but only {actual} bytes follow the header"));
        if (actual > expected)
            throw Invalid(source, Invariant($"{actual - expected} trailing bytes after the payload: the header promises {promise} = ") +
                                  Invariant($"{expected} bytes, but {actual} bytes follow the header"));
    }

    private static InvalidDataException Invalid(string source, string detail) =>
        new($"Invalid IDX file '{source}': {detail}.");
}
