#!/usr/bin/env bash
# tools/run.sh — the main job on a fresh Debian 12 machine: install what is missing, build,
# and run the demo city through the event log into ./data (until ledgerd lands, issue #5).
# Rerunnable: a second run appends nothing (every command is idempotent) and verifies again.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
hpf_install_deps
hpf_build_release --target ledger-demo ledger-replay
build/release/tools/ledger-demo --data-dir ./data "$@"
