// events/dev_broker.cc
#include "events/dev_broker.h"

#include <fmt/core.h>
#include <librdkafka/rdkafka_mock.h>

#include "events/internal/rdkafka_util.h"

namespace hpf::events {

namespace {

Status CheckTopicShape(std::string_view topic, int32_t partition_count, int32_t replication_factor,
                       int32_t broker_count) {
  if (topic.empty() || topic.size() > internal::kKafkaTopicBytesMax) {
    return InvalidArgumentError(fmt::format("a topic name is 1..{} bytes, got {}",
                                            internal::kKafkaTopicBytesMax, topic.size()));
  }
  if (partition_count < 1 || partition_count > kDevPartitionsMax) {
    return InvalidArgumentError(
        fmt::format("partitions must be 1..{}, got {}", kDevPartitionsMax, partition_count));
  }
  if (replication_factor < 1 || replication_factor > broker_count) {
    return InvalidArgumentError(
        fmt::format("replication factor must be 1..{} (the brokers), got {}", broker_count,
                    replication_factor));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<DevBroker>> DevBroker::Start(const DevBrokerOptions& options) {
  if (options.broker_count < 1 || options.broker_count > kDevBrokersMax) {
    return InvalidArgumentError(
        fmt::format("brokers must be 1..{}, got {}", kDevBrokersMax, options.broker_count));
  }
  if (!options.topic.empty()) {
    HPF_RETURN_IF_ERROR(CheckTopicShape(options.topic, options.partition_count,
                                        options.replication_factor, options.broker_count));
  }
  // The mock cluster belongs to a client instance; a producer that never produces is the
  // lightest one. Its log lines would only repeat what the cluster's own clients report.
  HPF_ASSIGN_OR_RETURN(
      internal::KafkaConfPtr conf,
      internal::MakeKafkaConf({{"log_level", "3"}, {"client.id", "hpf-dev-broker"}}));
  auto made = internal::NewKafka(RD_KAFKA_PRODUCER, std::move(conf));
  if (!made.has_value()) {
    return InternalError(
        fmt::format("starting the development broker's client: {}", made.error().message()));
  }
  internal::KafkaPtr handle = std::move(made).value();
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle.get(), options.broker_count);
  if (cluster == nullptr) return InternalError("librdkafka could not start its mock cluster");
  std::unique_ptr<DevBroker> broker(new DevBroker());
  broker->handle_ = handle.release();
  broker->cluster_ = cluster;
  broker->broker_count_ = options.broker_count;
  broker->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster);
  if (!options.topic.empty()) {
    HPF_RETURN_IF_ERROR(
        broker->CreateTopic(options.topic, options.partition_count, options.replication_factor));
  }
  return broker;
}

DevBroker::~DevBroker() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

Status DevBroker::CreateTopic(std::string_view topic, int32_t partition_count,
                              int32_t replication_factor) {
  HPF_RETURN_IF_ERROR(CheckTopicShape(topic, partition_count, replication_factor, broker_count_));
  const std::string name(topic);
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, name.c_str(), partition_count, replication_factor);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InternalError(fmt::format("creating topic {} on the development broker: {}", name,
                                     rd_kafka_err2str(err)));
  }
  return Status::Ok();
}

Status DevBroker::SetBrokerDown(int32_t broker_id) {
  if (broker_id < 1 || broker_id > broker_count_) {
    return InvalidArgumentError(
        fmt::format("broker ids are 1..{}, got {}", broker_count_, broker_id));
  }
  const rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(cluster_, broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InternalError(fmt::format("broker {} down: {}", broker_id, rd_kafka_err2str(err)));
  }
  return Status::Ok();
}

Status DevBroker::SetBrokerUp(int32_t broker_id) {
  if (broker_id < 1 || broker_id > broker_count_) {
    return InvalidArgumentError(
        fmt::format("broker ids are 1..{}, got {}", broker_count_, broker_id));
  }
  const rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(cluster_, broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InternalError(fmt::format("broker {} up: {}", broker_id, rd_kafka_err2str(err)));
  }
  return Status::Ok();
}

Status DevBroker::SetPartitionLeader(std::string_view topic, int32_t partition, int32_t broker_id) {
  if (broker_id < 1 || broker_id > broker_count_) {
    return InvalidArgumentError(
        fmt::format("broker ids are 1..{}, got {}", broker_count_, broker_id));
  }
  const std::string name(topic);
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_partition_set_leader(cluster_, name.c_str(), partition, broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InternalError(
        fmt::format("leader of {} [{}]: {}", name, partition, rd_kafka_err2str(err)));
  }
  return Status::Ok();
}

Status DevBroker::SetAllBrokersDown() {
  for (int32_t id = 1; id <= broker_count_; ++id) HPF_RETURN_IF_ERROR(SetBrokerDown(id));
  return Status::Ok();
}

Status DevBroker::SetAllBrokersUp() {
  for (int32_t id = 1; id <= broker_count_; ++id) HPF_RETURN_IF_ERROR(SetBrokerUp(id));
  return Status::Ok();
}

void DevBroker::PushRequestErrors(KafkaApi api, std::span<const rd_kafka_resp_err_t> errors) {
  HPF_ASSERT(errors.size() <= kDevInjectedErrorsMax);
  rd_kafka_mock_push_request_errors_array(cluster_, static_cast<int16_t>(api), errors.size(),
                                          errors.data());
}

void DevBroker::ClearRequestErrors(KafkaApi api) {
  rd_kafka_mock_clear_request_errors(cluster_, static_cast<int16_t>(api));
}

}  // namespace hpf::events
