#!/usr/bin/env bash
# Rewrites every .expected file of the corpus from the current build (review the diff before committing).
# Each line: file:line:col: severity KFnnnn (messages are asserted by focused tests, not here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kexecsim=${KEXECSIM:-"$here/../../src/KexecSim.Cli/bin/Debug/net10.0/kexecsim"}
strip() { grep -E '^[^ ]+:[0-9]+:[0-9]+: ' | sed -E 's/^([^:]+:[0-9]+:[0-9]+: [a-z]+ KF[0-9]+):.*/\1/' || true; }
cd "$here"
find . -name '*.kflow' | sort | while read -r f; do
  d=$(dirname "$f"); b=$(basename "$f" .kflow)
  if [ -f "$d/main.kflow" ]; then
    [ "$b" = main ] || continue
    (cd "$d" && "$kexecsim" lint main.kflow | strip > expected) || true
  elif [ "$(basename "$(dirname "$d")")" != "$(basename "$d")" ] && [ -f "$(dirname "$d")/main.kflow" ]; then
    continue
  else
    (cd "$d" && "$kexecsim" lint "$b.kflow" | strip > "$b.expected") || true
  fi
done
