using System.Security.Cryptography;

namespace Reproductions.Harness.Data;

/// <summary>SHA-256 of the raw (uncompressed) bytes of dataset files.</summary>
public static class Checksums
{
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>SHA-256 of the file's raw content: a gzip file is hashed after decompression.</summary>
    public static string Sha256OfRawContent(string path) => Sha256Hex(IdxReader.ReadRawBytes(path));

    /// <summary>Throws <see cref="ChecksumMismatchException"/> unless <paramref name="rawBytes"/> hash to the file's pinned SHA-256.</summary>
    public static void Verify(ReadOnlySpan<byte> rawBytes, DatasetFile file, string path)
    {
        var actual = Sha256Hex(rawBytes);
        if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new ChecksumMismatchException(path, file.FileName, file.Sha256, actual);
    }
}

/// <summary>A file whose uncompressed content does not hash to the pinned SHA-256.</summary>
public sealed class ChecksumMismatchException(string path, string fileName, string expected, string actual)
    : Exception(
        $"SHA-256 mismatch for {fileName} ('{path}'): expected {expected}, actual {actual} (hash of the uncompressed content).")
{
    public string Path { get; } = path;
    public string FileName { get; } = fileName;
    public string Expected { get; } = expected;
    public string Actual { get; } = actual;
}
