// projections/kafka_source.h — the ledger's Kafka topic as a projection source: a consumer group,
// in per-partition order.
//
// Message format (the publisher's contract, events/README.md): key "<EntityKind>:<id>" (so one
// stream stays in one partition, in order), value = the record's exact stored bytes (root_type
// Record), headers `position` (decimal ASCII, required: it must equal the record's own link
// position), `schema` ("hpf.v1"; another value is refused as Unimplemented), `type` and `hash`
// (not needed here: the runner verifies the record itself; Kafka's CRC covers transport).
//
// Offsets. The runner stores, with each projection's state, the last applied position and the
// next offset of every partition (projection_store.h); this source never relies on the group's
// committed offsets (auto commit is off): when the group assigns a partition, the main reader
// seeks to the offset the runner gives (StartOffsetFn), and records at or below a partition's
// stored position are skipped by the runner. Offsets are scoped by the cluster id: after a
// fresh (development) broker, stored offsets are not used and the partition is read from its
// first offset — positions still skip what was applied. A start below the partition's first
// offset means the topic's retention dropped records the projection never applied:
// FailedPrecondition (rebuild it from the log, DESIGN principle 1).
//
// Catch-up readers are consumers outside the group (manual assignment of the main reader's
// partitions), so a catching-up projection never changes the group's assignment.
//
// Thread safety: as source.h. librdkafka's own threads are internal to each reader.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "projections/source.h"

namespace hpf::projections {

// The schema header value this build reads.
inline constexpr std::string_view kKafkaSchemaHeader = "hpf.v1";

struct KafkaSourceOptions {
  std::string bootstrap_servers;  // required, "host:port[,host:port...]"
  std::string topic = "hpf.ledger.events";
  std::string group_id;  // required: the projectors' consumer group
  // More librdkafka properties (name, value), set after the source's own: e.g.
  // session.timeout.ms for faster fail-over. InvalidArgument if librdkafka refuses one.
  std::vector<std::pair<std::string, std::string>> properties;
  // How long one metadata call (cluster id, watermarks) may take before Unavailable.
  std::chrono::milliseconds metadata_timeout{10'000};
};

class KafkaSource final : public Source {
 public:
  // Checks the options (a consumer configuration is built and discarded). InvalidArgument
  // naming the option otherwise. Connects to nothing yet.
  static Result<std::unique_ptr<KafkaSource>> Create(const KafkaSourceOptions& options);
  ~KafkaSource() override;

  std::string id() const override { return "kafka:" + options_.topic; }
  // The group member: subscribes to the topic; partitions start where `start` says when the
  // group assigns them.
  Result<std::unique_ptr<SourceReader>> OpenMain(StartOffsetFn start) override;
  // A consumer outside the group reading `starts`. REQUIRES: the main reader has been
  // assigned partitions (so the cluster id is known).
  Result<std::unique_ptr<SourceReader>> OpenCatchUp(
      std::span<const PartitionStart> starts) override;

  struct Shared;  // what the readers learn for each other (the cluster id); kafka_source.cc

 private:
  explicit KafkaSource(KafkaSourceOptions options);
  KafkaSourceOptions options_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace hpf::projections
