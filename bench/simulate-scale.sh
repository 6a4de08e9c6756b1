#!/usr/bin/env bash
# How a simulated run's cost grows with the number of CPUs (issue 10, item 4): one catalog scenario at
# N = 64 .. 1,024 CPUs, random walks and timed runs, one worker. Prints per N: steps per run, runs/s,
# steps/s and ns per step (the simulation's own clock, JSON statistics), and the whole process's wall time.
# A flat "ns/step" column is the issue's target; docs/benchmarks.md has the figures.
#
#   bench/simulate-scale.sh                       stop-mask-reboot at 64 128 256 512 1024
#   bench/simulate-scale.sh 192 256               those N only
#   bench/simulate-scale.sh --runs 200 --scenario stop-online-count-reboot
#
# Options:
#   --model FILE      default models/catalog/seed000-stop-wbinvd.kflow
#   --scenario NAME   default stop-mask-reboot
#   --runs R          runs at the largest N (default 40); a smaller N gets R x largest/N runs, so that every
#                     N takes about as many steps (the JIT's warm-up is then a like share of each)
#   --modes "M..."    any of: random pct timed (default "random timed")
#   --rebuild         build the Release CLI even if it exists
# Needs dotnet (to build) and jq or python3.
set -u
. "$(dirname "$0")/common.sh"

model="$REPO_ROOT/models/catalog/seed000-stop-wbinvd.kflow"
scenario=stop-mask-reboot
runs=40
modes="random timed"
rebuild=""
ns=()
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --rebuild) rebuild=force; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "simulate-scale.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ $1 =~ ^[0-9]+$ ]] || { echo "simulate-scale.sh: $1: expected a CPU count" >&2; exit 2; }; ns+=("$1"); shift ;;
  esac
done
[ ${#ns[@]} -eq 0 ] && ns=(64 128 256 512 1024)
ensure_kexecsim "$rebuild"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
largest=0; for n in "${ns[@]}"; do [ "$n" -gt "$largest" ] && largest=$n; done
echo "# $(basename "$model") scenario $scenario; kexecsim simulate --runs $runs x $largest/N --seed 1 --workers 1"
echo "# $(uname -m), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "| N | mode | steps/run | runs/s | steps/s | ns/step | wall s |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for n in "${ns[@]}"; do
  for mode in $modes; do
    case $mode in
      random) flags=(--strategy random) ;;
      pct) flags=(--strategy pct) ;;
      timed) flags=(--timed) ;;
      *) echo "simulate-scale.sh: unknown mode $mode" >&2; exit 2 ;;
    esac
    out="$work/$n-$mode.json"
    start=$(date +%s.%N)
    "$KEXECSIM" simulate "$model" --scenario "$scenario" --cpus "$n" --runs $((runs * largest / n)) --seed 1 --workers 1 \
      --format json "${flags[@]}" > "$out" 2> "$work/err"
    code=$?
    end=$(date +%s.%N)
    if [ "$code" = 2 ] || [ ! -s "$out" ]; then
      echo "| $n | $mode | error (exit $code) | | | | |"; sed 's/^/#   /' "$work/err" | head -5; continue
    fi
    mapfile -t v < <(json_get "$out" .statistics.runsDone .statistics.steps .statistics.seconds)
    awk -v n="$n" -v mode="$mode" -v r="${v[0]}" -v s="${v[1]}" -v sec="${v[2]}" -v a="$start" -v b="$end" 'BEGIN {
      printf "| %d | %s | %.0f | %.0f | %.0f | %.0f | %.2f |\n", n, mode, s / r, r / sec, s / sec, sec * 1e9 / s, b - a }'
  done
done
