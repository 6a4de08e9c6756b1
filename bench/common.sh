# Helpers shared by bench/scale.sh and bench/vs-spin.sh (sourced, not run).
# Paths are found from this file's own location, never from the machine's.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
# KEXECSIM may be given (another build, to compare); by default the repository's Release build.
KEXECSIM="${KEXECSIM:-$REPO_ROOT/src/KexecSim.Cli/bin/Release/net10.0/kexecsim}"

# Builds the Release CLI when it is missing (or when $1 is "force").
ensure_kexecsim() {
  if [ "${1:-}" = force ] || [ ! -x "$KEXECSIM" ]; then
    echo "building the Release CLI (dotnet build -c Release src/KexecSim.Cli) ..." >&2
    (cd "$REPO_ROOT" && dotnet build -c Release src/KexecSim.Cli >&2) || { echo "build failed" >&2; exit 2; }
  fi
}

# GNU time, for the peak RSS; empty when absent (then the tables say n/a).
TIME_BIN=""
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then TIME_BIN=/usr/bin/time; fi

# json_get FILE EXPR...: one line per jq path (".scenarios[0].statistics.states"); "null" when absent.
if command -v jq >/dev/null 2>&1; then
  json_get() { local f=$1; shift; local e; for e in "$@"; do jq -r "$e // \"null\"" "$f" 2>/dev/null || echo null; done; }
elif command -v python3 >/dev/null 2>&1; then
  json_get() {
    python3 - "$@" <<'PY'
import json, re, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception:
    doc = None
for expr in sys.argv[2:]:
    v = doc
    for key, idx in re.findall(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]', expr):
        try:
            v = v[key] if key else v[int(idx)]
        except Exception:
            v = None
            break
    if isinstance(v, list):
        v = len(v)      # only "| length" of a list is ever asked for
    print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)
PY
  }
else
  echo "needs jq or python3 to read the JSON report (apt-get install jq)" >&2; exit 2
fi

# rss_mb TIMEFILE: peak RSS in MB from GNU time -v output, or n/a.
rss_mb() {
  local kb
  kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$1" 2>/dev/null)
  if [ -n "$kb" ]; then awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }'; else echo n/a; fi
}

# wall_s TIMEFILE: elapsed wall time in seconds from GNU time -v output, or empty.
wall_s() {
  sed -n 's/.*Elapsed (wall clock) time.*: //p' "$1" 2>/dev/null |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# run_kexecsim OUTDIR MODEL SCENARIO N FLAGS...: runs one check with --format json; leaves
# OUTDIR/report.json, OUTDIR/stderr, OUTDIR/time (GNU time -v) and OUTDIR/wall (seconds).
run_kexecsim() {
  local out=$1 model=$2 scenario=$3 n=$4; shift 4
  local t0 t1
  t0=$(now)
  if [ -n "$TIME_BIN" ]; then
    "$TIME_BIN" -v -o "$out/time" "$KEXECSIM" check "$model" --scenario "$scenario" --cpus "$n" --format json "$@" \
      > "$out/report.json" 2> "$out/stderr"
  else
    "$KEXECSIM" check "$model" --scenario "$scenario" --cpus "$n" --format json "$@" > "$out/report.json" 2> "$out/stderr"
  fi
  echo $? > "$out/exit"
  t1=$(now)
  elapsed "$t0" "$t1" > "$out/wall"
}

# per_second COUNT SECONDS: COUNT/SECONDS rounded, or n/a.
per_second() { awk -v c="$1" -v s="$2" 'BEGIN { if (s + 0 > 0 && c ~ /^[0-9]+$/) printf "%.0f", c / s; else printf "n/a" }'; }
