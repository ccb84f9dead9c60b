// events/internal/publisher_cursor.h — the publisher's durable cursor and how it is stored.
//
// Kept with EventLog::PutFollowerMeta under "kafka/<topic>/cursor" as one line of text, so an
// operator can read it: "v1 <published_through> <broker_messages> <cluster_id or ->".
//   published_through  every record at or below it had a successful delivery report
//   broker_messages    Σ over partitions of (highest delivered offset + 1) the publisher saw:
//                      a broker whose high watermarks add up to less has lost messages
//   cluster_id         the Kafka cluster id the messages went to ("-" if the broker gave none)
// The last two let a restarted publisher recognise a fresh broker (kafka_publisher.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "events/status.h"
#include "events/types.h"

namespace hpf::events::internal {

// Kafka cluster ids are 22-character base64 UUIDs; the mock's are short names.
inline constexpr size_t kClusterIdBytesMax = 128;

struct PublisherCursor {
  GlobalPosition published_through;
  uint64_t broker_messages = 0;
  std::string cluster_id;  // empty: unknown
  bool operator==(const PublisherCursor&) const = default;
};

// What a (re)started producer concludes from comparing the broker with what it remembers.
enum class BrokerFinding : uint8_t {
  kHoldsAll,       // nothing delivered is missing: resume after the cursor
  kLostLatest,     // it lacks messages, but only a partition's newest: republish after the
                   // lowest last position over the partitions (kafka_publisher.h)
  kMayLackOldest,  // a broker swapped in under a running producer: it may hold a stretch from
                   // the middle of the log and lack the oldest records: republish from 1
};

// `cluster_id` and `high_watermarks` are the broker's answers now. `seen_next_offsets` is,
// per partition, the highest offset this process saw delivered + 1 (empty before the broker
// first answered); the cursor's broker_messages may be older than it. `offsets_went_back`: a
// delivery report carried an offset lower than one before it in the same partition, so the
// messages since then went to a broker that lost what the earlier ones went to.
BrokerFinding JudgeBroker(const PublisherCursor& stored, std::string_view cluster_id,
                          std::span<const int64_t> high_watermarks,
                          std::span<const int64_t> seen_next_offsets, bool offsets_went_back);

// The follower-meta key of the cursor for `topic`.
std::string PublisherCursorKey(std::string_view topic);

std::string EncodePublisherCursor(const PublisherCursor& cursor);
// Corruption naming what is wrong if `text` is not what EncodePublisherCursor writes.
Result<PublisherCursor> DecodePublisherCursor(std::string_view text);

}  // namespace hpf::events::internal
