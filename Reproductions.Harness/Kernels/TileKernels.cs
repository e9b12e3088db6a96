using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Reproductions.Harness.Kernels;

/// <summary>
/// Written by hand (AVX-512, one thread): the three products of one trial's SGD step on a small batch, each in one pass
/// over the weight matrix W [out, in], blocked as tiles of 4 weight rows by up to 4 batch rows held in registers:
/// <list type="bullet">
/// <item>the forward pass of a linear layer, z = x W^T + bias;</item>
/// <item>the update W += alpha d^T a;</item>
/// <item>the backward pass fused with the update: the input gradient d W is formed from each block of 4 weight rows
/// (16 KB at 1024 inputs, so it stays in the L1 cache) before the update overwrites that block, so W is read and
/// written once instead of read by a matrix product and then read and written by the update.</item>
/// </list>
/// Why by hand: MKL's sgemm with 1-8 rows streams the weights at 5-25 GB/s on the CI machine's CPU, and the earlier AVX2
/// kernels (<see cref="SmallBatchKernels"/>, 16 vector registers) cannot hold a 4 x 4 tile of accumulators; with 32
/// registers the tiles keep the loads per multiply-add low enough for the step to run at the memory's pace.
/// Used on CPUs with AVX-512F by the gradient-competition engine (its FusedPerTrial mode) and by the trainer's
/// small-batch SGD step (<see cref="Training.SmallBatchSgd"/>); results differ from MKL's only in float rounding (the order
/// of the sums), and are the same whether a trial runs alone or stacked.
/// </summary>
public static unsafe class TileKernels
{
    /// <summary>The most batch rows a step takes through these kernels (measured: beyond it MKL's products win).</summary>
    public const int MaxRows = 16;

    private const int TileRows = 4; // weight rows per tile
    private const int Group = 4; // batch rows per tile
    private const int Lanes = 16; // floats per Vector512

    /// <summary>
    /// Batches of at most this many rows take the forward pass one weight row at a time (one stream through memory, the
    /// batch rows' sums in registers); larger ones take 4 x 4 tiles, which need fewer loads per multiply-add. Measured
    /// from memory: one stream reads at 1.2-1.3x the pace of four interleaved row streams, and at 2-4 rows the forward
    /// pass is bound by that pace, not by the multiply-adds. Settable for measurements.
    /// </summary>
    public static int StreamedRows { get; set; } = 4;

    public static bool Supported => Avx512F.IsSupported;

    /// <summary>
    /// <paramref name="z"/>[b, out] = <paramref name="x"/>[b, in] <paramref name="w"/>[out, in]^T + <paramref name="bias"/>[out]:
    /// a linear layer's forward pass; float32, contiguous, CPU.
    /// </summary>
    public static void Linear(Tensor w, Tensor bias, Tensor x, Tensor z)
    {
        var (rows, outputs, inputs) = Check("Linear", w, x, 1, bias, z);
        if (z.shape[0] != rows || z.shape[1] != outputs || bias.numel() != outputs)
            throw new ArgumentException($"Linear: w {Shape(w)}, bias {Shape(bias)}, x {Shape(x)}, z {Shape(z)}.");
        fixed (byte* wp = w.bytes, bp = bias.bytes, xp = x.bytes, zp = z.bytes)
            Forward((float*)wp, (float*)bp, (float*)xp, (float*)zp, rows, outputs, inputs);
    }

    /// <summary><paramref name="w"/>[out, in] += <paramref name="alpha"/> * <paramref name="d"/>[b, out]^T <paramref name="a"/>[b, in].</summary>
    public static void AddOuterProducts(Tensor w, Tensor d, Tensor a, float alpha)
    {
        var (rows, outputs, inputs) = Check("AddOuterProducts", w, a, 1, d);
        fixed (byte* wp = w.bytes, dp = d.bytes, ap = a.bytes)
            for (var j = 0; j < outputs; j += TileRows)
                Update((float*)wp, (float*)dp, (float*)ap, rows, outputs, inputs, j, Math.Min(TileRows, outputs - j), alpha);
    }

    /// <summary>
    /// The backward pass through a linear layer fused with its SGD update: <paramref name="inputGradient"/>[b, in] =
    /// <paramref name="d"/>[b, out] W[out, in] with W as it was before the call, then W += <paramref name="alpha"/> * d^T
    /// <paramref name="a"/>[b, in]. One read and one write of W.
    /// </summary>
    public static void BackwardAndUpdate(Tensor w, Tensor d, Tensor a, float alpha, Tensor inputGradient)
    {
        var (rows, outputs, inputs) = Check("BackwardAndUpdate", w, a, 1, d, inputGradient);
        if (inputGradient.shape[0] != rows || inputGradient.shape[1] != inputs)
            throw new ArgumentException($"BackwardAndUpdate: w {Shape(w)}, input gradient {Shape(inputGradient)}.");
        fixed (byte* wp = w.bytes, dp = d.bytes, ap = a.bytes, gp = inputGradient.bytes)
        {
            var g = (float*)gp;
            new Span<float>(g, rows * inputs).Clear();
            for (var j = 0; j < outputs; j += TileRows)
            {
                var n = Math.Min(TileRows, outputs - j);
                InputGradient((float*)wp, (float*)dp, g, rows, outputs, inputs, j, n);
                Update((float*)wp, (float*)dp, (float*)ap, rows, outputs, inputs, j, n, alpha);
            }
        }
    }

    // ----- drivers: one block of up to 4 weight rows, every batch row in groups of 4 -----

    private static void Forward(float* w, float* bias, float* x, float* z, int rows, int outputs, int inputs)
    {
        if (rows <= StreamedRows)
        {
            for (var r = 0; r < outputs; r++)
            {
                var row = w + (long)r * inputs;
                switch (rows)
                {
                    case 1: ForwardRow<R1>(row, x, z + r, bias[r], inputs, outputs); break;
                    case 2: ForwardRow<R2>(row, x, z + r, bias[r], inputs, outputs); break;
                    case 3: ForwardRow<R3>(row, x, z + r, bias[r], inputs, outputs); break;
                    default: ForwardRow<R4>(row, x, z + r, bias[r], inputs, outputs); break;
                }
            }
            return;
        }
        var j = 0;
        for (; j + TileRows <= outputs; j += TileRows)
        {
            var block = w + (long)j * inputs;
            for (var b = 0; b < rows; b += Group)
            {
                var xb = x + (long)b * inputs;
                var zb = z + (long)b * outputs + j;
                switch (Math.Min(Group, rows - b))
                {
                    case 1: ForwardTile<R1>(block, xb, zb, bias + j, inputs, outputs); break;
                    case 2: ForwardTile<R2>(block, xb, zb, bias + j, inputs, outputs); break;
                    case 3: ForwardTile<R3>(block, xb, zb, bias + j, inputs, outputs); break;
                    default: ForwardTile<R4>(block, xb, zb, bias + j, inputs, outputs); break;
                }
            }
        }
        for (; j < outputs; j++)
        {
            var row = w + (long)j * inputs;
            for (var b = 0; b < rows; b++) z[(long)b * outputs + j] = Dot(row, x + (long)b * inputs, inputs) + bias[j];
        }
    }

    private static void Update(float* w, float* d, float* a, int rows, int outputs, int inputs, int j, int n, float alpha)
    {
        var block = w + (long)j * inputs;
        if (n < TileRows)
        {
            for (var k = 0; k < n; k++)
            for (var b = 0; b < rows; b++)
                Axpy(alpha * d[(long)b * outputs + j + k], a + (long)b * inputs, block + (long)k * inputs, inputs);
            return;
        }
        for (var b = 0; b < rows; b += Group)
        {
            var ab = a + (long)b * inputs;
            var db = d + (long)b * outputs + j;
            switch (Math.Min(Group, rows - b))
            {
                case 1: UpdateTile<R1>(block, ab, db, alpha, inputs, outputs); break;
                case 2: UpdateTile<R2>(block, ab, db, alpha, inputs, outputs); break;
                case 3: UpdateTile<R3>(block, ab, db, alpha, inputs, outputs); break;
                default: UpdateTile<R4>(block, ab, db, alpha, inputs, outputs); break;
            }
        }
    }

    private static void InputGradient(float* w, float* d, float* g, int rows, int outputs, int inputs, int j, int n)
    {
        var block = w + (long)j * inputs;
        if (n < TileRows)
        {
            for (var k = 0; k < n; k++)
            for (var b = 0; b < rows; b++)
                Axpy(d[(long)b * outputs + j + k], block + (long)k * inputs, g + (long)b * inputs, inputs);
            return;
        }
        for (var b = 0; b < rows; b += Group)
        {
            var gb = g + (long)b * inputs;
            var db = d + (long)b * outputs + j;
            switch (Math.Min(Group, rows - b))
            {
                case 1: InputGradientTile<R1>(block, gb, db, inputs, outputs); break;
                case 2: InputGradientTile<R2>(block, gb, db, inputs, outputs); break;
                case 3: InputGradientTile<R3>(block, gb, db, inputs, outputs); break;
                default: InputGradientTile<R4>(block, gb, db, inputs, outputs); break;
            }
        }
    }

    // ----- tiles: 4 weight rows x TN batch rows; the JIT compiles one body per TN and drops the unused rows -----

    /// <summary>z[b, k] = W[k] . x[b] + bias[k] for the 4 weight rows k of the block and TN batch rows b (z rows are <paramref name="outputs"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile<TN>(float* w, float* x, float* z, float* bias, int inputs, int outputs) where TN : struct, IRows
    {
        float* w0 = w, w1 = w + inputs, w2 = w + 2L * inputs, w3 = w + 3L * inputs;
        float* x0 = x, x1 = x + inputs, x2 = x + 2L * inputs, x3 = x + 3L * inputs;
        Vector512<float> s00 = default, s10 = default, s20 = default, s30 = default, s01 = default, s11 = default, s21 = default, s31 = default,
            s02 = default, s12 = default, s22 = default, s32 = default, s03 = default, s13 = default, s23 = default, s33 = default;
        var end = inputs - inputs % Lanes;
        for (var i = 0; i < end; i += Lanes)
        {
            var v0 = Vector512.Load(w0 + i);
            var v1 = Vector512.Load(w1 + i);
            var v2 = Vector512.Load(w2 + i);
            var v3 = Vector512.Load(w3 + i);
            var u = Vector512.Load(x0 + i);
            s00 = Avx512F.FusedMultiplyAdd(v0, u, s00);
            s10 = Avx512F.FusedMultiplyAdd(v1, u, s10);
            s20 = Avx512F.FusedMultiplyAdd(v2, u, s20);
            s30 = Avx512F.FusedMultiplyAdd(v3, u, s30);
            if (TN.Count > 1)
            {
                u = Vector512.Load(x1 + i);
                s01 = Avx512F.FusedMultiplyAdd(v0, u, s01);
                s11 = Avx512F.FusedMultiplyAdd(v1, u, s11);
                s21 = Avx512F.FusedMultiplyAdd(v2, u, s21);
                s31 = Avx512F.FusedMultiplyAdd(v3, u, s31);
            }
            if (TN.Count > 2)
            {
                u = Vector512.Load(x2 + i);
                s02 = Avx512F.FusedMultiplyAdd(v0, u, s02);
                s12 = Avx512F.FusedMultiplyAdd(v1, u, s12);
                s22 = Avx512F.FusedMultiplyAdd(v2, u, s22);
                s32 = Avx512F.FusedMultiplyAdd(v3, u, s32);
            }
            if (TN.Count > 3)
            {
                u = Vector512.Load(x3 + i);
                s03 = Avx512F.FusedMultiplyAdd(v0, u, s03);
                s13 = Avx512F.FusedMultiplyAdd(v1, u, s13);
                s23 = Avx512F.FusedMultiplyAdd(v2, u, s23);
                s33 = Avx512F.FusedMultiplyAdd(v3, u, s33);
            }
        }
        Finish(s00, w0, x0, end, inputs, z, bias, 0);
        Finish(s10, w1, x0, end, inputs, z, bias, 1);
        Finish(s20, w2, x0, end, inputs, z, bias, 2);
        Finish(s30, w3, x0, end, inputs, z, bias, 3);
        if (TN.Count > 1)
        {
            Finish(s01, w0, x1, end, inputs, z + outputs, bias, 0);
            Finish(s11, w1, x1, end, inputs, z + outputs, bias, 1);
            Finish(s21, w2, x1, end, inputs, z + outputs, bias, 2);
            Finish(s31, w3, x1, end, inputs, z + outputs, bias, 3);
        }
        if (TN.Count > 2)
        {
            Finish(s02, w0, x2, end, inputs, z + 2L * outputs, bias, 0);
            Finish(s12, w1, x2, end, inputs, z + 2L * outputs, bias, 1);
            Finish(s22, w2, x2, end, inputs, z + 2L * outputs, bias, 2);
            Finish(s32, w3, x2, end, inputs, z + 2L * outputs, bias, 3);
        }
        if (TN.Count > 3)
        {
            Finish(s03, w0, x3, end, inputs, z + 3L * outputs, bias, 0);
            Finish(s13, w1, x3, end, inputs, z + 3L * outputs, bias, 1);
            Finish(s23, w2, x3, end, inputs, z + 3L * outputs, bias, 2);
            Finish(s33, w3, x3, end, inputs, z + 3L * outputs, bias, 3);
        }
    }

    /// <summary>z[b] = row . x[b] + bias for TN batch rows b (z entries <paramref name="outputs"/> apart): one pass over one weight row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow<TN>(float* row, float* x, float* z, float bias, int inputs, int outputs) where TN : struct, IRows
    {
        float* x0 = x, x1 = x + inputs, x2 = x + 2L * inputs, x3 = x + 3L * inputs;
        // Two sums per batch row (even and odd chunks) so that each chain of multiply-adds advances every other chunk.
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
        var end = inputs - inputs % (2 * Lanes);
        for (var i = 0; i < end; i += 2 * Lanes)
        {
            var v = Vector512.Load(row + i);
            var u = Vector512.Load(row + i + Lanes);
            s0 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(x0 + i), s0);
            t0 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(x0 + i + Lanes), t0);
            if (TN.Count > 1)
            {
                s1 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(x1 + i), s1);
                t1 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(x1 + i + Lanes), t1);
            }
            if (TN.Count > 2)
            {
                s2 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(x2 + i), s2);
                t2 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(x2 + i + Lanes), t2);
            }
            if (TN.Count > 3)
            {
                s3 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(x3 + i), s3);
                t3 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(x3 + i + Lanes), t3);
            }
        }
        Finish(s0 + t0, row, x0, end, inputs, z, &bias, 0);
        if (TN.Count > 1) Finish(s1 + t1, row, x1, end, inputs, z + outputs, &bias, 0);
        if (TN.Count > 2) Finish(s2 + t2, row, x2, end, inputs, z + 2L * outputs, &bias, 0);
        if (TN.Count > 3) Finish(s3 + t3, row, x3, end, inputs, z + 3L * outputs, &bias, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(Vector512<float> sum, float* w, float* x, int from, int inputs, float* z, float* bias, int k)
    {
        var total = Vector512.Sum(sum);
        for (var i = from; i < inputs; i++) total += w[i] * x[i];
        z[k] = total + bias[k];
    }

    /// <summary>W[k] += alpha d[b, k] a[b] for the 4 weight rows k of the block and TN batch rows b (d rows are <paramref name="outputs"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UpdateTile<TN>(float* w, float* a, float* d, float alpha, int inputs, int outputs) where TN : struct, IRows
    {
        float* w0 = w, w1 = w + inputs, w2 = w + 2L * inputs, w3 = w + 3L * inputs;
        float* a0 = a, a1 = a + inputs, a2 = a + 2L * inputs, a3 = a + 3L * inputs;
        // c[k, b] = alpha d[b, k], broadcast.
        Broadcast<TN>(d, outputs, alpha, out var c00, out var c10, out var c20, out var c30, out var c01, out var c11, out var c21, out var c31,
            out var c02, out var c12, out var c22, out var c32, out var c03, out var c13, out var c23, out var c33);
        var end = inputs - inputs % Lanes;
        for (var i = 0; i < end; i += Lanes)
        {
            var v0 = Vector512.Load(w0 + i);
            var v1 = Vector512.Load(w1 + i);
            var v2 = Vector512.Load(w2 + i);
            var v3 = Vector512.Load(w3 + i);
            var u = Vector512.Load(a0 + i);
            v0 = Avx512F.FusedMultiplyAdd(c00, u, v0);
            v1 = Avx512F.FusedMultiplyAdd(c10, u, v1);
            v2 = Avx512F.FusedMultiplyAdd(c20, u, v2);
            v3 = Avx512F.FusedMultiplyAdd(c30, u, v3);
            if (TN.Count > 1)
            {
                u = Vector512.Load(a1 + i);
                v0 = Avx512F.FusedMultiplyAdd(c01, u, v0);
                v1 = Avx512F.FusedMultiplyAdd(c11, u, v1);
                v2 = Avx512F.FusedMultiplyAdd(c21, u, v2);
                v3 = Avx512F.FusedMultiplyAdd(c31, u, v3);
            }
            if (TN.Count > 2)
            {
                u = Vector512.Load(a2 + i);
                v0 = Avx512F.FusedMultiplyAdd(c02, u, v0);
                v1 = Avx512F.FusedMultiplyAdd(c12, u, v1);
                v2 = Avx512F.FusedMultiplyAdd(c22, u, v2);
                v3 = Avx512F.FusedMultiplyAdd(c32, u, v3);
            }
            if (TN.Count > 3)
            {
                u = Vector512.Load(a3 + i);
                v0 = Avx512F.FusedMultiplyAdd(c03, u, v0);
                v1 = Avx512F.FusedMultiplyAdd(c13, u, v1);
                v2 = Avx512F.FusedMultiplyAdd(c23, u, v2);
                v3 = Avx512F.FusedMultiplyAdd(c33, u, v3);
            }
            v0.Store(w0 + i);
            v1.Store(w1 + i);
            v2.Store(w2 + i);
            v3.Store(w3 + i);
        }
        for (var i = end; i < inputs; i++)
        {
            for (var b = 0; b < TN.Count; b++)
            {
                var ab = a[(long)b * inputs + i];
                var db = d + (long)b * outputs;
                w0[i] += alpha * db[0] * ab;
                w1[i] += alpha * db[1] * ab;
                w2[i] += alpha * db[2] * ab;
                w3[i] += alpha * db[3] * ab;
            }
        }
    }

    /// <summary>g[b] += sum over the block's 4 weight rows k of d[b, k] W[k], for TN batch rows b (g rows are <paramref name="inputs"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradientTile<TN>(float* w, float* g, float* d, int inputs, int outputs) where TN : struct, IRows
    {
        float* w0 = w, w1 = w + inputs, w2 = w + 2L * inputs, w3 = w + 3L * inputs;
        float* g0 = g, g1 = g + inputs, g2 = g + 2L * inputs, g3 = g + 3L * inputs;
        Broadcast<TN>(d, outputs, 1f, out var e00, out var e10, out var e20, out var e30, out var e01, out var e11, out var e21, out var e31,
            out var e02, out var e12, out var e22, out var e32, out var e03, out var e13, out var e23, out var e33);
        var end = inputs - inputs % Lanes;
        for (var i = 0; i < end; i += Lanes)
        {
            var v0 = Vector512.Load(w0 + i);
            var v1 = Vector512.Load(w1 + i);
            var v2 = Vector512.Load(w2 + i);
            var v3 = Vector512.Load(w3 + i);
            // Two partial sums per batch row keep the dependent multiply-adds at two deep.
            var s = Avx512F.FusedMultiplyAdd(e00, v0, Vector512.Load(g0 + i));
            var t = Avx512F.Multiply(e10, v1);
            s = Avx512F.FusedMultiplyAdd(e20, v2, s);
            t = Avx512F.FusedMultiplyAdd(e30, v3, t);
            (s + t).Store(g0 + i);
            if (TN.Count > 1)
            {
                s = Avx512F.FusedMultiplyAdd(e01, v0, Vector512.Load(g1 + i));
                t = Avx512F.Multiply(e11, v1);
                s = Avx512F.FusedMultiplyAdd(e21, v2, s);
                t = Avx512F.FusedMultiplyAdd(e31, v3, t);
                (s + t).Store(g1 + i);
            }
            if (TN.Count > 2)
            {
                s = Avx512F.FusedMultiplyAdd(e02, v0, Vector512.Load(g2 + i));
                t = Avx512F.Multiply(e12, v1);
                s = Avx512F.FusedMultiplyAdd(e22, v2, s);
                t = Avx512F.FusedMultiplyAdd(e32, v3, t);
                (s + t).Store(g2 + i);
            }
            if (TN.Count > 3)
            {
                s = Avx512F.FusedMultiplyAdd(e03, v0, Vector512.Load(g3 + i));
                t = Avx512F.Multiply(e13, v1);
                s = Avx512F.FusedMultiplyAdd(e23, v2, s);
                t = Avx512F.FusedMultiplyAdd(e33, v3, t);
                (s + t).Store(g3 + i);
            }
        }
        for (var i = end; i < inputs; i++)
        {
            for (var b = 0; b < TN.Count; b++)
            {
                var db = d + (long)b * outputs;
                g[(long)b * inputs + i] += db[0] * w0[i] + db[1] * w1[i] + db[2] * w2[i] + db[3] * w3[i];
            }
        }
    }

    /// <summary>
    /// c_kb = <paramref name="scale"/> d[b, k] broadcast, for the block's 4 weight rows k and TN batch rows b (d rows are
    /// <paramref name="outputs"/> apart); rows beyond TN are zero. Inlined, so the 16 values stay in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast<TN>(float* d, int outputs, float scale,
        out Vector512<float> c00, out Vector512<float> c10, out Vector512<float> c20, out Vector512<float> c30,
        out Vector512<float> c01, out Vector512<float> c11, out Vector512<float> c21, out Vector512<float> c31,
        out Vector512<float> c02, out Vector512<float> c12, out Vector512<float> c22, out Vector512<float> c32,
        out Vector512<float> c03, out Vector512<float> c13, out Vector512<float> c23, out Vector512<float> c33) where TN : struct, IRows
    {
        c00 = Vector512.Create(scale * d[0]);
        c10 = Vector512.Create(scale * d[1]);
        c20 = Vector512.Create(scale * d[2]);
        c30 = Vector512.Create(scale * d[3]);
        var d1 = d + outputs;
        c01 = TN.Count > 1 ? Vector512.Create(scale * d1[0]) : default;
        c11 = TN.Count > 1 ? Vector512.Create(scale * d1[1]) : default;
        c21 = TN.Count > 1 ? Vector512.Create(scale * d1[2]) : default;
        c31 = TN.Count > 1 ? Vector512.Create(scale * d1[3]) : default;
        var d2 = d + 2L * outputs;
        c02 = TN.Count > 2 ? Vector512.Create(scale * d2[0]) : default;
        c12 = TN.Count > 2 ? Vector512.Create(scale * d2[1]) : default;
        c22 = TN.Count > 2 ? Vector512.Create(scale * d2[2]) : default;
        c32 = TN.Count > 2 ? Vector512.Create(scale * d2[3]) : default;
        var d3 = d + 3L * outputs;
        c03 = TN.Count > 3 ? Vector512.Create(scale * d3[0]) : default;
        c13 = TN.Count > 3 ? Vector512.Create(scale * d3[1]) : default;
        c23 = TN.Count > 3 ? Vector512.Create(scale * d3[2]) : default;
        c33 = TN.Count > 3 ? Vector512.Create(scale * d3[3]) : default;
    }

    // ----- single rows (layers whose row count is not a multiple of 4 end with one to three of them) -----

    private static float Dot(float* w, float* x, int n)
    {
        var sum = Vector512<float>.Zero;
        var i = 0;
        for (; i + Lanes <= n; i += Lanes) sum = Avx512F.FusedMultiplyAdd(Vector512.Load(w + i), Vector512.Load(x + i), sum);
        var total = Vector512.Sum(sum);
        for (; i < n; i++) total += w[i] * x[i];
        return total;
    }

    /// <summary>y += c x over n floats.</summary>
    private static void Axpy(float c, float* x, float* y, int n)
    {
        var cv = Vector512.Create(c);
        var i = 0;
        for (; i + Lanes <= n; i += Lanes) Avx512F.FusedMultiplyAdd(cv, Vector512.Load(x + i), Vector512.Load(y + i)).Store(y + i);
        for (; i < n; i++) y[i] += c * x[i];
    }

    // ----- checks -----

    /// <summary>Validates W [out, in], the rows [b, in] (1 &lt;= b &lt;= <see cref="MaxRows"/>) and, but for Linear, d [b, out]; every tensor float32, contiguous, on the CPU.</summary>
    private static (int Rows, int Outputs, int Inputs) Check(string op, Tensor w, Tensor a, int minRows, params Tensor[] others)
    {
        if (!Supported) throw new PlatformNotSupportedException($"{op}: this CPU has no AVX-512F.");
        if (w.dim() != 2 || a.dim() != 2 || a.shape[1] != w.shape[1] || a.shape[0] < minRows || a.shape[0] > MaxRows)
            throw new ArgumentException($"{op}: w {Shape(w)} and rows {Shape(a)}; expected w [out, in] and [b, in] with {minRows} <= b <= {MaxRows}.");
        foreach (var t in others.Prepend(a).Prepend(w))
        {
            if (!t.is_contiguous() || t.dtype != ScalarType.Float32 || t.device_type != TorchSharp.DeviceType.CPU)
                throw new ArgumentException($"{op} needs contiguous float32 CPU tensors; got {Shape(t)} {t.dtype} on {t.device_type}, contiguous: {t.is_contiguous()}.");
        }
        var rows = (int)a.shape[0];
        var outputs = (int)w.shape[0];
        if (op != "Linear" && (others[0].dim() != 2 || others[0].shape[0] != rows || others[0].shape[1] != outputs))
            throw new ArgumentException($"{op}: d {Shape(others[0])}; expected [{rows}, {outputs}] for w {Shape(w)} and {rows} row(s).");
        return (rows, outputs, (int)w.shape[1]);
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    private interface IRows
    {
        static abstract int Count { get; }
    }

    private struct R1 : IRows { public static int Count => 1; }
    private struct R2 : IRows { public static int Count => 2; }
    private struct R3 : IRows { public static int Count => 3; }
    private struct R4 : IRows { public static int Count => 4; }
}
