namespace Reproductions.Harness.Training;

/// <summary>Derives independent, reproducible seeds for each use of randomness from a run's seed.</summary>
public static class Seeds
{
    public const long Init = 1, TrainSubset = 2, EvalSubset = 3, Shuffle = 4, GradientTrial = 5, SharpnessSubset = 6, SharpnessSubspace = 7;

    /// <summary>SplitMix64 of (seed, stream, index), folded to a non-negative long.</summary>
    public static long Derive(long seed, long stream, long index = 0)
    {
        unchecked
        {
            var z = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(stream + 1) * 0xBF58476D1CE4E5B9UL ^ (ulong)(index + 1) * 0x94D049BB133111EBUL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (long)(z & 0x7FFF_FFFF_FFFF_FFFFUL);
        }
    }
}
