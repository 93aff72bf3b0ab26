#!/usr/bin/env bash
# benchmarks/kernels/run.sh: the kernel benchmarks beside PyTorch, one section per
# kernel family, each printing a markdown table for docs/performance.md.
#
#   benchmarks/kernels/run.sh conv        # Convolution (benchmarks/kernels)
#
# Environment: BUILD_DIR (default build), JOBS (default 2), THREADS (default 2),
# REPS (default 7), METRIC (wall: wall-clock, the default; cpu: the process's CPU
# time, steadier on a loaded machine at THREADS=1), STAT (median, the default, or
# best: the minimum over the runs, which shrugs off other processes' bursts),
# ROUNDS (default 1: Graft then each reference; more rounds repeat the whole
# sequence and each cell keeps its best round), TORCH_PYTHONS (default
# /usr/bin/python3, Debian's torch; a space-separated list of interpreters gives
# one reference column each, e.g. a venv with PyPI torch first). Each PyTorch runs
# twice, with the default OpenMP wait policy and with OMP_WAIT_POLICY=PASSIVE;
# each cell keeps the better (marked P when PASSIVE won). Both sides get
# OMP_NUM_THREADS = MKL_NUM_THREADS = THREADS. Where libdnnl-dev is installed, a last
# column is oneDNN's convolution primitives called directly (conv_onednn_bench.cpp:
# its own blocked layouts, reorders not timed: oneDNN at its best).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-build}
[[ $build = /* ]] || build="$root/$build"
jobs=${JOBS:-2}
threads=${THREADS:-2}
reps=${REPS:-7}
pythons=${TORCH_PYTHONS:-/usr/bin/python3}
metric=${METRIC:-wall}
stat=${STAT:-median}
rounds=${ROUNDS:-1}
only=(${ONLY:+--only $ONLY})  # ONLY=resnet or ONLY=dw: a subset, for trying the script
section=${1:-conv}

build_target() {
    [[ -f $build/CMakeCache.txt ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$jobs" --target "$1" >&2
}

# ---- Convolution -----------------------------------------------------------------
# Prints, per pass (fwd, fwdbwd), a table: Graft's median, then each reference's
# better median of its two wait policies and Graft's ratio to it.
conv_table() {  # pass files...
    local pass=$1 col=3
    shift
    [[ $metric == cpu ]] && col=5
    [[ $stat == best ]] && col=$((col + 1))
    awk -v pass="$pass" -v col="$col" '
        FNR == 1 { file++ }
        /^#/ { if (file > 1 && file % 2 == 0) { sub(/^# /, ""); split($0, v, ","); ref[file / 2] = v[1] } next }
        $2 != pass { next }
        file == 1 { if (!($1 in g)) order[++n] = $1
                    if (!($1 in g) || $col + 0 < g[$1] + 0) g[$1] = $col
                    next }
        { r = int(file / 2); key = r " " $1; pol = file % 2 ? "P" : ""
          if (!(key in t) || $col + 0 < t[key] + 0) { t[key] = $col; mark[key] = pol } }
        END {
            refs = int((file - 1) / 2)
            head = "| shape (batch 32, 3x3, pad 1) | Graft"; rule = "|---|---:"
            for (r = 1; r <= refs; ++r) { head = head " | " ref[r] " | ratio"; rule = rule "|---:|---:" }
            print head " |"; print rule "|"
            for (i = 1; i <= n; ++i) {
                line = "| " order[i] sprintf(" | %.1f", g[order[i]])
                for (r = 1; r <= refs; ++r) {
                    key = r " " order[i]
                    line = line sprintf(" | %.1f%s | %.2f", t[key], mark[key] ? " " mark[key] : "", g[order[i]] / t[key])
                }
                print line " |"
            }
        }' "$@"
}

conv_section() {
    build_target conv_bench
    # oneDNN's own primitives: a column when Debian's libdnnl-dev is installed (built by CMake only then).
    cmake --build "$build" -j "$jobs" --target conv_onednn_bench >&2 2>/dev/null || true
    local tmp load files=() i=0 py
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
    local round
    for ((round = 1; round <= rounds; ++round)); do
        i=0
        echo "round $round: running graft" >&2
        "$build/benchmarks/kernels/conv_bench" --threads "$threads" --reps "$reps" "${only[@]}" >>"$tmp/graft"
        if [[ -x $build/benchmarks/kernels/conv_onednn_bench ]]; then
            echo "round $round: running oneDNN directly" >&2
            "$build/benchmarks/kernels/conv_onednn_bench" --threads "$threads" --reps "$reps" "${only[@]}" >>"$tmp/onednn"
        fi
        for py in $pythons; do
            i=$((i + 1))
            echo "round $round: running $py (default wait policy)" >&2
            env -u OMP_WAIT_POLICY "$py" "$here/conv_torch.py" --threads "$threads" --reps "$reps" "${only[@]}" \
                >>"$tmp/ref$i.default"
            echo "round $round: running $py (OMP_WAIT_POLICY=PASSIVE)" >&2
            OMP_WAIT_POLICY=PASSIVE "$py" "$here/conv_torch.py" --threads "$threads" --reps "$reps" "${only[@]}" \
                >>"$tmp/ref$i.passive"
        done
    done
    files=("$tmp/graft")
    for ((i = 1; i <= $(wc -w <<<"$pythons"); ++i)); do files+=("$tmp/ref$i.default" "$tmp/ref$i.passive"); done
    # oneDNN has no wait-policy pair: its one file stands for both.
    [[ -s $tmp/onednn ]] && files+=("$tmp/onednn" "$tmp/onednn")
    echo "Command: \`TORCH_PYTHONS=\"$pythons\" THREADS=$threads REPS=$reps METRIC=$metric STAT=$stat ROUNDS=$rounds benchmarks/kernels/run.sh conv\`  "
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average before: $load, after: $(cut -d' ' -f1-3 /proc/loadavg)  "
    echo "Machine: nproc $(nproc --all), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(head -1 "$tmp/graft" | sed 's/^# //')  "
    echo "Metric: $metric ms, $stat of $reps runs after a warm-up (best of $rounds round(s)); ratio = Graft / reference (< 1: Graft faster)"
    echo
    echo "Forward:"
    echo
    conv_table fwd "${files[@]}"
    echo
    echo "Forward + backward (input and weight gradients):"
    echo
    conv_table fwdbwd "${files[@]}"
}

case $section in
    conv) conv_section ;;
    *) echo "unknown section '$section' (known: conv)" >&2; exit 2 ;;
esac
