#!/usr/bin/env bash
# SPIN and KexecSim side by side on the same question: the stop protocol with every CPU answering in
# time (SPIN's A_noTO family, fixed.pml -DNO_TIMEOUT; KexecSim's A_noTO of
# bench/models/stop-spin.kflow), exhaustive, at equal N, in one run (docs/benchmarks.md).
#
#   bench/vs-spin.sh 4 5 6
#   bench/vs-spin.sh --flags "--max-states 50000000" 6    extra kexecsim check options
#
# Options:
#   --spin-dir DIR       the SPIN model (default ../shared/peers/spin beside the repository)
#   --flags "ARGS"       extra arguments for `kexecsim check` (split on spaces)
#   --time-limit S       per run, both tools (default 300; pan gets -Q in whole minutes)
#   --memory-limit MB    per run, both tools (default 8192; pan gets -DMEMLIM)
#   --rebuild            build the Release CLI even if it exists
#
# SPIN is run as ../shared/peers/spin/run.sh runs its A_noTO family in the default 'por'
# configuration: spin -DN=<n> -DNO_TIMEOUT -a fixed.pml; gcc -O2 -DSAFETY -DMEMLIM=<MB> -o pan pan.c;
# ./pan -m100000 -Q<minutes>, in a temporary directory. Installs the Debian packages spin (and gcc)
# when missing.
#
# Columns: SPIN's states stored; SPIN's wall seconds from spin -a to pan's exit (compile included)
# and pan's own elapsed seconds; KexecSim's states, its whole-process wall seconds and its search's
# own seconds (JSON statistics.seconds); the ratios KexecSim/SPIN of the wall times and of the
# search times (pan s is 0 below its clock's resolution: then n/a; '>' when KexecSim stopped at a
# limit, so the ratio is a lower bound, '<' when SPIN did); peak RSS of pan and of kexecsim
# (GNU time -v, n/a without it).
set -u
. "$(dirname "$0")/common.sh"

spin_dir="$REPO_ROOT/../shared/peers/spin"
flags=""
time_limit=300
memory_limit=8192
rebuild=""
ns=()
while [ $# -gt 0 ]; do
  case $1 in
    --spin-dir) spin_dir=$2; shift 2 ;;
    --flags) flags=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --memory-limit) memory_limit=$2; shift 2 ;;
    --rebuild) rebuild=force; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "vs-spin.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ $1 =~ ^[0-9]+$ ]] || { echo "vs-spin.sh: $1: expected a CPU count" >&2; exit 2; }; ns+=("$1"); shift ;;
  esac
done
[ ${#ns[@]} -eq 0 ] && { echo "usage: bench/vs-spin.sh [options] N... (see --help)" >&2; exit 2; }
[ -f "$spin_dir/fixed.pml" ] && [ -f "$spin_dir/kexec_stop.pml" ] ||
  { echo "vs-spin.sh: no SPIN model in $spin_dir (fixed.pml, kexec_stop.pml); use --spin-dir" >&2; exit 2; }
spin_dir=$(cd "$spin_dir" && pwd)

# Debian packages, installed when missing (root, or sudo when there is one).
apt_install() {
  local sudo=""
  [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo=sudo
  echo "installing $* (apt-get) ..." >&2
  { $sudo apt-get install -y -qq "$@" || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "$@"; }; } >&2 ||
    { echo "vs-spin.sh: could not install $*" >&2; exit 2; }
}
command -v spin >/dev/null 2>&1 || apt_install spin
command -v gcc >/dev/null 2>&1 || apt_install gcc

ensure_kexecsim "$rebuild"
model="$BENCH_DIR/models/stop-spin.kflow"
read -r -a extra <<< "$flags"
limit_min=$(( (time_limit + 59) / 60 ))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "# A_noTO: SPIN $(spin -V 2>/dev/null | sed -n 's/^Spin Version \([^ ]*\).*/\1/p') fixed.pml -DNO_TIMEOUT (por) vs kexecsim check stop-spin.kflow --scenario A_noTO${flags:+ $flags}"
echo "# limits ${time_limit} s, ${memory_limit} MB; $(uname -m), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "| N | SPIN result | SPIN states | SPIN wall s | pan s | pan RSS MB | KexecSim outcome | KexecSim states | KexecSim wall s | search s | KexecSim RSS MB | ratio wall | ratio search |"
echo "|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
for n in "${ns[@]}"; do
  # SPIN, as run.sh does it (family A_noTO, config por).
  b="$work/spin-N$n"; mkdir -p "$b"
  cp "$spin_dir"/*.pml "$b"/
  t0=$(now)
  (cd "$b" && spin -DN="$n" -DNO_TIMEOUT -a fixed.pml) > "$b/spin.log" 2>&1
  (cd "$b" && gcc -O2 -DSAFETY -DMEMLIM="$memory_limit" -o pan pan.c) > "$b/gcc.log" 2>&1 ||
    { echo "vs-spin.sh: gcc failed for N = $n:" >&2; tail -5 "$b/gcc.log" >&2; exit 2; }
  if [ -n "$TIME_BIN" ]; then
    (cd "$b" && "$TIME_BIN" -v -o time ./pan -m100000 -Q"$limit_min") > "$b/pan.log" 2>&1
  else
    (cd "$b" && ./pan -m100000 -Q"$limit_min") > "$b/pan.log" 2>&1
  fi
  t1=$(now)
  P="$b/pan.log"
  spin_states=$(grep -m1 "states, stored" "$P" | awk '{ printf "%.0f", $1 }')
  pan_s=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\) seconds.*/\1/p' "$P" | head -1)
  errs=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$P" | head -1)
  if grep -q "Time limit of" "$P"; then spin_result=LIMIT_TIME
  elif grep -qE "^pan: reached -DMEMLIM|out of memory" "$P"; then spin_result=LIMIT_MEM
  elif grep -qE "^pan:[0-9]+: assertion violated" "$P"; then spin_result=VIOLATION
  elif [ "${errs:-x}" = 0 ]; then spin_result=VERIFIED
  else spin_result=UNKNOWN; fi
  spin_wall=$(elapsed "$t0" "$t1")
  pan_rss=n/a; [ -n "$TIME_BIN" ] && pan_rss=$(rss_mb "$b/time")
  rm -rf "$b"

  # KexecSim on the same question.
  d="$work/kexecsim-N$n"; mkdir -p "$d"
  run_kexecsim "$d" "$model" A_noTO "$n" --time-limit "$time_limit" --memory-limit "$memory_limit" "${extra[@]}"
  s='.scenarios[0]'
  mapfile -t v < <(json_get "$d/report.json" "$s.outcome" "$s.statistics.states" "$s.statistics.seconds" "$s.limit")
  k_out=${v[0]:-error}
  [ "$k_out" = limit ] && k_out="limit: ${v[3]}"
  [ "$(cat "$d/exit")" = 2 ] && { k_out="error (exit 2)"; sed 's/^/#   /' "$d/stderr" | head -5; }
  k_wall=$(cat "$d/wall")
  k_rss=n/a; [ -n "$TIME_BIN" ] && k_rss=$(rss_mb "$d/time")

  # A run stopped at a limit makes its side's time a lower bound: the ratio is then one too.
  bound=""
  case "$k_out|$spin_result" in
    limit*"|LIMIT"*) bound=none ;;
    limit*) bound=">" ;;
    *"|LIMIT"*) bound="<" ;;
  esac
  ratio() {
    [ "$bound" = none ] && { echo n/a; return; }
    awk -v k="$1" -v s="$2" -v b="$bound" 'BEGIN { if (s + 0 > 0 && k + 0 > 0) printf "%s%.2f", b, k / s; else printf "n/a" }'
  }
  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" \
    "$n" "$spin_result" "${spin_states:-}" "$spin_wall" "${pan_s:-}" "$pan_rss" \
    "$k_out" "${v[1]:-}" "$k_wall" "${v[2]:-}" "$k_rss" "$(ratio "$k_wall" "$spin_wall")" "$(ratio "${v[2]:-0}" "${pan_s:-0}")"
done
