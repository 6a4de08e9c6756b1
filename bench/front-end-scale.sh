#!/usr/bin/env bash
# Front-end throughput on the robustness issue's slow inputs (issue 12, item 1): for each generator of
# bench/inputs/gen-slow-inputs.py, `kexecsim lint` of the generated model at 1x, 2x, 5x and 10x its listed
# size. Prints per size: bytes, wall seconds of the whole process and MB/s by it, CPU seconds (user +
# system, GNU time) and MB/s by them (what a shared machine's load does not change), peak RSS, lint's
# exit code and how many lines it printed. Linear time shows as a flat MB/s column (the process's start-up, ~0.1 s,
# weighs on the small sizes). docs/benchmarks.md has the figures.
#
#   bench/front-end-scale.sh                          every generator at 1 2 5 10
#   bench/front-end-scale.sh loop-body call-chain     those generators only
#   bench/front-end-scale.sh --scales "1 10" --timeout 60
#
# Options:
#   --scales "S..."   multiples of the listed size (default "1 2 5 10")
#   --timeout SEC     a run taking longer is stopped and shown as "> SEC s" (default 300)
#   --rebuild         build the Release CLI even if it exists
#   --kexecsim PATH   run that executable instead of this checkout's Release CLI (an older build, to compare)
# The listed sizes are the largest the generator's own help names:
#   loop-body 20000, unknown-names 4000, call-chain 32000, alias-doubling 30 (levels), long-ident 1000000.
# Needs dotnet (to build), python3 and coreutils' timeout.
set -u
. "$(dirname "$0")/common.sh"

gen="$BENCH_DIR/inputs/gen-slow-inputs.py"
scales="1 2 5 10"
timeout_s=300
rebuild=""
kinds=()
while [ $# -gt 0 ]; do
  case $1 in
    --scales) scales=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --rebuild) rebuild=force; shift ;;
    --kexecsim) KEXECSIM=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "front-end-scale.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) kinds+=("$1"); shift ;;
  esac
done
[ ${#kinds[@]} -eq 0 ] && kinds=(loop-body unknown-names call-chain alias-doubling long-ident)
[ -n "$rebuild" ] || [ ! -x "$KEXECSIM" ] && ensure_kexecsim "$rebuild"

listed() {
  case $1 in
    loop-body) echo 20000 ;;
    unknown-names) echo 4000 ;;
    call-chain) echo 32000 ;;
    alias-doubling) echo 30 ;;
    long-ident) echo 1000000 ;;
    *) echo "front-end-scale.sh: unknown generator $1" >&2; exit 2 ;;
  esac
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "# kexecsim lint of gen-slow-inputs.py KIND N; wall time of the whole process"
echo "# $(uname -m), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "| generator | scale | N | bytes | wall s | MB/s (wall) | CPU s | MB/s (CPU) | peak RSS MB | exit | lines out |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for kind in "${kinds[@]}"; do
  base=$(listed "$kind") || exit 2
  for s in $scales; do
    n=$(awk -v b="$base" -v s="$s" 'BEGIN { printf "%d", b * s }')
    file="$work/$kind-$n.kflow"
    python3 "$gen" "$kind" "$n" > "$file"
    bytes=$(wc -c < "$file")
    start=$(now)
    if [ -n "$TIME_BIN" ]; then
      timeout "$timeout_s" "$TIME_BIN" -f "%U %S %M" -o "$work/time" "$KEXECSIM" lint "$file" > "$work/out" 2>&1
    else
      timeout "$timeout_s" "$KEXECSIM" lint "$file" > "$work/out" 2>&1
    fi
    code=$?
    end=$(now)
    lines=$(wc -l < "$work/out")
    cpu=n/a; rss=n/a
    if [ -n "$TIME_BIN" ] && [ -s "$work/time" ]; then
      read -r user sys kb < <(tail -1 "$work/time")
      cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }'); rss=$((kb / 1024))
    fi
    if [ "$code" = 124 ]; then
      echo "| $kind | ${s}x | $n | $bytes | > $timeout_s | < $(awk -v b="$bytes" -v t="$timeout_s" 'BEGIN { printf "%.3g", b / 1e6 / t }') | | | | timeout | |"
    else
      awk -v k="$kind" -v s="$s" -v n="$n" -v b="$bytes" -v a="$start" -v e="$end" -v c="$code" -v l="$lines" -v cpu="$cpu" -v rss="$rss" 'BEGIN {
        t = e - a; m = (cpu + 0 > 0) ? sprintf("%.3g", b / 1e6 / cpu) : "n/a"
        printf "| %s | %sx | %d | %d | %.2f | %.3g | %s | %s | %s | %d | %d |\n", k, s, n, b, t, b / 1e6 / t, cpu, m, rss, c, l }'
    fi
    rm -f "$file"
  done
done
