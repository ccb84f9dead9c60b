// events/kafka_publisher.h — publishes the committed log to a Kafka topic, one message per
// record, in position order, with a durable cursor that moves only on delivery reports.
//
// The message (the contract with every consumer; docs/kafka.md):
//   key      the record's stream, "<EntityKind name>:<stream_id>" ("Account:1001"), so one
//            stream's records share a partition and keep their order;
//   value    the record's exact stored bytes (FlatBuffers, root_type Record, identifier HPF1);
//            its envelope's link holds position and prev_hash, so hash = H(prev_hash ‖ value)
//            and the next record's prev_hash must equal it;
//   headers  position (decimal), type (EventTypeName), schema ("hpf.v1"), hash (lowercase hex
//            of the record's chain hash).
//
// Delivery. One thread follows the log (LogTailer, committed records only: principle 5) and
// produces with an idempotent producer (enable.idempotence, acks=all, no message timeout: a
// message waits for the broker as long as it takes, since a timed-out message could leave a
// gap in its partition; enable.gapless.guarantee turns any other gap risk into a fatal error).
// Delivery reports arrive per partition; the cursor is the gap-free prefix of delivered
// positions and is written to the log's store (EventLog::PutFollowerMeta) at most every
// cursor_write_interval_ms and on Stop(). So the stored cursor is never ahead of delivery; after
// a crash the records after it are published again (consumers skip positions they applied).
// At most inflight_records_max records are produced and unconfirmed: while the broker is down
// the rest wait in the log, and publishing resumes by itself when it returns.
//
// Failures. Retriable errors are retried inside librdkafka (stats().retries). A delivery error
// that is not retriable, a fatal producer error or a broker that lost messages makes the
// publisher stop, purge everything in flight, make a new producer and start again from the
// cursor: per partition the topic then holds a gap-free prefix followed by that prefix's
// repeat, never a later record before an earlier one of the same stream.
//
// A fresh broker. Before producing, a (re)started producer compares the broker with what the
// cursor remembers: a different cluster id, high watermarks adding up to fewer messages than
// were delivered, or (after a restart in this process) a partition holding fewer than were
// seen delivered to it, means the broker lost messages (the development broker keeps nothing
// across restarts). The publisher then republishes from the oldest position the broker lacks:
// position 1 for an empty topic, otherwise after the lowest last position over its partitions
// (read from each partition's last message). A delivered offset lower than one seen before in
// the same partition means another broker took over mid-stream: it may hold a stretch from
// the middle of the log, so the restarted producer republishes from position 1. The topic
// then holds everything, but that stretch precedes older records in its partitions, which
// consumers skipping repeats by position miss: last_error tells the operator to move to a
// new topic.
//
// Thread safety: every method may be called from any thread. The log must outlive the
// publisher; stop the publisher before closing the log. One publisher per (log, topic).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/event_log.h"
#include "events/status.h"
#include "events/types.h"

namespace hpf::events {

// The topic the publisher writes unless told otherwise (DESIGN §4 `--topic`).
inline constexpr std::string_view kDefaultTopic = "hpf.ledger.events";

// The `schema` header's value: the schema family and version every message's value follows.
inline constexpr std::string_view kKafkaSchemaHeader = "hpf.v1";

// Bounds of the publisher. In flight: at ~0.3-1 KB a record, 2^20 records is <= 1 GiB of
// librdkafka's queue, and re-sending that many after a failure takes about a second.
inline constexpr size_t kPublisherInflightRecordsMax = size_t{1} << 20;
// Records read from the log per poll: kReadRecordsMax bounds one read anyway.
inline constexpr size_t kPublisherReadRecordsMax = size_t{1} << 16;
// librdkafka settings a caller may add.
inline constexpr size_t kPublisherSettingsMax = 64;

struct KafkaPublisherOptions {
  std::string bootstrap_servers;  // "host:port[,host:port…]"; required
  std::string topic = std::string(kDefaultTopic);
  // Records produced and not yet in the delivered prefix: 1..kPublisherInflightRecordsMax.
  size_t inflight_records_max = 100'000;
  // Records read from the log per poll: 1..kPublisherReadRecordsMax.
  size_t read_records_max = 4096;
  // How often a moving cursor is written (synced). Lower: fewer re-sends after a crash.
  uint32_t cursor_write_interval_ms = 100;
  // Stop(): how long to wait for outstanding delivery reports before giving up on them (they
  // are re-sent from the cursor next time).
  uint32_t stop_flush_timeout_ms = 5000;
  // Waiting after a failed start or a failure before trying again.
  uint32_t restart_backoff_ms = 500;
  // How long comparing a new producer's broker with the cursor (metadata, each partition's
  // watermarks, the last messages) may take in all before it is given up and tried again.
  uint32_t broker_query_timeout_ms = 5000;
  // Extra librdkafka producer settings (e.g. {"linger.ms", "5"}), at most
  // kPublisherSettingsMax. The delivery promises are not negotiable: enable.idempotence, acks,
  // message.timeout.ms, enable.gapless.guarantee, the partitioner (murmur2_random, part of the
  // message contract) and the callbacks are refused here.
  std::vector<std::pair<std::string, std::string>> producer_settings;
};

// What the publisher has done since it started: for /metrics, tests and benchmarks.
struct KafkaPublisherStats {
  GlobalPosition head;               // the log's committed head when stats() ran
  GlobalPosition published_through;  // every record at or below it is delivered
  GlobalPosition cursor_stored;      // the cursor last written (<= published_through)
  uint64_t lag_records = 0;          // head - published_through
  uint64_t produced = 0;             // messages handed to librdkafka (re-sends included)
  uint64_t delivered = 0;            // successful delivery reports
  uint64_t delivery_errors = 0;      // failed delivery reports (not counting purges)
  uint64_t retries = 0;        // librdkafka's request retries and re-sent messages (a lower bound)
  uint64_t restarts = 0;       // stop, purge, restart from the cursor
  uint64_t broker_resets = 0;  // fresh brokers found and republished to
  bool producing = false;      // a producer is up and the broker was checked
  std::string last_error;      // the latest failure, empty if none
};

class KafkaPublisher {
 public:
  // Reads the cursor and starts the publishing thread; the broker need not be reachable yet.
  // InvalidArgument for bad options or a refused setting; Corruption for an unreadable cursor;
  // FailedPrecondition for a cursor past the log's head (the cursor of another log).
  // REQUIRES: log is open for writing and outlives the publisher.
  static Result<std::unique_ptr<KafkaPublisher>> Start(EventLog* log,
                                                       const KafkaPublisherOptions& options);

  // Stop().IgnoreError(): records not yet delivered are re-sent from the cursor next time.
  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  // Waits up to `timeout` until everything through `position` is delivered — to the broker as
  // it is now: the wait also covers the first comparison of the broker with the cursor, which
  // may move the cursor back (a fresh broker). Returns published_through either way.
  GlobalPosition WaitForPublished(GlobalPosition position, std::chrono::milliseconds timeout) const;

  KafkaPublisherStats stats() const;

  // Stops reading the log, waits up to stop_flush_timeout_ms for outstanding deliveries,
  // writes the cursor and ends the thread. Returns the error that stopped publishing for good
  // (Corruption: a record in the log does not verify) or a failed final cursor write; OK
  // otherwise. Idempotent.
  Status Stop();

 private:
  struct Impl;
  explicit KafkaPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpf::events
