// events/dev_broker.h — the development Kafka broker: librdkafka's mock cluster on 127.0.0.1.
//
// What `--kafka embedded` and `ledger-broker` start, and what the Kafka tests run against: a
// real Kafka-protocol endpoint that any client (librdkafka, kcat, python3-kafka) can attach to,
// living in this process. Limits (DESIGN §6; events/README.md): data in memory only, gone with
// the object; no read_committed isolation, no fencing, no broker-side dedup of idempotent
// retries, no CreateTopics admin call (topics are created here, through the mock API); each
// partition keeps about 5 MiB / 100 000 batches, after which older data is silently dropped.
// For development and tests, never production.
//
// The fault helpers drive the mock's own fault functions, so a test can take brokers down,
// bring them back, or have the next requests of one kind answered with chosen errors.
//
// Thread safety: every method may be called from any thread; the cluster runs on its own
// thread inside librdkafka.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "events/kafka_publisher.h"  // kDefaultTopic, the topic created unless told otherwise
#include "events/status.h"

struct rd_kafka_mock_cluster_s;  // <librdkafka/rdkafka_mock.h>, kept out of this header

namespace hpf::events {

struct DevBrokerOptions {
  int32_t broker_count = 1;  // brokers get ids 1..broker_count, each on its own 127.0.0.1 port
  // Created at start with partition_count partitions (leaders spread over the brokers);
  // empty: no topic.
  std::string topic = std::string(kDefaultTopic);
  int32_t partition_count = 4;
  int32_t replication_factor = 1;  // <= broker_count
};

// Kafka protocol API keys the fault helpers name (the protocol's own numbers).
enum class KafkaApi : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kInitProducerId = 22,
};

class DevBroker {
 public:
  // Starts the cluster and creates options.topic. InvalidArgument for counts out of range
  // (1..kDevBrokersMax brokers, 1..kDevPartitionsMax partitions, replication within the
  // broker count); Internal if librdkafka cannot start the cluster.
  static Result<std::unique_ptr<DevBroker>> Start(const DevBrokerOptions& options);

  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  // "127.0.0.1:PORT[,127.0.0.1:PORT…]", what clients use as bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  int32_t broker_count() const { return broker_count_; }

  // Creates another topic. InvalidArgument as for Start; Internal if the mock refuses.
  Status CreateTopic(std::string_view topic, int32_t partition_count, int32_t replication_factor);

  // Takes a broker down (connections closed, new ones refused; its partitions unavailable) or
  // brings it back. The data it held stays. InvalidArgument for an id outside 1..count.
  Status SetBrokerDown(int32_t broker_id);
  Status SetBrokerUp(int32_t broker_id);
  Status SetAllBrokersDown();
  Status SetAllBrokersUp();

  // Makes `broker_id` the leader of one partition (the mock spreads leaders at random), so a
  // test knows which partitions a broker outage stops. InvalidArgument for an unknown broker
  // id; Internal if the mock refuses.
  Status SetPartitionLeader(std::string_view topic, int32_t partition, int32_t broker_id);

  // The next errors.size() requests of `api`, to any broker, are answered with these errors
  // in order (RD_KAFKA_RESP_ERR_NO_ERROR lets one through). REQUIRES: errors.size() <=
  // kDevInjectedErrorsMax.
  void PushRequestErrors(KafkaApi api, std::span<const rd_kafka_resp_err_t> errors);
  // Drops the errors pushed for `api` that have not been used yet.
  void ClearRequestErrors(KafkaApi api);

 private:
  DevBroker() = default;
  rd_kafka_t* handle_ = nullptr;  // the client instance the mock cluster belongs to
  ::rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_servers_;
  int32_t broker_count_ = 0;
};

// Bounds of the development broker: a few brokers and partitions are all a laptop demo or a
// test needs, and each mock broker costs a listener and its thread's work.
inline constexpr int32_t kDevBrokersMax = 16;
inline constexpr int32_t kDevPartitionsMax = 256;
// Errors one PushRequestErrors() call may queue: a test scripts a handful.
inline constexpr size_t kDevInjectedErrorsMax = 1024;

}  // namespace hpf::events
