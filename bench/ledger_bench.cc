// bench/ledger_bench.cc — `ledger-bench NAME [--flag value]...`, the benchmark driver.
#include <cstring>
#include <functional>
#include <string_view>

#include <fmt/core.h>

#include "bench/benchmarks.h"

namespace {

struct Benchmark {
  std::string_view name;
  std::string_view about;
  int (*run)(const hpf::bench::Flags&);
};

// Later issues add publish, http-ingest, query and replay here.
constexpr Benchmark kBenchmarks[] = {
    {"log-append",
     "durable appends vs plain RocksDB per-event Puts (--records --threads --batch --runs)",
     hpf::bench::RunLogAppend},
    {"ingest",
     "a synthetic city's commands through the sequencer and the durable log, vs plain RocksDB "
     "(--employers --accounts-per-employer --submission --inflight --runs)",
     hpf::bench::RunIngest},
    {"publish",
     "the KafkaPublisher from a prepared log vs raw librdkafka, same messages, same "
     "development broker (--records --partitions --runs)",
     hpf::bench::RunPublish},
    {"http-ingest",
     "a synthetic city's commands posted to ledgerd over loopback HTTP in 1 000-command "
     "requests, vs the same commands straight into the sequencer (--employers "
     "--accounts-per-employer --batch --connections --io-threads --runs)",
     hpf::bench::RunHttpIngest},
    {"rebuild",
     "every read model rebuilt from a synthetic city's log by the projection runtime, vs a raw "
     "scan of the log (--employers --accounts-per-employer --batch --apply-threads --runs "
     "--log-dir)",
     hpf::bench::RunRebuild},
    {"lag",
     "commit-to-projected lag at a steady offered rate, every read model following the log, vs "
     "a bare log tailer (--rate --employers --accounts-per-employer --runs)",
     hpf::bench::RunLag},
    {"query",
     "account lookups over keep-alive loopback HTTP at a fixed offered rate and at max rate, "
     "vs the same lookups on a ReadView (--employers --accounts-per-employer --connections "
     "--rate --seconds --io-threads --runs)",
     hpf::bench::RunQuery},
};

int Usage() {
  fmt::print(stderr, "usage: ledger-bench NAME [--flag value]...\n");
  for (const auto& b : kBenchmarks) fmt::print(stderr, "  {:<12} {}\n", b.name, b.about);
  fmt::print(stderr, "  {:<12} every benchmark above with its defaults\n", "all");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string_view name = argv[1];
  hpf::bench::Flags flags;
  std::string error;
  if (!flags.Parse(argc, argv, 2, &error)) {
    fmt::print(stderr, "ledger-bench: {}\n", error);
    return 2;
  }
  int status = -1;
  for (const auto& b : kBenchmarks) {
    if (name == b.name || name == "all") status = std::max(status, b.run(flags));
  }
  if (status < 0) return Usage();
  for (const auto& unused : flags.Unused()) {
    fmt::print(stderr, "ledger-bench: unknown flag --{}\n", unused);
    status = 2;
  }
  return status;
}
