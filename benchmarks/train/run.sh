#!/usr/bin/env bash
# benchmarks/train/run.sh: whole-model training in Graft (train_bench) and PyTorch
# (torch_train.py), the same models, batches, optimizers and thread counts, one
# process per case; prints a markdown table with Graft/PyTorch ratios of time
# and peak RSS, and the targets:
#   mlp  (784-512-256-10, batch 128, one Fashion-MNIST epoch)   time <= 0.7x PyTorch
#   cnn  (small_cnn, batch 128, one epoch)                       time <= 0.7x PyTorch
#   resnet18 (ImageNet stem, 3x32x32, batch 64, median step)     time <= 1.0x PyTorch
#   resnet18_cifar (CIFAR stem, 16x the work; not in the default CASES)
#   every case: peak RSS <= PyTorch's
# PyTorch runs twice per cell, with the default OpenMP wait policy and with
# OMP_WAIT_POLICY=PASSIVE; both are shown and the ratio uses the better one.
#
#   benchmarks/train/run.sh                              # the full measurement
#   LIMIT=2560 STEPS=2 WARMUP=1 benchmarks/train/run.sh  # a quick smoke run
#
# Environment: BUILD_DIR (default build), JOBS (2), THREADS ("1 2"), CASES
# ("mlp cnn resnet18"), LIMIT (training images per epoch case, 0 = all 60,000),
# STEPS (20) and WARMUP (3) for resnet18, ROUNDS (1; more: each cell keeps its best
# round), TORCH_PYTHON (default
# /work/torch2-venv/bin/python when present, else /usr/bin/python3 with Debian's
# torch 1.13).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-build}
[[ $build = /* ]] || build="$root/$build"
jobs=${JOBS:-2}
threads_list=${THREADS:-1 2}
cases=${CASES:-mlp cnn resnet18}
limit=${LIMIT:-0}
steps=${STEPS:-20}
warmup=${WARMUP:-3}
rounds=${ROUNDS:-1}
py=${TORCH_PYTHON:-}
if [[ -z $py ]]; then
    if [[ -x /work/torch2-venv/bin/python ]]; then py=/work/torch2-venv/bin/python; else py=/usr/bin/python3; fi
fi

# ---- build ---------------------------------------------------------------------
[[ -f $build/CMakeCache.txt ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target train_bench >&2
bench="$build/benchmarks/train/train_bench"

# ---- run: each line of $results is "impl policy case threads seconds rss_kib loss" ---
results=$(mktemp)
trap 'rm -f "$results"' EXIT
run() {  # impl policy case threads command...
    local impl=$1 policy=$2 name=$3 threads=$4
    shift 4
    echo "running $impl ($policy) $name at $threads thread(s)" >&2
    "$@" | awk -v p="$impl $policy" -v t="$threads" '!/^#/ && NF == 4 { print p, $1, t, $2, $3, $4 }' >>"$results"
}
common=(--limit "$limit" --steps "$steps" --warmup "$warmup")
# ROUNDS > 1 repeats the whole interleaved sequence and each cell keeps its best
# round: on a shared machine single runs of the same binary differ by 30%.
for ((round = 1; round <= rounds; ++round)); do
    for name in $cases; do
        for t in $threads_list; do
            run graft default "$name" "$t" "$bench" --case "$name" --threads "$t" "${common[@]}"
            run torch default "$name" "$t" env -u OMP_WAIT_POLICY "$py" "$here/torch_train.py" --case "$name" --threads "$t" "${common[@]}"
            run torch passive "$name" "$t" env OMP_WAIT_POLICY=PASSIVE "$py" "$here/torch_train.py" --case "$name" --threads "$t" "${common[@]}"
        done
    done
done

# ---- report ------------------------------------------------------------------------
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
echo
echo "### Training: Graft vs PyTorch $torch_version"
echo
echo "Command: \`${ROUNDS:+ROUNDS=$ROUNDS }${CASES:+CASES=\"$CASES\" }${LIMIT:+LIMIT=$LIMIT }${STEPS:+STEPS=$STEPS }${WARMUP:+WARMUP=$WARMUP }${THREADS:+THREADS=\"$THREADS\" }benchmarks/train/run.sh\`," \
     "$(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) CPUs."
echo "Time: epoch seconds (mlp, cnn$([[ $limit != 0 ]] && echo ", first $limit images")) or median step seconds (resnet18*, $steps steps after $warmup)."
echo "Each cell is the best of $rounds round(s). PyTorch time is the better of the default OpenMP wait policy and PASSIVE; its RSS is that run's."
echo
awk -v targets="mlp=0.7 cnn=0.7 resnet18=1.0 resnet18_cifar=1.0" '
BEGIN {
    n = split(targets, tt, " ")
    for (i = 1; i <= n; ++i) { split(tt[i], kv, "="); target[kv[1]] = kv[2] }
    print "| case | threads | Graft s | PyTorch s (default) | PyTorch s (PASSIVE) | Graft/PyTorch time | target | Graft RSS MiB | PyTorch RSS MiB | Graft/PyTorch RSS |"
    print "|---|---|---|---|---|---|---|---|---|---|"
}
{
    key = $3 " " $4
    if (!(key in seen)) { seen[key] = 1; order[++count] = key }
    cell = $1 " " $2 " " key
    if (!(cell in t) || $5 + 0 < t[cell] + 0) { t[cell] = $5; r[cell] = $6 }
}
END {
    for (i = 1; i <= count; ++i) {
        key = order[i]; split(key, k, " ")
        g = t["graft default " key]; gr = r["graft default " key]
        d = t["torch default " key]; p = t["torch passive " key]
        if (d == "" && p == "") { best = ""; br = "" }
        else if (p == "" || (d != "" && d <= p)) { best = d; br = r["torch default " key] }
        else { best = p; br = r["torch passive " key] }
        ratio = (g != "" && best > 0) ? sprintf("%.2f", g / best) : "n/a"
        rss_ratio = (gr != "" && br > 0) ? sprintf("%.2f", gr / br) : "n/a"
        met = (ratio != "n/a" && ratio + 0 <= target[k[1]]) ? "met" : "missed"
        rss_met = (rss_ratio != "n/a" && rss_ratio + 0 <= 1.0) ? "" : " (missed)"
        printf "| %s | %s | %s | %s | %s | %s | <= %s: %s | %s | %s | %s%s |\n", k[1], k[2],
               g == "" ? "n/a" : sprintf("%.3f", g), d == "" ? "n/a" : sprintf("%.3f", d),
               p == "" ? "n/a" : sprintf("%.3f", p), ratio, target[k[1]], met,
               gr == "" ? "n/a" : sprintf("%.0f", gr / 1024), br == "" ? "n/a" : sprintf("%.0f", br / 1024),
               rss_ratio, rss_met
    }
}' "$results"
