#!/usr/bin/env bash
# Times `rampart demo --active` in both modes: wall time, requests, peak RSS.
# Usage: bench/demo.sh [runs]   (needs GNU time at /usr/bin/time and jq)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=$(mktemp -d)/rampart
go build -o "$bin" ./cmd/rampart
printf '%-11s %5s %10s %10s %12s\n' mode runs "wall (s)" requests "peak RSS (MiB)"
for mode in vulnerable hardened; do
  walls=() ; rss=0 ; reqs=0
  for _ in $(seq "$runs"); do
    out=$(mktemp)
    /usr/bin/time -f '%e %M' -o "$out.time" "$bin" demo --active --mode "$mode" --format json >"$out" 2>/dev/null || true
    read -r wall kb <"$out.time"
    walls+=("$wall")
    reqs=$(jq .stats.requests "$out")
    (( kb > rss )) && rss=$kb
    rm -f "$out" "$out.time"
  done
  median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-11s %5d %10s %10s %12.1f\n' "$mode" "$runs" "$median" "$reqs" "$(echo "$rss/1024" | bc -l)"
done
