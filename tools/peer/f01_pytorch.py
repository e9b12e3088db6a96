"""PyTorch peer of F01's full protocol: the same training the .NET harness does, written the way PyTorch users write it.

F01 (FINDINGS.md): MNIST, MLP 784-1024-1024-10 (ReLU, log-softmax, NLL with mean reduction), Xavier-uniform weights
and zero biases, plain SGD at lr 0.01 (no momentum, no weight decay), pixels / 255 standardised with 0.1307 / 0.3081,
reshuffled every epoch; full profile: batch sizes 64, 256, 1024, seeds 1, 2, 3, 30 epochs on all 60,000 samples
(configs/F01.json, configs/defaults.json, Reproductions.Harness/Training/TrainingConfig.cs). Like the harness, every
epoch ends with an evaluation (loss and accuracy on the training set and the test set, in chunks of 10,000 rows) and the
weight geometry (distance from init, norm, per-layer cosine to init), read to the host once per epoch.

Seeding follows the harness (Training/Seeds.cs, Training/TrainingSession.cs, Models/Mlp.cs): SplitMix64-derived seeds
for the init (stream 1), the training subset (stream 2) and each epoch's shuffle (stream 4, index = epoch), each a CPU
torch.Generator; the weights are drawn on the CPU with Tensor.uniform_ layer by layer, and the permutation with
torch.randperm on the CPU, then moved to the device. Where the installed torch draws the same numbers as the harness's
libtorch, both train the very same models.

Modes (--modes; default: every mode this machine supports):
  plain    one run at a time: nn.Sequential, torch.optim.SGD, zero_grad / forward / loss / backward / step
  vmap     the seeds trained as one: torch.func.functional_call + vmap(grad(loss)) over stacked parameters, each seed
           its own data order, the SGD update applied with torch._foreach_add_ (functorch on torch 1.13)
  graphs   the plain loop's step captured in CUDA graphs (one per batch shape: full batches and the epoch's last,
           partial batch), static input buffers, torch.optim.SGD captured in the graph; CUDA only
  compile  the plain loop with torch.compile(model); "compile unavailable: <reason>" when the compiler does not work
Each reports wall time per batch size and in total, time per step, and final accuracies per (batch size, seed), beside
torch.mm's GFLOP/s (1024^3, float32, TF32 off) measured in this process.

--check trains a tiny setting (2 seeds, 500 samples, 2 epochs, bs 64) in every mode it can run and fails (exit 1) when
a mode's final weights differ from plain's by more than --check-rtol of the distance plain's travelled from init
(L2 over all parameters, per batch size and seed).

Usage: python3 tools/peer/f01_pytorch.py --data DIR --out results.json [--modes plain vmap graphs compile]
       python3 tools/peer/f01_pytorch.py --data DIR --check
Self-contained (torch and the standard library), so it travels alone.
"""
import argparse
import ctypes
import gzip
import hashlib
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = [784, 1024, 1024, 10]
MODES = ["plain", "vmap", "graphs", "compile"]

# configs/F01.json, profile "full": seeds, batch sizes, epochs and learning rate (one phase per run).
FULL_PROFILE = {"batch_sizes": [64, 256, 1024], "seeds": [1, 2, 3], "epochs": 30, "learning_rate": 0.01,
                "train_samples": None, "test_samples": None}
# A tiny setting for --check: 500 training samples so that the epoch's last batch is partial (500 = 7 x 64 + 52), and
# the first 1,000 test samples (Debian's torch 1.13 runs torch.mm at about 2 GFLOP/s: the whole test set would take
# most of the check's time in evaluation, which the agreement does not need).
CHECK_PROFILE = {"batch_sizes": [64], "seeds": [1, 2], "epochs": 2, "learning_rate": 0.01, "train_samples": 500,
                 "test_samples": 1000}
EVAL_CHUNK = 10000  # configs/defaults.json evaluation:chunkSize
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # Reproductions.Harness/Data/DatasetSpec.cs (MNIST), preprocessing "standardize"

# SHA-256 of the uncompressed IDX files (/work/shared/ENVIRONMENT.md, Data/DatasetSpec.cs); a .gz is hashed after
# decompression, as the harness does.
MNIST_FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
LABEL_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}

# Training/Seeds.cs streams.
STREAM_INIT, STREAM_TRAIN_SUBSET, STREAM_SHUFFLE = 1, 2, 4
MASK64 = (1 << 64) - 1


class DataError(Exception):
    pass


def log(message):
    print(message, flush=True)


# ----------------------------------------------------------------------------------------------------------- seeds


def derive_seed(seed, stream, index=0):
    """Training/Seeds.cs Derive: SplitMix64 of (seed, stream, index), folded to a non-negative 63-bit integer."""
    z = ((seed * 0x9E3779B97F4A7C15) ^ ((stream + 1) * 0xBF58476D1CE4E5B9) ^ ((index + 1) * 0x94D049BB133111EB)) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    z ^= z >> 31
    return z & 0x7FFFFFFFFFFFFFFF


def cpu_generator(seed, stream, index=0):
    return torch.Generator().manual_seed(derive_seed(seed, stream, index))


def epoch_permutation(seed, epoch, n):
    """The epoch's order of the run's training rows (CPU, as TrainingSession.Shuffled draws it)."""
    return torch.randperm(n, generator=cpu_generator(seed, STREAM_SHUFFLE, epoch))


def initial_parameters(seed):
    """Xavier-uniform weights, zero biases, drawn on the CPU layer by layer (Models/Mlp.cs Initialize, xavier-zero)."""
    g = cpu_generator(seed, STREAM_INIT)
    weights, biases = [], []
    for fan_in, fan_out in zip(WIDTHS[:-1], WIDTHS[1:]):
        a = math.sqrt(6.0 / (fan_in + fan_out))
        weights.append(torch.empty(fan_out, fan_in).uniform_(-a, a, generator=g))
        biases.append(torch.zeros(fan_out))
    return weights, biases


# ------------------------------------------------------------------------------------------------------------ data


def read_idx(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(path, "rb") as f:
                raw = f.read()
            actual = hashlib.sha256(raw).hexdigest()
            if actual != MNIST_FILES[name]:
                raise DataError(f"SHA-256 mismatch for {name} ('{path}'): expected {MNIST_FILES[name]}, actual {actual} "
                                "(hash of the uncompressed content); this is not the MNIST file the harness uses")
            return path, raw
    raise DataError(f"{name} (or {name}.gz) not found in '{folder}'")


def parse_idx(raw, path, images):
    magic = int.from_bytes(raw[0:4], "big")
    count = int.from_bytes(raw[4:8], "big")
    if images:
        if magic != 2051:
            raise DataError(f"'{path}': magic {magic}, expected 2051 (IDX images)")
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        pixels = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8)
        return pixels.view(count, rows * cols).to(torch.float32).div_(255.0)
    if magic != 2049:
        raise DataError(f"'{path}': magic {magic}, expected 2049 (IDX labels)")
    return torch.frombuffer(bytearray(raw[8:]), dtype=torch.uint8).to(torch.int64)


def load_mnist(folder):
    """The four verified splits as CPU tensors: images float32 [N, 784] in [0, 1], labels int64 [N]."""
    out, paths = {}, {}
    for name in MNIST_FILES:
        path, raw = read_idx(folder, name)
        paths[name] = path
        out[name] = parse_idx(raw, path, "images" in name)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        counts = torch.bincount(out[f"{prefix}-labels-idx1-ubyte"], minlength=10).tolist()
        if counts != LABEL_COUNTS[split]:
            raise DataError(f"{split} label counts {counts} differ from MNIST's {LABEL_COUNTS[split]}")
    return (out["train-images-idx3-ubyte"], out["train-labels-idx1-ubyte"],
            out["t10k-images-idx3-ubyte"], out["t10k-labels-idx1-ubyte"]), paths


class Data:
    """The splits on the device, preprocessed, and each seed's training rows (all of them, or the seeded subset)."""

    def __init__(self, splits, device, preprocessing, train_samples, test_samples=None):
        train_x, train_y, test_x, test_y = splits
        if test_samples is not None:
            test_x, test_y = test_x[:test_samples], test_y[:test_samples]
        self.device = device
        self.x = self._prepare(train_x, preprocessing)
        self.y = train_y.to(device)
        self.test_x = self._prepare(test_x, preprocessing)
        self.test_y = test_y.to(device)
        self.train_samples = train_samples
        self.n = self.x.shape[0] if train_samples is None or train_samples >= self.x.shape[0] else train_samples

    def _prepare(self, images, preprocessing):
        x = images.to(self.device)
        return x.sub(PIXEL_MEAN).div_(PIXEL_STD) if preprocessing == "standardize" else x

    def rows(self, seed):
        """CPU indices of the seed's training rows (TrainingSession.TrainingSet), or None for the whole split."""
        if self.n == self.x.shape[0]:
            return None
        return torch.randperm(self.x.shape[0], generator=cpu_generator(seed, STREAM_TRAIN_SUBSET))[:self.n]

    def train_set(self, seed):
        rows = self.rows(seed)
        if rows is None:
            return self.x, self.y
        rows = rows.to(self.device)
        return self.x[rows], self.y[rows]


# ----------------------------------------------------------------------------------------------------------- timing


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


class LaunchCounter:
    """The CUDA driver calls made while counting, by name, through CUPTI's callback API: the harness's
    Benchmarks/CudaApiCounter.cs, in ctypes (the same library, the same reading of CUPTI's callback data, the same sorting
    into launches, copies and host synchronisations), so the two count a step alike. Subscribed only around the counted
    step: every driver call pays for a Python callback while it is."""

    CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)
    DRIVER_API_DOMAIN, API_ENTER, FUNCTION_NAME_OFFSET = 1, 0, 8  # CUpti_CallbackData: site (4 bytes, padded), then name

    def __init__(self, path):
        self.path = path
        self.lib = ctypes.CDLL(path)
        try:
            self.lib.cuptiSubscribe.argtypes = [ctypes.POINTER(ctypes.c_void_p), self.CALLBACK, ctypes.c_void_p]
            self.lib.cuptiEnableDomain.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_int]
            self.lib.cuptiUnsubscribe.argtypes = [ctypes.c_void_p]
        except AttributeError as e:
            raise OSError(f"{path} is not CUPTI ({e})") from e
        self.callback = self.CALLBACK(self._on_call)  # kept alive as long as the counter
        self.calls = None

    def _on_call(self, _userdata, domain, cbid, data):
        if self.calls is None or domain != self.DRIVER_API_DOMAIN or not data:
            return
        if ctypes.c_int.from_address(data).value != self.API_ENTER:
            return
        name = ctypes.c_char_p.from_address(data + self.FUNCTION_NAME_OFFSET).value
        key = name.decode() if name else f"(callback id {cbid})"
        self.calls[key] = self.calls.get(key, 0) + 1

    def count(self, work):
        """The driver calls work() makes: {"launches", "copies", "syncs", "calls": {name: count}}."""
        handle = ctypes.c_void_p()
        rc = self.lib.cuptiSubscribe(ctypes.byref(handle), self.callback, None)
        if rc != 0:
            raise RuntimeError(f"cuptiSubscribe in {self.path} returned {rc} (39: another CUPTI client is subscribed)")
        self.calls = {}
        try:
            self.lib.cuptiEnableDomain(1, handle, self.DRIVER_API_DOMAIN)
            work()
        finally:
            self.lib.cuptiEnableDomain(0, handle, self.DRIVER_API_DOMAIN)
            self.lib.cuptiUnsubscribe(handle)
        calls, self.calls = self.calls, None
        return {"launches": sum(n for k, n in calls.items() if is_launch(k)),
                "copies": sum(n for k, n in calls.items() if is_copy(k)),
                "syncs": sum(n for k, n in calls.items() if is_sync(k)), "calls": calls}


def is_launch(name):
    """cuLaunchKernel and its variants, and graph launches; not cuLaunchHostFunc (CudaApiCounts.IsLaunch)."""
    return (name.startswith("cuLaunch") and not name.startswith("cuLaunchHostFunc")) or name.startswith("cuGraphLaunch")


def is_copy(name):
    return name.startswith("cuMemcpy") or name.startswith("cuMemset")


def is_sync(name):
    """Every *Synchronize, and the copies that are not Async (CudaApiCounts.IsSync)."""
    return "Synchronize" in name or (name.startswith("cuMemcpy") and "Async" not in name)


def launch_counter(path, device):
    """(a LaunchCounter or None, why): CUPTI at path (--cupti, else REPRO_CUPTI) on a CUDA device."""
    if device.type != "cuda":
        return None, f"kernel launches are not counted on the {device.type} (no kernels)"
    if not path or path == "off":
        return None, "kernel launches are not counted (no --cupti or REPRO_CUPTI)"
    try:
        return LaunchCounter(path), f"kernel launches counted by CUPTI ({path})"
    except OSError as e:
        return None, f"kernel launches are not counted: {path} does not load as CUPTI ({e})"


COUNTER = None  # set by main() where CUPTI counts: each run's second step (epoch 0) is counted


def counted_step(run, steps, step):
    """step(), and, for the run's second step, its driver calls into run.calls (the first step creates the gradients)."""
    if COUNTER is not None and steps == 1 and run.calls is None:
        run.calls = COUNTER.count(step)
    else:
        step()


def mm_gflops(device, n=1024, seconds=1.0):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(3):
        a.mm(b)
    sync(device)
    reps = 50 if device.type == "cuda" else 3
    best = 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        for _ in range(reps):
            a.mm(b)
        sync(device)
        best = max(best, reps * 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def forward_flops_per_sample():
    """ENVIRONMENT.md / Benchmarks/TrainingBench.cs: forward = 2 * sum(in * out) per sample, an SGD step = 3 x forward."""
    return 2 * sum(i * o for i, o in zip(WIDTHS[:-1], WIDTHS[1:]))


# ------------------------------------------------------------------------------------------------------------ model


def make_model(seed, device):
    layers = []
    weights, biases = initial_parameters(seed)
    for i, (w, b) in enumerate(zip(weights, biases)):
        linear = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(w)
            linear.bias.copy_(b)
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    layers.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers).to(device)


def weights_and_biases(model):
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return [m.weight for m in linears], [m.bias for m in linears]


def measurements(splits, weights, biases, init_w, init_b, stacked):
    """Loss and accuracy on the training and test sets plus the weight geometry, one host read.

    splits: (forward, x, y) for the training set, then the test set; forward(x) gives log-probabilities [S, rows, 10]
    (S models; x [rows, 784] shared or [S, rows, 784] per model). weights/biases (and their inits) carry a leading
    model axis when stacked. Returns one dict per model.
    """
    parts = []
    for forward, x, y in splits:
        loss = correct = 0
        rows = y.shape[-1]
        for start in range(0, rows, EVAL_CHUNK):
            xc, yc = x[..., start:start + EVAL_CHUNK, :], y[..., start:start + EVAL_CHUNK]
            logp = forward(xc)
            yc = yc.expand(logp.shape[0], -1) if yc.dim() == 1 else yc
            loss = loss + F.nll_loss(logp.transpose(1, 2), yc, reduction="none").to(torch.float64).sum(1)
            correct = correct + (logp.argmax(2) == yc).sum(1)
        parts += [loss / rows, correct.to(torch.float64) / rows]
    if not stacked:
        weights, biases = [w.unsqueeze(0) for w in weights], [b.unsqueeze(0) for b in biases]
        init_w, init_b = [w.unsqueeze(0) for w in init_w], [b.unsqueeze(0) for b in init_b]
    for w, w0 in zip(weights, init_w):
        w, w0 = w.detach().to(torch.float64).flatten(1), w0.to(torch.float64).flatten(1)
        parts += [(w - w0).square().sum(1), w.square().sum(1), (w * w0).sum(1), w0.square().sum(1)]
    for b, b0 in zip(biases, init_b):
        b, b0 = b.detach().to(torch.float64).flatten(1), b0.to(torch.float64).flatten(1)
        parts += [(b - b0).square().sum(1), b.square().sum(1)]
    values = torch.stack(parts, 1).cpu().tolist()
    out = []
    for v in values:
        layers = len(weights)
        geo = v[4:]
        wd = sum(geo[4 * i] for i in range(layers))
        wn = sum(geo[4 * i + 1] for i in range(layers))
        cos = [geo[4 * i + 2] / math.sqrt(geo[4 * i + 1] * geo[4 * i + 3]) for i in range(layers)]
        bd = sum(geo[4 * layers + 2 * i] for i in range(layers))
        bn = sum(geo[4 * layers + 2 * i + 1] for i in range(layers))
        out.append({"train_loss": v[0], "train_accuracy": v[1], "test_loss": v[2], "test_accuracy": v[3],
                    "weight_distance": math.sqrt(wd), "bias_distance": math.sqrt(bd), "weight_norm": math.sqrt(wn),
                    "bias_norm": math.sqrt(bn), "layer_cosines": cos})
    return out


def batch_sizes_in_epoch(n, bs):
    return sorted({min(bs, n - start) for start in range(0, n, bs)}, reverse=True)


# ------------------------------------------------------------------------------------------------------------ modes


class Run:
    """What one run (or one stacked run of several seeds) records, epoch by epoch."""

    def __init__(self, seeds):
        self.seeds = seeds
        self.curves = {s: [] for s in seeds}
        self.train_s = []
        self.eval_s = []
        self.steps = 0
        self.setup_s = 0.0
        self.wall_s = 0.0
        self.note = None
        self.calls = None  # the driver calls of one step, where CUPTI counts them

    def add_epoch(self, train_s, eval_s, steps, per_seed):
        self.train_s.append(train_s)
        self.eval_s.append(eval_s)
        self.steps += steps
        for s, m in zip(self.seeds, per_seed):
            self.curves[s].append(m)

    def summary(self, flops_per_epoch_per_model):
        train = sum(self.train_s)
        steady = self.train_s[1:] if len(self.train_s) > 1 else self.train_s
        steps_per_epoch = self.steps // max(1, len(self.train_s))
        models = len(self.seeds)
        per_seed = []
        for s in self.seeds:
            final = dict(self.curves[s][-1])
            final["seed"] = s
            final["generalization_gap"] = final["train_accuracy"] - final["test_accuracy"]
            final["test_accuracy_per_epoch"] = [m["test_accuracy"] for m in self.curves[s]]
            final["train_accuracy_per_epoch"] = [m["train_accuracy"] for m in self.curves[s]]
            per_seed.append(final)
        out = {"seeds": self.seeds, "wall_s": self.wall_s, "setup_s": self.setup_s, "train_s": train,
               "eval_s": sum(self.eval_s), "steps": self.steps, "ms_per_step": 1e3 * train / max(1, self.steps),
               "steady_ms_per_step": 1e3 * statistics.median(steady) / max(1, steps_per_epoch),
               "first_epoch_train_s": self.train_s[0], "train_gflops": models * flops_per_epoch_per_model * len(self.train_s) / train / 1e9,
               "per_seed": per_seed}
        if self.note:
            out["note"] = self.note
        if self.calls is not None:
            out["driver_calls_per_step"] = self.calls
        return out


def train_loop_run(data, bs, seed, epochs, lr, device, variant, compile_mode=None):
    """plain, graphs or compile: one seed's run, the usual loop. Returns (Run, final parameters on the CPU)."""
    sync(device)
    t_start = time.perf_counter()
    run = Run([seed])
    train_x, train_y = data.train_set(seed)
    n = train_x.shape[0]
    model = make_model(seed, device)
    weights, biases = weights_and_biases(model)
    init_w = [w.detach().clone() for w in weights]
    init_b = [b.detach().clone() for b in biases]
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    net = model
    if variant == "compile":
        net = torch.compile(model) if compile_mode in (None, "default") else torch.compile(model, mode=compile_mode)
    step = None
    if variant == "graphs":
        step, run.note = capture_steps(model, optimizer, train_x, train_y, n, bs, lr)
    sync(device)
    run.setup_s = time.perf_counter() - t_start

    def forward(x):
        return net(x).unsqueeze(0)

    def one_step(xb, yb):
        if step is not None:
            step(xb, yb)
        else:
            optimizer.zero_grad()
            loss = F.nll_loss(net(xb), yb)
            loss.backward()
            optimizer.step()

    for epoch in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = epoch_permutation(seed, epoch, n).to(device)
        xs, ys = train_x[perm], train_y[perm]
        steps = 0
        for start in range(0, n, bs):
            xb, yb = xs[start:start + bs], ys[start:start + bs]
            counted_step(run, steps, lambda: one_step(xb, yb))
            steps += 1
        sync(device)
        t1 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            m = measurements([(forward, train_x, train_y), (forward, data.test_x, data.test_y)], weights, biases,
                             init_w, init_b, stacked=False)
        run.add_epoch(t1 - t0, time.perf_counter() - t1, steps, m)
    sync(device)
    run.wall_s = time.perf_counter() - t_start
    final = [p.detach().cpu().clone() for p in model.parameters()]
    return run, {seed: final}


def capture_steps(model, optimizer, train_x, train_y, n, bs, lr):
    """One CUDA graph per batch shape of an epoch (full batches, the last partial one), each a whole training step.

    Warm-up steps on a side stream come first (as PyTorch's CUDA-graph docs do it); they change the weights, so the
    initial weights are restored afterwards. The capture itself runs nothing. torch.optim.SGD is captured in the graph;
    should that fail, the update is a hand-written torch._foreach_add_ (noted in the result).
    """
    params = list(model.parameters())
    saved = [p.detach().clone() for p in params]
    note = "torch.optim.SGD.step captured in the graph"

    def capture(size, update):
        static_x = train_x[:size].clone()
        static_y = train_y[:size].clone()

        def body():
            # Gradients start as None, so backward writes them afresh (in the graph: into the graph's own memory).
            for p in params:
                p.grad = None
            F.nll_loss(model(static_x), static_y).backward()
            if update == "optimizer":
                optimizer.step()
            else:
                with torch.no_grad():
                    torch._foreach_add_(params, [p.grad for p in params], alpha=-lr)

        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                body()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            body()
        return graph, static_x, static_y

    def restore():
        torch.cuda.synchronize()
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)

    graphs = {}
    try:
        for size in batch_sizes_in_epoch(n, bs):
            graphs[size] = capture(size, "optimizer")
    except Exception as e:  # noqa: BLE001 - any capture failure: retry with the hand update, and say so
        restore()
        graphs = {}
        note = f"torch.optim.SGD.step could not be captured ({type(e).__name__}: {e}); hand update torch._foreach_add_"
        for size in batch_sizes_in_epoch(n, bs):
            graphs[size] = capture(size, "foreach")
    restore()

    def step(xb, yb):
        graph, static_x, static_y = graphs[xb.shape[0]]
        static_x.copy_(xb)
        static_y.copy_(yb)
        graph.replay()

    return step, note


def func_api():
    """(functional_call, vmap, grad, where from), or a reason string when this torch has none."""
    try:
        from torch.func import functional_call, grad, vmap
        return functional_call, vmap, grad, "torch.func"
    except ImportError:
        pass
    reason = f"torch.func unavailable (torch {torch.__version__.split('+')[0]})"
    try:
        from functorch import grad, vmap
        from torch.nn.utils.stateless import functional_call
        return functional_call, vmap, grad, reason + "; functorch's vmap/grad with torch.nn.utils.stateless.functional_call"
    except ImportError:
        return reason


def vmap_run(data, bs, seeds, epochs, lr, device, api):
    """All seeds as one stacked model: vmap(grad(loss)) over stacked parameters, each seed its own data order."""
    functional_call, vmap, grad, source = api
    sync(device)
    t_start = time.perf_counter()
    run = Run(list(seeds))
    run.note = source
    base = make_model(seeds[0], device)  # the structure functional_call runs; its own parameters are not used
    names = [name for name, _ in base.named_parameters()]
    inits = [initial_parameters(s) for s in seeds]
    per_seed = [[t for pair in zip(w, b) for t in pair] for w, b in inits]  # weight0, bias0, weight1, ...
    params = {name: torch.stack([p[i] for p in per_seed]).to(device) for i, name in enumerate(names)}
    plist = [params[name] for name in names]
    weights, biases = plist[0::2], plist[1::2]
    init_w = [w.clone() for w in weights]
    init_b = [b.clone() for b in biases]
    rows = [data.rows(s) for s in seeds]
    n = data.n

    def loss_fn(p, x, y):
        return F.nll_loss(functional_call(base, p, (x,)), y)

    grads_of = vmap(grad(loss_fn))

    def one_step(xb, yb):
        g = grads_of(params, xb, yb)
        torch._foreach_add_(plist, [g[name] for name in names], alpha=-lr)
    shared_forward = vmap(lambda p, x: functional_call(base, p, (x,)), in_dims=(0, None))
    own_forward = vmap(lambda p, x: functional_call(base, p, (x,)))
    if rows[0] is None:
        train_xy = (data.x, data.y)
        train_forward = shared_forward
    else:
        idx = torch.stack(rows).to(device)
        train_xy = (data.x[idx], data.y[idx])
        train_forward = own_forward
    sync(device)
    run.setup_s = time.perf_counter() - t_start

    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = []
        for s, r in zip(seeds, rows):
            perm = epoch_permutation(s, epoch, n)
            order.append(perm if r is None else r[perm])
        idx = torch.stack(order).to(device)
        xs, ys = data.x[idx], data.y[idx]  # [S, n, 784], [S, n]
        steps = 0
        for start in range(0, n, bs):
            counted_step(run, steps, lambda: one_step(xs[:, start:start + bs], ys[:, start:start + bs]))
            steps += 1
        sync(device)
        t1 = time.perf_counter()
        with torch.no_grad():
            train_m = measurements([(lambda x: train_forward(params, x), train_xy[0], train_xy[1]),
                                    (lambda x: shared_forward(params, x), data.test_x, data.test_y)],
                                   weights, biases, init_w, init_b, stacked=True)
        run.add_epoch(t1 - t0, time.perf_counter() - t1, steps, train_m)
    sync(device)
    run.wall_s = time.perf_counter() - t_start
    final = {s: [p[i].detach().cpu().clone() for p in plist] for i, s in enumerate(seeds)}
    return run, final


def compile_probe(device):
    """None when torch.compile works here, else the reason it does not."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__.split('+')[0]} has no torch.compile"
    try:
        f = torch.compile(lambda x: torch.relu(x * 2.0).sum())
        f(torch.randn(8, 8, device=device))
        sync(device)
        return None
    except Exception as e:  # noqa: BLE001 - the reason is the report
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"


def compile_warm_up(data, protocol, device, compile_mode):
    """Compiles, on a throwaway model, every shape the protocol will meet (each batch size, each epoch's last partial
    batch, the evaluation chunks), so that the runs' times are steady-state; returns the seconds it took."""
    sync(device)
    t0 = time.perf_counter()
    model = make_model(0, device)
    net = torch.compile(model) if compile_mode in (None, "default") else torch.compile(model, mode=compile_mode)
    optimizer = torch.optim.SGD(model.parameters(), lr=protocol["learning_rate"])
    for bs in protocol["batch_sizes"]:
        for size in batch_sizes_in_epoch(data.n, bs):
            for _ in range(2):
                optimizer.zero_grad()
                F.nll_loss(net(data.x[:size]), data.y[:size]).backward()
                optimizer.step()
    model.eval()
    with torch.no_grad():
        for rows in sorted({min(EVAL_CHUNK, data.n), data.n % EVAL_CHUNK, min(EVAL_CHUNK, data.test_x.shape[0]),
                            data.test_x.shape[0] % EVAL_CHUNK} - {0}):
            net(data.test_x[:rows] if rows <= data.test_x.shape[0] else data.x[:rows]).sum().item()
    sync(device)
    return time.perf_counter() - t0


def raise_recompile_limit():
    dynamo = getattr(torch, "_dynamo", None)
    config = getattr(dynamo, "config", None)
    for name in ("recompile_limit", "cache_size_limit"):
        if config is not None and hasattr(config, name):
            setattr(config, name, max(64, getattr(config, name)))


# ------------------------------------------------------------------------------------------------------------- main


def mode_availability(requested, device):
    """{mode: None (runs) or reason (does not)}, and the func API for vmap."""
    api = func_api()
    out = {}
    for mode in requested:
        if mode == "vmap":
            out[mode] = api if isinstance(api, str) else None
        elif mode == "graphs":
            out[mode] = None if device.type == "cuda" else f"skipped: CUDA graphs need a CUDA device (running on {device.type})"
        elif mode == "compile":
            reason = compile_probe(device)
            out[mode] = None if reason is None else f"compile unavailable: {reason}"
        else:
            out[mode] = None
    return out, (None if isinstance(api, str) else api)


def write_json(path, obj):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def warm_up(data, batch_sizes, lr, device):
    """Untimed: a few eager steps per batch size and one evaluation chunk (CUDA context, cuBLAS, the allocator)."""
    model = make_model(0, device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for bs in batch_sizes:
        for _ in range(3):
            optimizer.zero_grad()
            F.nll_loss(model(data.x[:bs]), data.y[:bs]).backward()
            optimizer.step()
    with torch.no_grad():
        model(data.test_x[:EVAL_CHUNK]).argmax(1).sum().item()
    sync(device)


def run_mode(mode, protocol, data, device, api, compile_mode, deadline, result_sink):
    """Runs the whole protocol in one mode. Returns (mode result dict, {bs: {seed: final params}})."""
    flops_epoch = 3 * forward_flops_per_sample() * data.n
    entry = {"status": "ran", "batch_sizes": {}}
    finals = {}
    t_mode = time.perf_counter()
    if mode == "compile":
        raise_recompile_limit()
        entry["compile_mode"] = compile_mode or "default"
        entry["setup_s"] = compile_warm_up(data, protocol, device, compile_mode)
        log(f"compile: warm-up compilation {entry['setup_s']:.1f} s (every batch shape of the protocol, train and eval)")
    for bs in protocol["batch_sizes"]:
        if deadline is not None and time.perf_counter() > deadline:
            entry["status"] = "partial"
            entry["reason"] = f"time budget spent before bs {bs}"
            break
        runs = []
        if mode == "vmap":
            run, final = vmap_run(data, bs, protocol["seeds"], protocol["epochs"], protocol["learning_rate"], device, api)
            runs.append(run)
            finals[bs] = final
        else:
            finals[bs] = {}
            for seed in protocol["seeds"]:
                run, final = train_loop_run(data, bs, seed, protocol["epochs"], protocol["learning_rate"], device, mode,
                                            compile_mode)
                runs.append(run)
                finals[bs].update(final)
                log(f"  {mode} bs {bs} seed {seed}: {run.wall_s:.2f} s, {1e3 * sum(run.train_s) / run.steps:.3f} ms/step, "
                    f"test {run.curves[seed][-1]['test_accuracy']:.4f}, train {run.curves[seed][-1]['train_accuracy']:.4f}")
        summaries = [r.summary(flops_epoch) for r in runs]
        wall = sum(s["wall_s"] for s in summaries)
        train = sum(s["train_s"] for s in summaries)
        steps = sum(s["steps"] for s in summaries)
        model_steps = steps * (len(protocol["seeds"]) if mode == "vmap" else 1)
        row = {"wall_s": wall, "train_s": train, "eval_s": sum(s["eval_s"] for s in summaries),
               "setup_s": sum(s["setup_s"] for s in summaries), "steps": steps,
               "ms_per_step": 1e3 * train / steps, "ms_per_model_step": 1e3 * train / model_steps,
               "train_gflops": 3 * forward_flops_per_sample() * data.n * protocol["epochs"] * len(protocol["seeds"]) / train / 1e9,
               "runs": summaries,
               "driver_calls_per_step": next((s["driver_calls_per_step"] for s in summaries if "driver_calls_per_step" in s), None),
               "final_test_accuracy": {str(p["seed"]): p["test_accuracy"] for s in summaries for p in s["per_seed"]},
               "final_train_accuracy": {str(p["seed"]): p["train_accuracy"] for s in summaries for p in s["per_seed"]}}
        entry["batch_sizes"][str(bs)] = row
        acc = ", ".join(f"{k}: {v:.4f}" for k, v in row["final_test_accuracy"].items())
        log(f"{mode} bs {bs}: {wall:.2f} s wall ({train:.2f} s training, {row['eval_s']:.2f} s evaluation), "
            f"{row['ms_per_step']:.3f} ms/step ({row['ms_per_model_step']:.3f} per model), test accuracy per seed {acc}")
        if row["driver_calls_per_step"] is not None:
            c = row["driver_calls_per_step"]
            top = ", ".join(f"{k} {v}" for k, v in sorted(c["calls"].items(), key=lambda kv: (-kv[1], kv[0]))[:8])
            log(f"{mode} bs {bs}: a step's driver calls: {c['launches']} kernel launches, {c['copies']} copies, "
                f"{c['syncs']} host synchronisations ({top})")
        entry["total_wall_s"] = time.perf_counter() - t_mode
        result_sink(entry)
    entry["total_wall_s"] = time.perf_counter() - t_mode
    return entry, finals


def compare(finals_a, finals_b):
    """Per (batch size, seed) both modes trained: max |a - b|, and |a - b| / |a - init| (L2 over all parameters)."""
    rows = []
    for bs, seeds in finals_a.items():
        for seed, params in seeds.items():
            other = finals_b.get(bs, {}).get(seed)
            if other is None:
                continue
            weights, biases = initial_parameters(seed)
            inits = [t for pair in zip(weights, biases) for t in pair]
            diff = math.sqrt(sum(float((p.double() - q.double()).square().sum()) for p, q in zip(params, other)))
            travel = math.sqrt(sum(float((p.double() - p0.double()).square().sum()) for p, p0 in zip(params, inits)))
            worst = max(float((p - q).abs().max()) for p, q in zip(params, other))
            rows.append({"batch_size": bs, "seed": seed, "max_abs_difference": worst, "l2_difference": diff,
                         "l2_travel_from_init": travel, "relative_difference": diff / travel})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("REPRO_MNIST_DIR"),
                        help="folder with the four MNIST IDX files (uncompressed *-ubyte or .gz)")
    parser.add_argument("--out", default=None, help="results JSON (rewritten after every batch size)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=None,
                        help="modes to run (default: all this machine supports)")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-samples", type=int, default=None,
                        help="train on a seeded subset of this many samples per seed (as the harness's trainSamples)")
    parser.add_argument("--test-samples", type=int, default=None,
                        help="evaluate on the first this many test samples (default: all 10,000; --check: 1,000)")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--preprocessing", choices=["standardize", "unit"], default="standardize")
    parser.add_argument("--compile-mode", default="default",
                        help="torch.compile mode: default, reduce-overhead, max-autotune, max-autotune-no-cudagraphs")
    parser.add_argument("--time-budget-s", type=float, default=None,
                        help="start no further batch size once this many seconds have passed (results so far are kept)")
    parser.add_argument("--cupti", default=os.environ.get("REPRO_CUPTI"),
                        help="libcupti's path (default REPRO_CUPTI): count each run's second step's kernel launches, copies "
                             "and host synchronisations in the CUDA driver, as the harness's bench does ('off': none)")
    parser.add_argument("--check", action="store_true",
                        help="tiny setting (2 seeds, 500 samples, 2 epochs, bs 64): the modes must agree with plain")
    parser.add_argument("--check-rtol", type=float, default=1e-2,
                        help="--check fails when |w_mode - w_plain| exceeds this fraction of |w_plain - w_init| (L2 over "
                             "all parameters) for any (batch size, seed); see tools/peer/README.md for the value")
    args = parser.parse_args()

    t_process = time.perf_counter()
    protocol = dict(CHECK_PROFILE if args.check else FULL_PROFILE)
    for key, value in (("batch_sizes", args.batch_sizes), ("seeds", args.seeds), ("epochs", args.epochs),
                       ("train_samples", args.train_samples), ("test_samples", args.test_samples),
                       ("learning_rate", args.lr)):
        if value is not None:
            protocol[key] = value
    if args.data is None:
        parser.error("--data DIR is required (or REPRO_MNIST_DIR)")

    # TF32 off through the legacy setters only, as tools/gradient_competition_gpu_proxy.py does: since PyTorch 2.9 each
    # of them sets the new fp32_precision flags to match, whereas setting the new API alone makes later reads of the
    # legacy flags (inductor reads them) raise "mix of the legacy and new APIs".
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    try:
        splits, paths = load_mnist(args.data)
    except DataError as e:
        print(f"error: MNIST data: {e}", file=sys.stderr)
        return 2
    data = Data(splits, device, args.preprocessing, protocol["train_samples"], protocol["test_samples"])

    result = {
        "script": "tools/peer/f01_pytorch.py",
        "finding": "F01",
        "profile": "check" if args.check else ("full" if protocol == FULL_PROFILE else "full, overridden"),
        "protocol": dict(protocol, train_rows=data.n, test_rows=data.test_x.shape[0], widths=WIDTHS, activation="relu", output="log_softmax",
                         loss="nll_loss, mean over the batch", init="xavier-uniform weights, zero biases",
                         optimizer="SGD, no momentum, no weight decay", preprocessing=args.preprocessing,
                         pixel_mean=PIXEL_MEAN, pixel_std=PIXEL_STD, shuffle="every epoch, seeded (harness streams)",
                         evaluation=f"every epoch: train and test loss and accuracy in chunks of {EVAL_CHUNK}, "
                                    "weight geometry; one host read per epoch"),
        "environment": {
            "device": str(device),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_threads": torch.get_num_threads(),
            "tf32": {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32},
            "data": {name: {"path": path, "sha256": MNIST_FILES[name], "verified": True} for name, path in paths.items()},
        },
        "modes": {},
    }
    out_path = args.out

    def sink(_entry):
        write_json(out_path, result)

    global COUNTER
    COUNTER, counting = launch_counter(args.cupti, device)
    result["environment"]["launch_counting"] = counting
    log(counting)

    requested = args.modes or MODES
    availability, api = mode_availability(requested, device)
    log(f"{result['environment']['gpu'] or platform.processor() or 'cpu'} ({device}), torch {torch.__version__}, "
        f"CUDA {torch.version.cuda}; protocol: batch sizes {protocol['batch_sizes']}, seeds {protocol['seeds']}, "
        f"{protocol['epochs']} epochs, lr {protocol['learning_rate']}, {data.n} training rows")
    result["modes"] = {mode: {"status": "pending"} for mode in requested}  # keeps the modes in the order they run
    for mode in requested:
        if availability[mode] is not None:
            log(f"{mode}: {availability[mode]}")
            result["modes"][mode] = {"status": "unavailable", "reason": availability[mode]}
        elif mode == "vmap":
            log(f"vmap: {api[3]}")

    t0 = time.perf_counter()
    warm_up(data, protocol["batch_sizes"], protocol["learning_rate"], device)
    result["warm_up_s"] = time.perf_counter() - t0
    mm_seconds = 0.3 if args.check else 1.0
    result["mm_gflops"] = {"before": mm_gflops(device, seconds=mm_seconds)}
    log(f"torch.mm 1024^3 float32 (TF32 off): {result['mm_gflops']['before']:.0f} GFLOP/s")
    write_json(out_path, result)

    deadline = None if args.time_budget_s is None else t_process + args.time_budget_s
    finals = {}
    failed = False
    for mode in requested:
        if availability[mode] is not None:
            continue
        log(f"--- {mode}")
        try:
            entry, finals[mode] = run_mode(mode, protocol, data, device, api, args.compile_mode, deadline,
                                           lambda e, m=mode: (result["modes"].__setitem__(m, e), sink(e)))
        except Exception as e:  # noqa: BLE001 - one mode's failure must not lose the others' results
            import traceback
            traceback.print_exc()
            reason = f"{type(e).__name__}: {e}"
            entry = {k: v for k, v in result["modes"].get(mode, {}).items() if k != "status"}
            entry.update({"status": "error", "reason": ("compile unavailable: " + reason) if mode == "compile" else reason})
            log(f"{mode}: {entry['reason']}")
            failed = True
        result["modes"][mode] = entry
        if entry.get("total_wall_s") is not None:
            log(f"{mode}: total {entry['total_wall_s']:.2f} s")
        write_json(out_path, result)

    result["mm_gflops"]["after"] = mm_gflops(device, seconds=mm_seconds)
    result["mm_gflops"]["bound"] = max(result["mm_gflops"].values())
    for mode, entry in result["modes"].items():
        for row in entry.get("batch_sizes", {}).values():
            row["train_gflops_over_mm"] = row["train_gflops"] / result["mm_gflops"]["bound"]
    log(f"torch.mm after the runs: {result['mm_gflops']['after']:.0f} GFLOP/s")
    log("summary (wall s per batch size over all seeds; ms per step; mean final test accuracy):")
    for mode, entry in result["modes"].items():
        if not entry.get("batch_sizes"):
            log(f"  {mode:8s} {entry.get('reason') or entry.get('status')}")
            continue
        cells = []
        for bs, row in entry["batch_sizes"].items():
            accs = list(row["final_test_accuracy"].values())
            cells.append(f"bs {bs}: {row['wall_s']:.1f} s, {row['ms_per_step']:.3f} ms/step, {sum(accs) / len(accs):.4f}")
        log(f"  {mode:8s} total {entry['total_wall_s']:.1f} s | " + " | ".join(cells))

    status = 2 if failed else 0
    if args.check:
        check = {"relative_tolerance": args.check_rtol, "criterion": "|w_mode - w_plain| / |w_plain - w_init|, L2 over "
                 "all parameters, per (batch size, seed)", "modes": {}}
        disagree = []
        if "plain" not in finals:
            check["verdict"] = "nothing to compare: plain did not run"
            disagree.append("plain")
        else:
            plain_acc = {bs: result["modes"]["plain"]["batch_sizes"][bs]["final_test_accuracy"]
                         for bs in result["modes"]["plain"]["batch_sizes"]}
            for mode in finals:
                if mode == "plain":
                    continue
                rows = compare(finals["plain"], finals[mode])
                acc = result["modes"][mode]["batch_sizes"]
                accuracy_difference = max(abs(acc[bs]["final_test_accuracy"][s] - plain_acc[bs][s])
                                          for bs in acc for s in acc[bs]["final_test_accuracy"])
                worst_abs = max(r["max_abs_difference"] for r in rows)
                worst_rel = max(r["relative_difference"] for r in rows)
                ok = bool(rows) and worst_rel <= args.check_rtol
                check["modes"][mode] = {"max_abs_weight_difference": worst_abs, "max_relative_difference": worst_rel,
                                        "max_test_accuracy_difference": accuracy_difference, "per_run": rows,
                                        "agree": ok}
                log(f"check {mode} vs plain: max |w - w_plain| = {worst_abs:.3e}; |w - w_plain| / |w_plain - w_init| = "
                    f"{worst_rel:.2e} (tolerance {args.check_rtol:g}); largest test accuracy difference "
                    f"{accuracy_difference:.4f}: {'agree' if ok else 'DISAGREE'}")
                if not ok:
                    disagree.append(mode)
            init_norm = math.sqrt(sum(float(w.double().square().sum()) for w in initial_parameters(protocol["seeds"][0])[0]))
            check["initial_weight_norm_seed%d" % protocol["seeds"][0]] = init_norm
            log(f"check: initial weight norm (seed {protocol['seeds'][0]}) {init_norm:.4f} (FINDINGS.md: sqrt(1932) = 43.95)")
            not_checked = {m: e.get("reason") for m, e in result["modes"].items() if m not in finals}
            check["not_checked"] = not_checked
            for m, why in not_checked.items():
                log(f"check: {m} not compared: {why}")
                if result["modes"][m].get("status") == "error":
                    disagree.append(f"{m} (failed)")
            check["verdict"] = "agree" if not disagree else "disagree: " + ", ".join(disagree)
        result["check"] = check
        log(f"check verdict: {check['verdict']}")
        if disagree:
            status = 1
    result["total_s"] = time.perf_counter() - t_process
    write_json(out_path, result)
    log(f"done in {result['total_s']:.1f} s" + (f"; results in {out_path}" if out_path else ""))
    return status


if __name__ == "__main__":
    sys.exit(main())
