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
#   --workers W       threads (default 1); issue 10's target is 192 CPUs with both cores: 192 --workers 2
#   --repeat K        run each row K times (default 1) and print the median runs/s, steps/s and ns/step with the
#                     slowest and fastest runs/s: this machine's speed differs by up to a third between processes
#   e.g. bench/simulate-scale.sh 192 --runs 30000 --workers 2 --repeat 5 --modes random
#   --rebuild         build the Release CLI even if it exists
# Needs dotnet (to build) and jq or python3.
set -u
. "$(dirname "$0")/common.sh"

model="$REPO_ROOT/models/catalog/seed000-stop-wbinvd.kflow"
scenario=stop-mask-reboot
runs=40
modes="random timed"
workers=1
repeat=1
rebuild=""
ns=()
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
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
echo "# $(basename "$model") scenario $scenario; kexecsim simulate --runs $runs x $largest/N --seed 1 --workers $workers; $repeat run(s) a row (medians)"
echo "# $(uname -m), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "| N | mode | steps/run | runs/s | runs/s slowest-fastest | steps/s | ns/step | wall s |"
echo "|---:|---|---:|---:|---|---:|---:|---:|"
for n in "${ns[@]}"; do
  for mode in $modes; do
    case $mode in
      random) flags=(--strategy random) ;;
      pct) flags=(--strategy pct) ;;
      timed) flags=(--timed) ;;
      *) echo "simulate-scale.sh: unknown mode $mode" >&2; exit 2 ;;
    esac
    rows="$work/$n-$mode.rows"
    : > "$rows"
    failed=""
    for k in $(seq 1 "$repeat"); do
      out="$work/$n-$mode-$k.json"
      start=$(date +%s.%N)
      "$KEXECSIM" simulate "$model" --scenario "$scenario" --cpus "$n" --runs $((runs * largest / n)) --seed 1 --workers "$workers" \
        --format json "${flags[@]}" > "$out" 2> "$work/err"
      code=$?
      end=$(date +%s.%N)
      if [ "$code" = 2 ] || [ ! -s "$out" ]; then
        echo "| $n | $mode | error (exit $code) | | | | | |"; sed 's/^/#   /' "$work/err" | head -5; failed=1; break
      fi
      mapfile -t v < <(json_get "$out" .statistics.runsDone .statistics.steps .statistics.seconds)
      awk -v r="${v[0]}" -v s="${v[1]}" -v sec="${v[2]}" -v a="$start" -v b="$end" 'BEGIN {
        printf "%.6f %.0f %.6f %.6f %.6f\n", r / sec, s / r, s / sec, sec * 1e9 / s, b - a }' >> "$rows"
    done
    [ -n "$failed" ] && continue
    # The row of the median runs/s; the slowest and fastest beside it.
    sort -n "$rows" | awk -v n="$n" -v mode="$mode" '{ line[NR] = $0 } END {
      split(line[int((NR + 1) / 2)], m, " "); split(line[1], lo, " "); split(line[NR], hi, " ");
      printf "| %d | %s | %.0f | %.0f | %.0f-%.0f | %.0f | %.0f | %.2f |\n", n, mode, m[2], m[1], lo[1], hi[1], m[3], m[4], m[5] }'
  done
done
