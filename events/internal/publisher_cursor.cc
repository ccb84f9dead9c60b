// events/internal/publisher_cursor.cc
#include "events/internal/publisher_cursor.h"

#include <algorithm>
#include <charconv>

#include <fmt/core.h>

namespace hpf::events::internal {

namespace {

constexpr std::string_view kFormatTag = "v1";
constexpr std::string_view kNoClusterId = "-";

// The next space-separated field of `text` from `at`; advances `at` past it and one space.
std::string_view NextField(std::string_view text, size_t& at) {
  if (at > text.size()) return {};
  const size_t end = std::min(text.find(' ', at), text.size());
  const std::string_view field = text.substr(at, end - at);
  at = end + 1;
  return field;
}

bool ParseU64(std::string_view field, uint64_t& value) {
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  return !field.empty() && error == std::errc() && end == field.data() + field.size();
}

}  // namespace

BrokerFinding JudgeBroker(const PublisherCursor& stored, std::string_view cluster_id,
                          std::span<const int64_t> high_watermarks,
                          std::span<const int64_t> seen_next_offsets, bool offsets_went_back) {
  // Checked first: the lowest-last rule assumes each partition holds a prefix of its records,
  // which a broker that took over in mid-stream does not.
  if (offsets_went_back) return BrokerFinding::kMayLackOldest;
  if (!stored.cluster_id.empty() && !cluster_id.empty() && cluster_id != stored.cluster_id) {
    return BrokerFinding::kLostLatest;
  }
  uint64_t held = 0;
  for (const int64_t high : high_watermarks)
    held += static_cast<uint64_t>(std::max<int64_t>(high, 0));
  if (held < stored.broker_messages) return BrokerFinding::kLostLatest;
  // Per partition against what this process saw: other partitions' growth since the cursor
  // was last written can hide one partition's loss in the sum.
  const size_t common = std::min(high_watermarks.size(), seen_next_offsets.size());
  for (size_t p = 0; p < common; ++p) {
    if (high_watermarks[p] < seen_next_offsets[p]) return BrokerFinding::kLostLatest;
  }
  if (high_watermarks.size() < seen_next_offsets.size()) {
    // Partitions gone: what was delivered to them is gone too (if anything was).
    for (size_t p = common; p < seen_next_offsets.size(); ++p) {
      if (seen_next_offsets[p] > 0) return BrokerFinding::kLostLatest;
    }
  }
  return BrokerFinding::kHoldsAll;
}

std::string PublisherCursorKey(std::string_view topic) {
  return fmt::format("kafka/{}/cursor", topic);
}

std::string EncodePublisherCursor(const PublisherCursor& cursor) {
  return fmt::format("{} {} {} {}", kFormatTag, cursor.published_through.value,
                     cursor.broker_messages,
                     cursor.cluster_id.empty() ? kNoClusterId : cursor.cluster_id);
}

Result<PublisherCursor> DecodePublisherCursor(std::string_view text) {
  size_t at = 0;
  if (NextField(text, at) != kFormatTag) {
    return CorruptionError(fmt::format("publisher cursor '{}': does not start with {}",
                                       text.substr(0, 64), kFormatTag));
  }
  PublisherCursor cursor;
  if (!ParseU64(NextField(text, at), cursor.published_through.value)) {
    return CorruptionError(fmt::format("publisher cursor '{}': bad position", text.substr(0, 64)));
  }
  if (!ParseU64(NextField(text, at), cursor.broker_messages)) {
    return CorruptionError(
        fmt::format("publisher cursor '{}': bad message count", text.substr(0, 64)));
  }
  if (at > text.size()) {
    return CorruptionError(fmt::format("publisher cursor '{}': no cluster id", text.substr(0, 64)));
  }
  const std::string_view cluster = text.substr(at);
  if (cluster.empty() || cluster.find(' ') != std::string_view::npos ||
      cluster.size() > kClusterIdBytesMax) {
    return CorruptionError(
        fmt::format("publisher cursor '{}': bad cluster id", text.substr(0, 64)));
  }
  if (cluster != kNoClusterId) cursor.cluster_id = std::string(cluster);
  return cursor;
}

}  // namespace hpf::events::internal
