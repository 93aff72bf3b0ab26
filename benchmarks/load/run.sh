#!/usr/bin/env bash
# benchmarks/load/run.sh: time and peak RSS to load pretrained weights into a model,
# Graft (load_bench: io::read_weights + transfer::load_pretrained) against PyTorch
# (torch_load.py: torch.load / safetensors.torch.load_file + load_state_dict), one
# process per case; prints a markdown table with Graft/PyTorch ratios.
#   resnet50  torchvision resnet50, random weights, torch.save zip .pth (102 MB),
#             written here by torch into a temporary folder
#   minilm    the real all-MiniLM-L6-v2 model.safetensors (91 MB) from
#             tools/fetch_weights.sh (GRAFT_WEIGHTS_DIR, default ~/.cache/graft/weights)
# Goal (issue 6): Graft's load time <= 0.5x PyTorch's.
# PyTorch runs twice per case, with the default OpenMP wait policy and with
# OMP_WAIT_POLICY=PASSIVE (on a busy machine the default's spinning threads make
# load_state_dict's copies 10x slower); both are shown and the ratios use the
# faster one.
#
#   benchmarks/load/run.sh
#   ROUNDS=3 REPEATS=5 benchmarks/load/run.sh
#
# Environment: BUILD_DIR (default build), JOBS (2), REPEATS (5 loads after the
# first, per process), ROUNDS (1; more: each cell keeps its best round's median),
# THREADS (0 = each library's default), TORCH_PYTHON (default
# /work/torch2-venv/bin/python when present, else /usr/bin/python3 with Debian's
# torch 1.13), TMPDIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-build}
[[ $build = /* ]] || build="$root/$build"
jobs=${JOBS:-2}
repeats=${REPEATS:-5}
rounds=${ROUNDS:-1}
threads=${THREADS:-0}
weights=${GRAFT_WEIGHTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/graft/weights}
minilm=$weights/all-MiniLM-L6-v2
refpy=$weights/minilm-reference-python
py=${TORCH_PYTHON:-}
if [[ -z $py ]]; then
    if [[ -x /work/torch2-venv/bin/python ]]; then py=/work/torch2-venv/bin/python; else py=/usr/bin/python3; fi
fi
for f in "$minilm/model.safetensors" "$minilm/config.json" "$refpy/safetensors"; do
    [[ -e $f ]] || { echo "run.sh: $f is missing: run tools/fetch_weights.sh" >&2; exit 1; }
done

# ---- build, and the ResNet-50 file ---------------------------------------------
[[ -f $build/CMakeCache.txt ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target load_bench >&2
bench="$build/benchmarks/load/load_bench"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "writing torchvision resnet50 (random weights) with torch.save to $tmp/resnet50.pth" >&2
"$py" "$here/torch_load.py" --make-resnet50 "$tmp/resnet50.pth"
# Both sides find the files in the page cache: read each once now.
cat "$tmp/resnet50.pth" "$minilm/model.safetensors" >/dev/null

# ---- run: each line of $results is "impl case first median min peak_kib model_kib" --
results="$tmp/results"
: >"$results"
run() {  # impl case command...
    local impl=$1 name=$2
    shift 2
    echo "running $impl $name" >&2
    "$@" | tee -a "$tmp/log" | awk -v p="$impl" '!/^#/ && NF == 6 { print p, $0 }' >>"$results"
}
for ((round = 1; round <= rounds; ++round)); do
    run graft resnet50 "$bench" --case resnet50 --file "$tmp/resnet50.pth" --repeats "$repeats" --threads "$threads"
    for policy in default passive; do
        env=()
        [[ $policy == passive ]] && env=(OMP_WAIT_POLICY=PASSIVE)
        run "torch-$policy" resnet50 env "${env[@]}" "$py" "$here/torch_load.py" --case resnet50 \
            --file "$tmp/resnet50.pth" --repeats "$repeats" --threads "$threads"
    done
    run graft minilm "$bench" --case minilm --file "$minilm/model.safetensors" --config "$minilm/config.json" \
        --repeats "$repeats" --threads "$threads"
    for policy in default passive; do
        env=()
        [[ $policy == passive ]] && env=(OMP_WAIT_POLICY=PASSIVE)
        run "torch-$policy" minilm env "${env[@]}" "$py" "$here/torch_load.py" --case minilm \
            --file "$minilm/model.safetensors" --config "$minilm/config.json" --reference-python "$refpy" \
            --repeats "$repeats" --threads "$threads"
    done
done
grep '^#' "$tmp/log" >&2 || true

# ---- table ---------------------------------------------------------------------------
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
echo
echo "Load into a built model, $(nproc) CPU(s), threads ${threads/#0/default}, $repeats loads after the first per process, best of $rounds round(s); PyTorch $torch_version ($py)"
echo
echo "| case | Graft first (s) | Graft median (s) | PyTorch first (s) | PyTorch median (s) | PyTorch median, PASSIVE (s) | ratio first | ratio median | Graft peak RSS (MiB) | PyTorch peak RSS (MiB) | Graft peak - built model (MiB) | PyTorch peak - built model (MiB) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
awk '
{ impl = $1; c = $2; k = impl SUBSEP c
  if (!(k in med) || $4 < med[k]) { first[k] = $3; med[k] = $4; peak[k] = $6; built[k] = $7 } }
END {
  n = split("resnet50 minilm", order, " ")
  for (i = 1; i <= n; ++i) {
    c = order[i]; g = "graft" SUBSEP c; d = "torch-default" SUBSEP c; p = "torch-passive" SUBSEP c
    if (!(g in med) || !(d in med) || !(p in med)) continue
    t = med[p] < med[d] ? p : d   # the faster PyTorch setting
    tf = first[p] < first[d] ? first[p] : first[d]
    printf "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2fx | %.2fx | %.0f | %.0f | %.0f | %.0f |\n", c,
      first[g], med[g], first[d], med[d], med[p], first[g] / tf, med[g] / med[t],
      peak[g] / 1024, peak[t] / 1024, (peak[g] - built[g]) / 1024, (peak[t] - built[t]) / 1024
  }
}' "$results"
