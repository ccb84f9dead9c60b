# tools/deps.sh — the Debian 12 packages hpf-ledger builds, tests and runs with.
# Sourced by tools/run.sh and tools/test.sh; installs only what is missing, so reruns are fast.
#
# Why each: cmake/g++/make/pkg-config/ccache build; librocksdb-dev the event log; librdkafka-dev
# Kafka publication and its mock broker; flatbuffers-compiler + libflatbuffers-dev the record
# schema; libfmt-dev formatting; libboost1.81-dev + libboost-json1.81-dev Beast/Asio/JSON for
# ledgerd; doctest-dev tests; libssl-dev SHA-256/SM3 and TLS; clang + libclang-rt-14-dev the
# libFuzzer targets; clang-format the style check; python3 the tidy check; git the tidy file
# list; python3-kafka + python3-flatbuffers the outside client that reads our Kafka topic in
# tests/kafka/python_reader.py (DESIGN §6); kcat to look at the topic by hand (docs/kafka.md).
HPF_PACKAGES=(
  cmake g++ make pkg-config ccache git python3
  librocksdb-dev librdkafka-dev flatbuffers-compiler libflatbuffers-dev libfmt-dev
  libboost1.81-dev libboost-json1.81-dev doctest-dev libssl-dev
  clang libclang-rt-14-dev clang-format
  python3-kafka python3-flatbuffers kcat
)

hpf_install_deps() {
  local missing=()
  for package in "${HPF_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

# Configures (once) and builds the given targets of the release tree build/release.
hpf_build_release() {
  export CCACHE_BASEDIR="$PWD"
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/release -j"$(nproc)" "$@"
}
