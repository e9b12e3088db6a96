#!/usr/bin/env bash
# Every GPU measurement of issue 18 in one call, in the order that keeps the most if the call is cut off: each step
# writes under $OUT as it finishes (the run store is $OUT/artifacts, written result by result), so whatever finished
# comes back. Prepared by tools/gpu/prepare.sh (carry .device-carry). One device call runs at most 600 s; a session has
# 15 minutes of device time in all, start-up included.
#   1. the bench: time per step at bs 2, 64, 1024 beside torch.mm and a plain TorchSharp loop; then three runs stacked
#      against one at a time, with each step's operations and the floor they set at the measured per-op latency, and
#      whether a stacked model's weights are the same bit for bit in a stack of its own ("size-free": if yes at every
#      batch size, StackWork.SizeFree may take cuda, and CUDA stacks may span findings as the CPU's do), and the
#      hand-formed SGD step timed beside autograd's ("other step", "step's gain": below 1 at a batch size, the
#      hand-formed step is faster there on CUDA, and FusedSgd.Takes may take cuda up to that size);
#   2. the peer: F01's full protocol written the usual PyTorch way (plain), with torch.func (vmap) and CUDA graphs,
#      checked against each other first (tools/peer/f01_pytorch.py);
#   3. the full profile, finding by finding (F01 first: the peer's ratio), each with its wall time; then the report.
# Usage: bash tools/gpu/device-run.sh [bench|full|shards|all] [seconds for the whole call, default 570] [shards, default 4]
#   bench: the bench and the peer (about 5-8 minutes: one call); full: the full profile (the rest of the session's
#   device time: a second call, with a store that comes back in $OUT/artifacts; carry it back in to go on); all: both.
#   shards: instead of full, the full profile as n shards run at once on the one GPU (reproduce --shard k/n, each its
#   own process and store under $OUT/shards/k), merged into $OUT/artifacts, then the report: a step is bound by the host's
#   per-operation overhead, so n processes may share the GPU at little cost each (the estimate says what one would take;
#   each shard's table says what it took). F02's bs-2 stack (900,000 steps) holds one shard to the end whatever n is.
# Not yet run on a GPU (no GPU was lent to the task that wrote it). Dry-run on a CPU machine with REPRO_HARNESS set and a
# 150 s budget: F01 was cut off at 79 s with two stacked epochs checkpointed under $OUT, the rest skipped, the report written.
set -uo pipefail
part="${1:-all}"
budget="${2:-570}"
shards="${3:-4}"
case "$part" in bench|full|shards|all) ;; *) echo "error: the part is bench, full, shards or all, not '$part'." >&2; exit 2;; esac
case "$shards" in ''|*[!0-9]*|0) echo "error: the number of shards is a whole number of at least 1, not '$shards'." >&2; exit 2;; esac
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
out="${OUT:?the device tool sets OUT}"
# REPRO_HARNESS: another way to start the harness (a dry run on a CPU machine: "dotnet path/to/Reproductions.Harness.dll").
read -r -a harness <<< "${REPRO_HARNESS:-.device-carry/pub/Reproductions.Harness}"
data=".device-carry/data"
torchlib=$(python3 2>/dev/null -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib
export LD_LIBRARY_PATH="$torchlib:$PWD/.device-carry/pub:${LD_LIBRARY_PATH:-}"
export REPRO_MNIST_DIR="$PWD/$data/mnist" REPRO_ARTIFACTS="$out/artifacts" DOTNET_NOLOGO=1
# CUPTI, which PyTorch's CUDA wheels ship under nvidia/*/lib (or torch/lib): the bench and the peer count each step's kernel
# launches and host synchronisations in the CUDA driver with it (Benchmarks/CudaApiCounter.cs, the peer's --count-launches).
cupti=$(python3 2>/dev/null - <<'PY'
import glob, os, site, sys
roots = [d for d in dict.fromkeys(site.getsitepackages() + sys.path) if d and os.path.isdir(d)]
found = sorted({p for d in roots for pattern in ("nvidia/**/libcupti.so*", "torch/lib/libcupti*.so*") for p in glob.glob(os.path.join(d, pattern), recursive=True)})
print(found[0] if found else "")
PY
)
[ -n "$cupti" ] && export REPRO_CUPTI="$cupti"
log="$out/device-run.log"
step() { echo "== $(date -u +%H:%M:%S) (+$(( $(date +%s) - start )) s, $(left) s left): $*" | tee -a "$log"; }
# within SECONDS FILE CMD...: runs CMD for at most SECONDS (skipped under 10), its output and exit code into FILE.
within() {
  local seconds=$1 file=$2; shift 2
  if [ "$seconds" -lt 10 ]; then echo "skipped: ${seconds} s left for it" > "$file"; echo "skipped $file" >> "$out/not-run.txt"; return; fi
  timeout "$seconds" "$@" > "$file" 2>&1
  echo "exit $? (124: cut off at ${seconds} s)" >> "$file"
}
# Results of an earlier call (its $OUT/artifacts, carried back in as .device-carry/artifacts) are read, not trained again.
mkdir -p "$out/artifacts"; [ -d .device-carry/artifacts ] && cp -r .device-carry/artifacts/. "$out/artifacts/"
{ nvidia-smi; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; echo "REPRO_CUPTI=${cupti:-(libcupti not found: launches are not counted)}"; } > "$out/machine.txt" 2>&1

cap() { local a=$1 b=$2; echo $(( a < b ? a : b )); }
if [ "$part" = bench ] || [ "$part" = all ]; then
  # 16,384 samples: at the H100's 1.07 ms per step, bs 2 is about 9 s per epoch, so the warm-up and 3 repeats of both
  # loops fit in about 70 s (whole epochs of 60,000 samples would take over 3 minutes at bs 2 alone).
  step "bench (bs 2 64 1024, 16384 samples, 3 repeats)"
  within "$(cap 150 $(( $(left) - 30 )))" "$out/bench.txt" "${harness[@]}" bench --batch-sizes 2 64 1024 --samples 16384 --repeats 3
  step "bench --stacked 3 (bs 2 64 1024, 16384 samples)"
  within "$(cap 150 $(( $(left) - 30 )))" "$out/bench-stacked.txt" "${harness[@]}" bench --stacked 3 --samples 16384 --batch-sizes 2 64 1024
  # The launch counter's first run on a GPU: should CUPTI take the process down (an exit other than 0 or a cut-off), the same
  # bench again without it, so its times still come back.
  code=$(tail -n 1 "$out/bench-stacked.txt" | awk '{print $2}')
  if [ -n "${REPRO_CUPTI:-}" ] && [ "$code" != 0 ] && [ "$code" != 124 ]; then
    step "bench --stacked 3 again without CUPTI (exit $code with it)"
    REPRO_CUPTI=off within "$(cap 150 $(( $(left) - 30 )))" "$out/bench-stacked-no-cupti.txt" "${harness[@]}" bench --stacked 3 --samples 16384 --batch-sizes 2 64 1024
  fi
  step "peer check (plain, vmap, graphs agree)"
  within "$(cap 120 $(( $(left) - 30 )))" "$out/peer-check.txt" python3 tools/peer/f01_pytorch.py --data "$data/mnist" --check --out "$out/peer-check.json"
  step "peer: F01 full protocol (plain, vmap, graphs)"
  [ "$part" = bench ] && share=1 || share=2
  within "$(( $(left) / share - 10 ))" "$out/peer.txt" python3 tools/peer/f01_pytorch.py --data "$data/mnist" --modes plain vmap graphs --out "$out/peer.json" --time-budget-s $(( $(left) / share - 40 ))
  [ "$part" = bench ] && { step "done (bench part)"; exit 0; }
fi

# The full profile's estimated time on this GPU (each step shape timed; nothing trained): what to expect of what follows,
# and the time each finding that does not fit would need.
step "reproduce --profile full --estimate"
within "$(cap 120 $(( $(left) - 80 )))" "$out/estimate.txt" "${harness[@]}" reproduce --profile full --estimate
if [ "$part" = shards ]; then
  step "the full profile as $shards shards at once on this GPU"
  pids=()
  for k in $(seq 1 "$shards"); do
    mkdir -p "$out/shards/$k"
    REPRO_ARTIFACTS="$out/shards/$k" timeout "$(( $(left) - 70 ))" "${harness[@]}" reproduce --profile full --shard "$k/$shards" > "$out/shard-$k.txt" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}"; code=$?
    echo "exit $code (124: cut off)" >> "$out/shard-$(( i + 1 )).txt"
    step "shard $(( i + 1 ))/$shards ended: exit $code"
  done
  step "merge the shards' stores into $out/artifacts"
  within 30 "$out/merge.txt" "${harness[@]}" merge $(for k in $(seq 1 "$shards"); do [ -d "$out/shards/$k/runs" ] && echo "$out/shards/$k/runs"; done) --into "$out/artifacts/runs"
  step "report from what is stored"
  within 60 "$out/report.txt" "${harness[@]}" report --profile full
  step "done"
  exit 0
fi
for finding in F01 F03 F04 F09 F11 F12 F13 F14 F10 F02 F17 F18 F15 F16 F05 F06 F07 F08 F19 F20 F21; do
  [ "$(left)" -lt 80 ] && { step "stopped before $finding: time is up"; echo "not run: $finding" >> "$out/not-run.txt"; continue; }
  step "reproduce --profile full --findings $finding"
  within $(( $(left) - 70 )) "$out/reproduce-$finding.txt" "${harness[@]}" reproduce --profile full --findings "$finding"
done
step "report from what is stored"
within 60 "$out/report.txt" "${harness[@]}" report --profile full
step "done"
