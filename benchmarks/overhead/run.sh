#!/usr/bin/env bash
# benchmarks/overhead/run.sh: builds overhead_graft and overhead_libtorch, runs
# them and overhead_pytorch.py at 1 and 2 threads, and prints a markdown section
# (table, ratios, goals, the command, date, machine and torch version).
#
#   benchmarks/overhead/run.sh                 # print the section
#   benchmarks/overhead/run.sh --write-doc     # also put it into docs/performance.md
#
# Environment: BUILD_DIR (default build), JOBS (default 2), TORCH_PYTHON (default
# /usr/bin/python3, where Debian's python3-torch lives), THREADS (default "1 2").
# LibTorch and PyTorch run twice per thread count, with the default OpenMP wait
# policy and with OMP_WAIT_POLICY=PASSIVE; each cell keeps the better of the two
# (marked P when PASSIVE won), so the references are shown at their best.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-build}
[[ $build = /* ]] || build="$root/$build"
jobs=${JOBS:-2}
py=${TORCH_PYTHON:-/usr/bin/python3}
threads_list=${THREADS:-1 2}
write_doc=0
[[ ${1:-} == --write-doc ]] && write_doc=1
command_line="benchmarks/overhead/run.sh${*:+ $*}"
[[ -n ${BUILD_DIR:-} ]] && command_line="BUILD_DIR=$BUILD_DIR $command_line"

# ---- build ---------------------------------------------------------------------
configure=(-DGRAFT_BENCH_LIBTORCH=ON -DGRAFT_BUILD_BENCHMARKS=ON)
[[ -f $build/CMakeCache.txt ]] || configure+=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
cmake -S "$root" -B "$build" "${configure[@]}" >/dev/null
cmake --build "$build" -j "$jobs" --target overhead_graft >&2
have_libtorch=0
if cmake --build "$build" -j "$jobs" --target overhead_libtorch >&2; then
    have_libtorch=1
else
    echo "overhead_libtorch did not build (is libtorch-dev installed?): its column will read n/a" >&2
fi
bin="$build/benchmarks/overhead"

# ---- run: each line of $results is "impl policy threads metric median best" --------
results=$(mktemp)
trap 'rm -f "$results"' EXIT
run() {  # impl policy threads command...
    local impl=$1 policy=$2 threads=$3
    shift 3
    echo "running $impl ($policy) at $threads thread(s)" >&2
    "$@" | awk -v p="$impl $policy $threads" '!/^#/ { print p, $1, $2, $3 }' >>"$results"
}
for t in $threads_list; do
    run graft default "$t" "$bin/overhead_graft" --threads "$t"
    if ((have_libtorch)); then
        run libtorch default "$t" env -u OMP_WAIT_POLICY "$bin/overhead_libtorch" --threads "$t"
        run libtorch passive "$t" env OMP_WAIT_POLICY=PASSIVE "$bin/overhead_libtorch" --threads "$t"
    fi
    run pytorch default "$t" env -u OMP_WAIT_POLICY "$py" "$here/overhead_pytorch.py" --threads "$t"
    run pytorch passive "$t" env OMP_WAIT_POLICY=PASSIVE "$py" "$here/overhead_pytorch.py" --threads "$t"
done

# ---- report ------------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo "unknown (not a git checkout)")
section=$("$py" "$here/report.py" "$results" \
    --command "$command_line" --commit "$commit" --date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    --machine "nproc $(nproc), $cpu, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
    --torch "$torch_version")
echo "$section"
if ((write_doc)); then
    "$py" "$here/report.py" --replace-section "$root/docs/performance.md" <<<"$section"
    echo "wrote the section into docs/performance.md" >&2
fi
