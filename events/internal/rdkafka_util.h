// events/internal/rdkafka_util.h — owning handles and small helpers over librdkafka's C API.
//
// Used by the publisher and the development broker only. librdkafka's C API is used rather
// than its C++ wrapper: the wrapper throws nothing either, but its delivery callbacks are
// virtual classes and its headers would add a second library to link for no gain.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "events/status.h"

namespace hpf::events::internal {

// Kafka's own limit on a topic name.
inline constexpr size_t kKafkaTopicBytesMax = 249;

struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct KafkaDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
struct KafkaTopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
using KafkaConfPtr = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using KafkaTopicPtr = std::unique_ptr<rd_kafka_topic_t, KafkaTopicDeleter>;

// librdkafka configuration properties, applied in order (a later one wins).
using KafkaSettings = std::vector<std::pair<std::string, std::string>>;

// A configuration with `settings` applied. InvalidArgument naming the property librdkafka
// refused and why.
Result<KafkaConfPtr> MakeKafkaConf(const KafkaSettings& settings);

// A client of `type` made from `conf` (consumed on success, left to its owner otherwise).
// InvalidArgument with librdkafka's reason if it refuses.
Result<KafkaPtr> NewKafka(rd_kafka_type_t type, KafkaConfPtr conf);

// The sum of every `"name":<integer>` in librdkafka's statistics JSON (e.g. "txretries",
// which appears once per broker). Malformed numbers count as 0: statistics are advisory.
uint64_t SumStatisticsCounter(std::string_view json, std::string_view name);
// The same for the one `"name":<integer>` at the top level of the JSON object ("txmsgs").
uint64_t TopLevelStatisticsCounter(std::string_view json, std::string_view name);

}  // namespace hpf::events::internal
