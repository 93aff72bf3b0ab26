#!/usr/bin/env bash
# Input-pipeline throughput, Graft vs torchvision, on one folder of JPEGs.
#
#   benchmarks/io/run.sh [build-dir=build] [folder=/tmp/graft_io_bench_jpegs]
#   EPOCHS=5 WORKERS=2 BATCH=32 benchmarks/io/run.sh
#
# Builds image_pipeline_bench, writes the JPEG folder once (make_jpegs.py, Debian
# python3 with scikit-learn and PIL), then runs Graft and torchvision (PyPI torch
# and torchvision in /work/torch2-venv, or $TORCH_PYTHON) alternately ROUNDS times
# and prints each line and the ratio of best rates.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
folder=${2:-/tmp/graft_io_bench_jpegs}
epochs=${EPOCHS:-3}
workers=${WORKERS:-2}
batch=${BATCH:-32}
rounds=${ROUNDS:-2}
py=${TORCH_PYTHON:-/work/torch2-venv/bin/python}

cmake --build "$build" -j2 --target image_pipeline_bench >/dev/null
[ -d "$folder" ] || /usr/bin/python3 "$here/make_jpegs.py" "$folder"
echo "# $(nproc --all) CPUs; $(ls "$folder"/*/ | grep -c jpg) JPEGs; batch $batch, $workers workers, $epochs timed epochs"
best_graft=0; best_tv=0
for r in $(seq "$rounds"); do
  g=$("$build/benchmarks/io/image_pipeline_bench" "$folder" --workers "$workers" --batch "$batch" --epochs "$epochs")
  t=$("$py" "$here/torchvision_bench.py" "$folder" --workers "$workers" --batch "$batch" --epochs "$epochs")
  echo "$g"; echo "$t"
  best_graft=$(python3 -c "print(max($best_graft, float('$g'.split('best=')[1].split()[0])))")
  best_tv=$(python3 -c "print(max($best_tv, float('$t'.split('best=')[1].split()[0])))")
done
python3 -c "print(f'graft / torchvision (best images/s): {$best_graft:.1f} / {$best_tv:.1f} = {$best_graft/$best_tv:.2f}x')"
