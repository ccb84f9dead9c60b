#!/usr/bin/env bash
# tools/test.sh — builds and passes every test on a fresh Debian 12 machine (what CI runs).
#
#   1. release build (RelWithDebInfo, assertions on): every test except the `slow` label
#   2. Debug with AddressSanitizer + UndefinedBehaviorSanitizer: the unit tests
#   3. clang-format --dry-run --Werror over our sources
#   4. libFuzzer targets (clang) for a short run each
# HPF_SLOW=1 also runs the `slow` label (long crash and fuzz runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
hpf_install_deps
export CCACHE_BASEDIR="$PWD"
jobs="$(nproc)"
slow="${HPF_SLOW:-0}"
started=$SECONDS
step() { echo; echo "=== $* ($((SECONDS - started)) s)"; }

step "release build"
hpf_build_release
step "release tests"
if [ "$slow" = 1 ]; then
  ctest --test-dir build/release --output-on-failure
else
  ctest --test-dir build/release --output-on-failure -LE slow
fi

step "sanitizer build (address,undefined)"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DHPF_SANITIZERS=address,undefined \
  -DHPF_BUILD_BENCH=OFF >/dev/null
cmake --build build/asan -j"$jobs"
step "sanitizer unit tests"
ctest --test-dir build/asan --output-on-failure -L unit

step "format"
git ls-files -z '*.h' '*.cc' | xargs -0 clang-format --dry-run --Werror

if [ -f tests/fuzz/run_fuzzers.sh ]; then
  step "fuzz build (clang)"
  cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHPF_BUILD_FUZZ=ON -DHPF_BUILD_TESTS=OFF -DHPF_BUILD_BENCH=OFF >/dev/null
  cmake --build build/fuzz -j"$jobs" --target hpf_fuzzers
  step "fuzz run"
  if [ "$slow" = 1 ]; then
    bash tests/fuzz/run_fuzzers.sh build/fuzz 300
  else
    bash tests/fuzz/run_fuzzers.sh build/fuzz 20
  fi
fi
step "all passed"
