// projections/kafka_source.cc
#include "projections/kafka_source.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>

#include "events/assert.h"
#include "events/limits.h"
#include "projections/internal/aligned_arena.h"
#include "projections/limits.h"

namespace hpf::projections {

struct KafkaSource::Shared {
  std::mutex mutex;
  std::string cluster_id;  // learned by the main reader on its first assignment
};

namespace {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const {
    // Leaves the group (a member that just disappears holds its partitions until its session
    // times out); errors here change nothing for us: no offsets are committed to Kafka.
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

int TimeoutMs(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 1'000'000));
}

Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    return InvalidArgumentError(fmt::format("kafka source: {}={}: {}", name, value, error));
  }
  return Status::Ok();
}

using RebalanceCallback = void (*)(rd_kafka_t*, rd_kafka_resp_err_t,
                                   rd_kafka_topic_partition_list_t*, void*);

// A consumer configured for the source; `group_id` is ours or the catch-up one.
Result<Handle> NewConsumer(const KafkaSourceOptions& options, const std::string& group_id,
                           RebalanceCallback rebalance, void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<std::string, std::string> ours[] = {
      {"bootstrap.servers", options.bootstrap_servers},
      {"group.id", group_id},
      {"client.id", "hpf-projector"},
      // Offsets live in the projection store, with the state they describe.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // Falling off the partition's start is data loss, not something to paper over.
      {"auto.offset.reset", "error"},
      // Latency: the broker answers a fetch after at most this when there is nothing new.
      {"fetch.wait.max.ms", "10"},
  };
  Status status;
  for (const auto& [name, value] : ours) {
    if (status.ok()) status = SetProperty(conf, name, value);
  }
  for (const auto& [name, value] : options.properties) {
    if (status.ok()) status = SetProperty(conf, name, value);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  if (rebalance != nullptr) rd_kafka_conf_set_rebalance_cb(conf, rebalance);
  rd_kafka_conf_set_opaque(conf, opaque);
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new() takes it only on success
    return InvalidArgumentError(fmt::format("kafka source: creating a consumer: {}", error));
  }
  rd_kafka_poll_set_consumer(rk);
  return Handle(rk);
}

// A resume point to confirm: the message at `offset` must hold `position`, else the partition
// is read again from `fallback` (its first offset).
struct ResumeCheck {
  int64_t offset = 0;
  events::GlobalPosition position;
  int64_t fallback = 0;
};

// Where a reader starts `wanted.partition`: fills `progress` (next_offset = where to seek) and,
// when the start is a stored offset to confirm, `check`.
Status ResolveStart(rd_kafka_t* rk, const KafkaSourceOptions& options, const PartitionStart& wanted,
                    PartitionProgress& progress, std::optional<ResumeCheck>& check) {
  const int32_t partition = wanted.partition;
  int64_t low = 0;
  int64_t high = 0;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      rk, options.topic.c_str(), partition, &low, &high, TimeoutMs(options.metadata_timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(fmt::format("kafka source: watermarks of {} partition {}: {}",
                                        options.topic, partition, rd_kafka_err2str(err)));
  }
  int64_t start = wanted.next_offset;
  check.reset();
  if (wanted.next_offset == kOffsetEnd) {
    start = high;
  } else if (wanted.next_offset == kOffsetBeginning || wanted.next_offset > high) {
    // From the start; also when the broker holds fewer messages than our offset says (it is
    // not the broker the offset came from): positions skip what was applied.
    start = low;
    if (low > 0) {
      return FailedPreconditionError(fmt::format(
          "kafka source: {} partition {} starts at offset {}: records before it were dropped "
          "(retention); rebuild from the log",
          options.topic, partition, low));
    }
  } else if (wanted.next_offset < low) {
    return FailedPreconditionError(fmt::format(
        "kafka source: {} partition {} starts at offset {}, the projection needs offset {}: "
        "retention dropped records it has not applied; rebuild from the log",
        options.topic, partition, low, wanted.next_offset));
  } else if (wanted.last_position.value > 0 && wanted.next_offset - 1 >= low) {
    // Read the message before the stored offset first, to confirm the offset means here what
    // it meant when it was stored.
    start = wanted.next_offset - 1;
    check = ResumeCheck{.offset = start, .position = wanted.last_position, .fallback = low};
  }
  progress = PartitionProgress{
      .partition = partition, .begin_offset = low, .next_offset = start, .end_offset = high};
  return Status::Ok();
}

Result<events::GlobalPosition> ParsePosition(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
    return CorruptionError(fmt::format("position header '{}' is not a position", text));
  }
  return events::GlobalPosition{value};
}

std::string_view Header(rd_kafka_headers_t* headers, const char* name) {
  const void* value = nullptr;
  size_t size = 0;
  if (headers == nullptr ||
      rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return {};
  }
  return {static_cast<const char*>(value), size};
}

// What both readers share: polling, framing, copying, progress.
class KafkaReader : public SourceReader {
 public:
  KafkaReader(const KafkaSourceOptions& options, std::shared_ptr<KafkaSource::Shared> shared)
      : options_(options), shared_(std::move(shared)) {}

  Status Poll(size_t messages_max, std::chrono::milliseconds timeout,
              std::vector<SourceMessage>& out) override {
    HPF_ASSERT(messages_max > 0);
    // Two arenas in turn: the previous batch's bytes stay valid (source.h).
    arena_ = &arenas_[turn_];
    turn_ = 1 - turn_;
    arena_->Clear();
    copies_.clear();
    HPF_RETURN_IF_ERROR(pending_error_);
    rd_kafka_message_t* message = rd_kafka_consumer_poll(rk_.get(), TimeoutMs(timeout));
    Status status;
    while (message != nullptr) {
      status = Take(*message);
      rd_kafka_message_destroy(message);
      if (!status.ok() || copies_.size() >= messages_max) break;
      message = rd_kafka_consumer_poll(rk_.get(), 0);
    }
    HPF_RETURN_IF_ERROR(status);
    HPF_RETURN_IF_ERROR(pending_error_);
    for (const Copy& copy : copies_) {
      out.push_back(SourceMessage{.partition = copy.partition,
                                  .offset = copy.offset,
                                  .position = copy.position,
                                  .bytes = arena_->At(copy.start, copy.size)});
    }
    return Status::Ok();
  }

  Assignment assignment() const override {
    Assignment now = assignment_;
    for (auto& progress : now.partitions) {
      int64_t low = 0;
      int64_t high = 0;
      if (rd_kafka_get_watermark_offsets(rk_.get(), options_.topic.c_str(), progress.partition,
                                         &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        progress.end_offset = std::max(progress.end_offset, high);
        if (low >= 0) progress.begin_offset = low;
      }
    }
    return now;
  }

  std::string offsets_scope() const override { return scope_; }

 protected:
  Status Take(const rd_kafka_message_t& message) {
    if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return Status::Ok();
      if (message.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          message.err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        return FailedPreconditionError(fmt::format(
            "kafka source: {} partition {} offset {} is out of range: retention dropped records "
            "not yet applied; rebuild from the log",
            options_.topic, message.partition, message.offset));
      }
      char reason[512];
      if (rd_kafka_fatal_error(rk_.get(), reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return UnavailableError(fmt::format("kafka source: fatal error: {}", reason));
      }
      // Transport trouble and the like: librdkafka retries by itself.
      return Status::Ok();
    }
    PartitionProgress* progress = nullptr;
    for (auto& entry : assignment_.partitions) {
      if (entry.partition == message.partition) progress = &entry;
    }
    if (progress == nullptr) return Status::Ok();  // a partition taken from us meanwhile
    rd_kafka_headers_t* headers = nullptr;
    rd_kafka_message_headers(&message, &headers);
    const std::string_view schema = Header(headers, "schema");
    if (!schema.empty() && schema != kKafkaSchemaHeader) {
      return UnimplementedError(
          fmt::format("kafka source: partition {} offset {} has schema '{}'; this build reads {}",
                      message.partition, message.offset, schema, kKafkaSchemaHeader));
    }
    const std::string_view position_header = Header(headers, "position");
    if (position_header.empty()) {
      return CorruptionError(fmt::format("kafka source: partition {} offset {} has no position",
                                         message.partition, message.offset));
    }
    auto position = ParsePosition(position_header);
    if (!position.has_value()) {
      return CorruptionError(fmt::format("kafka source: partition {} offset {}: {}",
                                         message.partition, message.offset,
                                         position.error().message()));
    }
    if (message.payload == nullptr || message.len == 0 || message.len > events::kRecordBytesMax) {
      return CorruptionError(fmt::format("kafka source: partition {} offset {}: value of {} bytes",
                                         message.partition, message.offset, message.len));
    }
    if (const auto check = checks_.find(message.partition); check != checks_.end()) {
      const ResumeCheck expected = check->second;
      checks_.erase(check);
      if (message.offset == expected.offset && *position == expected.position) {
        progress->next_offset = message.offset + 1;  // confirmed; already applied
        return Status::Ok();
      }
      // The stored offset means something else on this broker (a fresh development broker, a
      // recreated topic): read the partition from its start; positions skip what was applied.
      return Reseek(message.partition, expected.fallback, *progress);
    }
    const std::span<const uint8_t> value(static_cast<const uint8_t*>(message.payload), message.len);
    copies_.push_back(Copy{.partition = message.partition,
                           .offset = message.offset,
                           .position = *position,
                           .start = arena_->Append(value),
                           .size = value.size()});
    progress->next_offset = message.offset + 1;
    progress->end_offset = std::max(progress->end_offset, message.offset + 1);
    return Status::Ok();
  }

  Status Reseek(int32_t partition, int64_t offset, PartitionProgress& progress) {
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition)->offset =
        offset;
    rd_kafka_error_t* error =
        rd_kafka_seek_partitions(rk_.get(), list.get(), TimeoutMs(options_.metadata_timeout));
    const rd_kafka_resp_err_t err =
        error != nullptr ? rd_kafka_error_code(error) : list->elems[0].err;
    if (error != nullptr) rd_kafka_error_destroy(error);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(fmt::format("kafka source: seeking {} partition {} to {}: {}",
                                          options_.topic, partition, offset,
                                          rd_kafka_err2str(err)));
    }
    // With a timeout, the seek guarantees that nothing fetched before it is delivered.
    progress.next_offset = offset;
    ++assignment_.offset_resets;
    return Status::Ok();
  }

  // Resolves where `wanted` starts and remembers what to confirm there.
  Result<PartitionProgress> Start(rd_kafka_t* rk, const PartitionStart& wanted) {
    PartitionProgress progress;
    std::optional<ResumeCheck> check;
    HPF_RETURN_IF_ERROR(ResolveStart(rk, options_, wanted, progress, check));
    checks_.erase(wanted.partition);
    if (check.has_value()) checks_[wanted.partition] = *check;
    return progress;
  }

  struct Copy {
    int32_t partition = 0;
    int64_t offset = 0;
    events::GlobalPosition position;
    size_t start = 0;
    size_t size = 0;
  };

  const KafkaSourceOptions& options_;
  std::shared_ptr<KafkaSource::Shared> shared_;
  Handle rk_;
  Assignment assignment_;
  std::string scope_;
  Status pending_error_;                   // from a callback, returned by the next Poll()
  std::map<int32_t, ResumeCheck> checks_;  // partitions whose first message confirms the offset
  internal::AlignedArena arenas_[2];
  internal::AlignedArena* arena_ = &arenas_[0];  // the one being filled
  int turn_ = 0;
  std::vector<Copy> copies_;
};

class KafkaMainReader final : public KafkaReader {
 public:
  KafkaMainReader(const KafkaSourceOptions& options, std::shared_ptr<KafkaSource::Shared> shared,
                  StartOffsetFn start)
      : KafkaReader(options, std::move(shared)), start_(std::move(start)) {}

  ~KafkaMainReader() override {
    // Close while `this` is whole: closing runs the rebalance callback (revocation).
    rk_.reset();
  }

  Status Subscribe() {
    HPF_ASSIGN_OR_RETURN(
        rk_, NewConsumer(options_, options_.group_id, &KafkaMainReader::Rebalance, this));
    PartitionList topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), topics.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(fmt::format("kafka source: subscribing to {}: {}", options_.topic,
                                          rd_kafka_err2str(err)));
    }
    return Status::Ok();
  }

 private:
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<KafkaMainReader*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      Status status = self->Assign(rk, partitions);
      if (!status.ok()) {
        self->pending_error_ = std::move(status);
        rd_kafka_assign(rk, nullptr);
      }
    } else {
      // Revoked (or an error): we hold nothing until the next assignment.
      rd_kafka_assign(rk, nullptr);
      self->assignment_.partitions.clear();
      ++self->assignment_.generation;
    }
  }

  Status Assign(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions) {
    if (scope_.empty()) {
      char* id = rd_kafka_clusterid(rk, TimeoutMs(options_.metadata_timeout));
      if (id == nullptr) return UnavailableError("kafka source: the cluster id is unknown");
      scope_ = std::string("kafka-cluster:") + id;
      rd_kafka_mem_free(rk, id);
      std::lock_guard lock(shared_->mutex);
      shared_->cluster_id = scope_;
    }
    Assignment next{.generation = assignment_.generation + 1,
                    .partitions = {},
                    .offset_resets = assignment_.offset_resets};
    for (int i = 0; i < partitions->cnt; ++i) {
      rd_kafka_topic_partition_t& entry = partitions->elems[i];
      if (entry.partition < 0 || entry.partition >= kPartitionsMax) {
        return InvalidArgumentError(fmt::format("kafka source: partition {} is outside 0..{}",
                                                entry.partition, kPartitionsMax - 1));
      }
      PartitionStart wanted = start_(entry.partition, scope_);
      wanted.partition = entry.partition;
      HPF_ASSIGN_OR_RETURN(const PartitionProgress progress, Start(rk, wanted));
      entry.offset = progress.next_offset;
      next.partitions.push_back(progress);
    }
    std::sort(next.partitions.begin(), next.partitions.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    const rd_kafka_resp_err_t err = rd_kafka_assign(rk, partitions);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(
          fmt::format("kafka source: assigning partitions: {}", rd_kafka_err2str(err)));
    }
    assignment_ = std::move(next);
    return Status::Ok();
  }

  StartOffsetFn start_;
};

class KafkaCatchUpReader final : public KafkaReader {
 public:
  using KafkaReader::KafkaReader;

  Status Assign(std::span<const PartitionStart> starts) {
    {
      std::lock_guard lock(shared_->mutex);
      scope_ = shared_->cluster_id;
    }
    if (scope_.empty()) {
      return FailedPreconditionError("kafka source: a catch-up reader before any assignment");
    }
    HPF_ASSIGN_OR_RETURN(rk_,
                         NewConsumer(options_, options_.group_id + ".catch-up", nullptr, nullptr));
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(starts.size())));
    Assignment next{.generation = 1, .partitions = {}};
    for (const PartitionStart& start : starts) {
      HPF_ASSIGN_OR_RETURN(const PartitionProgress progress, Start(rk_.get(), start));
      rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), start.partition)
          ->offset = progress.next_offset;
      next.partitions.push_back(progress);
    }
    std::sort(next.partitions.begin(), next.partitions.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    const rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(
          fmt::format("kafka source: assigning partitions: {}", rd_kafka_err2str(err)));
    }
    assignment_ = std::move(next);
    return Status::Ok();
  }
};

}  // namespace

KafkaSource::KafkaSource(KafkaSourceOptions options)
    : options_(std::move(options)), shared_(std::make_shared<Shared>()) {}

KafkaSource::~KafkaSource() = default;

Result<std::unique_ptr<KafkaSource>> KafkaSource::Create(const KafkaSourceOptions& options) {
  if (options.bootstrap_servers.empty()) {
    return InvalidArgumentError("kafka source: no bootstrap servers");
  }
  if (options.topic.empty()) return InvalidArgumentError("kafka source: no topic");
  if (options.group_id.empty()) return InvalidArgumentError("kafka source: no group id");
  // Build a configuration once, to refuse bad properties now rather than at the first read.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status status;
  for (const auto& [name, value] : options.properties) {
    if (status.ok()) status = SetProperty(conf, name, value);
  }
  rd_kafka_conf_destroy(conf);
  HPF_RETURN_IF_ERROR(status);
  return std::unique_ptr<KafkaSource>(new KafkaSource(options));
}

Result<std::unique_ptr<SourceReader>> KafkaSource::OpenMain(StartOffsetFn start) {
  auto reader = std::make_unique<KafkaMainReader>(options_, shared_, std::move(start));
  HPF_RETURN_IF_ERROR(reader->Subscribe());
  return std::unique_ptr<SourceReader>(std::move(reader));
}

Result<std::unique_ptr<SourceReader>> KafkaSource::OpenCatchUp(
    std::span<const PartitionStart> starts) {
  auto reader = std::make_unique<KafkaCatchUpReader>(options_, shared_);
  HPF_RETURN_IF_ERROR(reader->Assign(starts));
  return std::unique_ptr<SourceReader>(std::move(reader));
}

}  // namespace hpf::projections
