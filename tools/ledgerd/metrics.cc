// tools/ledgerd/metrics.cc
#include "tools/ledgerd/metrics.h"

#include <algorithm>

#include <fmt/core.h>

#include "events/assert.h"
#include "tools/ledgerd/limits.h"

namespace hpf::ledgerd {

namespace {

int64_t SteadySecond() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Header(std::string_view name, std::string_view help, std::string_view type, std::string* out) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Histogram::Histogram(std::initializer_list<double> bounds) {
  HPF_ASSERT(bounds.size() >= 1);
  HPF_ASSERT(bounds.size() <= kBucketsMax);
  for (const double bound : bounds) {
    HPF_ASSERT(bucket_count_ == 0 || bound > bounds_[bucket_count_ - 1]);
    bounds_[bucket_count_++] = bound;
  }
}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < bucket_count_ && value > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  const double micro = value * 1e6;
  sum_micro_.fetch_add(micro > 0 ? static_cast<uint64_t>(micro) : 0, std::memory_order_relaxed);
}

void Histogram::Render(std::string_view name, std::string_view help, std::string* out) const {
  Header(name, help, "histogram", out);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bucket_count_; ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    *out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  cumulative += counts_[bucket_count_].load(std::memory_order_relaxed);
  *out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  *out += fmt::format("{}_sum {}\n", name,
                      static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6);
  *out += fmt::format("{}_count {}\n", name, cumulative);
}

Metrics::Metrics()
    : submission_commands_({1, 10, 100, 500, 1000, 2000, 5000, 10000}),
      commit_latency_({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}) {
}

void Metrics::CountResponse(unsigned status) {
  const size_t index = status < responses_.size() ? status : 0;
  responses_[index].fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::responses(unsigned status) const {
  return status < responses_.size() ? responses_[status].load() : 0;
}

void Metrics::CountSubmission(uint64_t commands, uint64_t accepted, uint64_t duplicates,
                              uint64_t failed, std::chrono::steady_clock::duration latency) {
  HPF_ASSERT(accepted + duplicates + failed <= commands);
  accepted_.fetch_add(accepted, std::memory_order_relaxed);
  duplicates_.fetch_add(duplicates, std::memory_order_relaxed);
  failed_.fetch_add(failed, std::memory_order_relaxed);
  rejected_.fetch_add(commands - accepted - duplicates - failed, std::memory_order_relaxed);
  submission_commands_.Observe(static_cast<double>(commands));
  commit_latency_.Observe(std::chrono::duration<double>(latency).count());
  AddToRate(accepted);
}

void Metrics::CountRejection(std::string_view code) {
  std::lock_guard lock(mutex_);
  auto it = rejections_.find(code);
  if (it != rejections_.end()) {
    ++it->second;
  } else if (rejections_.size() < kMetricsRejectionCodesMax) {
    rejections_.emplace(std::string(code), 1);
  } else {
    ++rejections_other_;
  }
}

namespace {
constexpr int64_t kRingSeconds = 11;  // Metrics::rate_ring_'s size
size_t RingIndex(int64_t second) { return static_cast<size_t>(second % kRingSeconds); }
}  // namespace

void Metrics::AddToRate(uint64_t accepted) {
  static_assert(kRingSeconds == static_cast<int64_t>(kRateWindowSeconds + 1));
  const int64_t now = SteadySecond();
  std::lock_guard lock(mutex_);
  // Slide the ring forward to `now`, clearing the seconds that passed without answers.
  for (int64_t second = std::max(rate_second_ + 1, now - kRingSeconds + 1); second <= now;
       ++second) {
    rate_ring_[RingIndex(second)] = 0;
  }
  rate_second_ = std::max(rate_second_, now);
  rate_ring_[RingIndex(rate_second_)] += accepted;
}

double Metrics::Rate() const {
  const int64_t now = SteadySecond();
  std::lock_guard lock(mutex_);
  // The kRateWindowSeconds complete seconds before `now` that the ring still holds.
  uint64_t sum = 0;
  for (int64_t second = now - static_cast<int64_t>(kRateWindowSeconds); second < now; ++second) {
    if (second > rate_second_ || second <= rate_second_ - kRingSeconds) continue;
    sum += rate_ring_[RingIndex(second)];
  }
  return static_cast<double>(sum) / static_cast<double>(kRateWindowSeconds);
}

std::string Metrics::Render() const {
  std::string out;
  Header("hpf_http_responses_total", "HTTP responses by status code.", "counter", &out);
  for (size_t status = 0; status < responses_.size(); ++status) {
    const uint64_t count = responses_[status].load(std::memory_order_relaxed);
    if (count == 0) continue;
    out += fmt::format("hpf_http_responses_total{{code=\"{}\"}} {}\n",
                       status == 0 ? std::string("other") : std::to_string(status), count);
  }
  Header("hpf_commands_total", "Commands answered, by outcome.", "counter", &out);
  out += fmt::format("hpf_commands_total{{outcome=\"accepted\"}} {}\n", accepted_.load());
  out += fmt::format("hpf_commands_total{{outcome=\"duplicate\"}} {}\n", duplicates_.load());
  out += fmt::format("hpf_commands_total{{outcome=\"rejected\"}} {}\n", rejected_.load());
  out += fmt::format("hpf_commands_total{{outcome=\"failed\"}} {}\n", failed_.load());
  Header("hpf_rejections_total", "Commands rejected, by the ledger's rejection code.", "counter",
         &out);
  {
    std::lock_guard lock(mutex_);
    for (const auto& [code, count] : rejections_) {
      out += fmt::format("hpf_rejections_total{{code=\"{}\"}} {}\n", code, count);
    }
    if (rejections_other_ > 0) {
      out += fmt::format("hpf_rejections_total{{code=\"other\"}} {}\n", rejections_other_);
    }
  }
  Header("hpf_ingest_commands_per_second",
         "Accepted commands per second over the last 10 complete seconds.", "gauge", &out);
  out += fmt::format("hpf_ingest_commands_per_second {}\n", Rate());
  submission_commands_.Render("hpf_submission_commands",
                              "Commands per submission (one request or bank file).", &out);
  commit_latency_.Render("hpf_commit_latency_seconds",
                         "From submission to the durable answer of all its commands.", &out);
  return out;
}

std::string RenderProjectionMetrics(const projections::RunnerStats& stats,
                                    events::GlobalPosition head) {
  std::string out;
  const auto family = [&out](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  const auto each = [&out, &stats](std::string_view name, auto value_of) {
    for (const projections::ProjectionStats& projection : stats.projections) {
      out +=
          fmt::format("{}{{projection=\"{}\"}} {}\n", name, projection.name, value_of(projection));
    }
  };
  family("hpf_projection_lag_records", "gauge",
         "Committed records the projection has not applied yet (log head - applied position).");
  each("hpf_projection_lag_records", [head](const projections::ProjectionStats& p) {
    return head.value > p.applied_through.value ? head.value - p.applied_through.value : 0;
  });
  family("hpf_projection_applied_position", "gauge",
         "Every record at or below this position is applied to the projection.");
  each("hpf_projection_applied_position",
       [](const projections::ProjectionStats& p) { return p.applied_through.value; });
  family("hpf_projection_rebuilding", "gauge",
         "1 while the projection catches up on its own (rebuilt, or added later), else 0.");
  each("hpf_projection_rebuilding",
       [](const projections::ProjectionStats& p) { return p.catching_up ? 1 : 0; });
  family("hpf_projection_rebuilds_total", "counter",
         "Resets of the projection (version, source or request) since ledgerd started.");
  each("hpf_projection_rebuilds_total",
       [](const projections::ProjectionStats& p) { return p.rebuilds; });
  family("hpf_projections_up", "gauge",
         "1 while the projection runner runs, 0 when it is stopped or failed.");
  out += fmt::format("hpf_projections_up {}\n",
                     stats.state == projections::RunnerState::kRunning ? 1 : 0);
  return out;
}

}  // namespace hpf::ledgerd
