// tests/kafka/kafka_test_util.h — reading a topic back and checking it against the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "events/event_log.h"
#include "events/status.h"

namespace hpf::testing {

struct ConsumedMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Every message of `topic` from the beginning of each partition up to the high watermark it
// has when the call starts, per partition in offset order, partitions one after another.
// DeadlineExceeded if they do not all arrive within `timeout`; FailedPrecondition if the broker
// dropped a partition's oldest messages.
Result<std::vector<ConsumedMessage>> ReadTopic(const std::string& bootstrap_servers,
                                               const std::string& topic,
                                               std::chrono::milliseconds timeout);

// Σ over partitions of the high watermark (messages the topic holds).
Result<int64_t> TopicMessageCount(const std::string& bootstrap_servers, const std::string& topic);

// Appends `count` receipts as commands of `per_batch` records, keys "<prefix>-<i>", employers
// (the streams) 1 + i % streams.
void AppendReceipts(events::EventLog& log, const std::string& prefix, uint64_t count,
                    uint64_t per_batch, uint64_t streams);

// What a topic holds against the log (positions 1..head):
struct TopicCheck {
  uint64_t messages = 0;
  uint64_t duplicates = 0;  // messages whose position a consumer had already applied
  uint64_t distinct_positions = 0;
  std::vector<std::string> problems;  // empty when the topic is right
};

// Applies the consumer rule of docs/kafka.md — per partition, a position at or below the last
// one applied in that partition is a repeat and is skipped — and checks that the positions
// applied are exactly 1..head, each repeat repeats a position already applied, every value is
// the stored record byte for byte, the key is its stream, and the headers are right.
TopicCheck CheckTopicAgainstLog(const std::vector<ConsumedMessage>& messages,
                                const events::EventLog& log);

}  // namespace hpf::testing
