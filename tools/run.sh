#!/usr/bin/env bash
# tools/run.sh — the main job on a fresh Debian 12 machine: install what is missing, build, and
# run the service on its embedded default: ledgerd with its store under ./data, the
# development Kafka broker in-process (--kafka embedded) and, when the store is empty, a small
# ledger-sim city (--demo). It prints curl lines to try and how to attach kcat; Ctrl-C or
# SIGTERM stops it after answering what is in flight. Rerunnable: the store is kept, the demo
# city is loaded only into an empty one. Extra arguments go to ledgerd (e.g. --listen).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
hpf_install_deps
hpf_build_release --target ledgerd ledger-replay
exec build/release/tools/ledgerd/ledgerd --data-dir ./data --listen 127.0.0.1:8080 \
  --kafka embedded --topic hpf.ledger.events --demo "$@"
