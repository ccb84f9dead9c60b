// events/kafka_publisher.cc
#include "events/kafka_publisher.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include <fmt/core.h>

#include "events/internal/delivery_window.h"
#include "events/internal/publisher_cursor.h"
#include "events/internal/rdkafka_util.h"
#include "events/limits.h"
#include "events/log_tailer.h"
#include "events/record.h"

namespace hpf::events {

namespace {

using SteadyClock = std::chrono::steady_clock;

// One read of the log is one tailer poll, which kReadRecordsMax bounds.
static_assert(kPublisherReadRecordsMax <= kReadRecordsMax);

// When WriteCursor() writes a cursor that moved.
enum class CursorWrite : uint8_t {
  kWhenDue,  // at most every cursor_write_interval_ms: the steady state
  kNow,      // a broker check moved it, or the publisher stops
};

// Settings that carry the delivery promises of the header and the message contract of
// docs/kafka.md (the partitioner): a caller may not change them.
const std::set<std::string, std::less<>>& ProtectedSettings() {
  static const std::set<std::string, std::less<>> kNames = {"enable.idempotence",
                                                            "acks",
                                                            "request.required.acks",
                                                            "message.timeout.ms",
                                                            "delivery.timeout.ms",
                                                            "enable.gapless.guarantee",
                                                            "partitioner",
                                                            "bootstrap.servers",
                                                            "metadata.broker.list",
                                                            "dr_cb",
                                                            "dr_msg_cb",
                                                            "error_cb",
                                                            "stats_cb",
                                                            "opaque",
                                                            "max.in.flight.requests.per.connection",
                                                            "max.in.flight",
                                                            "transactional.id",
                                                            "statistics.interval.ms",
                                                            "enable.auto.commit"};
  return kNames;
}

// The position a delivery report belongs to travels as the message's opaque pointer.
void* PositionOpaque(GlobalPosition position) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(position.value));
}
GlobalPosition OpaquePosition(void* opaque) {
  return GlobalPosition{static_cast<uint64_t>(reinterpret_cast<uintptr_t>(opaque))};
}

static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "positions travel as pointers");

// A fatal producer error's cause, as librdkafka states it.
std::string FatalErrorText(rd_kafka_t* handle) {
  char reason[512] = "";
  const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(handle, reason, sizeof(reason));
  return fmt::format("fatal producer error {}: {}", rd_kafka_err2name(cause), reason);
}

// The `position` header of a consumed message, if it has a well-formed one.
std::optional<GlobalPosition> PositionHeader(const rd_kafka_message_t* message) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, "position", &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return std::nullopt;
  }
  const char* text = static_cast<const char*>(value);
  GlobalPosition position;
  const auto [end, error] = std::from_chars(text, text + size, position.value);
  if (error != std::errc() || end != text + size) return std::nullopt;
  return position;
}

}  // namespace

struct KafkaPublisher::Impl {
  EventLog* log = nullptr;
  KafkaPublisherOptions options;
  std::string cursor_key;

  // Owned by the publishing thread.
  internal::KafkaPtr producer;
  internal::KafkaTopicPtr topic;
  std::unique_ptr<LogTailer> tailer;
  std::unique_ptr<internal::DeliveryWindow> window;
  internal::PublisherCursor stored;    // what the store holds
  std::string cluster_id;              // of the broker the current producer talks to
  std::vector<int64_t> next_offsets;   // per partition: highest delivered offset + 1
  bool offsets_known = false;          // next_offsets came from this broker (CheckBroker)
  bool offsets_went_back = false;      // since the last CheckBroker (see Delivered)
  uint64_t delivered_by_producer = 0;  // by the current producer
  SteadyClock::time_point cursor_written_at;
  bool restart_requested = false;
  Status fatal;  // stops publishing for good

  // Shared with other threads.
  std::thread thread;
  std::atomic<bool> stop_requested{false};
  std::mutex sleep_mutex;
  std::condition_variable sleep_cv;
  mutable std::mutex published_mutex;
  mutable std::condition_variable published_cv;
  std::atomic<uint64_t> published_through{0};
  std::atomic<uint64_t> cursor_stored{0};
  std::atomic<uint64_t> produced{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> delivery_errors{0};
  std::atomic<uint64_t> retries_done{0};     // by producers already destroyed
  std::atomic<uint64_t> retries_current{0};  // by the current producer
  std::atomic<uint64_t> restarts{0};
  std::atomic<uint64_t> broker_resets{0};
  std::atomic<bool> producing{false};
  std::atomic<bool> broker_checked{false};  // once the broker was compared with the cursor
  mutable std::mutex error_mutex;
  std::string last_error;
  Status final_status;
  bool stopped = false;  // guarded by stop_mutex
  std::mutex stop_mutex;

  void RecordError(std::string message) {
    std::lock_guard lock(error_mutex);
    last_error = std::move(message);
  }

  // Sleeps up to `ms` unless Stop() is called.
  void SleepUnlessStopped(uint32_t ms) {
    std::unique_lock lock(sleep_mutex);
    sleep_cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_requested.load(); });
  }

  // ---- librdkafka callbacks (served on the publishing thread by rd_kafka_poll/flush) ----

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    static_cast<Impl*>(opaque)->Delivered(*message);
  }
  static void OnError(rd_kafka_t* handle, int code, const char* reason, void* opaque) {
    static_cast<Impl*>(opaque)->ProducerError(handle, static_cast<rd_kafka_resp_err_t>(code),
                                              reason);
  }
  static int OnStatistics(rd_kafka_t*, char* json, size_t json_size, void* opaque) {
    static_cast<Impl*>(opaque)->Statistics(std::string_view(json, json_size));
    return 0;  // librdkafka frees the JSON
  }
  static void OnLog(const rd_kafka_t*, int level, const char* facility, const char* message) {
    // Warnings and worse reach stderr; the notice that enable.gapless.guarantee is marked
    // experimental is known and chosen (see the header).
    if (level > 4 || std::string_view(facility) == "CONFWARN") return;
    fmt::print(stderr, "kafka publisher: {} {}\n", facility, message);
  }

  // Retries: librdkafka's request retries, plus messages it transmitted more than once (after
  // a failed produce request it re-sends the batch without counting a request retry). The
  // second is a lower bound: transmitted - delivered - still in flight.
  void Statistics(std::string_view json) {
    const uint64_t transmitted = internal::TopLevelStatisticsCounter(json, "txmsgs");
    const uint64_t accounted = delivered_by_producer + window->outstanding();
    retries_current.store(internal::SumStatisticsCounter(json, "txretries") +
                          (transmitted > accounted ? transmitted - accounted : 0));
  }

  void Delivered(const rd_kafka_message_t& message) {
    const GlobalPosition position = OpaquePosition(message._private);
    if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
          message.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        return;  // our own purge before a restart: re-sent from the cursor
      }
      delivery_errors.fetch_add(1);
      // The first failure says why; the rest of the batch fails with it.
      if (!restart_requested) {
        RecordError(
            fmt::format("delivery of position {} to {} failed: {}: restarting from the "
                        "cursor (published through {})",
                        position.value, options.topic,
                        message.err == RD_KAFKA_RESP_ERR__FATAL ? FatalErrorText(producer.get())
                                                                : rd_kafka_err2str(message.err),
                        window->published_through().value));
      }
      // Not retriable (librdkafka retries the rest itself): start again from the cursor, so no
      // later record of a stream reaches the topic before this one.
      restart_requested = true;
      return;
    }
    delivered.fetch_add(1);
    ++delivered_by_producer;
    if (message.partition >= 0 && message.offset >= 0) {
      const auto partition = static_cast<size_t>(message.partition);
      if (partition >= next_offsets.size()) next_offsets.resize(partition + 1, 0);
      if (message.offset + 1 < next_offsets[partition]) {
        // The partition's offsets went back: the broker lost what it had (a fresh broker took
        // over at the same address). Restarting republishes before producing anything new.
        RecordError(fmt::format("partition {} went back from offset {} to {}: broker lost data",
                                partition, next_offsets[partition] - 1, message.offset));
        offsets_went_back = true;
        restart_requested = true;
      }
      next_offsets[partition] = std::max(next_offsets[partition], message.offset + 1);
    }
    window->Delivered(position);
  }

  void ProducerError(rd_kafka_t* handle, rd_kafka_resp_err_t code, const char* reason) {
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      RecordError(fmt::format("{} (publishing to {}): restarting from the cursor",
                              FatalErrorText(handle), options.topic));
      restart_requested = true;
      return;
    }
    // Transport errors, all brokers down…: librdkafka reconnects and retries by itself.
    RecordError(fmt::format("{}: {}", rd_kafka_err2name(code), reason));
  }

  // ---- the publishing thread ----

  void Run() {
    while (!stop_requested.load() && fatal.ok()) {
      if (producer == nullptr) {
        const Status connected = Connect();
        if (!connected.ok()) {
          // A check cut short by Stop() says nothing new about the broker.
          if (!stop_requested.load()) RecordError(connected.ToString());
          DestroyProducer();
          SleepUnlessStopped(options.restart_backoff_ms);
        }
        continue;
      }
      if (restart_requested) {
        restarts.fetch_add(1);
        DestroyProducer();
        SleepUnlessStopped(options.restart_backoff_ms);
        continue;
      }
      Step();
    }
    if (!fatal.ok()) RecordError(fatal.ToString());
    if (producer != nullptr && !restart_requested) {
      // Serve what the broker still confirms, so the final cursor goes as far as it can.
      rd_kafka_flush(producer.get(), static_cast<int>(options.stop_flush_timeout_ms));
      ShowProgress();
    }
    DestroyProducer();
    const Status written = WriteCursor(CursorWrite::kNow);
    final_status = !fatal.ok() ? fatal : written;
  }

  // One round: produce what the log has and the window allows, serve delivery reports.
  void Step() {
    const size_t room = window->room();
    const bool outstanding = window->outstanding() > 0;
    if (room == 0) {
      rd_kafka_poll(producer.get(), 10);
    } else {
      // Wait for the log only when nothing is in flight; otherwise keep serving reports.
      const auto wait = outstanding ? std::chrono::milliseconds(0) : std::chrono::milliseconds(100);
      auto visited = tailer->Poll(std::min(room, options.read_records_max), wait,
                                  [&](const RecordRef& ref) { return Produce(ref); });
      if (!visited.has_value()) {
        fatal = std::move(visited).error();
        return;
      }
      rd_kafka_poll(producer.get(), *visited == 0 && outstanding ? 1 : 0);
    }
    ShowProgress();
    WriteCursor(CursorWrite::kWhenDue).IgnoreError();  // recorded in last_error; retried
  }

  // Hands one record to librdkafka. False stops the tailer's visit (restart or failure).
  bool Produce(const RecordRef& ref) {
    auto verified = VerifyRecord(ref.record);
    if (!verified.has_value()) {
      fatal = CorruptionError(
          fmt::format("position {}: {}", ref.position.value, verified.error().message()));
      return false;
    }
    const schema::Record& record = **verified;
    if (RecordPosition(record) != ref.position) {
      fatal = CorruptionError(fmt::format("position {} holds a record linked as {}",
                                          ref.position.value, RecordPosition(record).value));
      return false;
    }
    const schema::Envelope& envelope = *record.envelope();
    char key[64];
    const char* kind_name = schema::EnumNameEntityKind(envelope.stream_kind());
    const auto key_end =
        *kind_name != '\0'
            ? fmt::format_to_n(key, sizeof(key), "{}:{}", kind_name, envelope.stream_id())
            : fmt::format_to_n(key, sizeof(key), "{}:{}", static_cast<int>(envelope.stream_kind()),
                               envelope.stream_id());
    char position_text[24];
    const auto position_end =
        std::to_chars(position_text, position_text + sizeof(position_text), ref.position.value);
    HPF_ASSERT(position_end.ec == std::errc());
    Digest hash;
    HPF_ASSERT(ref.hash.size() == hash.size());
    std::copy(ref.hash.begin(), ref.hash.end(), hash.begin());
    const std::string hash_hex = ToHex(hash);
    const std::string_view type = EventTypeName(record.payload_type());

    while (true) {
      rd_kafka_headers_t* headers = rd_kafka_headers_new(4);
      rd_kafka_header_add(headers, "position", -1, position_text,
                          static_cast<ssize_t>(position_end.ptr - position_text));
      rd_kafka_header_add(headers, "type", -1, type.data(), static_cast<ssize_t>(type.size()));
      rd_kafka_header_add(headers, "schema", -1, kKafkaSchemaHeader.data(),
                          static_cast<ssize_t>(kKafkaSchemaHeader.size()));
      rd_kafka_header_add(headers, "hash", -1, hash_hex.data(),
                          static_cast<ssize_t>(hash_hex.size()));
      // The value is copied: the span is valid only during this visit.
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_RKT(topic.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<uint8_t*>(ref.record.data()), ref.record.size()),
          RD_KAFKA_V_KEY(key, static_cast<size_t>(key_end.size)), RD_KAFKA_V_HEADERS(headers),
          RD_KAFKA_V_OPAQUE(PositionOpaque(ref.position)), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // librdkafka owns the headers now
      rd_kafka_headers_destroy(headers);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // A producer already failing refuses everything after: keep the error that said why.
        if (!restart_requested) {
          RecordError(fmt::format("producing position {}: {}", ref.position.value,
                                  err == RD_KAFKA_RESP_ERR__FATAL ? FatalErrorText(producer.get())
                                                                  : rd_kafka_err2str(err)));
        }
        restart_requested = true;
        return false;
      }
      // librdkafka's own queue is full (its byte limit): let deliveries drain it.
      rd_kafka_poll(producer.get(), 10);
      if (stop_requested.load() || restart_requested) return false;
    }
    window->Produced(ref.position);
    produced.fetch_add(1);
    return true;
  }

  // Makes the delivered prefix visible to stats() and WaitForPublished().
  void ShowProgress() {
    const uint64_t through = window->published_through().value;
    if (through == published_through.load()) return;
    {
      std::lock_guard lock(published_mutex);
      published_through.store(through);
    }
    published_cv.notify_all();
  }

  // Writes the cursor if it moved (synced: PutFollowerMeta), as `when` says.
  Status WriteCursor(CursorWrite when) {
    internal::PublisherCursor cursor{.published_through = GlobalPosition{published_through.load()},
                                     .broker_messages = stored.broker_messages,
                                     .cluster_id = cluster_id};
    // Until the broker has answered, keep what the store knew: writing 0 would make the next
    // start take an empty broker for the one published to (kafka_publisher.h, a fresh broker).
    if (offsets_known) {
      cursor.broker_messages = 0;
      for (const int64_t next : next_offsets) {
        cursor.broker_messages += static_cast<uint64_t>(next);
      }
    }
    if (cursor == stored) return Status::Ok();
    const SteadyClock::time_point now = SteadyClock::now();
    if (when == CursorWrite::kWhenDue &&
        now - cursor_written_at < std::chrono::milliseconds(options.cursor_write_interval_ms)) {
      return Status::Ok();
    }
    cursor_written_at = now;
    const Status status = log->PutFollowerMeta(cursor_key, internal::EncodePublisherCursor(cursor));
    if (!status.ok()) {
      RecordError(fmt::format("writing the cursor: {}", status.ToString()));
      return status;
    }
    stored = cursor;
    cursor_stored.store(cursor.published_through.value);
    return Status::Ok();
  }

  Result<internal::KafkaPtr> MakeProducer() {
    internal::KafkaSettings settings = {
        {"bootstrap.servers", options.bootstrap_servers},
        {"client.id", "hpf-publisher"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", "0"},  // infinite: see the header
        {"enable.gapless.guarantee", "true"},
        // Java clients' partitioner, so other producers of the same keys agree.
        {"partitioner", "murmur2_random"},
        // Room for the whole window plus one read, so produce() rarely meets a full queue.
        {"queue.buffering.max.messages",
         std::to_string(options.inflight_records_max + options.read_records_max)},
        // Reconnect within a second after an outage instead of librdkafka's 10 s backoff cap.
        {"reconnect.backoff.max.ms", "1000"},
        {"statistics.interval.ms", "1000"},
    };
    for (const auto& setting : options.producer_settings) settings.push_back(setting);
    HPF_ASSIGN_OR_RETURN(internal::KafkaConfPtr conf, internal::MakeKafkaConf(settings));
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::OnDelivery);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::OnError);
    rd_kafka_conf_set_stats_cb(conf.get(), &Impl::OnStatistics);
    rd_kafka_conf_set_log_cb(conf.get(), &Impl::OnLog);
    return internal::NewKafka(RD_KAFKA_PRODUCER, std::move(conf));
  }

  // A new producer, checked against the broker, reading the log from the cursor.
  Status Connect() {
    HPF_ASSIGN_OR_RETURN(producer, MakeProducer());
    delivered_by_producer = 0;
    topic.reset(rd_kafka_topic_new(producer.get(), options.topic.c_str(), nullptr));
    if (topic == nullptr) {
      return InternalError(
          fmt::format("topic {}: {}", options.topic, rd_kafka_err2str(rd_kafka_last_error())));
    }
    HPF_RETURN_IF_ERROR(CheckBroker());
    {
      std::lock_guard lock(published_mutex);
      broker_checked.store(true);
    }
    published_cv.notify_all();
    window->Reset(GlobalPosition{published_through.load()});
    tailer = std::make_unique<LogTailer>(*log, GlobalPosition{published_through.load()});
    restart_requested = false;
    producing.store(true);
    return Status::Ok();
  }

  // Broker queries wait in slices of at most this long, so that Stop() is heard between them.
  static constexpr int kBrokerQuerySliceMs = 250;

  // The timeout for one librdkafka call: what is left until `deadline`, 1..kBrokerQuerySliceMs.
  static int SliceUntil(SteadyClock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count(), 1, kBrokerQuerySliceMs));
  }

  // Repeats `query(timeout_ms)` until it succeeds, `deadline` passes or Stop() is called;
  // returns its last answer.
  template <typename Query>
  rd_kafka_resp_err_t QueryBroker(SteadyClock::time_point deadline, const Query& query) {
    while (true) {
      const SteadyClock::time_point started = SteadyClock::now();
      const int slice_ms = SliceUntil(deadline);
      const rd_kafka_resp_err_t err = query(slice_ms);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR || stop_requested.load() ||
          SteadyClock::now() >= deadline) {
        return err;
      }
      // An error answered at once (no broker yet, a leader moving) is asked again after a
      // pause, not in a spin.
      if (SteadyClock::now() - started < std::chrono::milliseconds(slice_ms)) {
        SleepUnlessStopped(50);
      }
    }
  }

  // Compares the broker with the cursor; on a fresh broker moves the cursor back to the oldest
  // position the broker lacks. Unavailable while the broker cannot answer.
  Status CheckBroker() {
    // One deadline for the whole check, however many partitions: Stop() waits for at most one
    // query slice, and a broker that stops answering half-way fails the check in bounded time.
    const SteadyClock::time_point deadline =
        SteadyClock::now() + std::chrono::milliseconds(options.broker_query_timeout_ms);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = QueryBroker(deadline, [&](int timeout_ms) {
      return rd_kafka_metadata(producer.get(), 0, topic.get(), &metadata, timeout_ms);
    });
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(fmt::format(
          "Kafka at {}: no metadata for topic {} within broker_query_timeout_ms ({} ms): {}; is "
          "the broker up and reachable?",
          options.bootstrap_servers, options.topic, options.broker_query_timeout_ms,
          rd_kafka_err2str(err)));
    }
    int32_t partition_count = 0;
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (metadata->topic_cnt == 1) {
      topic_err = metadata->topics[0].err;
      partition_count = metadata->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
    if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || partition_count <= 0) {
      return UnavailableError(fmt::format(
          "Kafka at {}: topic {}: {}; create it (the development broker creates its topic at "
          "start: ledger-broker --topic)",
          options.bootstrap_servers, options.topic, rd_kafka_err2str(topic_err)));
    }
    std::vector<int64_t> low(static_cast<size_t>(partition_count), 0);
    std::vector<int64_t> high(static_cast<size_t>(partition_count), 0);
    uint64_t broker_messages = 0;
    for (int32_t p = 0; p < partition_count; ++p) {
      const auto index = static_cast<size_t>(p);
      err = QueryBroker(deadline, [&](int timeout_ms) {
        return rd_kafka_query_watermark_offsets(producer.get(), options.topic.c_str(), p,
                                                &low[index], &high[index], timeout_ms);
      });
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return UnavailableError(
            fmt::format("Kafka at {}: watermarks of {} [{}] within broker_query_timeout_ms: {}",
                        options.bootstrap_servers, options.topic, p, rd_kafka_err2str(err)));
      }
      broker_messages += static_cast<uint64_t>(high[index]);
    }
    // Known once metadata arrived (Kafka >= 0.10 sends it there); unknown disables the
    // comparison of cluster ids, not the others.
    char* id = rd_kafka_clusterid(producer.get(), SliceUntil(deadline));
    const std::string cluster = id != nullptr ? std::string(id) : std::string();
    if (id != nullptr) rd_kafka_mem_free(producer.get(), id);

    const internal::BrokerFinding finding =
        internal::JudgeBroker(stored, cluster, high, next_offsets, offsets_went_back);
    if (finding != internal::BrokerFinding::kHoldsAll) {
      GlobalPosition lacking_from{0};
      if (finding == internal::BrokerFinding::kLostLatest) {
        HPF_ASSIGN_OR_RETURN(lacking_from, LowestLastPosition(low, high, deadline));
      }
      const GlobalPosition restart{std::min(lacking_from.value, published_through.load())};
      // Taken over mid-stream, the broker's partitions hold newer records ahead of the older
      // ones republished now; a consumer that skips repeats by position never applies those.
      // Only the operator can repair that (a new topic), so the message says so.
      RecordError(fmt::format(
          "fresh broker at {} (cluster {} was {}, {} messages where {} were delivered{}): "
          "republishing {} after position {}{}",
          options.bootstrap_servers, cluster.empty() ? "?" : cluster,
          stored.cluster_id.empty() ? "?" : stored.cluster_id, broker_messages,
          stored.broker_messages, offsets_went_back ? ", offsets went back while publishing" : "",
          options.topic, restart.value,
          finding == internal::BrokerFinding::kMayLackOldest
              ? "; it took records mid-stream, which now precede older ones in their partitions: "
                "consumers skipping repeats by position will miss those, so publish to a new "
                "topic and rebuild its consumers"
              : ""));
      broker_resets.fetch_add(1);
      {
        std::lock_guard lock(published_mutex);
        published_through.store(restart.value);
      }
    }
    cluster_id = cluster;
    next_offsets = high;
    offsets_known = true;
    offsets_went_back = false;
    return WriteCursor(CursorWrite::kNow);
  }

  // The lowest last position over the partitions (0 if any is empty): the broker has every
  // record of a partition up to that partition's last one, so it lacks none at or below it.
  // That holds for a broker whose partitions were filled from their start (a fresh broker met
  // at connection time), not for one that took over mid-stream (BrokerFinding::kMayLackOldest).
  Result<GlobalPosition> LowestLastPosition(const std::vector<int64_t>& low,
                                            const std::vector<int64_t>& high,
                                            SteadyClock::time_point deadline) {
    rd_kafka_topic_partition_list_t* wanted =
        rd_kafka_topic_partition_list_new(static_cast<int>(high.size()));
    for (size_t p = 0; p < high.size(); ++p) {
      if (high[p] <= low[p]) {
        rd_kafka_topic_partition_list_destroy(wanted);
        return GlobalPosition{0};
      }
      rd_kafka_topic_partition_list_add(wanted, options.topic.c_str(), static_cast<int32_t>(p))
          ->offset = high[p] - 1;
    }
    // The caller's settings come first: they carry what reaching the cluster takes (security.*,
    // sasl.*, ssl.*), without which this reader never connects and the publisher retries the
    // check for ever. librdkafka ignores the producer-only ones here, warning under CONFWARN.
    internal::KafkaSettings settings = options.producer_settings;
    settings.insert(settings.end(), {{"bootstrap.servers", options.bootstrap_servers},
                                     {"client.id", "hpf-publisher-probe"},
                                     {"group.id", "hpf-publisher-probe"},
                                     {"enable.auto.commit", "false"}});
    auto conf = internal::MakeKafkaConf(settings);
    if (!conf.has_value()) {
      rd_kafka_topic_partition_list_destroy(wanted);
      return std::move(conf).error();
    }
    rd_kafka_conf_set_log_cb(conf->get(), &Impl::OnLog);
    auto consumer = internal::NewKafka(RD_KAFKA_CONSUMER, std::move(conf).value());
    if (!consumer.has_value()) {
      rd_kafka_topic_partition_list_destroy(wanted);
      return std::move(consumer).error();
    }
    rd_kafka_t* handle = consumer->get();
    const rd_kafka_resp_err_t err = rd_kafka_assign(handle, wanted);
    rd_kafka_topic_partition_list_destroy(wanted);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(fmt::format("reading last messages: {}", rd_kafka_err2str(err)));
    }
    std::vector<std::optional<uint64_t>> last(high.size());
    size_t found = 0;
    while (found < last.size() && SteadyClock::now() < deadline && !stop_requested.load()) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(handle, 100);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR && message->partition >= 0 &&
          static_cast<size_t>(message->partition) < last.size()) {
        auto& slot = last[static_cast<size_t>(message->partition)];
        if (!slot.has_value()) {
          // A message without our header (another producer's) proves nothing: count it as 0.
          slot = PositionHeader(message).value_or(GlobalPosition{0}).value;
          ++found;
        }
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_consumer_close(handle);
    if (found < last.size()) {
      return UnavailableError(
          fmt::format("Kafka at {}: read the last message of {} of {} partitions of {} within "
                      "broker_query_timeout_ms",
                      options.bootstrap_servers, found, last.size(), options.topic));
    }
    uint64_t lowest = UINT64_MAX;
    for (const auto& value : last) lowest = std::min(lowest, *value);
    return GlobalPosition{lowest};
  }

  // Purges what is in flight (re-sent from the cursor) and destroys the producer.
  void DestroyProducer() {
    producing.store(false);
    if (producer != nullptr) {
      rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      // Serves the purge's (and any late successful) delivery reports.
      rd_kafka_flush(producer.get(), static_cast<int>(options.stop_flush_timeout_ms));
      ShowProgress();
      topic.reset();
      producer.reset();
      retries_done.fetch_add(retries_current.exchange(0));
    }
    tailer.reset();
    if (offsets_went_back) {
      // Another broker took over mid-stream: what was delivered before it went to the broker
      // that was lost. Move back now, not at the next broker check, so that a Stop() before
      // that check stores a cursor that republishes from position 1 too.
      window->Reset(GlobalPosition{0});
      {
        std::lock_guard lock(published_mutex);
        published_through.store(0);
      }
    }
  }
};

Result<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Start(
    EventLog* log, const KafkaPublisherOptions& options) {
  HPF_ASSERT(log != nullptr);
  if (options.bootstrap_servers.empty()) {
    return InvalidArgumentError("the publisher needs bootstrap servers");
  }
  if (options.topic.empty() || options.topic.size() > internal::kKafkaTopicBytesMax) {
    return InvalidArgumentError(
        fmt::format("a topic name is 1..{} bytes", internal::kKafkaTopicBytesMax));
  }
  if (options.inflight_records_max < 1 ||
      options.inflight_records_max > kPublisherInflightRecordsMax) {
    return InvalidArgumentError(fmt::format("inflight_records_max must be 1..{}, got {}",
                                            kPublisherInflightRecordsMax,
                                            options.inflight_records_max));
  }
  if (options.read_records_max < 1 || options.read_records_max > kPublisherReadRecordsMax) {
    return InvalidArgumentError(fmt::format("read_records_max must be 1..{}, got {}",
                                            kPublisherReadRecordsMax, options.read_records_max));
  }
  if (options.producer_settings.size() > kPublisherSettingsMax) {
    return InvalidArgumentError(fmt::format("at most {} producer settings", kPublisherSettingsMax));
  }
  for (const auto& [name, value] : options.producer_settings) {
    if (ProtectedSettings().contains(name)) {
      return InvalidArgumentError(
          fmt::format("producer setting {} is fixed by the publisher's delivery promises", name));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->log = log;
  impl->options = options;
  impl->cursor_key = internal::PublisherCursorKey(options.topic);
  impl->window = std::make_unique<internal::DeliveryWindow>(options.inflight_records_max);
  HPF_ASSIGN_OR_RETURN(const std::optional<std::string> stored,
                       log->GetFollowerMeta(impl->cursor_key));
  if (stored.has_value()) {
    HPF_ASSIGN_OR_RETURN(impl->stored, internal::DecodePublisherCursor(*stored));
  }
  const GlobalPosition head = log->head().position;
  if (impl->stored.published_through > head) {
    return FailedPreconditionError(
        fmt::format("the publisher's cursor for {} is at position {}, past the log's head {}: "
                    "this is not the log it published",
                    options.topic, impl->stored.published_through.value, head.value));
  }
  impl->published_through.store(impl->stored.published_through.value);
  impl->cursor_stored.store(impl->stored.published_through.value);
  // The window speaks for published_through from now on (ShowProgress copies it), also
  // before the broker first answers: a window left at its empty state would move the
  // cursor back to 0 on the first failed connection and republish the whole log.
  impl->window->Reset(impl->stored.published_through);
  impl->cluster_id = impl->stored.cluster_id;
  // Validate the settings now, so a typo fails Start() rather than the thread's retries.
  HPF_ASSIGN_OR_RETURN(internal::KafkaPtr probe, impl->MakeProducer());
  probe.reset();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<KafkaPublisher>(new KafkaPublisher(std::move(impl)));
}

KafkaPublisher::KafkaPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaPublisher::~KafkaPublisher() {
  Stop().IgnoreError();  // records not yet delivered are re-sent from the cursor next time
}

GlobalPosition KafkaPublisher::WaitForPublished(GlobalPosition position,
                                                std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->published_mutex);
  impl_->published_cv.wait_for(lock, timeout, [&] {
    return impl_->broker_checked.load() && impl_->published_through.load() >= position.value;
  });
  return GlobalPosition{impl_->published_through.load()};
}

KafkaPublisherStats KafkaPublisher::stats() const {
  KafkaPublisherStats stats;
  stats.head = impl_->log->head().position;
  stats.published_through = GlobalPosition{impl_->published_through.load()};
  stats.cursor_stored = GlobalPosition{impl_->cursor_stored.load()};
  stats.lag_records = stats.head.value > stats.published_through.value
                          ? stats.head.value - stats.published_through.value
                          : 0;
  stats.produced = impl_->produced.load();
  stats.delivered = impl_->delivered.load();
  stats.delivery_errors = impl_->delivery_errors.load();
  stats.retries = impl_->retries_done.load() + impl_->retries_current.load();
  stats.restarts = impl_->restarts.load();
  stats.broker_resets = impl_->broker_resets.load();
  stats.producing = impl_->producing.load();
  std::lock_guard lock(impl_->error_mutex);
  stats.last_error = impl_->last_error;
  return stats;
}

Status KafkaPublisher::Stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (!impl_->stopped) {
    {
      std::lock_guard sleep_lock(impl_->sleep_mutex);
      impl_->stop_requested.store(true);
    }
    impl_->sleep_cv.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->stopped = true;
  }
  return impl_->final_status;
}

}  // namespace hpf::events
