// bench/rebuild_bench.cc — `ledger-bench rebuild`: every registered projection (the read models,
// projections/read_models/read_models.h) rebuilt from zero from the log of a synthetic city, by
// the projection runtime over the log source: events/s from Start() until every projection's
// view reflects the head. The city is ledger-sim's (the same as `ingest`), written once through
// the sequencer into a log that every run reads. In the same run, the baseline: a raw scan of
// the same log (events::EventLog::Scan touching every record's bytes) with no projection at
// all — the ceiling of reading; the ratio says what verifying, folding and committing cost on
// top. Also printed: the runtime's own breakdown (read, verify, Apply, commit) of each run.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <future>
#include <variant>

#include <fmt/core.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "events/event_log.h"
#include "events/record.h"
#include "ledger/sequencer.h"
#include "projections/limits.h"
#include "projections/log_source.h"
#include "projections/projection_store.h"
#include "projections/read_models/read_models.h"
#include "projections/runtime.h"
#include "tools/ledger-sim/city.h"

namespace hpf::bench {

namespace {

using events::GlobalPosition;

// Writes the city into a new log at `dir`; returns its head.
GlobalPosition BuildCity(const std::string& dir, const sim::CityOptions& city) {
  auto log = events::EventLog::Open({.data_dir = dir,
                                     .mode = events::OpenMode::kCreateNew,
                                     .durability = events::Durability::kNoSync});
  HPF_ASSERT(log.has_value());
  const ledger::PolicyBook policy = ledger::DefaultPolicy();
  auto sequencer = ledger::Sequencer::Open({.log = log->get(), .policy = &policy});
  HPF_ASSERT(sequencer.has_value());
  std::deque<std::future<std::vector<ledger::CommandResult>>> pending;
  std::vector<ledger::Command> submission;
  auto collect = [&] {
    for (const auto& result : pending.front().get()) {
      HPF_ASSERT(!std::holds_alternative<ledger::CommandFailed>(result));
    }
    pending.pop_front();
  };
  sim::GenerateCity(city, [&](ledger::Command&& command) {
    submission.push_back(std::move(command));
    if (submission.size() == 1000) {
      pending.push_back((*sequencer)->Submit(std::move(submission)));
      submission.clear();
      while (pending.size() > 8) collect();
    }
  });
  if (!submission.empty()) pending.push_back((*sequencer)->Submit(std::move(submission)));
  while (!pending.empty()) collect();
  HPF_ASSERT((*sequencer)->Close().ok());
  const GlobalPosition head = (*log)->head().position;
  HPF_ASSERT((*log)->Close().ok());
  return head;
}

struct ScanRun {
  double scan_per_s = 0;
  double verify_per_s = 0;
};

// The baseline: every record read (its bytes touched), nothing else; then the same with
// VerifyRecord, to show what verification alone costs.
ScanRun ScanOnce(const events::EventLog& log, GlobalPosition head) {
  ScanRun run;
  uint64_t checksum = 0;
  // Once untimed, so that both sides find the log in the page cache.
  HPF_ASSERT(log.Scan(GlobalPosition{1}, head,
                      [&](const events::RecordRef& ref) {
                        checksum += ref.record.size();
                        return true;
                      })
                 .ok());
  auto start = std::chrono::steady_clock::now();
  HPF_ASSERT(log.Scan(GlobalPosition{1}, head,
                      [&](const events::RecordRef& ref) {
                        checksum += ref.record.size() + ref.record[ref.record.size() / 2];
                        return true;
                      })
                 .ok());
  run.scan_per_s = static_cast<double>(head.value) / SecondsSince(start);
  start = std::chrono::steady_clock::now();
  HPF_ASSERT(log.Scan(GlobalPosition{1}, head,
                      [&](const events::RecordRef& ref) {
                        HPF_ASSERT(events::VerifyRecord(ref.record).has_value());
                        return true;
                      })
                 .ok());
  run.verify_per_s = static_cast<double>(head.value) / SecondsSince(start);
  HPF_ASSERT(checksum > 0);
  return run;
}

struct RebuildRun {
  double events_per_s = 0;
  double cores_busy = 0;
  projections::RunnerStats stats;
  projections::ProjectionStoreStats store;
  size_t projection_count = 0;
};

RebuildRun RebuildOnce(const events::EventLog& log, GlobalPosition head, size_t batch,
                       size_t apply_threads) {
  const std::string dir = MakeTempDir("hpf-bench-rebuild");
  auto store = projections::ProjectionStore::Open({.dir = dir});
  HPF_ASSERT(store.has_value());
  projections::LogSource source(log);
  auto runner = projections::Runner::Create({.store = store->get(),
                                             .source = &source,
                                             .batch_records_max = batch,
                                             .apply_threads = apply_threads});
  HPF_ASSERT(runner.has_value());
  auto models = projections::read_models::CreateReadModels({});
  HPF_ASSERT(models.has_value());
  std::vector<std::string> names;
  for (auto& model : *models) {
    names.emplace_back(model->name());
    HPF_ASSERT((*runner)->Add(std::move(model)).ok());
  }
  RebuildRun run;
  run.projection_count = names.size();
  const double cpu_before = ProcessCpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  HPF_ASSERT((*runner)->Start().ok());
  for (const auto& name : names) {
    while (true) {
      auto view = (*runner)->WaitForPosition(name, head, projections::kWaitForPositionMax);
      if (view.has_value()) break;
      HPF_ASSERT(view.status().code() == StatusCode::kDeadlineExceeded);
    }
  }
  const double seconds = SecondsSince(start);
  run.cores_busy = (ProcessCpuSeconds() - cpu_before) / seconds;
  run.events_per_s = static_cast<double>(head.value) / seconds;
  HPF_ASSERT((*runner)->Stop().ok());
  run.stats = (*runner)->stats();
  run.store = (*store)->stats();
  runner->reset();
  store->reset();
  RemoveDir(dir);
  return run;
}

}  // namespace

int RunRebuild(const Flags& flags) {
  const sim::CityOptions city{
      .seed = flags.GetU64("seed", 1),
      .employers = static_cast<uint32_t>(flags.GetU64("employers", 1000)),
      .accounts_per_employer = static_cast<uint32_t>(flags.GetU64("accounts-per-employer", 40))};
  const uint64_t runs = flags.GetU64("runs", 3);
  const uint64_t batch = flags.GetU64("batch", projections::kBatchRecordsDefault);
  const uint64_t apply_threads = flags.GetU64("apply-threads", projections::kApplyThreadsDefault);
  if (runs == 0 || city.employers == 0 || batch == 0 || batch > projections::kBatchRecordsMax ||
      apply_threads == 0 || apply_threads > projections::kApplyThreadsMax) {
    fmt::print(stderr, "rebuild: --runs, --employers > 0; --batch 1..{}; --apply-threads 1..{}\n",
               projections::kBatchRecordsMax, projections::kApplyThreadsMax);
    return 2;
  }
  // --log-dir keeps the city's log for later runs (profiling the rebuild alone); without it
  // the log lives in a temporary directory.
  const std::string kept = flags.GetString("log-dir", "");
  const std::string dir = kept.empty() ? MakeTempDir("hpf-bench-rebuild-log") : kept;
  GlobalPosition head{0};
  if (!kept.empty() && std::filesystem::exists(dir + "/log")) {
    fmt::print("rebuild: reusing the log in {}\n", dir);
  } else {
    const auto build_start = std::chrono::steady_clock::now();
    head = BuildCity(dir + "/log", city);
    fmt::print("rebuild: a city of {} employers (~{} accounts each) built in {:.1f} s\n",
               city.employers, city.accounts_per_employer, SecondsSince(build_start));
  }
  fmt::print("machine: {}\n", MachineSummary());
  auto log = events::EventLog::Open({.data_dir = dir + "/log",
                                     .mode = events::OpenMode::kOpenExisting,
                                     .durability = events::Durability::kNoSync});
  HPF_ASSERT(log.has_value());
  head = (*log)->head().position;
  fmt::print("rebuild: {} records; batches of up to {} records; {} apply threads; {} runs\n",
             head.value, batch, apply_threads, runs);
  std::vector<double> rates, scans, verifies;
  size_t projection_count = 0;
  for (uint64_t run = 0; run < runs; ++run) {
    const ScanRun scan = ScanOnce(**log, head);
    const RebuildRun rebuild = RebuildOnce(**log, head, batch, apply_threads);
    projection_count = rebuild.projection_count;
    rates.push_back(rebuild.events_per_s);
    scans.push_back(scan.scan_per_s);
    verifies.push_back(scan.verify_per_s);
    const auto& s = rebuild.stats;
    fmt::print(
        "run {}: rebuild {:.0f} events/s ({} projections, {:.2f} cores busy; runner: read {:.2f} "
        "s, verify {:.2f} s, apply {:.2f} s, commit {:.2f} s, {} batches, {:.0f} MB in {} keys "
        "written, {} of {} commits unlogged, {} rebalances); "
        "raw scan {:.0f} events/s, scan + verify {:.0f} events/s\n",
        run + 1, rebuild.events_per_s, rebuild.projection_count, rebuild.cores_busy,
        static_cast<double>(s.read_micros) / 1e6, static_cast<double>(s.verify_micros) / 1e6,
        static_cast<double>(s.apply_micros) / 1e6, static_cast<double>(s.commit_micros) / 1e6,
        s.batches, static_cast<double>(rebuild.store.commit_bytes) / 1e6,
        rebuild.store.commit_entries, rebuild.store.unlogged_commits, rebuild.store.commits,
        s.rebalances, scan.scan_per_s, scan.verify_per_s);
    for (const auto& projection : s.projections) {
      fmt::print("  {:<16} apply {:.2f} s on apply thread {}\n", projection.name,
                 static_cast<double>(projection.apply_micros) / 1e6, projection.apply_thread);
    }
  }
  log->reset();
  if (kept.empty()) RemoveDir(dir);
  const double rate = Median(rates);
  const double scan = Median(scans);
  fmt::print(
      "{{\"bench\":\"rebuild\",\"records\":{},\"runs\":{},\"projections\":{},\"batch\":{},"
      "\"apply_threads\":{},"
      "\"rebuild_events_per_s\":{:.0f},\"scan_events_per_s\":{:.0f},"
      "\"scan_verify_events_per_s\":{:.0f},\"ratio\":{:.2f}}}\n",
      head.value, runs, projection_count, batch, apply_threads, rate, scan, Median(verifies),
      rate / scan);
  return 0;
}

}  // namespace hpf::bench
