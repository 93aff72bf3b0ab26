#!/usr/bin/env bash
# benchmarks/finetune/run.sh: issue 7's fine-tuning benchmark in one command.
# Graft's demo (examples/transfer_fmnist: EfficientNet-Lite0 with ImageNet weights,
# Fashion-MNIST 100 images per class, probe 30 epochs + top 10 epochs, frozen
# stages' output cached) against the same recipe in PyTorch (torch_recipe.py):
# caching by hand of the trunk (cached), of the trunk and per phase as Graft does
# (cached-phase), and the plain loop; prints a markdown table (time per epoch,
# total time, final test accuracy, ratios, the goals) on stdout. PyTorch
# evaluates on the test set when the Graft run did (every epoch, or only after
# each phase: read from its log).
# Goals: Graft at least 5x faster than the plain PyTorch loop, no slower than
# PyTorch with hand-written caching, at the same accuracy.
#
#   benchmarks/finetune/run.sh                                  # the measurement (quiet machine)
#   PROBE_EPOCHS=2 TOP_EPOCHS=1 MAX_EVAL=500 PLAIN_EPOCHS=1 benchmarks/finetune/run.sh   # smoke run
#
# The plain PyTorch loop runs the whole network over the 10,000 test images
# every epoch: by default only its first PLAIN_EPOCHS (2) epochs of each phase
# run (the learning-rate schedule still spans the whole phase) and its total is
# extrapolated from the per-phase median epoch; the table says so.
#
# Environment: BUILD_DIR (default build), JOBS (2), THREADS (2: Graft's --threads
# and torch.set_num_threads), PROBE_EPOCHS (30), TOP_EPOCHS (10), PLAIN_EPOCHS
# (2; 0 = run the plain loop in full), MAX_EVAL (0 = all 10,000 test images),
# TORCH_PYTHON (default /work/torch2-venv/bin/python
# when present, else /usr/bin/python3), OUT_DIR (logs and JSON; default a fresh
# /tmp/graft-ftbench.XXXXXX, kept and named on stderr).
# Needs the weights from tools/fetch_weights.sh and Debian's Fashion-MNIST
# (/usr/share/datasets/fashion-mnist).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-build}
[[ $build = /* ]] || build="$root/$build"
jobs=${JOBS:-2}
threads=${THREADS:-2}
probe=${PROBE_EPOCHS:-30}
top=${TOP_EPOCHS:-10}
plain=${PLAIN_EPOCHS:-2}
max_eval=${MAX_EVAL:-0}
py=${TORCH_PYTHON:-}
if [[ -z $py ]]; then
    if [[ -x /work/torch2-venv/bin/python ]]; then py=/work/torch2-venv/bin/python; else py=/usr/bin/python3; fi
fi
out=${OUT_DIR:-$(mktemp -d /tmp/graft-ftbench.XXXXXX)}
mkdir -p "$out"
echo "logs and JSON in $out" >&2

# ---- build ---------------------------------------------------------------------
[[ -f $build/CMakeCache.txt ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target transfer_fmnist >&2
example="$build/examples/transfer_fmnist"

# ---- run: one process each, one after the other ---------------------------------
epochs=(--probe-epochs "$probe" --top-epochs "$top" --max-eval "$max_eval")
# --budget 0.01: the example's from-scratch comparison stops after one step (its
# time is not part of the fine-tune's, which the JSON reports on its own).
echo "running Graft (cached) at $threads thread(s)" >&2
"$example" --threads "$threads" "${epochs[@]}" --budget 0.01 --json "$out/graft.json" >"$out/graft.log" 2>&1 ||
    { tail -20 "$out/graft.log" >&2; exit 1; }
# The example's evaluation schedule, from its epoch lines: every epoch carries an
# "eval acc", or only some (then: the first evaluated epoch before the phase's
# last is the period; none such: only after each phase).
eval_every=$(awk '/^  [a-z]+ epoch [0-9]+\/[0-9]+:/ {
        split($3, e, "/"); n = e[1] + 0; last = e[2] + 0; ++lines
        if (/eval acc/) { ++evals; if (n < last && (first == 0 || n < first)) first = n }
    }
    END { print (lines > 0 && evals == lines) ? 1 : first + 0 }' "$out/graft.log")
echo "the Graft run evaluated with eval-every $eval_every (0: after each phase only)" >&2
for mode in cached cached-phase plain; do
    measure=0
    if [[ $mode = plain ]]; then measure=$plain; fi
    echo "running PyTorch ($mode) at $threads thread(s)" >&2
    "$py" "$here/torch_recipe.py" --mode "$mode" --threads "$threads" "${epochs[@]}" --measure-epochs "$measure" \
        --eval-every "$eval_every" --json "$out/torch_$mode.json" >"$out/torch_$mode.log" 2>&1 ||
        { tail -20 "$out/torch_$mode.log" >&2; exit 1; }
done

# ---- report ------------------------------------------------------------------------
command="benchmarks/finetune/run.sh"
for v in THREADS PROBE_EPOCHS TOP_EPOCHS PLAIN_EPOCHS MAX_EVAL; do
    if [[ -n ${!v:-} ]]; then command="$v=${!v} $command"; fi
done
"$py" "$here/report.py" --dir "$out" --command "$command" --commit "$(git -C "$root" rev-parse --short HEAD)" \
    --cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) CPUs" \
    --load "$(cut -d' ' -f1-3 /proc/loadavg)"
