// bench/lag_bench.cc — `ledger-bench lag`: commit-to-projected lag at a steady ingest rate.
//
// A ledger-sim city goes through the sequencer and the synced log at a fixed offered rate
// (default 50 000 commands/s, ~1 record each) while a projection runner follows the log with
// every read model, as ledgerd runs them. For each submission (a 10 ms slice of the rate):
// commit = when the sequencer answers (its group is durable, the head has moved); projected =
// when EVERY read model has applied its last record (Runner::WaitForPosition). Reported: the
// lag's p50/p99/max, and the same measure for a bare LogTailer on the same log — the in-run
// baseline: what following the log costs before any projection work.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <fmt/core.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "events/event_log.h"
#include "events/log_tailer.h"
#include "ledger/sequencer.h"
#include "projections/limits.h"
#include "projections/log_source.h"
#include "projections/projection_store.h"
#include "projections/read_models/read_models.h"
#include "projections/runtime.h"
#include "tools/ledger-sim/city.h"

namespace hpf::bench {

namespace {

using Clock = std::chrono::steady_clock;
using events::GlobalPosition;

struct LagRun {
  double offered_per_s = 0;
  double achieved_per_s = 0;  // records appended per second
  std::vector<double> projected_ms;
  std::vector<double> tailed_ms;
  uint64_t records = 0;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto at = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  return values[at];
}

LagRun RunOnce(const std::vector<ledger::Command>& commands, uint64_t rate) {
  const std::string dir = MakeTempDir("hpf-bench-lag");
  auto log =
      events::EventLog::Open({.data_dir = dir + "/log", .mode = events::OpenMode::kCreateNew});
  HPF_ASSERT(log.has_value());
  const ledger::PolicyBook policy = ledger::DefaultPolicy();
  auto sequencer = ledger::Sequencer::Open({.log = log->get(), .policy = &policy});
  HPF_ASSERT(sequencer.has_value());
  auto store = projections::ProjectionStore::Open({.dir = dir + "/projections"});
  HPF_ASSERT(store.has_value());
  projections::LogSource source(**log);
  auto runner = projections::Runner::Create({.store = store->get(), .source = &source});
  HPF_ASSERT(runner.has_value());
  auto models = projections::read_models::CreateReadModels({});
  HPF_ASSERT(models.has_value());
  std::vector<std::string> names;
  for (auto& model : *models) {
    names.emplace_back(model->name());
    HPF_ASSERT((*runner)->Add(std::move(model)).ok());
  }
  HPF_ASSERT((*runner)->Start().ok());

  // The baseline: a bare tailer noting when it first sees each position.
  std::mutex seen_mutex;
  std::vector<std::pair<uint64_t, Clock::time_point>> seen;  // (last position of a poll, when)
  std::atomic<bool> stop_tailer{false};
  std::thread tailer_thread([&] {
    events::LogTailer tailer(**log, GlobalPosition{0});
    while (!stop_tailer.load()) {
      uint64_t last = 0;
      auto polled =
          tailer.Poll(1 << 16, std::chrono::milliseconds(5), [&](const events::RecordRef& ref) {
            last = ref.position.value;
            return true;
          });
      HPF_ASSERT(polled.has_value());
      if (last != 0) {
        std::lock_guard lock(seen_mutex);
        seen.emplace_back(last, Clock::now());
      }
    }
  });

  struct Slice {
    std::future<std::vector<ledger::CommandResult>> results;
  };
  std::deque<Slice> slices;
  std::mutex slices_mutex;
  std::condition_variable slices_cv;
  bool done_submitting = false;
  LagRun run;
  run.offered_per_s = static_cast<double>(rate);
  std::vector<std::pair<uint64_t, Clock::time_point>> commits;  // (last position, commit time)
  std::thread measurer([&] {
    while (true) {
      Slice slice;
      {
        std::unique_lock lock(slices_mutex);
        slices_cv.wait(lock, [&] { return done_submitting || !slices.empty(); });
        if (slices.empty()) return;
        slice = std::move(slices.front());
        slices.pop_front();
      }
      uint64_t last = 0;
      for (const auto& result : slice.results.get()) {
        HPF_ASSERT(!std::holds_alternative<ledger::CommandFailed>(result));
        if (const auto* accepted = std::get_if<ledger::CommandAccepted>(&result)) {
          last = std::max(last, accepted->position.value);
        }
      }
      const Clock::time_point committed = Clock::now();
      if (last == 0) continue;
      commits.emplace_back(last, committed);
      for (const auto& name : names) {
        auto view = (*runner)->WaitForPosition(name, GlobalPosition{last},
                                               projections::kWaitForPositionMax);
        HPF_ASSERT(view.has_value());
      }
      run.projected_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - committed).count());
    }
  });

  // Offer the commands in 10 ms slices at the given rate.
  constexpr auto kSlice = std::chrono::milliseconds(10);
  const size_t per_slice = std::max<size_t>(1, static_cast<size_t>(rate / 100));
  const auto start = Clock::now();
  auto next = start;
  for (size_t at = 0; at < commands.size(); at += per_slice) {
    std::this_thread::sleep_until(next);
    next += kSlice;
    const size_t end = std::min(commands.size(), at + per_slice);
    std::vector<ledger::Command> slice(commands.begin() + static_cast<long>(at),
                                       commands.begin() + static_cast<long>(end));
    auto future = (*sequencer)->Submit(std::move(slice));
    {
      std::lock_guard lock(slices_mutex);
      slices.push_back({std::move(future)});
    }
    slices_cv.notify_one();
  }
  {
    std::lock_guard lock(slices_mutex);
    done_submitting = true;
  }
  slices_cv.notify_one();
  measurer.join();
  const double seconds = SecondsSince(start);
  run.records = (*log)->head().position.value;
  run.achieved_per_s = static_cast<double>(run.records) / seconds;
  stop_tailer.store(true);
  tailer_thread.join();
  // The tailer's lag for the same slices: first poll that reached the slice's last position,
  // measured from the same commit moment (never below zero: the tailer may see the head move
  // before the sequencer's answer arrives).
  for (const auto& [last, committed] : commits) {
    const auto it = std::lower_bound(
        seen.begin(), seen.end(), last,
        [](const std::pair<uint64_t, Clock::time_point>& s, uint64_t p) { return s.first < p; });
    HPF_ASSERT(it != seen.end());
    run.tailed_ms.push_back(
        std::max(0.0, std::chrono::duration<double, std::milli>(it->second - committed).count()));
  }
  HPF_ASSERT((*runner)->Stop().ok());
  HPF_ASSERT((*sequencer)->Close().ok());
  HPF_ASSERT((*log)->Close().ok());
  runner->reset();
  store->reset();
  sequencer->reset();
  log->reset();
  RemoveDir(dir);
  return run;
}

}  // namespace

int RunLag(const Flags& flags) {
  sim::CityOptions city{
      .seed = flags.GetU64("seed", 1),
      .employers = static_cast<uint32_t>(flags.GetU64("employers", 500)),
      .accounts_per_employer = static_cast<uint32_t>(flags.GetU64("accounts-per-employer", 40))};
  const uint64_t rate = flags.GetU64("rate", 50000);
  const uint64_t runs = flags.GetU64("runs", 3);
  if (rate == 0 || runs == 0 || city.employers == 0) {
    fmt::print(stderr, "lag: --rate, --runs, --employers > 0\n");
    return 2;
  }
  std::vector<ledger::Command> commands;
  const auto counts = sim::GenerateCity(
      city, [&](ledger::Command&& command) { commands.push_back(std::move(command)); });
  fmt::print(
      "lag: {} commands of a city of {} employers and {} accounts offered at {} commands/s in "
      "10 ms slices; every read model follows the log; {} runs\n",
      counts.commands, counts.employers, counts.accounts, rate, runs);
  fmt::print("machine: {}\n", MachineSummary());
  std::vector<double> p50s, p99s, maxes, tail_p99s, achieved;
  for (uint64_t r = 0; r < runs; ++r) {
    const LagRun run = RunOnce(commands, rate);
    p50s.push_back(Percentile(run.projected_ms, 0.50));
    p99s.push_back(Percentile(run.projected_ms, 0.99));
    maxes.push_back(Percentile(run.projected_ms, 1.0));
    tail_p99s.push_back(Percentile(run.tailed_ms, 0.99));
    achieved.push_back(run.achieved_per_s);
    fmt::print(
        "run {}: {} records at {:.0f}/s; commit-to-projected p50 {:.2f} ms, p99 {:.2f} ms, "
        "max {:.2f} ms; bare tailer p99 {:.2f} ms\n",
        r + 1, run.records, run.achieved_per_s, p50s.back(), p99s.back(), maxes.back(),
        tail_p99s.back());
  }
  fmt::print(
      "{{\"bench\":\"lag\",\"offered_commands_per_s\":{},\"records_per_s\":{:.0f},"
      "\"runs\":{},\"projected_p50_ms\":{:.2f},\"projected_p99_ms\":{:.2f},"
      "\"tailer_p99_ms\":{:.2f},\"target_p99_ms\":50}}\n",
      rate, Median(achieved), runs, Median(p50s), Median(p99s), Median(tail_p99s));
  return 0;
}

}  // namespace hpf::bench
