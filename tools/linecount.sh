#!/usr/bin/env bash
# Lines of source per part of the tree (after tinygrad's sz.py). Informational:
# always exits 0, and warns about files over the soft limit.
#   bash tools/linecount.sh            GRAFT_LINE_LIMIT=500 by default
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

limit=${GRAFT_LINE_LIMIT:-500}
dirs=(core kernels nn io transfer tools tests)
src=(-name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh'
     -o -name '*.cmake' -o -name 'CMakeLists.txt' -o -name '*.sh' -o -name '*.py')

# code = lines that are neither blank nor only a comment (//, /* *, or # in scripts)
count() {
  awk '
    FNR == 1 { script = (FILENAME ~ /\.(sh|py|cmake)$|CMakeLists\.txt$/) }
    { lines++ }
    /^[[:space:]]*$/ { next }
    !script && /^[[:space:]]*(\/\/|\/\*|\*)/ { next }
    script && /^[[:space:]]*#/ { next }
    { code++ }
    END { printf "%d %d\n", lines, code }' "$@"
}

printf '%-10s %6s %8s %8s\n' dir files lines code
printf '%-10s %6s %8s %8s\n' ---------- ------ -------- --------
total_files=0 total_lines=0 total_code=0
big=()
for d in "${dirs[@]}"; do
  files=()
  if [[ -d $d ]]; then
    mapfile -t files < <(find "$d" -type f \( "${src[@]}" \) | LC_ALL=C sort)
  fi
  lines=0 code=0
  if ((${#files[@]})); then
    read -r lines code < <(count "${files[@]}")
    for f in "${files[@]}"; do
      n=$(wc -l < "$f")
      ((n > limit)) && big+=("$n $f")
    done
  fi
  printf '%-10s %6d %8d %8d\n' "$d/" "${#files[@]}" "$lines" "$code"
  total_files=$((total_files + ${#files[@]})) total_lines=$((total_lines + lines)) total_code=$((total_code + code))
done
printf '%-10s %6s %8s %8s\n' ---------- ------ -------- --------
printf '%-10s %6d %8d %8d\n' total "$total_files" "$total_lines" "$total_code"

if ((${#big[@]})); then
  echo
  printf '%s\n' "${big[@]}" | sort -rn | while read -r n f; do
    echo "warning: $f has $n lines (over $limit; consider splitting it)"
  done
fi
exit 0
