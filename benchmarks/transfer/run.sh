#!/usr/bin/env bash
# benchmarks/transfer/run.sh: the cost of a frozen trunk. Runs frozen_cost in its
# three modes (full, frozen, forward), one process each, interleaved ROUNDS
# times (each cell keeps its best round: on a shared machine single runs differ
# by tens of percent), and prints a markdown table with ratios to the fully
# trainable step.
#
#   benchmarks/transfer/run.sh                                # batch 32, 128x128
#   SIZE=224 STEPS=5 benchmarks/transfer/run.sh               # the ImageNet size
#   STEPS=2 WARMUP=1 ROUNDS=1 SIZE=64 benchmarks/transfer/run.sh   # a smoke run
#   IMPL=torch benchmarks/transfer/run.sh                     # the same in PyTorch
#
# Environment: IMPL (graft, or torch: torch_frozen_cost.py with TORCH_PYTHON,
# default /work/torch2-venv/bin/python, which has torchvision), BUILD_DIR (default
# build), JOBS (2), THREADS (2), BATCH (32), SIZE (128), STEPS (10), WARMUP (2),
# ROUNDS (3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-build}
[[ $build = /* ]] || build="$root/$build"
jobs=${JOBS:-2}
threads=${THREADS:-2}
batch=${BATCH:-32}
size=${SIZE:-128}
steps=${STEPS:-10}
warmup=${WARMUP:-2}
rounds=${ROUNDS:-3}
impl=${IMPL:-graft}

if [[ $impl == torch ]]; then
    bench_cmd=("${TORCH_PYTHON:-/work/torch2-venv/bin/python}" "$here/torch_frozen_cost.py")
else
    [[ -f $build/CMakeCache.txt ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$jobs" --target frozen_cost >&2
    bench_cmd=("$build/benchmarks/transfer/frozen_cost")
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((round = 1; round <= rounds; ++round)); do
    for mode in full frozen forward; do
        echo "round $round: $mode" >&2
        "${bench_cmd[@]}" --mode "$mode" --batch "$batch" --size "$size" --steps "$steps" --warmup "$warmup" \
            --threads "$threads" | awk '!/^#/ && NF == 6' >>"$results"
    done
done

# Best round per mode (lowest median time; peak RSS from the same process).
awk -v impl="$impl" -v batch="$batch" -v size="$size" -v threads="$threads" -v steps="$steps" -v rounds="$rounds" '
    { if (!($1 in t) || $2 < t[$1]) { t[$1] = $2; lo[$1] = $3; rss[$1] = $4; built[$1] = $5; p[$1] = $6 } }
    END {
        printf "%s: ResNet-18, 10 classes, batch %d of 3x%dx%d, %d thread(s), median of %d steps, best of %d rounds\n\n", impl, batch, size, size, threads, steps, rounds
        print "| mode | trainable params | step (s) | min (s) | vs full | peak RSS (MiB) | vs full | RSS above the built model (MiB) | vs full |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        n = split("full frozen forward", modes, " ")
        for (i = 1; i <= n; ++i) {
            m = modes[i]
            if (!(m in t)) continue
            extra = rss[m] - built[m]; full_extra = rss["full"] - built["full"]
            printf "| %s | %d | %.3f | %.3f | %.2fx | %.0f | %.2fx | %.0f | %.2fx |\n", m, p[m], t[m], lo[m], t[m] / t["full"], rss[m] / 1024, rss[m] / rss["full"], extra / 1024, extra / full_extra
        }
    }' "$results"
