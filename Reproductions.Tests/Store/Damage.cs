namespace Reproductions.Tests.Store;

/// <summary>Damage done to stored files, as the store's checks must catch it.</summary>
internal static class Damage
{
    /// <summary>
    /// Flips one bit in the last layer's bias of a weights file: the file still loads, but it is not what the run wrote,
    /// so only its recorded SHA-256 can tell.
    /// </summary>
    public static void FlipABiasBit(string weightsFile)
    {
        var bytes = File.ReadAllBytes(weightsFile);
        bytes[^8] ^= 0x40;
        File.WriteAllBytes(weightsFile, bytes);
    }
}
