// bench/publish_bench.cc — `ledger-bench publish`: the KafkaPublisher publishing a prepared log
// against raw librdkafka producing the same messages, to the same development broker, in the
// same run.
//
// The log (--records receipts of ~500 bytes, streams spread over 45 000 employers) is written
// once. Each run starts a DevBroker with two fresh topics of --partitions partitions; one side
// publishes the log from position 1 (a fresh topic, so a fresh cursor) and is timed from
// Start() until every record's delivery report is in; the other hands librdkafka the same
// keys, values and headers, already built in memory, with the same producer settings
// (idempotent, acks=all, the same partitioner), and is timed until flush() returns. The
// order of the two alternates between runs. What the ratio measures is what the publisher
// adds: reading and verifying the log, building keys and headers, the delivery window and
// the cursor.
#include <thread>

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "events/dev_broker.h"
#include "events/event_log.h"
#include "events/internal/rdkafka_util.h"
#include "events/kafka_publisher.h"
#include "events/record.h"
#include "tests/support/records.h"

namespace hpf::bench {
namespace {

namespace schema = ::hpf::schema::v1;

// One message as the publisher sends it, prepared for the raw side.
struct Message {
  std::string key;
  std::string value;
  std::string position;
  std::string type;
  std::string hash;
};

void WriteLog(events::EventLog& log, uint64_t records) {
  events::RecordBuilder builder;
  constexpr uint64_t kBatch = 1000;
  for (uint64_t i = 0; i < records;) {
    events::AppendBatch batch;
    for (uint64_t j = 0; j < kBatch && i < records; ++j, ++i) {
      std::string key = fmt::format("publish-bench-{:010}", i);
      std::string reference = key;
      uint64_t x = i * 0x9e3779b97f4a7c15ull ^ 0x2545f4914f6cdd1dull;
      while (reference.size() < 120) {  // an incompressible bank memo, as in log-append
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        reference += "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[x % 36];
      }
      const auto record =
          testing::BuildReceipt(builder, {.key = std::move(key),
                                          .amount_fen = static_cast<int64_t>(1000 + i % 100000),
                                          .employer_id = 1 + i % 45000,
                                          .reference = std::move(reference)});
      HPF_ASSERT(batch.AddRecord(record).ok());
    }
    HPF_ASSERT(log.Append(std::move(batch)).has_value());
  }
}

std::vector<Message> PrepareMessages(const events::EventLog& log) {
  std::vector<Message> messages;
  HPF_ASSERT(
      log.Scan(events::GlobalPosition{1}, log.head().position,
               [&](const events::RecordRef& ref) {
                 auto record = events::VerifyRecord(ref.record);
                 HPF_ASSERT(record.has_value());
                 const auto& envelope = *(*record)->envelope();
                 events::Digest hash;
                 std::copy(ref.hash.begin(), ref.hash.end(), hash.begin());
                 messages.push_back(
                     {fmt::format("{}:{}", schema::EnumNameEntityKind(envelope.stream_kind()),
                                  envelope.stream_id()),
                      std::string(reinterpret_cast<const char*>(ref.record.data()),
                                  ref.record.size()),
                      std::to_string(ref.position.value),
                      std::string(events::EventTypeName((*record)->payload_type())),
                      events::ToHex(hash)});
                 return true;
               })
          .ok());
  return messages;
}

double PublisherSeconds(events::EventLog& log, const std::string& bootstrap,
                        const std::string& topic, uint64_t* retries) {
  const auto start = std::chrono::steady_clock::now();
  auto publisher = events::KafkaPublisher::Start(
      &log, {.bootstrap_servers = bootstrap, .topic = topic, .cursor_write_interval_ms = 100});
  HPF_ASSERT(publisher.has_value());
  const events::GlobalPosition head = log.head().position;
  while ((*publisher)->WaitForPublished(head, std::chrono::seconds(60)) < head) {
    fmt::print(stderr, "publish: waiting, {}\n", (*publisher)->stats().last_error);
  }
  const double seconds = SecondsSince(start);
  const events::KafkaPublisherStats stats = (*publisher)->stats();
  HPF_ASSERT(stats.delivery_errors == 0);
  *retries = stats.retries;
  HPF_ASSERT((*publisher)->Stop().ok());
  return seconds;
}

struct RawCounts {
  uint64_t delivered = 0;
  uint64_t failed = 0;
};

void OnRawDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* counts = static_cast<RawCounts*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts->delivered;
  } else {
    ++counts->failed;
  }
}

double RawSeconds(const std::vector<Message>& messages, const std::string& bootstrap,
                  const std::string& topic) {
  RawCounts counts;
  // The publisher's own settings (kafka_publisher.cc), so only the work around them differs.
  auto conf = events::internal::MakeKafkaConf({
      {"bootstrap.servers", bootstrap},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"message.timeout.ms", "0"},
      {"enable.gapless.guarantee", "true"},
      {"partitioner", "murmur2_random"},
      {"queue.buffering.max.messages", std::to_string(100'000 + 4096)},
      {"log_level", "3"},
  });
  HPF_ASSERT(conf.has_value());
  rd_kafka_conf_set_opaque(conf->get(), &counts);
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &OnRawDelivery);
  auto producer = events::internal::NewKafka(RD_KAFKA_PRODUCER, std::move(conf).value());
  HPF_ASSERT(producer.has_value());
  rd_kafka_t* handle = producer->get();
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(handle, topic.c_str(), nullptr);
  const auto start = std::chrono::steady_clock::now();
  uint64_t produced = 0;
  for (const Message& m : messages) {
    // Like the publisher: at most 100 000 unconfirmed messages. Failed reports count as
    // answered, so a failure ends the run at the assertion below instead of hanging it here.
    while (produced - counts.delivered - counts.failed >= 100'000) rd_kafka_poll(handle, 10);
    while (true) {
      rd_kafka_headers_t* headers = rd_kafka_headers_new(4);
      rd_kafka_header_add(headers, "position", -1, m.position.data(),
                          static_cast<ssize_t>(m.position.size()));
      rd_kafka_header_add(headers, "type", -1, m.type.data(), static_cast<ssize_t>(m.type.size()));
      rd_kafka_header_add(headers, "schema", -1, "hpf.v1", 6);
      rd_kafka_header_add(headers, "hash", -1, m.hash.data(), static_cast<ssize_t>(m.hash.size()));
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          handle, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
          RD_KAFKA_V_KEY(m.key.data(), m.key.size()), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      rd_kafka_headers_destroy(headers);
      HPF_ASSERT(err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
      rd_kafka_poll(handle, 10);
    }
    ++produced;
    if (produced % 4096 == 0) rd_kafka_poll(handle, 0);
  }
  while (counts.delivered + counts.failed < produced) rd_kafka_flush(handle, 1000);
  const double seconds = SecondsSince(start);
  HPF_ASSERT(counts.failed == 0);
  rd_kafka_topic_destroy(rkt);
  return seconds;
}

}  // namespace

int RunPublish(const Flags& flags) {
  const uint64_t records = flags.GetU64("records", 500'000);
  const uint64_t runs = flags.GetU64("runs", 3);
  const uint64_t partitions = flags.GetU64("partitions", 6);
  if (records == 0 || runs == 0 || partitions == 0 || partitions > events::kDevPartitionsMax) {
    fmt::print(stderr, "publish: --records, --runs > 0, --partitions 1..{}\n",
               events::kDevPartitionsMax);
    return 2;
  }
  fmt::print("publish: {} records, {} partitions, {} runs\n", records, partitions, runs);
  fmt::print("machine: {}\n", MachineSummary());
  const std::string dir = MakeTempDir("hpf-bench-publish");
  auto opened = events::EventLog::Open({.data_dir = dir,
                                        .mode = events::OpenMode::kCreateNew,
                                        .durability = events::Durability::kNoSync});
  HPF_ASSERT(opened.has_value());
  auto log = std::move(opened).value();
  WriteLog(*log, records);
  // Publish a log at rest, as after a restart: written, closed (its key index folded in, its
  // memtables flushed) and opened again, so no background work of the writing competes.
  HPF_ASSERT(log->Close().ok());
  log.reset();
  opened = events::EventLog::Open({.data_dir = dir,
                                   .mode = events::OpenMode::kOpenExisting,
                                   .durability = events::Durability::kNoSync});
  HPF_ASSERT(opened.has_value());
  log = std::move(opened).value();
  const std::vector<Message> messages = PrepareMessages(*log);
  uint64_t value_bytes = 0;
  for (const Message& m : messages) value_bytes += m.value.size();
  fmt::print("log: {} records, {} bytes each on average\n", messages.size(),
             value_bytes / messages.size());

  std::vector<double> hpf_rates, raw_rates;
  for (uint64_t run = 0; run < runs; ++run) {
    auto broker = events::DevBroker::Start(
        {.broker_count = 1, .topic = "", .partition_count = static_cast<int32_t>(partitions)});
    HPF_ASSERT(broker.has_value());
    const std::string hpf_topic = fmt::format("bench.publisher.{}", run);
    const std::string raw_topic = fmt::format("bench.raw.{}", run);
    HPF_ASSERT((*broker)->CreateTopic(hpf_topic, static_cast<int32_t>(partitions), 1).ok());
    HPF_ASSERT((*broker)->CreateTopic(raw_topic, static_cast<int32_t>(partitions), 1).ok());
    double hpf_seconds = 0;
    double raw_seconds = 0;
    uint64_t retries = 0;
    const double cpu_start = ProcessCpuSeconds();
    const auto wall_start = std::chrono::steady_clock::now();
    if (run % 2 == 0) {
      hpf_seconds = PublisherSeconds(*log, (*broker)->bootstrap_servers(), hpf_topic, &retries);
      raw_seconds = RawSeconds(messages, (*broker)->bootstrap_servers(), raw_topic);
    } else {
      raw_seconds = RawSeconds(messages, (*broker)->bootstrap_servers(), raw_topic);
      hpf_seconds = PublisherSeconds(*log, (*broker)->bootstrap_servers(), hpf_topic, &retries);
    }
    const double cores_busy = (ProcessCpuSeconds() - cpu_start) / SecondsSince(wall_start);
    const double count = static_cast<double>(messages.size());
    hpf_rates.push_back(count / hpf_seconds);
    raw_rates.push_back(count / raw_seconds);
    fmt::print(
        "run {}: publisher {:.0f} messages/s ({} retries), raw librdkafka {:.0f} messages/s, "
        "ratio {:.2f}, {:.2f} cores busy\n",
        run + 1, hpf_rates.back(), retries, raw_rates.back(), hpf_rates.back() / raw_rates.back(),
        cores_busy);
  }
  HPF_ASSERT(log->Close().ok());
  RemoveDir(dir);
  const double hpf = Median(hpf_rates);
  const double raw = Median(raw_rates);
  fmt::print(
      "{{\"bench\":\"publish\",\"records\":{},\"partitions\":{},\"runs\":{},\"record_bytes\":{},"
      "\"publisher_messages_per_s\":{:.0f},\"raw_librdkafka_messages_per_s\":{:.0f},"
      "\"ratio\":{:.2f}}}\n",
      messages.size(), partitions, runs, value_bytes / messages.size(), hpf, raw, hpf / raw);
  return 0;
}

}  // namespace hpf::bench
