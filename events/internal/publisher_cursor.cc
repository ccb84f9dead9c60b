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
