#!/usr/bin/env bash
# Runs the full profile of every finding as a Slurm job array of N shards, then one job that merges the shards' run
# stores and builds the report: the same split as the nightly GitHub workflow (reproduce --shard k/n, then merge).
#
#   tools/slurm/submit.sh [N] [extra sbatch options...]     e.g. tools/slurm/submit.sh 8 --partition=gpu --account=ml
#
# Run it from the checkout on a login node with the .NET 10 SDK. It builds once (Release, CUDA backend) before
# submitting, so the array's tasks never build over each other. Settings (environment, all optional): REPRO_PROFILE
# (full), REPRO_DATASETS (all), REPRO_FINDINGS (every finding; e.g. "F01 F02"), REPRO_TORCH_BACKEND (cuda),
# REPRO_SHARDS_ROOT (artifacts/shards), REPRO_TEST_FILTER (Category=Gpu: the tests the merge job runs against the merged
# store). Every shard gets the same ones, as sharding requires. Each shard writes its own store under
# $REPRO_SHARDS_ROOT/shard-<k> (default: artifacts/shards); the merge job copies them into artifacts/runs/.
# Dry run without Slurm (what was checked on a CPU machine: 2 shards of F01's quick profile, merged, its tests and report):
#   mkdir -p /tmp/standin && ln -sf "$PWD/tools/slurm/sbatch-standin" /tmp/standin/sbatch
#   PATH=/tmp/standin:$PATH REPRO_PROFILE=quick REPRO_DATASETS=mnist REPRO_FINDINGS=F01 REPRO_TORCH_BACKEND=cpu \
#     REPRO_RUN_DEVICE=cpu REPRO_TEST_FILTER="Finding=F01&Category=Quick" tools/slurm/submit.sh 2
set -euo pipefail
cd "$(dirname "$0")/../.."
shards="${1:-4}"
shift || true
if ! [[ "$shards" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: the number of shards must be a whole number of at least 1, not '$shards'." >&2
  exit 2
fi
export REPRO_SHARDS_ROOT="${REPRO_SHARDS_ROOT:-$PWD/artifacts/shards}"
export REPRO_PROFILE="${REPRO_PROFILE:-full}"
export REPRO_DATASETS="${REPRO_DATASETS:-all}"
mkdir -p "$REPRO_SHARDS_ROOT" artifacts/slurm
dotnet build Reproductions.sln -c Release -p:TorchBackend="${REPRO_TORCH_BACKEND:-cuda}"
array=$(sbatch --parsable --array="1-$shards" --export=ALL "$@" tools/slurm/shard.sbatch)
merge=$(sbatch --parsable --dependency="afterany:$array" --export=ALL "$@" tools/slurm/merge.sbatch)
echo "submitted: shards $array (1-$shards), merge and report $merge (after all shards end)"
