// bench/log_append_bench.cc — `ledger-bench log-append`: durable appends through the event log
// against plain RocksDB per-event Puts of the same bytes, in the same run.
//
// Both sides build the same records (~200-byte payloads) on the same number of producer
// threads and acknowledge only synced writes. The baseline is what a RocksDB user writes
// first: one Put per event, keyed by a global sequence number, 1 000 events per synced
// WriteBatch, threads writing concurrently (RocksDB groups their commits itself).
// Also measured: reopening a store of --records events vs one of 1 000 (principle 4).
#include <atomic>
#include <deque>
#include <future>
#include <thread>

#include <fmt/core.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "events/event_log.h"
#include "events/internal/chunk_codec.h"
#include "tests/support/records.h"

namespace hpf::bench {
namespace {

struct Config {
  uint64_t records;
  uint64_t threads;
  uint64_t batch;
  uint64_t reference_bytes;
  uint64_t inflight;  // batches each producer keeps queued (AppendAsync)
};

testing::ReceiptSpec Spec(const Config& config, uint64_t thread, uint64_t i) {
  // ~200 bytes of payload: a bank reference padded to size, like a long bank memo field.
  std::string key = fmt::format("bench-{}-{:010}", thread, i);
  // A memo of upper-case letters and digits from a per-record generator: as incompressible
  // as real references, so no compression anywhere gets an unfair advantage.
  std::string reference = key;
  uint64_t x = (thread << 40) ^ (i * 0x9e3779b97f4a7c15ull) ^ 0x2545f4914f6cdd1dull;
  while (reference.size() < config.reference_bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    reference += "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[x % 36];
  }
  return {.key = std::move(key),
          .amount_fen = static_cast<int64_t>(1000 + i % 100000),
          .employer_id = 1 + i % 45000,
          .reference = std::move(reference)};
}

struct HpfRun {
  double append_seconds = 0;
  double cpu_cores_busy = 0;
  double close_seconds = 0;
  uint64_t record_bytes = 0;
};

HpfRun RunHpf(const std::string& dir, const Config& config) {
  auto opened = events::EventLog::Open({.data_dir = dir,
                                        .mode = events::OpenMode::kCreateNew,
                                        .durability = events::Durability::kSync});
  HPF_ASSERT(opened.has_value());
  auto log = std::move(opened).value();
  std::atomic<uint64_t> record_bytes{0};
  const uint64_t per_thread = config.records / config.threads;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ProcessCpuSeconds();
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      events::RecordBuilder builder;
      uint64_t bytes = 0;
      std::deque<std::future<Result<events::AppendResult>>> pending;
      for (uint64_t i = 0; i < per_thread;) {
        events::AppendBatch batch;
        for (uint64_t j = 0; j < config.batch && i < per_thread; ++j, ++i) {
          const auto record = testing::BuildReceipt(builder, Spec(config, t, i));
          bytes += record.size();
          HPF_ASSERT(batch.AddRecord(record).ok());
        }
        pending.push_back(log->AppendAsync(std::move(batch)));
        while (pending.size() > config.inflight || (i == per_thread && !pending.empty())) {
          HPF_ASSERT(pending.front().get().has_value());
          pending.pop_front();
        }
      }
      record_bytes += bytes;
    });
  }
  for (auto& thread : threads) thread.join();
  HpfRun run;
  run.append_seconds = SecondsSince(start);
  run.cpu_cores_busy = (ProcessCpuSeconds() - cpu_start) / run.append_seconds;
  HPF_ASSERT(log->head().position.value == per_thread * config.threads);
  const events::EventLogStats stats = log->stats();
  fmt::print(
      "  log: {} groups, {:.0f} records/group, {:.1f} batches/group; writer time: decide "
      "{:.2f} s, encode {:.2f} s; write {:.2f} s; sync {:.2f} s; {:.2f} cores busy\n",
      stats.groups, static_cast<double>(stats.records) / static_cast<double>(stats.groups),
      static_cast<double>(stats.batches) / static_cast<double>(stats.groups),
      static_cast<double>(stats.decide_micros) / 1e6,
      static_cast<double>(stats.encode_micros) / 1e6, static_cast<double>(stats.write_micros) / 1e6,
      static_cast<double>(stats.sync_micros) / 1e6, run.cpu_cores_busy);
  const auto close_start = std::chrono::steady_clock::now();
  HPF_ASSERT(log->Close().ok());
  run.close_seconds = SecondsSince(close_start);
  run.record_bytes = record_bytes.load() / (per_thread * config.threads);
  return run;
}

double RunRocksDbBaseline(const std::string& dir, const Config& config) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  HPF_ASSERT(rocksdb::DB::Open(options, dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::atomic<uint64_t> sequence{0};
  const uint64_t per_thread = config.records / config.threads;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      events::RecordBuilder builder;
      rocksdb::WriteBatch batch;
      for (uint64_t i = 0; i < per_thread; ++i) {
        const auto record = testing::BuildReceipt(builder, Spec(config, t, i));
        const std::string key =
            events::internal::PositionKey(events::GlobalPosition{sequence.fetch_add(1) + 1});
        HPF_ASSERT(batch
                       .Put(key, rocksdb::Slice(reinterpret_cast<const char*>(record.data()),
                                                record.size()))
                       .ok());
        if (batch.Count() == 1000 || i + 1 == per_thread) {
          HPF_ASSERT(db->Write(sync, &batch).ok());
          batch.Clear();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds = SecondsSince(start);
  HPF_ASSERT(db->Close().ok());
  return seconds;
}

// Median time to open an existing store, 5 tries.
double MedianOpenMillis(const std::string& dir) {
  std::vector<double> millis;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto log = events::EventLog::Open({.data_dir = dir, .mode = events::OpenMode::kOpenExisting});
    millis.push_back(SecondsSince(start) * 1000);
    HPF_ASSERT(log.has_value());
    HPF_ASSERT((*log)->Close().ok());
  }
  return Median(millis);
}

}  // namespace

double PlainRocksDbEventsPerSecond(uint64_t records, uint64_t threads) {
  const Config config{
      .records = records, .threads = threads, .batch = 1000, .reference_bytes = 120, .inflight = 1};
  const std::string dir = MakeTempDir("hpf-bench-rocks");
  const double seconds = RunRocksDbBaseline(dir, config);
  RemoveDir(dir);
  return static_cast<double>(records / threads * threads) / seconds;
}

int RunLogAppend(const Flags& flags) {
  const Config config{.records = flags.GetU64("records", 2'000'000),
                      .threads = flags.GetU64("threads", 2),
                      .batch = flags.GetU64("batch", 1000),
                      .reference_bytes = flags.GetU64("reference-bytes", 120),
                      .inflight = flags.GetU64("inflight", 4)};
  const uint64_t runs = flags.GetU64("runs", 3);
  // --baseline 0 skips plain RocksDB (for profiling the log alone); the JSON then lacks a ratio.
  const bool with_baseline = flags.GetU64("baseline", 1) != 0;
  if (config.threads == 0 || config.batch == 0 || config.records < config.threads || runs == 0 ||
      config.inflight == 0) {
    fmt::print(stderr, "log-append: --records >= --threads > 0, --batch, --runs, --inflight > 0\n");
    return 2;
  }
  fmt::print(
      "log-append: {} records, {} producer threads, {} records per Append, {} Appends in flight "
      "per producer, {} runs\n",
      config.records, config.threads, config.batch, config.inflight, runs);
  fmt::print("machine: {}\n", MachineSummary());
  const std::string probe_dir = MakeTempDir("hpf-bench-probe");
  const double fdatasync_ms = FdatasyncMillis(probe_dir, 100);
  RemoveDir(probe_dir);
  fmt::print("disk: 4 KiB write + fdatasync {:.2f} ms (median of 100)\n", fdatasync_ms);
  std::vector<double> hpf_rates, baseline_rates, close_seconds;
  uint64_t record_bytes = 0;
  std::string kept_dir;
  for (uint64_t run = 0; run < runs; ++run) {
    const std::string hpf_dir = MakeTempDir("hpf-bench-log");
    const HpfRun hpf = RunHpf(hpf_dir, config);
    const double records = static_cast<double>(config.records / config.threads * config.threads);
    hpf_rates.push_back(records / hpf.append_seconds);
    close_seconds.push_back(hpf.close_seconds);
    record_bytes = hpf.record_bytes;
    if (run + 1 == runs) {
      kept_dir = hpf_dir;
    } else {
      RemoveDir(hpf_dir);
    }
    if (with_baseline) {
      const std::string rocks_dir = MakeTempDir("hpf-bench-rocks");
      const double baseline_seconds = RunRocksDbBaseline(rocks_dir, config);
      RemoveDir(rocks_dir);
      baseline_rates.push_back(records / baseline_seconds);
    } else {
      baseline_rates.push_back(0);
    }
    fmt::print("run {}: hpf {:.0f} events/s (close {:.2f} s), plain RocksDB {:.0f} events/s\n",
               run + 1, hpf_rates.back(), hpf.close_seconds, baseline_rates.back());
  }
  // Open time does not depend on the log's length: compare a big store with a small one.
  const double open_big_ms = MedianOpenMillis(kept_dir);
  RemoveDir(kept_dir);
  const std::string small_dir = MakeTempDir("hpf-bench-small");
  const Config small{.records = 1000,
                     .threads = 1,
                     .batch = 1000,
                     .reference_bytes = config.reference_bytes,
                     .inflight = 1};
  RunHpf(small_dir, small);
  const double open_small_ms = MedianOpenMillis(small_dir);
  RemoveDir(small_dir);
  const double hpf = Median(hpf_rates);
  const double baseline = Median(baseline_rates);
  fmt::print("median: hpf {:.0f} events/s, plain RocksDB {:.0f} events/s, ratio {:.2f}\n", hpf,
             baseline, hpf / baseline);
  fmt::print("open: {} events {:.1f} ms, 1000 events {:.1f} ms\n", config.records, open_big_ms,
             open_small_ms);
  fmt::print(
      "{{\"bench\":\"log-append\",\"records\":{},\"threads\":{},\"batch\":{},\"runs\":{},"
      "\"record_bytes\":{},\"hpf_events_per_s\":{:.0f},\"rocksdb_put_per_event_per_s\":{:.0f},"
      "\"ratio\":{:.2f},\"close_index_fold_s\":{:.2f},\"open_ms_big\":{:.2f},"
      "\"open_ms_1000\":{:.2f},\"fdatasync_ms\":{:.2f}}}\n",
      config.records, config.threads, config.batch, runs, record_bytes, hpf, baseline,
      hpf / baseline, Median(close_seconds), open_big_ms, open_small_ms, fdatasync_ms);
  return 0;
}

}  // namespace hpf::bench
