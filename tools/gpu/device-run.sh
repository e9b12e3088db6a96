#!/usr/bin/env bash
# Every GPU measurement of issue 18 in one call, in the order that keeps the most if the call is cut off: each step
# writes under $OUT as it finishes (the run store is $OUT/artifacts, written result by result), so whatever finished
# comes back. Prepared by tools/gpu/prepare.sh (carry .device-carry). One device call runs at most 600 s; a session has
# 15 minutes of device time in all, start-up included.
#   1. the bench: time per step at bs 2, 64, 1024 beside torch.mm and a plain TorchSharp loop; then three runs stacked
#      against one at a time, with each step's operations and the floor they set at the measured per-op latency;
#   2. the peer: F01's full protocol written the usual PyTorch way (plain), with torch.func (vmap) and CUDA graphs,
#      checked against each other first (tools/peer/f01_pytorch.py);
#   3. the full profile, finding by finding (F01 first: the peer's ratio), each with its wall time; then the report.
# Usage: bash tools/gpu/device-run.sh [seconds for the whole call, default 570]
# Untested so far: no GPU was lent to the task that wrote it (checked with bash -n only).
set -uo pipefail
budget="${1:-570}"
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
out="${OUT:?the device tool sets OUT}"
harness="${REPRO_HARNESS:-.device-carry/pub/Reproductions.Harness}"
data=".device-carry/data"
torchlib=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib
export LD_LIBRARY_PATH="$torchlib:$PWD/.device-carry/pub:${LD_LIBRARY_PATH:-}"
export REPRO_MNIST_DIR="$PWD/$data/mnist" REPRO_ARTIFACTS="$out/artifacts" DOTNET_NOLOGO=1
log="$out/device-run.log"
step() { echo "== $(date -u +%H:%M:%S) (+$(( $(date +%s) - start )) s, $(left) s left): $*" | tee -a "$log"; }
{ nvidia-smi; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } > "$out/machine.txt" 2>&1

step "bench (bs 2 64 1024)"
timeout $(( $(left) - 30 )) "$harness" bench --batch-sizes 2 64 1024 > "$out/bench.txt" 2>&1; echo "exit $?" >> "$out/bench.txt"
step "bench --stacked 3 (bs 2 64 1024, 16384 samples)"
timeout $(( $(left) - 30 )) "$harness" bench --stacked 3 --samples 16384 --batch-sizes 2 64 1024 > "$out/bench-stacked.txt" 2>&1; echo "exit $?" >> "$out/bench-stacked.txt"

step "peer check (plain, vmap, graphs agree)"
timeout 120 python3 tools/peer/f01_pytorch.py --data "$data/mnist" --check --out "$out/peer-check.json" > "$out/peer-check.txt" 2>&1; echo "exit $?" >> "$out/peer-check.txt"
step "peer: F01 full protocol (plain, vmap, graphs)"
timeout $(( $(left) / 2 )) python3 tools/peer/f01_pytorch.py --data "$data/mnist" --modes plain vmap graphs --out "$out/peer.json" --time-budget-s $(( $(left) / 2 - 20 )) > "$out/peer.txt" 2>&1; echo "exit $?" >> "$out/peer.txt"

for finding in F01 F03 F04 F09 F11 F12 F13 F14 F10 F02 F17 F18 F15 F16 F05 F06 F07 F08 F19 F20 F21; do
  [ "$(left)" -lt 40 ] && { step "stopped before $finding: time is up"; echo "not run: $finding" >> "$out/not-run.txt"; continue; }
  step "reproduce --profile full --findings $finding"
  timeout $(( $(left) - 20 )) "$harness" reproduce --profile full --findings "$finding" > "$out/reproduce-$finding.txt" 2>&1
  echo "exit $?" >> "$out/reproduce-$finding.txt"
done
step "report from what is stored"
timeout 60 "$harness" report --profile full > "$out/report.txt" 2>&1; echo "exit $?" >> "$out/report.txt"
cp -r "$out/artifacts/report" "$out/report" 2>/dev/null
step "done"
