// tests/projections/runtime_test_support.cc
#include "tests/projections/runtime_test_support.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <variant>

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "events/log_tailer.h"
#include "events/record.h"
#include "ledger/sequencer.h"
#include "projections/projection_store.h"

namespace hpf::projections::testing {

namespace {

void PutU64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}
uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(in[at + i]);
  return value;
}
uint64_t Mix(uint64_t x) {  // SplitMix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct StreamState {
  uint64_t count = 0;
  uint64_t last_version = 0;
  uint64_t fold = 0;
  uint64_t last_position = 0;
};
struct GlTotals {
  uint64_t debit_fen = 0;
  uint64_t credit_fen = 0;
  uint64_t lines = 0;
};

std::string StreamKey(uint8_t kind, uint64_t id) {
  std::string key = "s";
  key.push_back(static_cast<char>(kind));
  PutU64(key, id);
  return key;
}
std::string GlKey(uint32_t gl) {
  std::string key = "g";
  PutU64(key, gl);
  return key;
}
std::string TypeKey(uint8_t type) {
  return fmt::format("t{}", events::EventTypeName(static_cast<schema::Event>(type)));
}

class TestProjection final : public Projection {
 public:
  explicit TestProjection(TestProjectionOptions options) : options_(std::move(options)) {}

  std::string_view name() const override { return options_.name; }
  uint32_t version() const override { return options_.version; }

  Status Load(const ReadView& stored) override {
    streams_.clear();
    gl_.clear();
    type_counts_by_key_.clear();
    totals_ = {};
    Status bad;
    HPF_RETURN_IF_ERROR(stored.Scan("", "", [&](std::string_view key, std::string_view value) {
      if (key.size() == 10 && key[0] == 's' && value.size() == 32) {
        streams_[{static_cast<uint8_t>(key[1]), GetU64(key, 2)}] = {
            GetU64(value, 0), GetU64(value, 8), GetU64(value, 16), GetU64(value, 24)};
      } else if (key.size() == 9 && key[0] == 'g' && value.size() == 24) {
        gl_[static_cast<uint32_t>(GetU64(key, 1))] = {GetU64(value, 0), GetU64(value, 8),
                                                      GetU64(value, 16)};
      } else if (key.size() > 1 && key[0] == 't' && value.size() == 8) {
        type_counts_by_key_[std::string(key)] = GetU64(value, 0);
      } else if (key == kTotalKey && value.size() == 16) {
        totals_ = {GetU64(value, 0), GetU64(value, 8)};
      } else {
        bad = CorruptionError(fmt::format("test projection: stray key of {} bytes", key.size()));
        return false;
      }
      return true;
    }));
    return bad;
  }

  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override {
    touched_streams_.clear();
    touched_gl_.clear();
    touched_types_.clear();
    for (const SourcedRecord& sourced : records) {
      if (sourced.position.value == options_.fail_at_position) {
        return CorruptionError(
            fmt::format("test projection: told to fail at {}", sourced.position.value));
      }
      if (options_.spin_nanos_per_record > 0) {
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::nanoseconds(options_.spin_nanos_per_record);
        while (std::chrono::steady_clock::now() < until) {
        }
      }
      const schema::Record& record = *sourced.record;
      const schema::Envelope& envelope = *record.envelope();
      const auto kind = static_cast<uint8_t>(envelope.stream_kind());
      StreamState& stream = streams_[{kind, envelope.stream_id()}];
      ++stream.count;
      stream.last_version = envelope.stream_version();
      stream.last_position = sourced.position.value;
      stream.fold = Mix(stream.fold ^ Mix(sourced.position.value) ^
                        (static_cast<uint64_t>(record.payload_type()) << 56));
      touched_streams_.insert({kind, envelope.stream_id()});
      const auto type = static_cast<uint8_t>(record.payload_type());
      ++type_counts_by_key_[TypeKey(type)];
      touched_types_.insert(TypeKey(type));
      if (record.postings() != nullptr) {
        for (const schema::Posting* posting : *record.postings()) {
          GlTotals& gl = gl_[posting->gl_account()];
          const auto amount = static_cast<uint64_t>(posting->amount_fen());
          if (posting->side() == schema::Side::Debit) {
            gl.debit_fen += amount;
            totals_.amount_fen += amount;
          } else {
            gl.credit_fen += amount;
          }
          ++gl.lines;
          touched_gl_.insert(posting->gl_account());
        }
      }
      ++totals_.records;
    }
    // Each touched key once per batch.
    std::string value;
    for (const auto& key : touched_streams_) {
      const StreamState& stream = streams_[key];
      value.clear();
      PutU64(value, stream.count);
      PutU64(value, stream.last_version);
      PutU64(value, stream.fold);
      PutU64(value, stream.last_position);
      out.Put(StreamKey(key.first, key.second), value);
    }
    for (const uint32_t gl : touched_gl_) {
      const GlTotals& totals = gl_[gl];
      value.clear();
      PutU64(value, totals.debit_fen);
      PutU64(value, totals.credit_fen);
      PutU64(value, totals.lines);
      out.Put(GlKey(gl), value);
    }
    for (const auto& key : touched_types_) {
      value.clear();
      PutU64(value, type_counts_by_key_[key]);
      out.Put(key, value);
    }
    value.clear();
    PutU64(value, totals_.records);
    PutU64(value, totals_.amount_fen);
    out.Put(kTotalKey, value);
    return Status::Ok();
  }

 private:
  TestProjectionOptions options_;
  std::map<std::pair<uint8_t, uint64_t>, StreamState> streams_;
  std::map<uint32_t, GlTotals> gl_;
  std::map<std::string, uint64_t> type_counts_by_key_;
  TestTotals totals_;
  std::set<std::pair<uint8_t, uint64_t>> touched_streams_;
  std::set<uint32_t> touched_gl_;
  std::set<std::string> touched_types_;
};

}  // namespace

std::unique_ptr<Projection> MakeTestProjection(TestProjectionOptions options) {
  return std::make_unique<TestProjection>(std::move(options));
}

Result<TestTotals> ReadTotals(const ReadView& view) {
  HPF_ASSIGN_OR_RETURN(const std::optional<std::string> value, view.Get(kTotalKey));
  if (!value.has_value()) return TestTotals{};
  if (value->size() != 16) return CorruptionError("test projection: total of the wrong size");
  return TestTotals{GetU64(*value, 0), GetU64(*value, 8)};
}

// ---------------------------------------------------------------------------------------------

Result<std::optional<std::string>> MemoryKeySpace::Get(std::string_view key) const {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryKeySpace::Scan(
    std::string_view prefix, std::string_view after,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  auto it = keys_.lower_bound(prefix);
  if (!after.empty() && after > prefix) it = keys_.upper_bound(after);
  for (; it != keys_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    if (!visit(it->first, it->second)) break;
  }
  return Status::Ok();
}

void MemoryKeySpace::Put(std::string_view key, std::string_view value) {
  keys_.insert_or_assign(std::string(key), std::string(value));
}

void MemoryKeySpace::Delete(std::string_view key) {
  const auto it = keys_.find(key);
  if (it != keys_.end()) keys_.erase(it);
}

namespace {

Status FoldLogWhere(const events::EventLog& log, events::GlobalPosition after,
                    events::GlobalPosition through, size_t batch_records,
                    const std::function<bool(events::GlobalPosition)>& keep, Projection& projection,
                    MemoryKeySpace& space) {
  struct Held {
    std::vector<uint64_t> words;
    size_t size = 0;
    events::GlobalPosition position;
  };
  std::vector<Held> held;
  std::vector<SourcedRecord> batch;
  auto flush = [&]() -> Status {
    batch.clear();
    for (const Held& h : held) {
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(h.words.data()),
                                           h.size);
      HPF_ASSIGN_OR_RETURN(const schema::Record* record, events::VerifyRecord(bytes));
      batch.push_back({.position = h.position, .record = record, .bytes = bytes});
    }
    if (!batch.empty()) HPF_RETURN_IF_ERROR(projection.Apply(batch, space));
    if (!held.empty()) space.set_position(held.back().position);
    held.clear();
    return Status::Ok();
  };
  if (through <= after) return Status::Ok();
  Status inner;
  HPF_RETURN_IF_ERROR(log.Scan(after.next(), through, [&](const events::RecordRef& ref) {
    if (keep && !keep(ref.position)) return true;
    Held h;
    h.words.resize((ref.record.size() + 7) / 8);
    std::memcpy(h.words.data(), ref.record.data(), ref.record.size());
    h.size = ref.record.size();
    h.position = ref.position;
    held.push_back(std::move(h));
    if (held.size() >= batch_records) inner = flush();
    return inner.ok();
  }));
  HPF_RETURN_IF_ERROR(inner);
  return flush();
}

}  // namespace

Status FoldLog(const events::EventLog& log, events::GlobalPosition after,
               events::GlobalPosition through, size_t batch_records, Projection& projection,
               MemoryKeySpace& space) {
  return FoldLogWhere(log, after, through, batch_records, nullptr, projection, space);
}

Result<std::string> ReferenceDump(const events::EventLog& log, events::GlobalPosition through,
                                  Projection& fresh_projection) {
  return ReferenceDumpWhere(log, through, nullptr, fresh_projection);
}

Result<std::string> ReferenceDumpWhere(const events::EventLog& log, events::GlobalPosition through,
                                       const std::function<bool(events::GlobalPosition)>& keep,
                                       Projection& fresh_projection) {
  MemoryKeySpace space;
  HPF_RETURN_IF_ERROR(fresh_projection.Load(space));
  HPF_RETURN_IF_ERROR(
      FoldLogWhere(log, events::GlobalPosition{0}, through, 997, keep, fresh_projection, space));
  return DumpKeySpace(space);
}

Result<uint64_t> BuildCityLog(const std::string& dir, const sim::CityOptions& city) {
  HPF_ASSIGN_OR_RETURN(std::unique_ptr<events::EventLog> log,
                       events::EventLog::Open({.data_dir = dir,
                                               .mode = events::OpenMode::kCreateNew,
                                               .durability = events::Durability::kNoSync}));
  static const ledger::PolicyBook policy = ledger::DefaultPolicy();
  HPF_ASSIGN_OR_RETURN(std::unique_ptr<ledger::Sequencer> sequencer,
                       ledger::Sequencer::Open({.log = log.get(), .policy = &policy}));
  std::deque<std::future<std::vector<ledger::CommandResult>>> pending;
  std::vector<ledger::Command> submission;
  Status failed;
  auto collect = [&] {
    for (const auto& result : pending.front().get()) {
      if (const auto* failure = std::get_if<ledger::CommandFailed>(&result)) {
        if (failed.ok()) failed = failure->status;
      }
    }
    pending.pop_front();
  };
  sim::GenerateCity(city, [&](ledger::Command&& command) {
    submission.push_back(std::move(command));
    if (submission.size() == 1000) {
      pending.push_back(sequencer->Submit(std::move(submission)));
      submission.clear();
      while (pending.size() > 8) collect();
    }
  });
  if (!submission.empty()) pending.push_back(sequencer->Submit(std::move(submission)));
  while (!pending.empty()) collect();
  HPF_RETURN_IF_ERROR(failed);
  HPF_RETURN_IF_ERROR(sequencer->Close());
  const uint64_t records = log->head().position.value;
  HPF_RETURN_IF_ERROR(log->Close());
  return records;
}

std::string KafkaKey(const schema::Record& record) {
  return fmt::format("{}:{}", schema::EnumNameEntityKind(record.envelope()->stream_kind()),
                     record.envelope()->stream_id());
}

// ---------------------------------------------------------------------------------------------

struct MockKafka::Counters {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
  mutable std::mutex mutex;
  std::map<uint64_t, int32_t> partitions;  // position -> partition
};

namespace {
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* counters = static_cast<MockKafka::Counters*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    counters->delivered.fetch_add(1);
    const auto position = reinterpret_cast<uintptr_t>(message->_private);
    if (position != 0) {
      std::lock_guard lock(counters->mutex);
      counters->partitions[position] = message->partition;
    }
  } else {
    counters->failed.fetch_add(1);
  }
}
}  // namespace

MockKafka::MockKafka() : counters_(std::make_unique<Counters>()) {}

uint64_t MockKafka::delivered() const { return counters_->delivered.load(); }

std::map<uint64_t, int32_t> MockKafka::partitions() const {
  std::lock_guard lock(counters_->mutex);
  return counters_->partitions;
}

Result<std::unique_ptr<MockKafka>> MockKafka::Start(int32_t brokers, const std::string& topic,
                                                    int32_t partitions) {
  std::unique_ptr<MockKafka> kafka(new MockKafka());
  kafka->topic_ = topic;
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  kafka->cluster_handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (kafka->cluster_handle_ == nullptr) return InternalError(error);
  kafka->cluster_ = rd_kafka_mock_cluster_new(kafka->cluster_handle_, brokers);
  if (kafka->cluster_ == nullptr) return InternalError("rd_kafka_mock_cluster_new failed");
  if (rd_kafka_mock_topic_create(kafka->cluster_, topic.c_str(), partitions, 1) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InternalError("creating the topic failed");
  }
  kafka->bootstrap_ = rd_kafka_mock_cluster_bootstraps(kafka->cluster_);
  rd_kafka_conf_t* producer_conf = rd_kafka_conf_new();
  const std::pair<const char*, const char*> settings[] = {
      {"bootstrap.servers", kafka->bootstrap_.c_str()},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"partitioner", "murmur2_random"},  // the publisher's (events/kafka_publisher.h)
      {"log_level", "3"},
  };
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(producer_conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(producer_conf);
      return InternalError(error);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(producer_conf, OnDelivery);
  rd_kafka_conf_set_opaque(producer_conf, kafka->counters_.get());
  kafka->producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, producer_conf, error, sizeof error);
  if (kafka->producer_ == nullptr) {
    rd_kafka_conf_destroy(producer_conf);
    return InternalError(error);
  }
  return kafka;
}

MockKafka::~MockKafka() {
  if (producer_ != nullptr) {
    rd_kafka_flush(producer_, 5000);
    rd_kafka_destroy(producer_);
  }
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (cluster_handle_ != nullptr) rd_kafka_destroy(cluster_handle_);
}

namespace {
Status Produce(rd_kafka_t* producer, const std::string& topic, std::string_view key,
               std::span<const uint8_t> value, std::string_view position, std::string_view type,
               std::string_view schema, std::string_view hash, uint64_t position_value) {
  rd_kafka_headers_t* headers = rd_kafka_headers_new(4);
  const std::pair<const char*, std::string_view> fields[] = {
      {"position", position}, {"type", type}, {"schema", schema}, {"hash", hash}};
  for (const auto& [name, field] : fields) {
    if (!field.empty()) {
      rd_kafka_header_add(headers, name, -1, field.data(), static_cast<ssize_t>(field.size()));
    }
  }
  while (true) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<uint8_t*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(position_value))),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();  // the headers are owned now
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_headers_destroy(headers);
      return InternalError(fmt::format("produce: {}", rd_kafka_err2str(err)));
    }
    rd_kafka_poll(producer, 10);
  }
}
}  // namespace

Status MockKafka::Flush() {
  while (rd_kafka_outq_len(producer_) > 0) rd_kafka_poll(producer_, 50);
  if (counters_->failed.load() != 0) {
    return InternalError(fmt::format("{} deliveries failed", counters_->failed.load()));
  }
  return Status::Ok();
}

Status MockKafka::Publish(const events::EventLog& log, events::GlobalPosition after,
                          events::GlobalPosition through) {
  Status status;
  if (through > after) {
    HPF_RETURN_IF_ERROR(log.Scan(after.next(), through, [&](const events::RecordRef& ref) {
      auto record = events::VerifyRecord(ref.record);
      if (!record.has_value()) {
        status = record.error();
        return false;
      }
      events::Digest hash{};
      std::copy(ref.hash.begin(), ref.hash.end(), hash.begin());
      status = Produce(producer_, topic_, KafkaKey(**record), ref.record,
                       std::to_string(ref.position.value),
                       events::EventTypeName((*record)->payload_type()), "hpf.v1",
                       events::ToHex(hash), ref.position.value);
      rd_kafka_poll(producer_, 0);
      return status.ok();
    }));
  }
  HPF_RETURN_IF_ERROR(status);
  return Flush();
}

Status MockKafka::PublishRaw(std::string_view key, std::string_view value,
                             std::string_view position, std::string_view schema) {
  HPF_RETURN_IF_ERROR(Produce(producer_, topic_, key,
                              {reinterpret_cast<const uint8_t*>(value.data()), value.size()},
                              position, "", schema, "", 0));
  return Flush();
}

}  // namespace hpf::projections::testing
