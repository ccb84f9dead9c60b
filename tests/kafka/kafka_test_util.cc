// tests/kafka/kafka_test_util.cc
#include "tests/kafka/kafka_test_util.h"

#include <charconv>
#include <cstring>
#include <set>

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>

#include "events/append_batch.h"
#include "events/internal/rdkafka_util.h"
#include "events/kafka_publisher.h"
#include "events/record.h"
#include "tests/support/records.h"

namespace hpf::testing {

namespace schema = ::hpf::schema::v1;

namespace {

Result<events::internal::KafkaPtr> NewConsumer(const std::string& bootstrap_servers) {
  HPF_ASSIGN_OR_RETURN(auto conf, events::internal::MakeKafkaConf({
                                      {"bootstrap.servers", bootstrap_servers},
                                      {"group.id", "hpf-test-reader"},
                                      {"enable.auto.commit", "false"},
                                      {"log_level", "3"},
                                  }));
  return events::internal::NewKafka(RD_KAFKA_CONSUMER, std::move(conf));
}

// The high watermarks; FailedPrecondition if a partition no longer starts at offset 0 (the
// development broker dropped old messages: more than it keeps per partition was written).
Result<std::vector<int64_t>> HighWatermarks(rd_kafka_t* handle, const std::string& topic) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(handle, topic.c_str(), nullptr);
  const rd_kafka_resp_err_t err = rd_kafka_metadata(handle, 0, rkt, &metadata, 5000);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(fmt::format("metadata: {}", rd_kafka_err2str(err)));
  }
  const int32_t partitions = metadata->topic_cnt == 1 ? metadata->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(metadata);
  if (partitions <= 0) return UnavailableError("no such topic");
  std::vector<int64_t> high(static_cast<size_t>(partitions));
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    const rd_kafka_resp_err_t w = rd_kafka_query_watermark_offsets(
        handle, topic.c_str(), p, &low, &high[static_cast<size_t>(p)], 5000);
    if (w != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(fmt::format("watermarks: {}", rd_kafka_err2str(w)));
    }
    if (low != 0) {
      return FailedPreconditionError(
          fmt::format("partition {} starts at offset {}: the broker dropped messages", p, low));
    }
  }
  return high;
}

}  // namespace

Result<int64_t> TopicMessageCount(const std::string& bootstrap_servers, const std::string& topic) {
  HPF_ASSIGN_OR_RETURN(auto consumer, NewConsumer(bootstrap_servers));
  HPF_ASSIGN_OR_RETURN(const auto high, HighWatermarks(consumer.get(), topic));
  int64_t sum = 0;
  for (const int64_t h : high) sum += h;
  rd_kafka_consumer_close(consumer.get());
  return sum;
}

Result<std::vector<ConsumedMessage>> ReadTopic(const std::string& bootstrap_servers,
                                               const std::string& topic,
                                               std::chrono::milliseconds timeout) {
  HPF_ASSIGN_OR_RETURN(auto consumer, NewConsumer(bootstrap_servers));
  rd_kafka_t* handle = consumer.get();
  HPF_ASSIGN_OR_RETURN(const auto high, HighWatermarks(handle, topic));
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(high.size()));
  int64_t expected = 0;
  for (size_t p = 0; p < high.size(); ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), static_cast<int32_t>(p))->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    expected += high[p];
  }
  const rd_kafka_resp_err_t assigned = rd_kafka_assign(handle, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(fmt::format("assign: {}", rd_kafka_err2str(assigned)));
  }
  std::vector<std::vector<ConsumedMessage>> by_partition(high.size());
  int64_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got < expected && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(handle, 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const auto p = static_cast<size_t>(message->partition);
      if (message->offset < high[p]) {
        ConsumedMessage m;
        m.partition = message->partition;
        m.offset = message->offset;
        m.key.assign(static_cast<const char*>(message->key), message->key_len);
        m.value.assign(static_cast<const char*>(message->payload), message->len);
        rd_kafka_headers_t* headers = nullptr;
        if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const char* name = nullptr;
          const void* value = nullptr;
          size_t size = 0;
          for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                             RD_KAFKA_RESP_ERR_NO_ERROR;
               ++i) {
            m.headers[name] = std::string(static_cast<const char*>(value), size);
          }
        }
        by_partition[p].push_back(std::move(m));
        ++got;
      }
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(handle);
  if (got < expected) {
    return DeadlineExceededError(fmt::format("read {} of {} messages", got, expected));
  }
  std::vector<ConsumedMessage> all;
  for (auto& partition : by_partition) {
    for (auto& m : partition) all.push_back(std::move(m));
  }
  return all;
}

void AppendReceipts(events::EventLog& log, const std::string& prefix, uint64_t count,
                    uint64_t per_batch, uint64_t streams) {
  for (uint64_t i = 0; i < count;) {
    events::AppendBatch batch;
    for (uint64_t j = 0; j < per_batch && i < count; ++j, ++i) {
      HPF_ASSERT(batch
                     .AddRecord(MakeReceipt({.key = fmt::format("{}-{}", prefix, i),
                                             .amount_fen = static_cast<int64_t>(100 + i),
                                             .employer_id = 1 + i % streams}))
                     .ok());
    }
    HPF_ASSERT(log.Append(std::move(batch)).has_value());
  }
}

TopicCheck CheckTopicAgainstLog(const std::vector<ConsumedMessage>& messages,
                                const events::EventLog& log) {
  TopicCheck check;
  struct Stored {
    std::string bytes;
    std::string hash_hex;
  };
  std::vector<Stored> stored(1);  // index = position
  HPF_ASSERT(log.Scan(events::GlobalPosition{1}, log.head().position,
                      [&](const events::RecordRef& ref) {
                        events::Digest hash;
                        std::memcpy(hash.data(), ref.hash.data(), hash.size());
                        stored.push_back(
                            {std::string(reinterpret_cast<const char*>(ref.record.data()),
                                         ref.record.size()),
                             events::ToHex(hash)});
                        return true;
                      })
                 .ok());
  const uint64_t head = stored.size() - 1;
  std::map<int32_t, uint64_t> last_applied;  // per partition
  std::set<uint64_t> applied;
  std::map<std::string, int32_t> partition_of_key;
  auto problem = [&](std::string text) {
    if (check.problems.size() < 20) check.problems.push_back(std::move(text));
  };
  for (const auto& m : messages) {
    ++check.messages;
    const auto header = [&](const char* name) {
      const auto it = m.headers.find(name);
      return it == m.headers.end() ? std::string() : it->second;
    };
    uint64_t position = 0;
    const std::string position_text = header("position");
    const auto [end, error] = std::from_chars(
        position_text.data(), position_text.data() + position_text.size(), position);
    if (error != std::errc() || end != position_text.data() + position_text.size()) {
      problem(fmt::format("p{}@{}: bad position header", m.partition, m.offset));
      continue;
    }
    if (position < 1 || position > head) {
      problem(fmt::format("position {} is not in the log (head {})", position, head));
      continue;
    }
    if (m.value != stored[position].bytes)
      problem(fmt::format("position {}: value differs", position));
    if (header("hash") != stored[position].hash_hex) {
      problem(fmt::format("position {}: hash header {}", position, header("hash")));
    }
    if (header("schema") != events::kKafkaSchemaHeader) {
      problem(fmt::format("position {}: schema header {}", position, header("schema")));
    }
    // Decode the value as an outside consumer must: copied to an 8-byte-aligned buffer.
    std::vector<uint64_t> aligned((m.value.size() + 7) / 8);
    std::memcpy(aligned.data(), m.value.data(), m.value.size());
    auto record = events::VerifyRecord(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(aligned.data()), m.value.size()));
    if (!record.has_value()) {
      problem(fmt::format("position {}: {}", position, record.error().message()));
      continue;
    }
    const auto& envelope = *(*record)->envelope();
    const std::string key = fmt::format("{}:{}", schema::EnumNameEntityKind(envelope.stream_kind()),
                                        envelope.stream_id());
    if (m.key != key) problem(fmt::format("position {}: key {} not {}", position, m.key, key));
    if (header("type") != events::EventTypeName((*record)->payload_type())) {
      problem(fmt::format("position {}: type header {}", position, header("type")));
    }
    if (events::RecordPosition(**record).value != position) {
      problem(fmt::format("position header {} on record {}", position,
                          events::RecordPosition(**record).value));
    }
    const auto [it, first] = partition_of_key.emplace(m.key, m.partition);
    if (it->second != m.partition) problem(fmt::format("key {} in two partitions", m.key));
    uint64_t& last = last_applied[m.partition];
    if (position <= last) {
      ++check.duplicates;
      if (!applied.contains(position)) {
        problem(fmt::format("partition {}: position {} after {}: a consumer loses it", m.partition,
                            position, last));
      }
      continue;
    }
    last = position;
    applied.insert(position);
  }
  check.distinct_positions = applied.size();
  if (applied.size() != head) {
    for (uint64_t p = 1; p <= head; ++p) {
      if (!applied.contains(p)) {
        problem(fmt::format("position {} never applied ({} of {} were)", p, applied.size(), head));
        break;
      }
    }
  }
  return check;
}

}  // namespace hpf::testing
