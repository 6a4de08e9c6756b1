#!/usr/bin/env bash
# Runs the benchmark suite (Release). Extra arguments go to BenchmarkDotNet, e.g.
#   bench/run.sh --filter '*FrontEnd*' --job short
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/KexecSim.Benchmarks -- "${@:---filter *}"
