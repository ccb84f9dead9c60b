// projections/source.h — where the runner reads committed records from: the seam between the
// projection runtime and the log tailer (log_source.h) or a Kafka consumer group
// (kafka_source.h).
//
// A source is divided into partitions: the log is one partition (0) in global order, whose
// offsets are positions; a Kafka topic has many, each in its own order (per stream, since the
// publisher keys messages by stream). Within a partition, positions increase — except that a
// republished range may repeat positions, which the runner skips.
//
// A source opens two kinds of readers:
//  - the main reader follows every partition this process is given (the whole log, or the
//    consumer group's assignment for this member) and feeds the projections that are in step;
//  - a catch-up reader reads given partitions from given offsets, outside any consumer group,
//    for one projection that is behind (added later, or rebuilding) while the others go on.
// Readers do not verify records; the runner does (events::VerifyRecord, position match).
//
// Thread safety: a reader belongs to the thread that polls it (the runner's); the source
// object may open readers from that thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "events/types.h"

namespace hpf::projections {

// Start offsets besides concrete ones (the values librdkafka uses).
inline constexpr int64_t kOffsetBeginning = -2;  // the partition's first record
inline constexpr int64_t kOffsetEnd = -1;        // after its last record (only new ones)

// One message as the source framed it, before verification.
struct SourceMessage {
  int32_t partition = 0;
  int64_t offset = 0;               // in the partition; for the log, the position
  events::GlobalPosition position;  // as the framing says; the runner checks it against the record
  std::span<const uint8_t> bytes;   // the record, 8-byte aligned (valid: SourceReader::Poll)
};

// Where a reader starts one partition: a concrete offset, kOffsetBeginning or kOffsetEnd.
// With a concrete offset, `last_position` is the position of the message just before it (0:
// unknown). A Kafka reader reads that message first and uses the offset only if it holds that
// position; otherwise the offsets belong to another broker or topic, and the partition is read
// from its beginning (positions still skip what was applied).
struct PartitionStart {
  int32_t partition = 0;
  int64_t next_offset = kOffsetBeginning;
  events::GlobalPosition last_position;
};

// A reader's progress in one partition.
struct PartitionProgress {
  int32_t partition = 0;
  int64_t begin_offset = 0;  // the partition's first offset as last seen (Kafka retention)
  int64_t next_offset = 0;   // the offset of the next message it will deliver
  int64_t end_offset = -1;   // the partition's end as last seen (-1: unknown); lag = end - next
};

struct Assignment {
  uint64_t generation = 0;  // changes whenever the set of partitions changes; 0: none yet
  std::vector<PartitionProgress> partitions;  // sorted by partition
  // Stored offsets found to mean other positions here (PartitionStart), since the reader
  // opened: each such partition was read again from its start.
  uint64_t offset_resets = 0;
};

class SourceReader {
 public:
  virtual ~SourceReader() = default;
  // Waits up to `timeout` for messages, then appends to `out` at most `messages_max` of those
  // ready, in order within each partition. The bytes stay valid until the second Poll() after
  // this one, so that the runner can read a batch while the previous one is being applied.
  // Errors: Corruption for a message whose framing is broken (no position, unknown schema);
  // FailedPrecondition when the source no longer holds records the reader must read (retention);
  // Unavailable for a fatal source error.
  virtual Status Poll(size_t messages_max, std::chrono::milliseconds timeout,
                      std::vector<SourceMessage>& out) = 0;
  // The partitions it reads now and its progress in each.
  virtual Assignment assignment() const = 0;
  // The scope of its offsets ("log", or the Kafka cluster's id): a checkpoint's offsets are
  // used only within the same scope.
  virtual std::string offsets_scope() const = 0;
};

// Gives where to start `partition` when the main reader is assigned it. `offsets_scope` is the
// reader's (a checkpoint's offsets from another scope must not be used). Called on the
// polling thread.
using StartOffsetFn =
    std::function<PartitionStart(int32_t partition, std::string_view offsets_scope)>;

class Source {
 public:
  virtual ~Source() = default;
  // Stored with each projection: a projection fed by a different source is rebuilt, since its
  // checkpoint means nothing there. "log" or "kafka:<topic>".
  virtual std::string id() const = 0;
  virtual Result<std::unique_ptr<SourceReader>> OpenMain(StartOffsetFn start) = 0;
  // REQUIRES: every partition is one the main reader holds now.
  virtual Result<std::unique_ptr<SourceReader>> OpenCatchUp(
      std::span<const PartitionStart> starts) = 0;
};

}  // namespace hpf::projections
