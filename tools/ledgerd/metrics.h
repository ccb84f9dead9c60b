// tools/ledgerd/metrics.h — ledgerd's counters and histograms, rendered as the Prometheus text
// exposition format (version 0.0.4) for GET /metrics.
//
// Exposed (all prefixed hpf_):
//   http_responses_total{code}            counter, every answer by HTTP status
//   commands_total{outcome}               counter: accepted, duplicate, rejected, failed
//   rejections_total{code}                counter, by the ledger's rejection code
//   ingest_commands_per_second            gauge, accepted commands over the last 10 s
//   submission_commands                   histogram, commands per submission (request)
//   commit_latency_seconds                histogram, submission to durable answer
// plus what the caller appends (the log's group counters, publisher lag) and, through
// RenderProjectionMetrics(), per projection (label projection=NAME):
//   projection_lag_records                gauge, log head − applied position
//   projection_applied_position           gauge, every record at or below it is applied
//   projection_rebuilding                 gauge, 1 while it catches up (rebuild or added later)
//   projection_rebuilds_total             counter, resets since ledgerd started
//   projections_up                        gauge, 1 while the runner runs, 0 stopped or failed
// Thread safety: every method may be called from any thread; counters are atomics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "events/types.h"
#include "projections/runtime.h"

namespace hpf::ledgerd {

// A histogram with fixed upper bounds (Prometheus "le"), in the unit of its observations.
class Histogram {
 public:
  static constexpr size_t kBucketsMax = 16;
  // REQUIRES: 1 <= bounds.size() <= kBucketsMax, strictly increasing.
  explicit Histogram(std::initializer_list<double> bounds);
  void Observe(double value);
  // Appends the _bucket, _sum and _count lines of `name` (HELP and TYPE included).
  void Render(std::string_view name, std::string_view help, std::string* out) const;

 private:
  std::array<double, kBucketsMax> bounds_{};
  size_t bucket_count_ = 0;
  std::array<std::atomic<uint64_t>, kBucketsMax + 1> counts_{};  // the last is +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micro_{0};  // the sum in millionths of the unit
};

class Metrics {
 public:
  Metrics();

  void CountResponse(unsigned status);
  // One submission's outcome, when its answer arrived.
  void CountSubmission(uint64_t commands, uint64_t accepted, uint64_t duplicates, uint64_t failed,
                       std::chrono::steady_clock::duration latency);
  void CountRejection(std::string_view code);

  uint64_t responses(unsigned status) const;
  uint64_t commands_accepted() const { return accepted_.load(); }

  // The exposition text of everything above.
  std::string Render() const;

 private:
  static constexpr size_t kRateWindowSeconds = 10;
  void AddToRate(uint64_t accepted);
  double Rate() const;

  std::array<std::atomic<uint64_t>, 600> responses_{};  // by status; 0 collects the invalid
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> duplicates_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> failed_{0};
  Histogram submission_commands_;
  Histogram commit_latency_;

  mutable std::mutex mutex_;  // guards the maps and the rate ring below
  std::map<std::string, uint64_t, std::less<>> rejections_;
  uint64_t rejections_other_ = 0;  // codes beyond kMetricsRejectionCodesMax distinct
  std::array<uint64_t, kRateWindowSeconds + 1> rate_ring_{};
  int64_t rate_second_ = 0;  // the steady-clock second rate_ring_ ends at
};

// The projection lines above for the runner's `stats` against the log's `head`.
std::string RenderProjectionMetrics(const projections::RunnerStats& stats,
                                    events::GlobalPosition head);

}  // namespace hpf::ledgerd
