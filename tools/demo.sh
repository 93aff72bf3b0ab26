#!/usr/bin/env bash
# The main job: install what is needed, build, then run it. Arguments are passed
# to the program. Today the main job is examples/mlp_from_tensors (an MLP on
# Fashion-MNIST written with tensors and autograd only).
#   bash tools/demo.sh [args for build/examples/mlp_from_tensors]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Build chatter goes to stderr, so the program's output is the demo's stdout.
bash tools/setup.sh >&2

main_job=build/examples/mlp_from_tensors
if [[ ! -x "$main_job" ]]; then
  echo "demo: $main_job was not built (is examples/CMakeLists.txt there?)" >&2
  exit 1
fi
exec "$main_job" "$@"
