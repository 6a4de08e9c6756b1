#!/usr/bin/env bash
# How KexecSim's exhaustive search scales with the number of CPUs, on the stop protocol at the SPIN
# model's granularity (bench/models/stop-spin.kflow; docs/benchmarks.md, "SPIN's question").
#
#   bench/scale.sh                          A_noTO at N = 2 3 4 5 6
#   bench/scale.sh 3 4 5                    those N only
#   bench/scale.sh --scenario A_cex 2 3 4   another scenario of the model
#   bench/scale.sh --flags "--max-states 1000000" 3 4 5   extra kexecsim check options, passed as they are
#   bench/scale.sh --variants 3 4 5         each N with --reduce all|none x --symmetry on|off
#
# Options:
#   --scenario NAME      scenario of the model (default A_noTO; also A_cex, B_cex, B_noTO)
#   --model FILE         another model (default bench/models/stop-spin.kflow)
#   --flags "ARGS"       extra arguments for `kexecsim check` (split on spaces), to compare variants
#   --time-limit S       per run (default 300); 'none' for no limit
#   --memory-limit MB    per run (default 8192); 'none' for the CLI's own default (70% of memory)
#   --rebuild            build the Release CLI even if it exists
#   --keep-going         go on with larger N after a run stopped at a limit (default: stop there)
#   --variants           run each N four times: --reduce all and none (docs/reduction.md), each with
#                        --symmetry on and off (docs/symmetry.md); a variant that stopped at a limit
#                        is not run for larger N (unless --keep-going)
#
# Prints one row per N: outcome, states, transitions, the search's own seconds (JSON
# statistics.seconds), the whole process's wall seconds, states/s (JSON statesPerSecond), peak RSS
# of the process (GNU time -v; n/a without it) and, for a counterexample, its length in steps.
# Needs dotnet (to build), jq or python3, and optionally GNU time (Debian package 'time').
set -u
. "$(dirname "$0")/common.sh"

scenario=A_noTO
model="$BENCH_DIR/models/stop-spin.kflow"
flags=""
time_limit=300
memory_limit=8192
rebuild=""
keep_going=""
variants=("")
ns=()
while [ $# -gt 0 ]; do
  case $1 in
    --scenario) scenario=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --flags) flags=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --memory-limit) memory_limit=$2; shift 2 ;;
    --rebuild) rebuild=force; shift ;;
    --keep-going) keep_going=1; shift ;;
    --variants) variants=("--reduce all --symmetry on" "--reduce all --symmetry off" "--reduce none --symmetry on" "--reduce none --symmetry off"); shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "scale.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ $1 =~ ^[0-9]+$ ]] || { echo "scale.sh: $1: expected a CPU count" >&2; exit 2; }; ns+=("$1"); shift ;;
  esac
done
[ ${#ns[@]} -eq 0 ] && ns=(2 3 4 5 6)
[ -f "$model" ] || { echo "scale.sh: no model $model" >&2; exit 2; }

ensure_kexecsim "$rebuild"

limits=()
[ "$time_limit" != none ] && limits+=(--time-limit "$time_limit")
[ "$memory_limit" != none ] && limits+=(--memory-limit "$memory_limit")
read -r -a extra <<< "$flags"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "# $(basename "$model") scenario $scenario; kexecsim check ${flags:+$flags }${limits[*]}"
echo "# $(uname -m), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "| N | variant | outcome | states | transitions | search s | wall s | states/s | peak RSS MB | cex steps |"
echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
declare -A stopped=()
for n in "${ns[@]}"; do
  for vi in "${!variants[@]}"; do
    variant=${variants[$vi]}
    [ -n "${stopped[$vi]:-}" ] && continue
    read -r -a vflags <<< "$variant"
    d="$work/N$n-$vi"; mkdir -p "$d"
    run_kexecsim "$d" "$model" "$scenario" "$n" "${limits[@]}" "${extra[@]}" "${vflags[@]}"
    exit_code=$(cat "$d/exit")
    if [ "$exit_code" = 2 ] || [ ! -s "$d/report.json" ]; then
      echo "| $n | ${variant:-default} | error (exit $exit_code) | | | | | | | |"
      sed 's/^/#   /' "$d/stderr" "$d/report.json" | head -20
      exit 1
    fi
    s='.scenarios[0]'
    mapfile -t v < <(json_get "$d/report.json" "$s.outcome" "$s.limit" "$s.statistics.states" \
      "$s.statistics.transitions" "$s.statistics.seconds" "$s.statistics.statesPerSecond" "$s.trace | length")
    outcome=${v[0]}
    [ "$outcome" = limit ] && outcome="limit: ${v[1]}"
    steps=${v[6]}
    { [ "$steps" = 0 ] || [ "$steps" = null ]; } && steps=-
    rss=n/a; wall=$(cat "$d/wall")
    if [ -n "$TIME_BIN" ]; then rss=$(rss_mb "$d/time"); wall=$(wall_s "$d/time"); fi
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$n" "${variant:-default}" "$outcome" "${v[2]}" "${v[3]}" "${v[4]}" "$wall" "${v[5]}" "$rss" "$steps"
    if [ "$exit_code" = 3 ] && [ -z "$keep_going" ]; then
      echo "# N = $n ${variant:+($variant) }stopped at a limit; larger N not run for it (--keep-going to run them anyway)"
      stopped[$vi]=1
    fi
  done
  [ ${#stopped[@]} -eq ${#variants[@]} ] && break
done
