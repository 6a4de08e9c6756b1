#!/usr/bin/env bash
# The fuzzing harness under AFL++ (docs/fuzzing.md).
#   fuzz/run.sh TARGET [SECONDS]     TARGET: frontend or trace; SECONDS: how long AFL++ runs (default 600)
#   fuzz/run.sh mutate TARGET N      the in-process mutation loop, N inputs (no AFL++ needed)
# Installs what it needs when missing: Debian's afl++ (apt-get) and the SharpFuzz.CommandLine dotnet tool.
# Findings land in fuzz/out/TARGET/default/crashes (AFL++) or fuzz/out/mutate-TARGET (mutation loop).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
target=${1:?usage: fuzz/run.sh frontend|trace [SECONDS] | fuzz/run.sh mutate frontend|trace N}
out=fuzz/KexecSim.Fuzz/bin/Release/net10.0
dotnet build fuzz/KexecSim.Fuzz -c Release -v q --nologo
if [[ $target == mutate ]]; then
    what=${2:?which target}; inputs=${3:-1000000}
    exec dotnet "$out/KexecSim.Fuzz.dll" mutate "$what" "fuzz/corpus/$what" "fuzz/out/mutate-$what" --inputs "$inputs" --seed "${SEED:-1}"
fi
seconds=${2:-600}
if ! command -v afl-fuzz >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++
fi
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v sharpfuzz >/dev/null 2>&1; then
    dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0
fi
# Instrument the project's assemblies (not the runtime's or the packages'): AFL++ then sees their branches.
for dll in KexecSim.Language KexecSim.Program KexecSim.Machine KexecSim.Exploration KexecSim.Reporting; do
    sharpfuzz "$out/$dll.dll" || true   # already instrumented after an earlier run: it says so
done
mkdir -p "fuzz/out/$target"
# AFL_SKIP_BIN_CHECK: the instrumentation is in the .NET assemblies, not in the native host. -t: ms per input (the front end starts a thread per load); a .NET process needs a large memory limit.
AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
    timeout --signal=INT "$seconds" afl-fuzz -i "fuzz/corpus/$target" -o "fuzz/out/$target" -t 5000 -m none \
    -- "$out/KexecSim.Fuzz" "$target" || true
cat "fuzz/out/$target/default/fuzzer_stats" 2>/dev/null | grep -E 'execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|run_time' || true
