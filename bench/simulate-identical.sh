#!/usr/bin/env bash
# Whether two builds of kexecsim simulate give the same results (a performance change must not change any):
# every catalog scenario x random/pct/timed (60 runs, seed 7, 2 workers), and stop-mask-reboot and
# kexec-stop-mask-late-reboot-nmi at 192 and 1,024 CPUs with 1 and 2 workers, as JSON with the timing
# figures (seconds, runs/s, steps/s) and the build's own directory removed. Prints IDENTICAL or each file that differs.
#
#   bench/simulate-identical.sh OLD/kexecsim NEW/kexecsim          (copy the old build's bin/Release/net10.0 first)
#   bench/simulate-identical.sh --quick OLD/kexecsim NEW/kexecsim  the 192/1,024-CPU runs only (about a minute)
#   --new-args "ARGS"   append ARGS to every simulate command of the NEW build only: against a build from before
#                       `simulate --reduce`, `--new-args "--reduce none"` checks that the full machine's walks are
#                       unchanged (a result's "reduce": "none" is what an older result without the field means)
# Needs python3.
set -u
. "$(dirname "$0")/common.sh"
quick=""
new_args=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; shift ;;
    --new-args) new_args=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

golden() { # BIN OUTDIR [EXTRA ARGS]
  local bin=$1 out=$2 f sc mode n r w i=0
  local -a extra=()
  [ -n "${3:-}" ] && read -r -a extra <<< "$3"
  mkdir -p "$out"
  local strip; strip=$(cd "$(dirname "$bin")" && pwd)/
  norm() { python3 -c '
import json, sys
d = json.load(sys.stdin)
d["model"].pop("files", None)
if d.get("simulation", {}).get("reduce") == "none":
    d["simulation"].pop("reduce")
for k in ("seconds", "runsPerSecond", "stepsPerSecond"):
    d.get("statistics", {}).pop(k, None)
print(json.dumps(d, indent=1, sort_keys=True).replace(sys.argv[1], ""))' "$strip"; }
  cd "$REPO_ROOT"
  if [ -z "$quick" ]; then
    for f in models/catalog/*.kflow; do
      for sc in $(grep -o '^scenario "[^"]*"' "$f" | cut -d'"' -f2); do
        for mode in random pct timed; do
          if [ $mode = timed ]; then flags=(--timed); else flags=(--strategy $mode); fi
          "$bin" simulate "$f" --scenario "$sc" --runs 60 --seed 7 --workers 2 --format json "${flags[@]}" "${extra[@]}" 2>/dev/null |
            norm > "$out/$(basename "$f" .kflow)-$sc-$mode.json" &
          i=$((i + 1)); [ $((i % 4)) = 0 ] && wait
        done
      done
    done
    wait
  fi
  m=models/catalog/seed000-stop-wbinvd.kflow
  for n in 192 1024; do
    r=$((40960 / n))
    for mode in random pct timed; do
      if [ $mode = timed ]; then flags=(--timed); else flags=(--strategy $mode); fi
      for w in 1 2; do
        "$bin" simulate $m --scenario stop-mask-reboot --cpus $n --runs $r --seed 3 --workers $w --format json "${flags[@]}" "${extra[@]}" | norm > "$out/stop-$n-$mode-w$w.json"
      done
      "$bin" simulate $m --scenario kexec-stop-mask-late-reboot-nmi --cpus $n --runs $((r / 2)) --seed 5 --workers 2 --format json "${flags[@]}" "${extra[@]}" | norm > "$out/late-$n-$mode.json"
    done
  done
}
golden "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" "$work/old"
golden "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")" "$work/new" "$new_args"
bad=0
for f in "$work"/old/*.json; do
  cmp -s "$f" "$work/new/$(basename "$f")" || { echo "differs: $(basename "$f")"; bad=1; }
done
[ $bad = 0 ] && echo "IDENTICAL: $(ls "$work/old" | wc -l) results"
exit $bad
