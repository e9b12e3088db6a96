#!/usr/bin/env bash
# Prepares, on the machine with the checkout, what tools/gpu/device-run.sh needs on the lent GPU machine (no .NET, no
# network there; the device tool carries at most 64 MiB of ignored paths):
#   .device-carry/pub/     the harness, published self-contained against an external libtorch (PyTorch's own there)
#   .device-carry/data/    the MNIST IDX files, gzip-compressed (verified again by SHA-256 where they are read)
# Then run on the device:  bash tools/gpu/device-run.sh   (carry: .device-carry)
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .device-carry && mkdir -p .device-carry/data/mnist
dotnet publish Reproductions.Harness -c Release -r linux-x64 --self-contained -p:TorchBackend=external -o .device-carry/pub
cache="${REPRO_DATA_CACHE:-$HOME/.cache/reproductions/datasets}"
dotnet run --project Reproductions.Harness -c Release -- data --dataset mnist
for f in "$cache"/mnist/*-ubyte; do gzip -9 -c "$f" > ".device-carry/data/mnist/$(basename "$f").gz"; done
du -sh .device-carry .device-carry/*
size=$(du -sm .device-carry | cut -f1)
if [ "$size" -gt 64 ]; then echo "error: .device-carry holds ${size} MiB, over the device tool's 64 MiB carry limit." >&2; exit 2; fi
