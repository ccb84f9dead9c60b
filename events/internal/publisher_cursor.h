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

// The follower-meta key of the cursor for `topic`.
std::string PublisherCursorKey(std::string_view topic);

std::string EncodePublisherCursor(const PublisherCursor& cursor);
// Corruption naming what is wrong if `text` is not what EncodePublisherCursor writes.
Result<PublisherCursor> DecodePublisherCursor(std::string_view text);

}  // namespace hpf::events::internal
