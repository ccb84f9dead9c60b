#!/usr/bin/env bash
# tests/fuzz/run_fuzzers.sh — runs the libFuzzer targets for a fixed time each (STYLE 8.7).
#
# Usage: tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#   BUILD_DIR  a build configured with -DHPF_BUILD_FUZZ=ON (tests/fuzz/README.md)
#   SECONDS    fuzzing time per target (CI: ~20; the slow run: ~300)
#   TARGET     default: every target below
#
# For each target: first every committed reproducer in regressions/<target>/ runs once; then
# the fuzzer runs for SECONDS on a temporary COPY of corpus/<target>/, so the committed corpus
# never grows here. Exits 1 if any target crashed, leaked, hung, ran out of memory or
# failed a regression, naming each such target with the input's path and hex; the inputs are
# kept under BUILD_DIR/fuzz-artifacts/<target>/. Exits 2 on bad usage or a missing binary.
set -euo pipefail

readonly TARGETS_ALL=(record_fuzz chunk_fuzz head_digest_fuzz state_delta_fuzz command_json_fuzz
  remittance_csv_fuzz)
readonly RSS_LIMIT_MB=2048
# One input taking longer than this is a hang (the decoders are linear in their input).
readonly INPUT_TIMEOUT_S=10

usage() {
  sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
build_dir=$(cd "$1" && pwd) || usage
seconds=$2
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS must be a positive integer" >&2; usage; }
shift 2
targets=("${TARGETS_ALL[@]}")
[[ $# -eq 0 ]] || targets=("$@")

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hpf-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Abort on the first UBSan report (the build also says -fno-sanitize-recover) with a stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]] && command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
fi

hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

failed=()

for target in "${targets[@]}"; do
  binary="$build_dir/tests/fuzz/$target"
  if [[ ! -x $binary ]]; then
    echo "run_fuzzers: $binary is missing; build it with" \
         "cmake --build $build_dir --target $target" >&2
    exit 2
  fi
  artifacts="$build_dir/fuzz-artifacts/$target"
  mkdir -p "$artifacts"
  log="$work/$target.log"

  # Regressions: each committed reproducer once (libFuzzer runs file arguments and exits).
  regressions=()
  if [[ -d $here/regressions/$target ]]; then
    while IFS= read -r -d '' file; do regressions+=("$file"); done \
      < <(find "$here/regressions/$target" -type f -print0 | sort -z)
  fi
  if [[ ${#regressions[@]} -gt 0 ]]; then
    if ! "$binary" -rss_limit_mb="$RSS_LIMIT_MB" -timeout="$INPUT_TIMEOUT_S" \
         "${regressions[@]}" >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "run_fuzzers: $target FAILED a committed regression in regressions/$target/"
      failed+=("$target (regression)")
      continue
    fi
    echo "run_fuzzers: $target passes ${#regressions[@]} regression input(s)"
  fi

  # Fuzzing: a private copy of the corpus; new inputs land only there.
  corpus="$work/corpus-$target"
  mkdir -p "$corpus"
  if [[ -d $here/corpus/$target ]]; then cp -R "$here/corpus/$target/." "$corpus/"; fi
  echo "run_fuzzers: $target for ${seconds}s on a copy of corpus/$target" \
       "($(find "$corpus" -type f | wc -l) inputs)"
  started="$work/started-$target"  # artifacts newer than this are this run's
  touch "$started"
  status=0
  "$binary" "$corpus" -max_total_time="$seconds" -rss_limit_mb="$RSS_LIMIT_MB" \
    -timeout="$INPUT_TIMEOUT_S" -print_final_stats=1 -artifact_prefix="$artifacts/" \
    >"$log" 2>&1 || status=$?
  if [[ $status -ne 0 ]]; then
    tail -n 80 "$log"
    echo "run_fuzzers: $target FAILED (exit $status); inputs kept in $artifacts/:"
    while IFS= read -r -d '' file; do
      echo "  $file ($(stat -c %s "$file") bytes): $(hex "$file" | cut -c1-2000)"
    done < <(find "$artifacts" -type f -newer "$started" -print0)
    failed+=("$target")
    continue
  fi
  # The last progress line and the final stats: executions, speed, coverage, corpus.
  grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" \
    | tr '\n' ' ' || true
  echo
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_fuzzers: FAILED: ${failed[*]}"
  exit 1
fi
echo "run_fuzzers: all ${#targets[@]} target(s) ran ${seconds}s without a finding"
