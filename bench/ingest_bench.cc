// bench/ingest_bench.cc — `ledger-bench ingest`: a synthetic city's commands (ledger-sim: a
// realistic mix — registrations, account openings, monthly receipts, lists and allocations,
// base changes, seals, back-payments, the 30 June settlement) through the sequencer and the
// durable log; commands/s and the p99 latency of a submission (1 000 commands, submitted to
// durable answer). In the same run, the foundation's baseline: plain RocksDB per-event Puts.
#include <algorithm>
#include <deque>
#include <future>

#include <fmt/core.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "events/event_log.h"
#include "ledger/sequencer.h"
#include "tools/ledger-sim/city.h"

namespace hpf::bench {

namespace {

struct IngestRun {
  double commands_per_s = 0;
  double p99_submission_ms = 0;
  uint64_t commands = 0;
  uint64_t rejected = 0;
};

IngestRun RunOnce(const std::vector<std::vector<ledger::Command>>& submissions, uint64_t inflight) {
  const std::string dir = MakeTempDir("hpf-bench-ingest");
  auto log = events::EventLog::Open({.data_dir = dir, .mode = events::OpenMode::kCreateNew});
  HPF_ASSERT(log.has_value());
  const ledger::PolicyBook policy = ledger::DefaultPolicy();
  auto sequencer = ledger::Sequencer::Open({.log = log->get(), .policy = &policy});
  HPF_ASSERT(sequencer.has_value());
  IngestRun run;
  std::vector<double> latencies_ms;
  struct Pending {
    std::future<std::vector<ledger::CommandResult>> results;
    std::chrono::steady_clock::time_point sent;
  };
  std::deque<Pending> pending;
  auto collect = [&] {
    auto results = pending.front().results.get();
    latencies_ms.push_back(SecondsSince(pending.front().sent) * 1000);
    for (const auto& result : results) {
      HPF_ASSERT(!std::holds_alternative<ledger::CommandFailed>(result));
      if (std::holds_alternative<ledger::CommandRejected>(result)) ++run.rejected;
      ++run.commands;
    }
    pending.pop_front();
  };
  const auto start = std::chrono::steady_clock::now();
  for (const auto& submission : submissions) {
    pending.push_back({(*sequencer)->Submit(submission), std::chrono::steady_clock::now()});
    while (pending.size() > inflight) collect();
  }
  while (!pending.empty()) collect();
  const double seconds = SecondsSince(start);
  run.commands_per_s = static_cast<double>(run.commands) / seconds;
  // Where the log's threads spent the run (each overlaps the others): tells which stage bounds.
  const events::EventLogStats stats = (*log)->stats();
  fmt::print(
      "  {:.2f} s: log groups {}, writer decide {:.2f} s + encode {:.2f} s, committer write "
      "{:.2f} s, syncer sync {:.2f} s\n",
      seconds, stats.groups, static_cast<double>(stats.decide_micros) / 1e6,
      static_cast<double>(stats.encode_micros) / 1e6, static_cast<double>(stats.write_micros) / 1e6,
      static_cast<double>(stats.sync_micros) / 1e6);
  HPF_ASSERT((*sequencer)->Close().ok());
  HPF_ASSERT((*log)->Close().ok());
  RemoveDir(dir);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  run.p99_submission_ms = latencies_ms[latencies_ms.size() * 99 / 100];
  return run;
}

}  // namespace

int RunIngest(const Flags& flags) {
  sim::CityOptions city{
      .seed = flags.GetU64("seed", 1),
      .employers = static_cast<uint32_t>(flags.GetU64("employers", 1000)),
      .accounts_per_employer = static_cast<uint32_t>(flags.GetU64("accounts-per-employer", 40))};
  const uint64_t runs = flags.GetU64("runs", 3);
  const uint64_t per_submission = flags.GetU64("submission", 1000);
  const uint64_t inflight = flags.GetU64("inflight", 8);
  if (runs == 0 || per_submission == 0 || inflight == 0 || city.employers == 0) {
    fmt::print(stderr, "ingest: --runs, --submission, --inflight, --employers > 0\n");
    return 2;
  }
  std::vector<std::vector<ledger::Command>> submissions(1);
  const auto counts = sim::GenerateCity(city, [&](ledger::Command&& command) {
    if (submissions.back().size() == per_submission) submissions.emplace_back();
    submissions.back().push_back(std::move(command));
  });
  fmt::print(
      "ingest: {} commands of a city of {} employers and {} accounts ({} allocations), "
      "{} per submission, {} submissions in flight, {} runs\n",
      counts.commands, counts.employers, counts.accounts, counts.allocations, per_submission,
      inflight, runs);
  fmt::print("machine: {}\n", MachineSummary());
  std::vector<double> rates, p99s, baselines;
  uint64_t rejected = 0;
  for (uint64_t run = 0; run < runs; ++run) {
    const IngestRun result = RunOnce(submissions, inflight);
    const double baseline = PlainRocksDbEventsPerSecond(counts.commands, 2);
    rates.push_back(result.commands_per_s);
    p99s.push_back(result.p99_submission_ms);
    baselines.push_back(baseline);
    rejected = result.rejected;
    fmt::print(
        "run {}: {:.0f} commands/s, p99 submission {:.1f} ms, {} rejected; plain RocksDB "
        "{:.0f} events/s\n",
        run + 1, result.commands_per_s, result.p99_submission_ms, result.rejected, baseline);
  }
  const double rate = Median(rates);
  const double baseline = Median(baselines);
  fmt::print(
      "{{\"bench\":\"ingest\",\"commands\":{},\"runs\":{},\"commands_per_s\":{:.0f},"
      "\"p99_submission_ms\":{:.2f},\"rejected\":{},\"rocksdb_put_per_event_per_s\":{:.0f},"
      "\"ratio\":{:.2f}}}\n",
      counts.commands, runs, rate, Median(p99s), rejected, baseline, rate / baseline);
  return 0;
}

}  // namespace hpf::bench
