#!/usr/bin/env bash
# Reproduces docs/questions.md: the answers to the kernel threads' questions (issue 10, item 5), as
# markdown tables on stdout and SVG plots in docs/questions/. Every figure comes from a `kexecsim
# simulate` command printed above its table; seeds are fixed, so the tables are the same on every run.
#
#   bench/questions.sh              all four questions
#   bench/questions.sh a c          only those (a: REBOOT-round timeouts, b: the late-REBOOT+NMI race,
#                                   c: the MWAIT kick, d: PCT against random)
#   --runs R                        runs per configuration (default 200; (d) uses 10 x R)
#   --rebuild                       build the Release CLI even if it exists
# Needs dotnet (to build) and python3.
set -u
. "$(dirname "$0")/common.sh"

runs=200
rebuild=""
parts=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --rebuild) rebuild=force; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    a|b|c|d) parts+=("$1"); shift ;;
    *) echo "questions.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#parts[@]} -eq 0 ] && parts=(a b c d)
command -v python3 >/dev/null 2>&1 || { echo "questions.sh: python3 is required" >&2; exit 2; }
ensure_kexecsim "$rebuild"

stop="models/catalog/seed000-stop-wbinvd.kflow"
plots="docs/questions"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$REPO_ROOT" || exit 2
mkdir -p "$plots"

# sim OUT.json ARGS...: one simulate run, JSON kept (exit 1 = violations found, which is an answer here).
sim() {
  local out=$1; shift
  "$KEXECSIM" simulate "$@" --format json > "$out"
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then echo "questions.sh: kexecsim simulate $* failed (exit $rc)" >&2; exit 2; fi
}

# summary JSON FIELDS...: the figures the tables use, tab-separated.
summary() {
  python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = d["statistics"]
runs = st.get("runsDone", 0)
viol = d.get("violations", [])
t = d.get("timed") or {}
def ms(ns): return "%.3f ms" % (ns / 1e6) if ns is not None else "n/a"
out = {}
out["runs"] = str(runs)
bad = sum(v.get("count", 0) for v in viol)
out["violations"] = "0" if not viol else "%d (%s)" % (bad, ", ".join("%s %d" % (v["code"], v["count"]) for v in viol))
out["rate"] = "%.1f %%" % (100.0 * bad / runs) if runs else "n/a"
out["first"] = "none" if not viol else str(min(v["firstRun"] for v in viol))
waits = t.get("waits", [])
first = waits[0] if waits else None
out["timedout"] = "%.1f %%" % (100.0 * first["timedOut"] / first["count"]) if first and first["count"] else "n/a"
out["nmiround"] = "%d" % first["timedOut"] if first else "n/a"
f = t.get("finish") or {}
out["p50"] = ms(f.get("p50Ns")) if f.get("count") else "n/a"
out["p99"] = ms(f.get("p99Ns")) if f.get("count") else "n/a"
out["max"] = ms(f.get("maxNs")) if f.get("count") else "n/a"
print("\t".join(out[k] for k in sys.argv[2:]))
PY
}

row() { local IFS='|'; echo "| $* |"; }

for part in "${parts[@]}"; do
case $part in
a)
  echo "## (a) Does the REBOOT round time out when every CPU must WBINVD first?"
  echo
  echo "Scenario \`stop-mask-reboot\` (1f5e7eb7868e's stop protocol) at 192, 256 and 384 CPUs, --timed, $runs runs, seed 1;"
  echo "pre-RFC: \`-D WBINVD_RULE=WBINVD_LEAF_CHECKED\` (WBINVD only where SME is enumerated: none on this Intel part);"
  echo "RFC: \`-D WBINVD_RULE=WBINVD_BARE_METAL\` (unconditional on bare metal). A WBINVD costs \`wbinvd_walk_us\`,"
  echo "times 1 + \`wbinvd_contention\` x the CPUs already flushing."
  echo
  echo "| CPUs | stop path | wbinvd_walk_us | contention | REBOOT wait timed out (NMI round) | violations | time to finish p50 | p99 |"
  echo "|---:|---|---:|---:|---:|---|---:|---:|"
  for n in 192 256 384; do
    for rule in LEAF_CHECKED BARE_METAL; do
      [ $rule = LEAF_CHECKED ] && name=pre-RFC || name=RFC
      for walk in 50 500 5000; do
        for c in 0 0.01; do
          # pre-RFC flushes nothing on this part: one row per N, at the dearest flush.
          [ $rule = LEAF_CHECKED ] && { [ $walk != 5000 ] || [ $c != 0.01 ]; } && continue
          out="$work/a-$n-$rule-$walk-$c.json"
          sim "$out" "$stop" --scenario stop-mask-reboot --timed --cpus $n --runs $runs --seed 1 \
            -D WBINVD_RULE=WBINVD_$rule --set wbinvd_walk_us=$walk --set wbinvd_contention=$c
          IFS=$'\t' read -r t nmi v p50 p99 < <(summary "$out" timedout nmiround violations p50 p99)
          row " $n " " $name " " $walk " " $c " " $t ($nmi) " " $v " " $p50 " " $p99 "
        done
      done
    done
  done
  echo
  echo "Where the REBOOT round starts to time out: a flush longer than the 1 s wait (384 CPUs, RFC):"
  echo
  echo "| wbinvd_walk_us | contention | REBOOT wait timed out (NMI round) | violations | time to finish p50 |"
  echo "|---:|---:|---:|---|---:|"
  for wc in "500000 0" "1100000 0" "5000 0.5" "5000 1"; do
    set -- $wc
    out="$work/a-edge-$1-$2.json"
    sim "$out" "$stop" --scenario stop-mask-reboot --timed --cpus 384 --runs $runs --seed 1 \
      -D WBINVD_RULE=WBINVD_BARE_METAL --set wbinvd_walk_us=$1 --set wbinvd_contention=$2
    IFS=$'\t' read -r t nmi v p50 < <(summary "$out" timedout nmiround violations p50)
    row " $1 " " $2 " " $t ($nmi) " " $v " " $p50 "
  done
  "$KEXECSIM" simulate "$stop" --scenario stop-mask-reboot --timed --cpus 384 --runs $runs --seed 1 \
    -D WBINVD_RULE=WBINVD_BARE_METAL --set wbinvd_walk_us=50..5000 --plot "$plots/a-rfc-384.svg" > /dev/null
  echo
  ;;
b)
  echo "## (b) How often does the late-REBOOT+NMI race clobber the new kernel?"
  echo
  echo "Scenario \`kexec-stop-mask-late-reboot-nmi\`, --timed, $runs runs, seed 1; every REBOOT IPI arrives 0.9-1.1 s"
  echo "after it is sent (\`--set ipi_us=900000..1100000\`: CPUs with interrupts off that long), so the 1 s wait"
  echo "sometimes times out and the NMI round runs; the NMI latency varies."
  echo
  echo "| CPUs | nmi_us | REBOOT wait timed out | runs with a violation | share |"
  echo "|---:|---:|---:|---|---:|"
  for n in 2 8 64 192; do
    for nmi in 1..3 100..300 1000..5000 5000..20000; do
      r=$runs; [ $n -ge 64 ] && r=$((runs / 4))
      out="$work/b-$n-$nmi.json"
      sim "$out" "$stop" --scenario kexec-stop-mask-late-reboot-nmi --timed --cpus $n --runs $r --seed 1 \
        --set ipi_us=900000..1100000 --set nmi_us=$nmi
      IFS=$'\t' read -r t v rate < <(summary "$out" timedout violations rate)
      row " $n " " $nmi " " $t " " $v " " $rate "
    done
  done
  echo
  ;;
c)
  echo "## (c) How long does the sequential MWAIT kick take with 64 parked CPUs?"
  echo
  echo "Scenario \`parked-mwait-kick-to-hlt\` (d7893093a741's sequential kick) against \`parallel-kick\`"
  echo "(docs/questions/parallel-kick.kflow: every parked CPU's control word written first, then every status"
  echo "awaited), 65 CPUs (64 parked), --timed, $runs runs, seed 1, MWAIT wake latency 133-290 us (C6)."
  echo
  echo "| kick | time to finish p50 | p99 | max |"
  echo "|---|---:|---:|---:|"
  sim "$work/c-seq.json" models/catalog/seed002-parked-cpus.kflow --scenario parked-mwait-kick-to-hlt --timed --cpus 65 --runs $runs --seed 1 --max-steps 100000 \
    --plot "$plots/c-sequential-kick.svg"
  IFS=$'\t' read -r p50 p99 max < <(summary "$work/c-seq.json" p50 p99 max)
  row " sequential (kernel) " " $p50 " " $p99 " " $max "
  sim "$work/c-par.json" docs/questions/parallel-kick.kflow --scenario parallel-kick --timed --cpus 65 --runs $runs --seed 1 --max-steps 100000 \
    --plot "$plots/c-parallel-kick.svg"
  IFS=$'\t' read -r p50 p99 max < <(summary "$work/c-par.json" p50 p99 max)
  row " parallel " " $p50 " " $p99 " " $max "
  echo
  ;;
d)
  echo "## (d) PCT against random: runs to the first violation"
  echo
  r=$((runs * 10))
  echo "Untimed simulation (the default \`--reduce all\`: the walks of docs/simulate.md), $r runs ($((r / 5)) at 192 CPUs), seed 1, PCT depth 3 (the default)."
  echo
  echo "| scenario | CPUs | strategy | first violating run | runs with a violation | share |"
  echo "|---|---:|---|---:|---|---:|"
  for sc in "seed000-stop-wbinvd kexec-stop-mask-late-reboot-nmi 8" "seed000-stop-wbinvd kexec-stop-mask-late-reboot-nmi 192" \
            "seed000-stop-wbinvd stop-online-count-reboot 8" "seed002-parked-cpus parked-mwait-missed-kick 8" \
            "seed003-snp-kdump snp-kdump-meet-slow-cpu 8"; do
    set -- $sc
    for st in random pct; do
      rr=$r; [ "$3" -ge 64 ] && rr=$((r / 5))
      out="$work/d-$2-$3-$st.json"
      sim "$out" "models/catalog/$1.kflow" --scenario "$2" --cpus "$3" --runs $rr --seed 1 --strategy $st
      IFS=$'\t' read -r first v rate < <(summary "$out" first violations rate)
      row " $2 " " $3 " " $st " " $first " " $v " " $rate "
    done
  done
  echo
  ;;
esac
done
