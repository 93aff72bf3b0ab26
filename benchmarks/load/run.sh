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
# Two modes per case, each Graft against PyTorch doing the same kind of load:
#   default    Graft copies into the model (load_bench --variant copy) against
#              torch.load / load_file + load_state_dict (copies)
#   zero-copy  Graft's LoadOptions::share_memory (--variant share: the parameters
#              use the file's private map) against torch.load(mmap=True) / load_file
#              + load_state_dict(assign=True) (torch_load.py --variant zerocopy)
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
# impl: graft-copy, graft-share, torch-<default|zerocopy>-<default|passive> (the
# PyTorch load and its OpenMP wait policy).
results="$tmp/results"
: >"$results"
run() {  # impl case command...
    local impl=$1 name=$2
    shift 2
    echo "running $impl $name" >&2
    "$@" | tee -a "$tmp/log" | awk -v p="$impl" '!/^#/ && NF == 6 { print p, $0 }' >>"$results"
}
for ((round = 1; round <= rounds; ++round)); do
    for name in resnet50 minilm; do
        if [[ $name == resnet50 ]]; then
            file=("--file" "$tmp/resnet50.pth")
            extra=()
        else
            file=("--file" "$minilm/model.safetensors" "--config" "$minilm/config.json")
            extra=("--reference-python" "$refpy")
        fi
        for variant in copy share; do
            run "graft-$variant" $name "$bench" --case $name "${file[@]}" --repeats "$repeats" --threads "$threads" \
                --variant $variant
        done
        for variant in default zerocopy; do
            for policy in default passive; do
                env=()
                [[ $policy == passive ]] && env=(OMP_WAIT_POLICY=PASSIVE)
                run "torch-$variant-$policy" $name env "${env[@]}" "$py" "$here/torch_load.py" --case $name \
                    "${file[@]}" "${extra[@]}" --variant $variant --repeats "$repeats" --threads "$threads"
            done
        done
    done
done
grep '^#' "$tmp/log" >&2 || true

# ---- table ---------------------------------------------------------------------------
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
echo
echo "Load into a built model, $(nproc) CPU(s), threads ${threads/#0/default}, $repeats loads after the first per process, best of $rounds round(s); PyTorch $torch_version ($py)"
echo
echo "Rows: default = Graft's copying load against PyTorch's copying load; zero-copy = Graft's share_memory against torch.load(mmap=True) / load_file + load_state_dict(assign=True). Ratios are Graft / PyTorch (the faster of its two OpenMP policies); goal <= 0.5x."
echo
echo "| case | mode | Graft first (s) | Graft median (s) | PyTorch first (s) | PyTorch median (s) | PyTorch median, PASSIVE (s) | ratio first | ratio median | goal 0.5x (median) | Graft peak RSS (MiB) | PyTorch peak RSS (MiB) | Graft peak - built model (MiB) | PyTorch peak - built model (MiB) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
awk '
{ impl = $1; c = $2; k = impl SUBSEP c
  if (!(k in med) || $4 < med[k]) { first[k] = $3; med[k] = $4; peak[k] = $6; built[k] = $7 } }
END {
  n = split("resnet50 minilm", order, " ")
  for (i = 1; i <= n; ++i) {
    c = order[i]
    for (m = 1; m <= 2; ++m) {
      mode = m == 1 ? "default" : "zero-copy"
      g = (m == 1 ? "graft-copy" : "graft-share") SUBSEP c
      tv = m == 1 ? "torch-default" : "torch-zerocopy"
      d = tv "-default" SUBSEP c; p = tv "-passive" SUBSEP c
      if (!(g in med) || !(d in med) || !(p in med)) continue
      t = med[p] < med[d] ? p : d   # the faster PyTorch setting
      tf = first[p] < first[d] ? first[p] : first[d]
      r = med[g] / med[t]
      printf "| %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.2fx | %.2fx | %s | %.0f | %.0f | %.0f | %.0f |\n", c, mode,
        first[g], med[g], first[d], med[d], med[p], first[g] / tf, r, r <= 0.5 ? "met" : "missed",
        peak[g] / 1024, peak[t] / 1024, (peak[g] - built[g]) / 1024, (peak[t] - built[t]) / 1024
    }
  }
}' "$results"
