#!/usr/bin/env bash
# Installs the labelled text sets of examples/text_transfer.cpp from Debian's
# packages: Weka's Reuters-21578 ModApte subsets (ARFF, a string attribute "Text"
# and a class {0,1}), shipped in the Debian package `weka` (3.6.14-3, bookworm)
# under usr/share/doc/weka/examples/:
#
#   ReutersGrain-{train,test}.arff   1,554 / 604 documents, 103 / 57 "grain"
#   ReutersCorn-{train,test}.arff    1,554 / 604 documents,  45 / 24 "corn"
#                                    -> $dir/Reuters{Grain,Corn}-{train,test}.arff
#
# Installing weka would pull a Java runtime, so this does not: `apt-get download`
# fetches the .deb into a temporary folder (no root needed), `dpkg-deb -x`
# unpacks it there, and only the four .arff files are kept (a .arff.gz, as doc
# folders sometimes hold, is unpacked too; 3.6.14-3 ships them plain).
#
#   bash tools/fetch_data.sh               # -> ~/.cache/graft/data/weka/
#   GRAFT_DATA_DIR=/data bash tools/fetch_data.sh   # -> /data/weka/
#
# Idempotent: when the four files are there with the recorded sizes and sha256
# nothing is downloaded. Exits non-zero with a message saying what failed when
# apt cannot fetch the package or a file does not match.
set -euo pipefail

log() { printf '[fetch_data] %s\n' "$*"; }

dir=${GRAFT_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/graft/data}/weka

# name size sha256 (weka 3.6.14-3)
files=(
  "ReutersGrain-train.arff 1226434 87abc5c45221a5027329912a1ed85d670edf338e696a2a2744893ae71cc2ae1b"
  "ReutersGrain-test.arff 512642 957e519ba6094b5e1f5aaf0ab4c0829052c8c9b5fd3c586834ddbef77f704cea"
  "ReutersCorn-train.arff 1226433 1855af1b69c21491a103ae414a1ffe5103c633aa5ad920abde2115aac9f55322"
  "ReutersCorn-test.arff 512641 e7b3cf0bc83bfa449abeacaef3083e3573f89b4fc2a36111fe59b18ff68e9e33"
)

matches() {  # matches FILE SIZE SHA256
  [[ -f "$1" ]] && [[ $(stat -c %s "$1") == "$2" ]] &&
    [[ $(sha256sum "$1" | cut -d' ' -f1) == "$3" ]]
}

all_ok() {  # all_ok FOLDER
  local entry name size sha256
  for entry in "${files[@]}"; do
    read -r name size sha256 <<<"$entry"
    matches "$1/$name" "$size" "$sha256" || return 1
  done
}

if all_ok "$dir"; then
  log "$dir present (${#files[@]} files, sha256 ok)"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "downloading Debian's weka package (apt-get download; not installed)"
# apt's sandbox user cannot write into a private temp folder; the download is
# checked against the archive's signed hashes either way, and the files below
# against their own sha256.
chmod 755 "$tmp"
if ! (cd "$tmp" && apt-get download -q weka >"$tmp/apt.log" 2>&1); then
  cat "$tmp/apt.log" >&2
  log "ERROR: apt-get download weka failed (no network, or run 'apt-get update' first?)." >&2
  log "       examples/text_transfer and its ctest need $dir." >&2
  exit 1
fi
deb=$(ls "$tmp"/weka_*.deb)
dpkg-deb -x "$deb" "$tmp/root"
examples=$tmp/root/usr/share/doc/weka/examples
mkdir -p "$tmp/out"
for entry in "${files[@]}"; do
  name=${entry%% *}
  if [[ -f "$examples/$name" ]]; then
    cp "$examples/$name" "$tmp/out/$name"
  elif [[ -f "$examples/$name.gz" ]]; then
    gzip -dc "$examples/$name.gz" >"$tmp/out/$name"
  else
    log "ERROR: $(basename "$deb") has no usr/share/doc/weka/examples/$name(.gz)" >&2
    exit 1
  fi
done
if ! all_ok "$tmp/out"; then
  log "ERROR: the .arff files of $(basename "$deb") do not have the recorded sizes and sha256" >&2
  log "       (a different weka version? the sums above are 3.6.14-3's)" >&2
  exit 1
fi
mkdir -p "$dir"
for entry in "${files[@]}"; do
  name=${entry%% *}
  mv "$tmp/out/$name" "$dir/$name"
done
log "installed $dir ($(basename "$deb"))"
