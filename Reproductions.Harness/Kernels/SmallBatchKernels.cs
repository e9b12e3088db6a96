using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Reproductions.Harness.Kernels;

/// <summary>
/// Written by hand (AVX2 + FMA, one thread): the SGD update of one trial's weight matrix by a batch of 2 to 8 rows,
/// <c>W[out, in] += alpha * d[b, out]^T a[b, in]</c>, in one pass over W, and a linear layer's forward pass for 2 to 8
/// rows, also in one pass over W. MKL's sgemm with 2-8 rows streams the weight
/// matrix at 5-12 GB/s on the CI machine's CPU (one thread, measured), a rank-1 update at 50-70 GB/s; b rank-1 updates
/// cost b passes. This kernel reads and writes each weight once, with b fused multiply-adds per 8 weights, four
/// independent 8-float chains at a time. Used by the gradient-competition engine's FusedPerTrial mode on CPUs that have AVX2 and FMA.
/// </summary>
public static unsafe class SmallBatchKernels
{
    public const int MaxRows = 8;

    public static bool Supported => Avx.IsSupported && Fma.IsSupported;

    /// <summary>
    /// <paramref name="target"/> [out, in] += <paramref name="alpha"/> * <paramref name="d"/>[b, out]^T <paramref name="a"/>[b, in],
    /// for float32 CPU tensors, each contiguous; 1 &lt;= b &lt;= <see cref="MaxRows"/>.
    /// </summary>
    public static void AddOuterProducts(Tensor target, Tensor d, Tensor a, float alpha)
    {
        var rows = (int)d.shape[0];
        var outputs = (int)target.shape[0];
        var inputs = (int)target.shape[1];
        if (rows < 1 || rows > MaxRows || a.shape[0] != rows || d.shape[1] != outputs || a.shape[1] != inputs)
            throw new ArgumentException($"AddOuterProducts: target [{outputs}, {inputs}], d [{string.Join(", ", d.shape)}], a [{string.Join(", ", a.shape)}].");
        if (!target.is_contiguous() || !d.is_contiguous() || !a.is_contiguous() || target.dtype != ScalarType.Float32
            || d.dtype != ScalarType.Float32 || a.dtype != ScalarType.Float32 || target.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException("AddOuterProducts needs contiguous float32 CPU tensors.");
        fixed (byte* w = target.bytes, dp = d.bytes, ap = a.bytes)
            Update((float*)w, (float*)dp, (float*)ap, rows, outputs, inputs, alpha);
    }

    /// <summary>
    /// <paramref name="z"/>[b, out] = <paramref name="x"/>[b, in] <paramref name="w"/>[out, in]^T + <paramref name="bias"/>[out]
    /// (a linear layer's forward pass) in one pass over W, for float32 contiguous CPU tensors, 1 &lt;= b &lt;= <see cref="MaxRows"/>.
    /// </summary>
    public static void Linear(Tensor w, Tensor bias, Tensor x, Tensor z)
    {
        var rows = (int)x.shape[0];
        var outputs = (int)w.shape[0];
        var inputs = (int)w.shape[1];
        if (rows < 1 || rows > MaxRows || x.shape[1] != inputs || bias.shape[^1] != outputs || z.shape[0] != rows || z.shape[1] != outputs)
            throw new ArgumentException($"Linear: w [{outputs}, {inputs}], x [{string.Join(", ", x.shape)}], z [{string.Join(", ", z.shape)}].");
        if (!w.is_contiguous() || !bias.is_contiguous() || !x.is_contiguous() || !z.is_contiguous() || w.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException("Linear needs contiguous float32 CPU tensors.");
        fixed (byte* wp = w.bytes, bp = bias.bytes, xp = x.bytes, zp = z.bytes)
            Forward((float*)wp, (float*)bp, (float*)xp, (float*)zp, rows, outputs, inputs);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward(float* w, float* bias, float* x, float* z, int rows, int outputs, int inputs)
    {
        var zero = stackalloc float[inputs];
        new Span<float>(zero, inputs).Clear();
        float* x0 = x, x1 = rows > 1 ? x + inputs : zero, x2 = rows > 2 ? x + 2 * inputs : zero, x3 = rows > 3 ? x + 3 * inputs : zero,
            x4 = rows > 4 ? x + 4 * inputs : zero, x5 = rows > 5 ? x + 5 * inputs : zero, x6 = rows > 6 ? x + 6 * inputs : zero,
            x7 = rows > 7 ? x + 7 * inputs : zero;
        var vectorEnd = inputs - inputs % 8;
        var pairEnd = inputs - inputs % 16;
        var sums = stackalloc float[MaxRows];
        for (var j = 0; j < outputs; j++)
        {
            var row = w + (long)j * inputs;
            var i = 0;
            if (rows <= 4)
            {
                // Four rows (padded), two independent chains per row.
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
                for (; i < pairEnd; i += 16)
                {
                    var v = Avx.LoadVector256(row + i);
                    var u = Avx.LoadVector256(row + i + 8);
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(x0 + i), v, a0);
                    b0 = Fma.MultiplyAdd(Avx.LoadVector256(x0 + i + 8), u, b0);
                    a1 = Fma.MultiplyAdd(Avx.LoadVector256(x1 + i), v, a1);
                    b1 = Fma.MultiplyAdd(Avx.LoadVector256(x1 + i + 8), u, b1);
                    a2 = Fma.MultiplyAdd(Avx.LoadVector256(x2 + i), v, a2);
                    b2 = Fma.MultiplyAdd(Avx.LoadVector256(x2 + i + 8), u, b2);
                    a3 = Fma.MultiplyAdd(Avx.LoadVector256(x3 + i), v, a3);
                    b3 = Fma.MultiplyAdd(Avx.LoadVector256(x3 + i + 8), u, b3);
                }
                for (; i < vectorEnd; i += 8)
                {
                    var v = Avx.LoadVector256(row + i);
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(x0 + i), v, a0);
                    a1 = Fma.MultiplyAdd(Avx.LoadVector256(x1 + i), v, a1);
                    a2 = Fma.MultiplyAdd(Avx.LoadVector256(x2 + i), v, a2);
                    a3 = Fma.MultiplyAdd(Avx.LoadVector256(x3 + i), v, a3);
                }
                sums[0] = Vector256.Sum(Avx.Add(a0, b0));
                sums[1] = Vector256.Sum(Avx.Add(a1, b1));
                sums[2] = Vector256.Sum(Avx.Add(a2, b2));
                sums[3] = Vector256.Sum(Avx.Add(a3, b3));
            }
            else
            {
                // Eight rows (padded), one chain per row.
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                for (; i < vectorEnd; i += 8)
                {
                    var v = Avx.LoadVector256(row + i);
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(x0 + i), v, a0);
                    a1 = Fma.MultiplyAdd(Avx.LoadVector256(x1 + i), v, a1);
                    a2 = Fma.MultiplyAdd(Avx.LoadVector256(x2 + i), v, a2);
                    a3 = Fma.MultiplyAdd(Avx.LoadVector256(x3 + i), v, a3);
                    a4 = Fma.MultiplyAdd(Avx.LoadVector256(x4 + i), v, a4);
                    a5 = Fma.MultiplyAdd(Avx.LoadVector256(x5 + i), v, a5);
                    a6 = Fma.MultiplyAdd(Avx.LoadVector256(x6 + i), v, a6);
                    a7 = Fma.MultiplyAdd(Avx.LoadVector256(x7 + i), v, a7);
                }
                sums[0] = Vector256.Sum(a0);
                sums[1] = Vector256.Sum(a1);
                sums[2] = Vector256.Sum(a2);
                sums[3] = Vector256.Sum(a3);
                sums[4] = Vector256.Sum(a4);
                sums[5] = Vector256.Sum(a5);
                sums[6] = Vector256.Sum(a6);
                sums[7] = Vector256.Sum(a7);
            }
            for (var r = 0; r < rows; r++)
            {
                var sum = sums[r];
                for (var k = i; k < inputs; k++) sum += x[r * inputs + k] * row[k];
                z[r * outputs + j] = sum + bias[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Update(float* w, float* d, float* a, int rows, int outputs, int inputs, float alpha)
    {
        // The rows of a, padded to 8 with a zero row so that every row slot has a valid pointer.
        var zero = stackalloc float[inputs];
        new Span<float>(zero, inputs).Clear();
        float* a0 = a, a1 = rows > 1 ? a + inputs : zero, a2 = rows > 2 ? a + 2 * inputs : zero, a3 = rows > 3 ? a + 3 * inputs : zero,
            a4 = rows > 4 ? a + 4 * inputs : zero, a5 = rows > 5 ? a + 5 * inputs : zero, a6 = rows > 6 ? a + 6 * inputs : zero,
            a7 = rows > 7 ? a + 7 * inputs : zero;
        var vectorEnd = inputs - inputs % 8;
        var blockEnd = inputs - inputs % 32;
        for (var j = 0; j < outputs; j++)
        {
            // Coefficients of row j: alpha * d[r, j], broadcast.
            var u0 = Vector256.Create(alpha * d[j]);
            var u1 = Vector256.Create(rows > 1 ? alpha * d[outputs + j] : 0f);
            var u2 = Vector256.Create(rows > 2 ? alpha * d[2 * outputs + j] : 0f);
            var u3 = Vector256.Create(rows > 3 ? alpha * d[3 * outputs + j] : 0f);
            var u4 = Vector256.Create(rows > 4 ? alpha * d[4 * outputs + j] : 0f);
            var u5 = Vector256.Create(rows > 5 ? alpha * d[5 * outputs + j] : 0f);
            var u6 = Vector256.Create(rows > 6 ? alpha * d[6 * outputs + j] : 0f);
            var u7 = Vector256.Create(rows > 7 ? alpha * d[7 * outputs + j] : 0f);
            var row = w + (long)j * inputs;
            var i = 0;
            if (rows <= 4)
            {
                for (; i < blockEnd; i += 32)
                {
                    var w0 = Avx.LoadVector256(row + i);
                    var w1 = Avx.LoadVector256(row + i + 8);
                    var w2 = Avx.LoadVector256(row + i + 16);
                    var w3 = Avx.LoadVector256(row + i + 24);
                    w0 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i), w0);
                    w1 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i), w0);
                    w1 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i + 24), w3);
                    if (rows > 2)
                    {
                        w0 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i), w0);
                        w1 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i + 8), w1);
                        w2 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i + 16), w2);
                        w3 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i + 24), w3);
                        w0 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i), w0);
                        w1 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i + 8), w1);
                        w2 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i + 16), w2);
                        w3 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i + 24), w3);
                    }
                    Avx.Store(row + i, w0);
                    Avx.Store(row + i + 8, w1);
                    Avx.Store(row + i + 16, w2);
                    Avx.Store(row + i + 24, w3);
                }
            }
            else
            {
                for (; i < blockEnd; i += 32)
                {
                    var w0 = Avx.LoadVector256(row + i);
                    var w1 = Avx.LoadVector256(row + i + 8);
                    var w2 = Avx.LoadVector256(row + i + 16);
                    var w3 = Avx.LoadVector256(row + i + 24);
                    w0 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i), w0);
                    w1 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i), w0);
                    w1 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i), w0);
                    w1 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i), w0);
                    w1 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u4, Avx.LoadVector256(a4 + i), w0);
                    w1 = Fma.MultiplyAdd(u4, Avx.LoadVector256(a4 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u4, Avx.LoadVector256(a4 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u4, Avx.LoadVector256(a4 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u5, Avx.LoadVector256(a5 + i), w0);
                    w1 = Fma.MultiplyAdd(u5, Avx.LoadVector256(a5 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u5, Avx.LoadVector256(a5 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u5, Avx.LoadVector256(a5 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u6, Avx.LoadVector256(a6 + i), w0);
                    w1 = Fma.MultiplyAdd(u6, Avx.LoadVector256(a6 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u6, Avx.LoadVector256(a6 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u6, Avx.LoadVector256(a6 + i + 24), w3);
                    w0 = Fma.MultiplyAdd(u7, Avx.LoadVector256(a7 + i), w0);
                    w1 = Fma.MultiplyAdd(u7, Avx.LoadVector256(a7 + i + 8), w1);
                    w2 = Fma.MultiplyAdd(u7, Avx.LoadVector256(a7 + i + 16), w2);
                    w3 = Fma.MultiplyAdd(u7, Avx.LoadVector256(a7 + i + 24), w3);
                    Avx.Store(row + i, w0);
                    Avx.Store(row + i + 8, w1);
                    Avx.Store(row + i + 16, w2);
                    Avx.Store(row + i + 24, w3);
                }
            }
            for (; i < vectorEnd; i += 8)
            {
                var v = Avx.LoadVector256(row + i);
                v = Fma.MultiplyAdd(u0, Avx.LoadVector256(a0 + i), v);
                v = Fma.MultiplyAdd(u1, Avx.LoadVector256(a1 + i), v);
                v = Fma.MultiplyAdd(u2, Avx.LoadVector256(a2 + i), v);
                v = Fma.MultiplyAdd(u3, Avx.LoadVector256(a3 + i), v);
                v = Fma.MultiplyAdd(u4, Avx.LoadVector256(a4 + i), v);
                v = Fma.MultiplyAdd(u5, Avx.LoadVector256(a5 + i), v);
                v = Fma.MultiplyAdd(u6, Avx.LoadVector256(a6 + i), v);
                v = Fma.MultiplyAdd(u7, Avx.LoadVector256(a7 + i), v);
                Avx.Store(row + i, v);
            }
            for (; i < inputs; i++)
            {
                var sum = row[i];
                for (var r = 0; r < rows; r++) sum += alpha * d[r * outputs + j] * a[r * inputs + i];
                row[i] = sum;
            }
        }
    }
}
