// events/internal/rdkafka_util.cc
#include "events/internal/rdkafka_util.h"

#include <charconv>

#include <fmt/core.h>

namespace hpf::events::internal {

Result<KafkaConfPtr> MakeKafkaConf(const KafkaSettings& settings) {
  KafkaConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      return InvalidArgumentError(fmt::format("Kafka setting {}={}: {}", name, value, error));
    }
  }
  return conf;
}

Result<KafkaPtr> NewKafka(rd_kafka_type_t type, KafkaConfPtr conf) {
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), error, sizeof(error));
  if (handle == nullptr) {
    return InvalidArgumentError(fmt::format("creating a Kafka client: {}", error));
  }
  conf.release();  // now owned by the client
  return KafkaPtr(handle);
}

uint64_t SumStatisticsCounter(std::string_view json, std::string_view name) {
  const std::string needle = fmt::format("\"{}\":", name);
  uint64_t sum = 0;
  for (size_t at = json.find(needle); at != std::string_view::npos;
       at = json.find(needle, at + needle.size())) {
    const char* begin = json.data() + at + needle.size();
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(begin, json.data() + json.size(), value);
    if (error == std::errc()) sum += value;
  }
  return sum;
}

uint64_t TopLevelStatisticsCounter(std::string_view json, std::string_view name) {
  const std::string needle = fmt::format("\"{}\":", name);
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      if (depth == 1 && json.substr(i, needle.size()) == needle) {
        const char* begin = json.data() + i + needle.size();
        uint64_t value = 0;
        const auto [end, error] = std::from_chars(begin, json.data() + json.size(), value);
        return error == std::errc() ? value : 0;
      }
      in_string = true;
    }
  }
  return 0;
}

}  // namespace hpf::events::internal
