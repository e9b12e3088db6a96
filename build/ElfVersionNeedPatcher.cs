// Marks one symbol-version requirement of an ELF shared object as weak (VER_FLG_WEAK in its Vernaux entry),
// so that a loader whose libraries lack that version only warns instead of refusing the library.
//
// One source, two users: MSBuild compiles it as an inline task (Directory.Build.targets) to patch the copies of
// libLibTorchSharp.so in each build output, and the harness compiles it (REPRODUCTIONS_HARNESS defined) so that
// tests and the `doctor` command can inspect and patch files with exactly the same code.
using System;
using System.IO;
using System.Text;

namespace Reproductions.Native
{
    public enum ElfPatchOutcome
    {
        /// <summary>The requirement was strong and is now weak.</summary>
        Patched,
        /// <summary>The requirement was already weak; nothing was written.</summary>
        AlreadyWeak,
        /// <summary>The file does not require that version at all; nothing was written.</summary>
        NotRequired,
    }

    public static class ElfVersionNeedPatcher
    {
        public const string DefaultVersion = "GLIBCXX_3.4.32";
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>Returns whether <paramref name="path"/> requires <paramref name="version"/>, and if so whether weakly.</summary>
        public static (bool Required, bool Weak) Inspect(string path, string version = DefaultVersion)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindVernaux(bytes, path, version);
            if (offset < 0) return (false, false);
            var flags = U16(bytes, offset + 4);
            return (true, (flags & VerFlagWeak) != 0);
        }

        /// <summary>Sets VER_FLG_WEAK on the requirement of <paramref name="version"/>. Idempotent.</summary>
        public static ElfPatchOutcome Patch(string path, string version = DefaultVersion)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindVernaux(bytes, path, version);
            if (offset < 0) return ElfPatchOutcome.NotRequired;
            var flags = U16(bytes, offset + 4);
            if ((flags & VerFlagWeak) != 0) return ElfPatchOutcome.AlreadyWeak;
            // Two bytes change in place; the file keeps its mode and owner.
            var updated = (ushort)(flags | VerFlagWeak);
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                stream.Position = offset + 4;
                stream.WriteByte((byte)(updated & 0xff));
                stream.WriteByte((byte)(updated >> 8));
            }
            return ElfPatchOutcome.Patched;
        }

        /// <summary>File offset of the Vernaux entry naming <paramref name="version"/>, or -1.</summary>
        private static int FindVernaux(byte[] b, string path, string version)
        {
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
                throw new InvalidDataException($"{path}: not an ELF file (expected the magic bytes 7F 45 4C 46 at offset 0).");
            if (b[4] != 2 || b[5] != 1)
                throw new InvalidDataException($"{path}: EI_CLASS={b[4]}, EI_DATA={b[5]}; only 64-bit little-endian ELF (2, 1) is supported.");

            var shoff = Checked(b, path, U64(b, 0x28), "e_shoff");
            int shentsize = U16(b, 0x3A);
            int shnum = U16(b, 0x3C);
            if (shentsize < 64 || shoff + (long)shentsize * shnum > b.Length)
                throw new InvalidDataException($"{path}: section header table (offset {shoff}, {shnum} x {shentsize} bytes) lies outside the {b.Length}-byte file; truncated?");

            for (var i = 0; i < shnum; i++)
            {
                var sh = shoff + i * shentsize;
                if (U32(b, sh + 4) != ShtGnuVerneed) continue;

                var secOff = Checked(b, path, U64(b, sh + 24), ".gnu.version_r sh_offset");
                var secSize = U64(b, sh + 32);
                var link = (int)U32(b, sh + 40);
                var count = U32(b, sh + 44);
                if (link >= shnum)
                    throw new InvalidDataException($"{path}: .gnu.version_r links to section {link}, but there are {shnum}.");
                var strOff = Checked(b, path, U64(b, shoff + link * shentsize + 24), "string table sh_offset");
                var end = secOff + (long)secSize;
                if (end > b.Length)
                    throw new InvalidDataException($"{path}: .gnu.version_r ({secSize} bytes at {secOff}) runs past the end of the file; truncated?");

                var vn = secOff;
                for (uint n = 0; n < count; n++)
                {
                    if (vn + 16 > end) throw new InvalidDataException($"{path}: Verneed entry {n} at {vn} lies outside .gnu.version_r.");
                    int cnt = U16(b, vn + 2);
                    var aux = vn + (int)U32(b, vn + 8);
                    for (var a = 0; a < cnt; a++)
                    {
                        if (aux + 16 > end) throw new InvalidDataException($"{path}: Vernaux entry at {aux} lies outside .gnu.version_r.");
                        var name = ReadCString(b, strOff + (int)U32(b, aux + 8));
                        if (name == version) return aux;
                        var next = (int)U32(b, aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    var vnNext = (int)U32(b, vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }
            }
            return -1;
        }

        private static int Checked(byte[] b, string path, ulong value, string field)
        {
            if (value >= (ulong)b.Length)
                throw new InvalidDataException($"{path}: {field} = {value} points past the end of the {b.Length}-byte file; truncated?");
            return (int)value;
        }

        private static ushort U16(byte[] b, int o) => (ushort)(b[o] | (b[o + 1] << 8));
        private static uint U32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));
        private static ulong U64(byte[] b, int o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);

        private static string ReadCString(byte[] b, int offset)
        {
            var end = offset;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, offset, end - offset);
        }
    }
}

#if !REPRODUCTIONS_HARNESS
public sealed class PatchGlibcxxVersionNeed : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.GetMetadata("FullPath");
            try
            {
                var outcome = Reproductions.Native.ElfVersionNeedPatcher.Patch(path);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    "libLibTorchSharp patch: {0}: {1}", path, outcome);
            }
            catch (Exception e) when (e is InvalidDataException || e is IOException || e is UnauthorizedAccessException)
            {
                Log.LogError("Could not patch {0}: {1}", path, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif
