"""GPU timing proxy for the gradient-competition trial engine (Reproductions.Harness/GradientCompetition).

The .NET engine cannot run on the lent GPU machine (no .NET there, and TorchSharp's CUDA backend is not served to
this project), so this script transcribes the engine's literal step op for op into PyTorch and times it on the GPU,
with the same roofline the .NET `bench --gradient-competition` prints: the compute bound is the step's FLOPs at
torch.mm's measured GFLOP/s (1024^3, float32, TF32 off), the memory bound the bytes a step must move (weights read
for the forward pass, read again for the backward pass through layers 2.., read and written by the update) at the
bandwidth of a large tensor copy. Both bounds are measured in this process.

Engine variants timed (TrialStack's UpdateMode):
  fused-stacked  W = baddbmm(W, d^T, a, beta=1, alpha=-lr) into a fresh tensor (what the .NET engine does on CUDA,
                 since TorchSharp 0.107 has no in-place baddbmm_)
  fused-inplace  W.baddbmm_(d^T, a, alpha=-lr) (PyTorch only; what TorchSharp would allow with baddbmm_)
  separate       g = bmm(d^T, a); W.add_(g, alpha=-lr) (autograd + optimizer.step style)
Also checks that the transcription's summed last-layer gradient equals autograd's for a few trials.

Usage: python tools/gradient_competition_gpu_proxy.py [--trials 64 256] [--out results.json]
"""
import argparse
import json
import math
import time

import torch

WIDTHS = [784, 1024, 1024, 10]
BATCH_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 128, 256, 512, 1024]


def flops_per_sample(w):
    macs = [w[i] * w[i + 1] for i in range(len(w) - 1)]
    return 2 * sum(macs) + 2 * sum(macs[1:]) + 2 * sum(macs)


def bytes_per_step(w):
    params = sum(w[i] * w[i + 1] + w[i + 1] for i in range(len(w) - 1))
    backward = sum(w[i] * w[i + 1] for i in range(1, len(w) - 1))
    return 4 * (params + backward + 2 * params)


def sync():
    torch.cuda.synchronize()


def mm_gflops(n=1024, seconds=1.0):
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    for _ in range(3):
        a.mm(b)
    sync()
    best = 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        reps = 50
        t0 = time.perf_counter()
        for _ in range(reps):
            a.mm(b)
        sync()
        best = max(best, reps * 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def copy_bandwidth(elements=256 << 20, seconds=1.0):
    src = torch.randn(elements, device="cuda")
    dst = torch.empty_like(src)
    dst.copy_(src)
    sync()
    best = 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        dst.copy_(src)
        sync()
        best = max(best, 2 * elements * 4 / (time.perf_counter() - t0))
    return best


class Stack:
    """T stacked copies of the MLP: weights [T, out, in], biases [T, 1, out] (TrialStack)."""

    def __init__(self, weights, biases, trials, mode):
        self.w = [w.unsqueeze(0).repeat(trials, 1, 1) for w in weights]
        self.b = [b.view(1, 1, -1).repeat(trials, 1, 1) for b in biases]
        self.g = torch.zeros(trials, weights[-1].shape[0], weights[-1].shape[1], device=weights[0].device)
        self.mode = mode

    def _add(self, i, d, a, alpha, target=None):
        t = self.w[i] if target is None else target
        if self.mode == "fused-stacked":
            t = torch.baddbmm(t, d.transpose(1, 2), a, beta=1, alpha=alpha)
        elif self.mode == "fused-inplace":
            t.baddbmm_(d.transpose(1, 2), a, alpha=alpha)
        else:
            t.add_(torch.bmm(d.transpose(1, 2), a), alpha=alpha)
        if target is None:
            self.w[i] = t
        return t

    def step(self, x, onehot, scale, lr):
        layers = len(self.w)
        inputs = []
        a = x
        for i in range(layers):
            inputs.append(a)
            z = torch.baddbmm(self.b[i], a, self.w[i].transpose(1, 2))
            if i < layers - 1:
                a = z.relu()
        delta = z.softmax(2).sub_(onehot)
        if scale != 1:
            delta.mul_(scale)
        deltas = [None] * layers
        deltas[-1] = delta
        for i in range(layers - 1, 0, -1):
            delta = delta.bmm(self.w[i]).mul_(inputs[i] > 0)
            deltas[i - 1] = delta
        self.g = self._add(None, deltas[-1], inputs[-1], 1.0, target=self.g)
        for i in range(layers):
            self._add(i, deltas[i], inputs[i], -lr)
            self.b[i].add_(deltas[i].sum(1, keepdim=True), alpha=-lr)


def regime_and_pool(device):
    g = torch.Generator().manual_seed(1)
    weights, biases = [], []
    for i in range(len(WIDTHS) - 1):
        bound = math.sqrt(6 / (WIDTHS[i] + WIDTHS[i + 1]))
        weights.append((torch.rand(WIDTHS[i + 1], WIDTHS[i], generator=g) * 2 - 1).mul_(bound).to(device))
        biases.append(torch.zeros(WIDTHS[i + 1], device=device))
    x = torch.randn(8192, WIDTHS[0], generator=g).to(device)
    y = torch.randint(0, WIDTHS[-1], (8192,), generator=g).to(device)
    return weights, biases, x, torch.nn.functional.one_hot(y, WIDTHS[-1]).float(), y


def run_literal(weights, biases, x, onehot, idx, batch_size, mode, lr=0.01):
    trials, samples = idx.shape
    stack = Stack(weights, biases, trials, mode)
    xs = x.index_select(0, idx.reshape(-1)).view(trials, samples, -1)
    ys = onehot.index_select(0, idx.reshape(-1)).view(trials, samples, -1)
    for start in range(0, samples, batch_size):
        b = min(batch_size, samples - start)
        stack.step(xs[:, start:start + b], ys[:, start:start + b], 1.0 / b, lr)
    return stack.g


def autograd_check(weights, biases, x, onehot, y, device):
    g = torch.Generator().manual_seed(5)
    idx = torch.stack([torch.randperm(x.shape[0], generator=g)[:16] for _ in range(3)]).to(device)
    worst = 0.0
    for mode in ("fused-stacked", "fused-inplace", "separate"):
        for batch_size in (1, 3, 8):
            got = run_literal(weights, biases, x, onehot, idx, batch_size, mode)
            for t in range(idx.shape[0]):
                layers = [torch.nn.Linear(WIDTHS[i], WIDTHS[i + 1]).to(device) for i in range(len(WIDTHS) - 1)]
                with torch.no_grad():
                    for layer, w, b in zip(layers, weights, biases):
                        layer.weight.copy_(w)
                        layer.bias.copy_(b)
                params = [p for layer in layers for p in layer.parameters()]
                sgd = torch.optim.SGD(params, lr=0.01)
                total = torch.zeros_like(layers[-1].weight)
                for start in range(0, 16, batch_size):
                    rows = idx[t, start:start + batch_size]
                    sgd.zero_grad()
                    h = x[rows]
                    for i, layer in enumerate(layers):
                        h = layer(h)
                        if i < len(layers) - 1:
                            h = h.relu()
                    torch.nn.functional.nll_loss(h.log_softmax(1), y[rows]).backward()
                    total += layers[-1].weight.grad
                    sgd.step()
                worst = max(worst, ((got[t] - total).abs().max() / total.abs().max().clamp_min(1e-3)).item())
    return worst


def time_engine(weights, biases, x, onehot, batch_size, trials, mode, max_steps=32, repeats=3):
    steps = min(math.ceil(1024 / batch_size), max_steps)
    samples = steps * batch_size
    best = float("inf")
    for r in range(repeats + 1):
        g = torch.Generator().manual_seed(r)
        idx = torch.randint(0, x.shape[0], (trials, samples), generator=g).to(x.device)
        sync()
        t0 = time.perf_counter()
        run_literal(weights, biases, x, onehot, idx, batch_size, mode)
        sync()
        if r > 0:  # the first run warms up the kernels and the caching allocator
            best = min(best, time.perf_counter() - t0)
    return best / (trials * samples), steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device("cuda")
    name = torch.cuda.get_device_name(0)
    weights, biases, x, onehot, y = regime_and_pool(device)
    worst = autograd_check(weights, biases, x, onehot, y, device)
    mm = mm_gflops()
    copy = copy_bandwidth()
    flops = flops_per_sample(WIDTHS)
    step_bytes = bytes_per_step(WIDTHS)
    print(f"{name}, torch {torch.__version__}: torch.mm {mm:.0f} GFLOP/s (fp32, TF32 off), copy {copy / 1e9:.0f} GB/s; "
          f"transcription vs autograd: max relative difference {worst:.2e}")
    rows = []
    for trials in args.trials:
        for mode in ("fused-stacked", "fused-inplace", "separate"):
            for b in BATCH_SIZES:
                per_sample, steps = time_engine(weights, biases, x, onehot, b, trials, mode)
                compute = flops / (mm * 1e9)
                memory = step_bytes / b / copy
                bound = max(compute, memory)
                rows.append(dict(trials=trials, mode=mode, batch_size=b, steps=steps, us_per_sample=per_sample * 1e6,
                                 compute_bound_us=compute * 1e6, memory_bound_us=memory * 1e6, ratio=per_sample / bound))
                print(f"T={trials:4d} {mode:14s} B={b:5d}: {per_sample * 1e6:8.2f} us/sample, compute bound {compute * 1e6:6.3f} us, "
                      f"memory bound {memory * 1e6:7.3f} us, ratio {per_sample / bound:5.2f}", flush=True)
    # The literal trials of the full profile (1000 trials x 2 regimes x literal-mean and literal-sum, literal-sum reusing
    # literal-mean at B = 1), at the best measured configuration per B.
    full = 0.0
    best_rows = {}
    for r in rows:
        if r["batch_size"] not in best_rows or r["us_per_sample"] < best_rows[r["batch_size"]]["us_per_sample"]:
            best_rows[r["batch_size"]] = r
    for b, r in best_rows.items():
        variants = 1 if b == 1 else 2
        full += r["us_per_sample"] * 1e-6 * 1024 * 1000 * 2 * variants
    print(f"full profile literal trials at the best configuration per B: about {full:.0f} s")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(device=name, torch=torch.__version__, mm_gflops=mm, copy_bytes_per_s=copy,
                           autograd_max_relative_difference=worst, rows=rows, full_profile_literal_seconds=full), f, indent=2)


if __name__ == "__main__":
    main()
