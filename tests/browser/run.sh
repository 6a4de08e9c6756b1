#!/usr/bin/env bash
# The browser test of the HTML report (docs/html-report.md): writes the report of a catalog counterexample with
# the kexecsim command, opens it in headless Chromium through playwright-core and checks it; the screenshot is
# left in tests/browser/artifacts/report.png. Needs Debian's chromium (installed here when missing and run as
# root) and Node.js with npm.
set -euo pipefail
cd "$(dirname "$0")"
root=../..

if [ -z "${CHROMIUM:-}" ]; then
    if ! command -v chromium >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "tests/browser: installing Debian's chromium" >&2
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
        else
            echo "tests/browser: Debian's chromium is required (apt-get install chromium) and was not found" >&2
            exit 1
        fi
    fi
    CHROMIUM=$(command -v chromium)
fi
export CHROMIUM
if ! command -v npm >/dev/null 2>&1; then
    echo "tests/browser: Node.js with npm is required and was not found" >&2
    exit 1
fi
# playwright-core at the version package-lock.json pins (it downloads no browser).
npm ci --no-audit --no-fund --loglevel=error

mkdir -p artifacts
export REPORT="$PWD/artifacts/report.html" SCREENSHOT="$PWD/artifacts/report.png" COLLAPSED_REPORT="$PWD/artifacts/collapsed.html"
(cd "$root" && dotnet run --project src/KexecSim.Cli -- check models/catalog/seed004-sme.kflow \
    --scenario sme-no-relocate-wbinvd --report "$REPORT" >/dev/null)
# parked-hlt-stray-smi has a collapsed row (steps 10-13) for the expand test.
(cd "$root" && dotnet run --no-build --project src/KexecSim.Cli -- check models/catalog/seed002-parked-cpus.kflow \
    --scenario parked-hlt-stray-smi --report "$COLLAPSED_REPORT" >/dev/null)
node --test report.test.mjs
echo "tests/browser: screenshots in tests/browser/artifacts/report.png and report-expanded.png"
