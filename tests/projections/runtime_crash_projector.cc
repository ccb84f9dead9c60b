// tests/projections/runtime_crash_projector.cc — the projection crash test's child: a projector
// that runs every projection until the parent kills it with SIGKILL.
//
//   hpf-crash-projector STORE_DIR BATCH EXPECTED_RECORDS log LOG_DIR
//   hpf-crash-projector STORE_DIR BATCH EXPECTED_RECORDS kafka BOOTSTRAP GROUP
//
// Opens the projection store and the source (the log read-only, or the Kafka topic), registers
// every projection (runtime_test_support.h AllProjections) and starts a runner. It reports on
// stdout, one line each: "reading" once it has read a record, "done" once the test projection
// counts EXPECTED_RECORDS and no projection lags or catches up. Anything unexpected — a runner
// error — is printed to stderr with exit code 1, which the parent sees instead of its SIGKILL.
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>

#include <fmt/core.h>
#include <sys/prctl.h>

#include "events/event_log.h"
#include "projections/kafka_source.h"
#include "projections/log_source.h"
#include "projections/projection_store.h"
#include "projections/runtime.h"
#include "tests/projections/runtime_test_support.h"

namespace hpf::projections {
namespace {

// The parent kills us well before this; it only stops an orphan.
constexpr auto kLifetimeMax = std::chrono::seconds(120);

[[noreturn]] void Die(std::string_view what) {
  fmt::print(stderr, "hpf-crash-projector: {}\n", what);
  std::fflush(stderr);
  std::_Exit(1);
}

void Say(std::string_view line) {
  const std::string text = std::string(line) + "\n";
  if (write(STDOUT_FILENO, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    Die("writing to stdout failed");
  }
}

uint64_t Number(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    Die(fmt::format("'{}' is not a number", text));
  }
  return value;
}

int Run(int argc, char** argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // die with the parent
  if (argc < 6) {
    Die("usage: STORE_DIR BATCH EXPECTED_RECORDS log LOG_DIR | kafka BOOTSTRAP GROUP");
  }
  const std::string store_dir = argv[1];
  const uint64_t batch = Number(argv[2]);
  const uint64_t expected = Number(argv[3]);
  const std::string_view kind = argv[4];
  auto store = ProjectionStore::Open({.dir = store_dir});
  if (!store.has_value()) Die(store.status().ToString());
  std::unique_ptr<events::EventLog> log;
  std::unique_ptr<Source> source;
  if (kind == "log") {
    auto opened = events::EventLog::OpenReadOnly(argv[5]);
    if (!opened.has_value()) Die(opened.status().ToString());
    log = std::move(opened).value();
    source = std::make_unique<LogSource>(*log);
  } else if (kind == "kafka" && argc == 7) {
    auto kafka = KafkaSource::Create(
        {.bootstrap_servers = argv[5], .group_id = argv[6], .properties = {{"log_level", "3"}}});
    if (!kafka.has_value()) Die(kafka.status().ToString());
    source = std::move(kafka).value();
  } else {
    Die(fmt::format("unknown source {}", kind));
  }
  auto runner =
      Runner::Create({.store = store->get(), .source = source.get(), .batch_records_max = batch});
  if (!runner.has_value()) Die(runner.status().ToString());
  for (auto& projection : testing::AllProjections()) {
    const Status added = (*runner)->Add(std::move(projection));
    if (!added.ok()) Die(added.ToString());
  }
  const Status started = (*runner)->Start();
  if (!started.ok()) Die(started.ToString());
  const auto deadline = std::chrono::steady_clock::now() + kLifetimeMax;
  bool reading = false;
  bool done = false;
  while (std::chrono::steady_clock::now() < deadline) {
    const RunnerStats stats = (*runner)->stats();
    if (stats.state == RunnerState::kFailed) Die(stats.error.ToString());
    if (!reading && stats.records_read > 0) {
      reading = true;
      Say("reading");
    }
    if (!done) {
      bool caught_up = true;
      for (const auto& projection : stats.projections) {
        caught_up = caught_up && projection.lag_records == 0 && !projection.catching_up;
      }
      auto view = (*runner)->View("runtime-test");
      if (caught_up && view.has_value()) {
        auto totals = testing::ReadTotals(**view);
        if (!totals.has_value()) Die(totals.status().ToString());
        if (totals->records == expected) {
          done = true;
          Say("done");
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Die("not killed in time");
}

}  // namespace
}  // namespace hpf::projections

int main(int argc, char** argv) { return hpf::projections::Run(argc, argv); }
