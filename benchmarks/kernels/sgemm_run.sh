#!/usr/bin/env bash
# benchmarks/kernels/sgemm_run.sh: SGEMM in Graft, OpenBLAS, BLIS, oneDNN and Eigen,
# on 1 and 2 threads, with the measured FMA peak; prints the markdown for the
# "SGEMM (benchmarks/kernels)" section of docs/performance.md and saves
# docs/img/sgemm.png. The reference libraries are optional Debian packages, loaded
# at run time (see benchmarks/kernels/README.md); missing ones are skipped.
#
#   benchmarks/kernels/sgemm_run.sh
#
# Environment: BUILD_DIR (default build), JOBS (2), REPS (9), THREADS ("1 2"),
# LIBS ("graft openblas blis onednn eigen"), SHAPES (all: square 64..4096 and the
# DL shapes; or MxKxN,...), MAX_LOAD (2) and WAIT (300): wait up to WAIT seconds
# for the 1-minute load average to drop below MAX_LOAD before measuring, since
# others' builds share the cores. PLOT (docs/img/sgemm.png; empty: no plot).
# PYTHON (default /usr/bin/python3, which has Debian's python3-matplotlib).
# CPU_TABLE (1): also time every library on one thread by that thread's CPU clock
# (sgemm_bench --clock cpu), a table that does not depend on the machine's load.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-build}
[[ $build = /* ]] || build="$root/$build"
jobs=${JOBS:-2}
reps=${REPS:-9}
threads_list=${THREADS:-"1 2"}
libs=${LIBS:-"graft openblas blis onednn eigen"}
shapes=${SHAPES:-all}
max_load=${MAX_LOAD:-2}
wait_s=${WAIT:-300}
plot=${PLOT-docs/img/sgemm.png}
py=${PYTHON:-/usr/bin/python3}

[[ -f $build/CMakeCache.txt ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target sgemm_bench peak_fma_bench >&2

load1() { cut -d' ' -f1 /proc/loadavg; }
waited=0
while awk -v l="$(load1)" -v m="$max_load" 'BEGIN { exit !(l >= m) }' && ((waited < wait_s)); do
    echo "load average $(load1) >= $max_load, waiting ($waited s of $wait_s)" >&2
    sleep 15
    waited=$((waited + 15))
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

tmp=$(mktemp -d)
cpu_args=()
trap 'rm -rf "$tmp"' EXIT
echo "peak_fma_bench" >&2
"$build/benchmarks/kernels/peak_fma_bench" --threads "$(echo $threads_list | tr ' ' ,)" >"$tmp/peak"
# One process per library and shape, libraries interleaved shape by shape, so that
# a burst of load from other processes falls on every library alike.
mapfile -t shape_list < <("$build/benchmarks/kernels/sgemm_bench" --list --shapes "$shapes" | tr ' ' :)
bench() {  # threads, clock, output file
    for shape in "${shape_list[@]}"; do
        for lib in $libs; do
            echo "sgemm_bench --lib $lib --threads $1 --clock $2 --shapes $shape" >&2
            # Each library's own thread knobs too, in case it reads them at load time.
            OPENBLAS_NUM_THREADS=$1 BLIS_NUM_THREADS=$1 OMP_NUM_THREADS=$1 GRAFT_NUM_THREADS=$1 \
                "$build/benchmarks/kernels/sgemm_bench" --lib "$lib" --threads "$1" --reps "$reps" --shapes "$shape" \
                --clock "$2" >>"$3"
        done
    done
}
for t in $threads_list; do bench "$t" wall "$tmp/results"; done
if [[ ${CPU_TABLE:-1} == 1 ]]; then
    "$build/benchmarks/kernels/peak_fma_bench" --threads 1 --clock cpu >"$tmp/peak_cpu"
    bench 1 cpu "$tmp/results_cpu"
    cpu_args=(--peak-cpu "$tmp/peak_cpu" --results-cpu "$tmp/results_cpu")
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

[[ $plot = /* || -z $plot ]] || plot="$root/$plot"
[[ -z $plot ]] || mkdir -p "$(dirname "$plot")"
"$py" "$here/sgemm_report.py" --peak "$tmp/peak" --results "$tmp/results" ${plot:+--plot "$plot"} "${cpu_args[@]}" \
    --command "benchmarks/kernels/sgemm_run.sh  (REPS=$reps THREADS=\"$threads_list\" SHAPES=$shapes)" \
    --load-before "$load_before" --load-after "$load_after" --date "$(date -u +%Y-%m-%d)" \
    --machine "nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), L2 $(lscpu | awk -F: '/L2 cache/ {gsub(/^ +/, "", $2); print $2}'), L3 $(lscpu | awk -F: '/L3 cache/ {gsub(/^ +/, "", $2); print $2}')"
