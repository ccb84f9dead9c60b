// tests/kafka/kafka_publisher_test.cc — the publisher against the development broker: every
// record arrives, in per-stream order, byte for byte; outages, injected errors, restarts and
// fresh brokers lose nothing; the cursor never runs ahead of delivery.
#include "events/kafka_publisher.h"

#include <atomic>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "events/dev_broker.h"
#include "events/internal/publisher_cursor.h"
#include "events/internal/rdkafka_util.h"
#include "tests/kafka/kafka_test_util.h"
#include "tests/support/records.h"

namespace hpf::events {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<EventLog> OpenLog(const std::string& dir) {
  auto log = EventLog::Open({.data_dir = dir, .durability = Durability::kNoSync});
  HPF_ASSERT(log.has_value());
  return std::move(log).value();
}

std::unique_ptr<DevBroker> StartBroker(int32_t brokers, int32_t partitions) {
  auto broker = DevBroker::Start({.broker_count = brokers, .partition_count = partitions});
  HPF_ASSERT(broker.has_value());
  return std::move(broker).value();
}

std::unique_ptr<KafkaPublisher> StartPublisher(EventLog& log, const DevBroker& broker,
                                               KafkaPublisherOptions options = {}) {
  options.bootstrap_servers = broker.bootstrap_servers();
  auto publisher = KafkaPublisher::Start(&log, options);
  HPF_ASSERT(publisher.has_value());
  return std::move(publisher).value();
}

// The cursor the store holds, as a later publisher would read it.
internal::PublisherCursor StoredCursor(const EventLog& log) {
  auto text = log.GetFollowerMeta(internal::PublisherCursorKey(kDefaultTopic));
  HPF_ASSERT(text.has_value());
  if (!text->has_value()) return {};
  auto cursor = internal::DecodePublisherCursor(**text);
  HPF_ASSERT(cursor.has_value());
  return *cursor;
}

// The cluster id `broker` reports, as the publisher sees it.
std::string ClusterId(const DevBroker& broker) {
  auto conf = internal::MakeKafkaConf({{"bootstrap.servers", broker.bootstrap_servers()}});
  HPF_ASSERT(conf.has_value());
  auto client = internal::NewKafka(RD_KAFKA_PRODUCER, std::move(conf).value());
  HPF_ASSERT(client.has_value());
  char* id = rd_kafka_clusterid(client->get(), 10'000);
  HPF_ASSERT(id != nullptr);
  std::string text(id);
  rd_kafka_mem_free(client->get(), id);
  return text;
}

testing::TopicCheck ReadAndCheck(const DevBroker& broker, const EventLog& log) {
  auto messages =
      testing::ReadTopic(broker.bootstrap_servers(), std::string(kDefaultTopic), seconds(60));
  REQUIRE_MESSAGE(messages.has_value(), messages.status().ToString());
  auto check = testing::CheckTopicAgainstLog(*messages, log);
  for (const auto& problem : check.problems) FAIL_CHECK(problem);
  return check;
}

// Polls `done` every 10 ms until it holds or `timeout` passes; returns its last answer. Tests
// wait for progress this way rather than sleeping a fixed time, so a loaded machine only
// makes them slower, not wrong.
template <typename Predicate>
bool WaitUntil(Predicate done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

// Keeps appending receipts on its own thread until stopped, 50 every 20 ms (~2 500/s): load,
// yet within what the development broker keeps per partition (5 MiB) over a 10 s outage.
class Appender {
 public:
  Appender(EventLog& log, std::string prefix) {
    thread_ = std::thread([&log, prefix = std::move(prefix), this] {
      for (uint64_t round = 0; !stop_.load(); ++round) {
        testing::AppendReceipts(log, fmt::format("{}-{}", prefix, round), 50, 50, 23);
        std::this_thread::sleep_for(milliseconds(20));
      }
    });
  }
  ~Appender() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Under load, all brokers down for `outage`: appends continue; the cursor stays at what was
// delivered; afterwards everything arrives and the topic keeps per-stream order.
void OutageUnderLoad(milliseconds outage) {
  testing::TempDir dir;
  auto log = OpenLog(dir.path());
  auto broker = StartBroker(3, 6);
  testing::AppendReceipts(*log, "before", 1000, 100, 31);
  auto publisher = StartPublisher(*log, *broker, {.cursor_write_interval_ms = 20});
  REQUIRE(publisher->WaitForPublished(GlobalPosition{1000}, seconds(30)).value >= 1000);
  Appender appender(*log, "load");
  std::this_thread::sleep_for(milliseconds(300));

  REQUIRE(broker->SetAllBrokersDown().ok());
  // What was delivered before the outage; give in-flight reports a moment to settle.
  std::this_thread::sleep_for(milliseconds(500));
  const GlobalPosition delivered_before = publisher->stats().published_through;
  std::this_thread::sleep_for(outage - milliseconds(500));
  const KafkaPublisherStats during = publisher->stats();
  const internal::PublisherCursor cursor_during = StoredCursor(*log);
  CHECK(during.published_through == delivered_before);  // nothing delivered while down
  CHECK(cursor_during.published_through <= during.published_through);
  CHECK(during.lag_records > 0);  // the log kept growing; the records wait in it
  REQUIRE(broker->SetAllBrokersUp().ok());

  std::this_thread::sleep_for(milliseconds(500));
  appender.Stop();
  const GlobalPosition head = log->head().position;
  CHECK(head.value > delivered_before.value + 100);
  CHECK(publisher->WaitForPublished(head, seconds(60)) == head);
  const KafkaPublisherStats after = publisher->stats();
  MESSAGE(fmt::format("head {}, produced {}, delivered {}, retries {}, restarts {}, errors {}: {}",
                      head.value, after.produced, after.delivered, after.retries, after.restarts,
                      after.delivery_errors, after.last_error));
  CHECK(after.lag_records == 0);
  REQUIRE(publisher->Stop().ok());
  CHECK(StoredCursor(*log).published_through == head);
  const auto check = ReadAndCheck(*broker, *log);
  CHECK(check.distinct_positions == head.value);
}

TEST_SUITE("kafka") {
  TEST_CASE("KafkaPublisher: every record arrives once, in order, bytes and headers exact") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(3, 6);
    testing::AppendReceipts(*log, "a", 2000, 250, 37);
    auto publisher = StartPublisher(*log, *broker);
    // Appended while the publisher runs: it follows the log.
    testing::AppendReceipts(*log, "b", 1500, 100, 37);
    const GlobalPosition head = log->head().position;
    REQUIRE(head.value == 3500);
    CHECK(publisher->WaitForPublished(head, seconds(30)) == head);
    KafkaPublisherStats stats = publisher->stats();
    CHECK(stats.head == head);
    CHECK(stats.lag_records == 0);
    CHECK(stats.produced == 3500);
    CHECK(stats.delivered == 3500);
    CHECK(stats.delivery_errors == 0);
    CHECK(stats.restarts == 0);
    CHECK(stats.producing);
    REQUIRE(publisher->Stop().ok());
    CHECK(publisher->stats().cursor_stored == head);
    const internal::PublisherCursor cursor = StoredCursor(*log);
    CHECK(cursor.published_through == head);
    CHECK(cursor.broker_messages == 3500);
    CHECK(!cursor.cluster_id.empty());

    auto messages =
        testing::ReadTopic(broker->bootstrap_servers(), std::string(kDefaultTopic), seconds(30));
    REQUIRE(messages.has_value());
    CHECK(messages->size() == 3500);
    const auto check = testing::CheckTopicAgainstLog(*messages, *log);
    for (const auto& problem : check.problems) FAIL_CHECK(problem);
    CHECK(check.duplicates == 0);
    CHECK(check.distinct_positions == 3500);
    // The key spreads the 37 streams over the partitions.
    std::set<int32_t> partitions;
    for (const auto& m : *messages) partitions.insert(m.partition);
    CHECK(partitions.size() > 1);
    CHECK((*messages)[0].headers.at("type") == "BankReceiptRecorded");
  }

  TEST_CASE("KafkaPublisher: all brokers down for 2 s under load: nothing lost, order kept") {
    OutageUnderLoad(milliseconds(2000));
  }

  TEST_CASE("KafkaPublisher: [slow] all brokers down for 10 s under load") {
    OutageUnderLoad(milliseconds(10'000));
  }

  TEST_CASE("KafkaPublisher: one broker of three down: its partitions wait, the rest flow") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(3, 6);
    // Broker 2 leads partitions 0 and 1, the others the rest.
    for (int32_t p = 0; p < 6; ++p) {
      REQUIRE(broker->SetPartitionLeader(kDefaultTopic, p, p < 2 ? 2 : 1 + p % 2).ok());
    }
    auto publisher = StartPublisher(*log, *broker);
    testing::AppendReceipts(*log, "a", 500, 100, 29);
    REQUIRE(publisher->WaitForPublished(GlobalPosition{500}, seconds(30)).value == 500);
    REQUIRE(broker->SetBrokerDown(2).ok());
    testing::AppendReceipts(*log, "b", 1000, 100, 29);
    // Other partitions' records are delivered (more reports than before)...
    CHECK(WaitUntil([&] { return publisher->stats().delivered > 500; }, seconds(30)));
    // ...but the prefix stops at the first record of a partition led by broker 2.
    CHECK(publisher->stats().published_through.value < 1500);
    REQUIRE(broker->SetBrokerUp(2).ok());
    CHECK(publisher->WaitForPublished(GlobalPosition{1500}, seconds(30)).value == 1500);
    REQUIRE(publisher->Stop().ok());
    const auto check = ReadAndCheck(*broker, *log);
    CHECK(check.distinct_positions == 1500);
  }

  TEST_CASE("KafkaPublisher: retriable produce errors are retried inside librdkafka") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(1, 4);
    testing::AppendReceipts(*log, "a", 300, 100, 17);
    auto publisher = StartPublisher(*log, *broker);
    REQUIRE(publisher->WaitForPublished(GlobalPosition{300}, seconds(30)).value == 300);
    const rd_kafka_resp_err_t errors[] = {
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND};
    broker->PushRequestErrors(KafkaApi::kProduce, errors);
    testing::AppendReceipts(*log, "b", 1200, 100, 17);
    CHECK(publisher->WaitForPublished(GlobalPosition{1500}, seconds(30)).value == 1500);
    // librdkafka reports its retries in statistics once a second.
    CHECK(WaitUntil([&] { return publisher->stats().retries > 0; }, seconds(30)));
    const KafkaPublisherStats stats = publisher->stats();
    CHECK(stats.delivery_errors == 0);
    CHECK(stats.restarts == 0);
    REQUIRE(publisher->Stop().ok());
    const auto check = ReadAndCheck(*broker, *log);
    CHECK(check.distinct_positions == 1500);
  }

  TEST_CASE("KafkaPublisher: a non-retriable produce error restarts from the cursor") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(1, 4);
    testing::AppendReceipts(*log, "a", 300, 100, 17);
    auto publisher = StartPublisher(*log, *broker, {.restart_backoff_ms = 50});
    REQUIRE(publisher->WaitForPublished(GlobalPosition{300}, seconds(30)).value == 300);
    const rd_kafka_resp_err_t errors[] = {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                          RD_KAFKA_RESP_ERR_INVALID_RECORD};
    broker->PushRequestErrors(KafkaApi::kProduce, errors);
    testing::AppendReceipts(*log, "b", 1200, 100, 17);
    CHECK(publisher->WaitForPublished(GlobalPosition{1500}, seconds(30)).value == 1500);
    const KafkaPublisherStats stats = publisher->stats();
    CHECK(stats.delivery_errors >= 1);
    CHECK(stats.restarts >= 1);
    // What an operator reads in /metrics: what failed, where, and what the publisher did.
    MESSAGE(stats.last_error);
    CHECK(stats.last_error.find("hpf.ledger.events") != std::string::npos);
    CHECK(stats.last_error.find("restarting from the cursor") != std::string::npos);
    REQUIRE(publisher->Stop().ok());
    // Repeats are allowed after a restart; a consumer skipping them gets every record, in
    // order per partition.
    const auto check = ReadAndCheck(*broker, *log);
    CHECK(check.distinct_positions == 1500);
  }

  TEST_CASE("KafkaPublisher: a non-retriable error amid pipelined batches leaves no gap") {
    // One partition and small batches, so several produce requests are in flight when one
    // fails: none after it may land before the restart re-sends it, or a consumer skipping
    // repeats by position would skip the failed records for good.
    // Known flake (session 3, 1 run in ~25): a real broker refuses a request behind the failed
    // one (OUT_OF_ORDER_SEQUENCE_NUMBER, the idempotent producer's sequences), but librdkafka's
    // mock cluster checks sequences only for transactional producers
    // (rd_kafka_mock_validate_records), so a request already on the wire can land and this
    // fails with "position N after M". The guarantee then rests on the broker; making it the
    // publisher's own (a per-partition previous-position header consumers check) is open.
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(1, 1);
    testing::AppendReceipts(*log, "a", 100, 100, 3);
    auto publisher =
        StartPublisher(*log, *broker,
                       {.restart_backoff_ms = 50,
                        .producer_settings = {{"batch.num.messages", "20"}, {"linger.ms", "0"}}});
    REQUIRE(publisher->WaitForPublished(GlobalPosition{100}, seconds(30)).value == 100);
    const rd_kafka_resp_err_t errors[] = {RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_NO_ERROR,
                                          RD_KAFKA_RESP_ERR_INVALID_RECORD};
    broker->PushRequestErrors(KafkaApi::kProduce, errors);
    testing::AppendReceipts(*log, "b", 4000, 4000, 3);
    CHECK(publisher->WaitForPublished(GlobalPosition{4100}, seconds(60)).value == 4100);
    CHECK(publisher->stats().restarts >= 1);
    REQUIRE(publisher->Stop().ok());
    const auto check = ReadAndCheck(*broker, *log);
    CHECK(check.distinct_positions == 4100);
  }

  TEST_CASE("KafkaPublisher: a restarted publisher resumes from its cursor") {
    testing::TempDir dir;
    auto broker = StartBroker(1, 3);
    {
      auto log = OpenLog(dir.path());
      testing::AppendReceipts(*log, "a", 1000, 100, 11);
      auto publisher = StartPublisher(*log, *broker);
      REQUIRE(publisher->WaitForPublished(GlobalPosition{1000}, seconds(30)).value == 1000);
      REQUIRE(publisher->Stop().ok());
      testing::AppendReceipts(*log, "b", 500, 100, 11);
      REQUIRE(log->Close().ok());
    }
    auto log = OpenLog(dir.path());
    CHECK(StoredCursor(*log).published_through.value == 1000);
    auto publisher = StartPublisher(*log, *broker);
    CHECK(publisher->WaitForPublished(GlobalPosition{1500}, seconds(30)).value == 1500);
    const KafkaPublisherStats stats = publisher->stats();
    CHECK(stats.produced == 500);  // only what the cursor had not covered
    CHECK(stats.broker_resets == 0);
    REQUIRE(publisher->Stop().ok());
    const auto check = ReadAndCheck(*broker, *log);
    CHECK(check.duplicates == 0);
    CHECK(check.distinct_positions == 1500);
  }

  TEST_CASE("KafkaPublisher: a fresh, empty broker gets the whole log again") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    testing::AppendReceipts(*log, "a", 800, 100, 13);
    {
      auto first = StartBroker(1, 3);
      auto publisher = StartPublisher(*log, *first);
      REQUIRE(publisher->WaitForPublished(GlobalPosition{800}, seconds(30)).value == 800);
      REQUIRE(publisher->Stop().ok());
    }
    auto fresh = StartBroker(1, 3);
    auto publisher = StartPublisher(*log, *fresh);
    CHECK(publisher->WaitForPublished(GlobalPosition{800}, seconds(30)).value == 800);
    const KafkaPublisherStats stats = publisher->stats();
    CHECK(stats.broker_resets == 1);
    CHECK(stats.produced == 800);
    REQUIRE(publisher->Stop().ok());
    const auto check = ReadAndCheck(*fresh, *log);
    CHECK(check.duplicates == 0);
    CHECK(check.distinct_positions == 800);
  }

  TEST_CASE("KafkaPublisher: a fresh broker holding a prefix gets what it lacks") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    testing::AppendReceipts(*log, "a", 600, 100, 13);
    auto fresh = StartBroker(1, 3);
    {
      // The fresh broker gets positions 1..600 from the log (a cursor of its own topic's)...
      auto publisher = StartPublisher(*log, *fresh);
      REQUIRE(publisher->WaitForPublished(GlobalPosition{600}, seconds(30)).value == 600);
      REQUIRE(publisher->Stop().ok());
    }
    testing::AppendReceipts(*log, "b", 600, 100, 13);
    {
      // ...then the cursor moves on to 1200 against another broker.
      auto other = StartBroker(1, 3);
      auto publisher = StartPublisher(*log, *other);
      REQUIRE(publisher->WaitForPublished(GlobalPosition{1200}, seconds(30)).value == 1200);
      REQUIRE(publisher->Stop().ok());
    }
    // The settings also reach the reader of the partitions' last messages (a secured cluster
    // needs them there too); producer-only ones must not stop it.
    auto publisher = StartPublisher(
        *log, *fresh,
        {.producer_settings = {{"linger.ms", "2"}, {"socket.keepalive.enable", "true"}}});
    CHECK(publisher->WaitForPublished(GlobalPosition{1200}, seconds(30)).value == 1200);
    const KafkaPublisherStats stats = publisher->stats();
    CHECK(stats.broker_resets == 1);
    // It republished from the lowest last position over the partitions, near 600, not from 1.
    CHECK(stats.produced >= 600);
    CHECK(stats.produced < 700);
    REQUIRE(publisher->Stop().ok());
    const auto check = ReadAndCheck(*fresh, *log);
    CHECK(check.distinct_positions == 1200);
  }

  TEST_CASE("KafkaPublisher: the cursor stays put while nothing is delivered") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(1, 2);
    testing::AppendReceipts(*log, "a", 100, 100, 5);
    auto publisher = StartPublisher(*log, *broker,
                                    {.cursor_write_interval_ms = 10, .stop_flush_timeout_ms = 200});
    REQUIRE(publisher->WaitForPublished(GlobalPosition{100}, seconds(30)).value == 100);
    REQUIRE(broker->SetAllBrokersDown().ok());
    testing::AppendReceipts(*log, "b", 400, 100, 5);
    // Handed over, not delivered; then time for a cursor write that must not happen.
    CHECK(WaitUntil([&] { return publisher->stats().produced == 500; }, seconds(30)));
    std::this_thread::sleep_for(milliseconds(300));
    CHECK(publisher->stats().published_through.value == 100);
    CHECK(StoredCursor(*log).published_through.value == 100);
    // Stopping while the broker is down keeps the cursor where delivery was.
    REQUIRE(publisher->Stop().ok());
    CHECK(StoredCursor(*log).published_through.value == 100);
    REQUIRE(broker->SetAllBrokersUp().ok());
    auto again = StartPublisher(*log, *broker);
    CHECK(again->WaitForPublished(GlobalPosition{500}, seconds(30)).value == 500);
    REQUIRE(again->Stop().ok());
    const auto check = ReadAndCheck(*broker, *log);
    CHECK(check.distinct_positions == 500);
  }

  TEST_CASE("KafkaPublisher: waits for a broker that is not there yet, then publishes") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(1, 2);
    REQUIRE(broker->SetAllBrokersDown().ok());
    testing::AppendReceipts(*log, "a", 200, 100, 5);
    auto publisher =
        StartPublisher(*log, *broker, {.restart_backoff_ms = 100, .broker_query_timeout_ms = 300});
    std::this_thread::sleep_for(milliseconds(1000));
    CHECK(!publisher->stats().producing);
    CHECK(publisher->stats().produced == 0);
    REQUIRE(broker->SetAllBrokersUp().ok());
    CHECK(publisher->WaitForPublished(GlobalPosition{200}, seconds(30)).value == 200);
    REQUIRE(publisher->Stop().ok());
  }

  TEST_CASE("regression: a broker unreachable at start moved the cursor back to 0") {
    // The delivery window was first set when the broker answered; a failed connection before
    // that took the window's empty state for progress and republished the whole log.
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(1, 2);
    testing::AppendReceipts(*log, "a", 100, 100, 5);
    auto first = StartPublisher(*log, *broker);
    REQUIRE(first->WaitForPublished(GlobalPosition{100}, seconds(30)).value == 100);
    REQUIRE(first->Stop().ok());
    const internal::PublisherCursor published = StoredCursor(*log);
    REQUIRE(published.published_through.value == 100);

    REQUIRE(broker->SetAllBrokersDown().ok());
    auto publisher =
        StartPublisher(*log, *broker, {.restart_backoff_ms = 50, .broker_query_timeout_ms = 200});
    // A connection attempt has failed (and is retried).
    REQUIRE(WaitUntil([&] { return !publisher->stats().last_error.empty(); }, seconds(30)));
    CHECK(publisher->stats().published_through.value == 100);
    REQUIRE(publisher->Stop().ok());
    CHECK(StoredCursor(*log).published_through.value == 100);

    REQUIRE(broker->SetAllBrokersUp().ok());
    testing::AppendReceipts(*log, "b", 50, 50, 5);
    auto again = StartPublisher(*log, *broker);
    CHECK(again->WaitForPublished(GlobalPosition{150}, seconds(30)).value == 150);
    CHECK(again->stats().produced == 50);  // only what the cursor did not cover
    REQUIRE(again->Stop().ok());
    const auto check = ReadAndCheck(*broker, *log);
    CHECK(check.duplicates == 0);
    CHECK(check.distinct_positions == 150);
  }

  TEST_CASE("regression: a publisher that never reached the broker forgot what it held") {
    // The cursor remembers how many messages the broker held, so that a fresh broker is
    // recognised even when it reuses the old cluster id (the mock derives its id from memory
    // addresses). A publisher stopped before its first broker check wrote 0 there, and the
    // next one took an empty broker for the one it had published to.
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    testing::AppendReceipts(*log, "a", 300, 100, 7);
    auto fresh = StartBroker(1, 3);
    const internal::PublisherCursor remembered{.published_through = GlobalPosition{300},
                                               .broker_messages = 300,
                                               .cluster_id = ClusterId(*fresh)};
    REQUIRE(log->PutFollowerMeta(internal::PublisherCursorKey(kDefaultTopic),
                                 internal::EncodePublisherCursor(remembered))
                .ok());
    REQUIRE(fresh->SetAllBrokersDown().ok());
    {
      auto publisher =
          StartPublisher(*log, *fresh, {.restart_backoff_ms = 50, .broker_query_timeout_ms = 200});
      REQUIRE(WaitUntil([&] { return !publisher->stats().last_error.empty(); }, seconds(30)));
      REQUIRE(publisher->Stop().ok());
    }
    CHECK(StoredCursor(*log) == remembered);

    REQUIRE(fresh->SetAllBrokersUp().ok());
    auto publisher = StartPublisher(*log, *fresh);
    CHECK(publisher->WaitForPublished(GlobalPosition{300}, seconds(30)).value == 300);
    CHECK(publisher->stats().broker_resets == 1);
    REQUIRE(publisher->Stop().ok());
    const auto check = ReadAndCheck(*fresh, *log);
    CHECK(check.distinct_positions == 300);
  }

  TEST_CASE("KafkaPublisher: Stop() does not wait out a broker query") {
    // ledgerd stops its publisher on shutdown; a broker that does not answer must not hold
    // that up for the whole broker_query_timeout_ms (nor for one timeout per partition).
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    auto broker = StartBroker(1, 2);
    REQUIRE(broker->SetAllBrokersDown().ok());
    auto publisher = StartPublisher(*log, *broker, {.broker_query_timeout_ms = 60'000});
    std::this_thread::sleep_for(milliseconds(300));  // inside the first broker query
    const auto stop_started = std::chrono::steady_clock::now();
    REQUIRE(publisher->Stop().ok());
    const auto stop_took = std::chrono::steady_clock::now() - stop_started;
    // Generous for a loaded machine; the query it must not wait out is 60 s.
    CHECK(stop_took < seconds(10));
  }

  TEST_CASE("KafkaPublisher: bad options, protected settings and a foreign cursor are refused") {
    testing::TempDir dir;
    auto log = OpenLog(dir.path());
    CHECK(KafkaPublisher::Start(log.get(), {}).error().code() == StatusCode::kInvalidArgument);
    const std::string servers = "127.0.0.1:1";
    CHECK(KafkaPublisher::Start(log.get(), {.bootstrap_servers = servers, .topic = ""})
              .error()
              .code() == StatusCode::kInvalidArgument);
    CHECK(
        KafkaPublisher::Start(log.get(), {.bootstrap_servers = servers, .inflight_records_max = 0})
            .error()
            .code() == StatusCode::kInvalidArgument);
    CHECK(KafkaPublisher::Start(log.get(), {.bootstrap_servers = servers, .read_records_max = 0})
              .error()
              .code() == StatusCode::kInvalidArgument);
    auto protected_setting = KafkaPublisher::Start(
        log.get(), {.bootstrap_servers = servers, .producer_settings = {{"acks", "1"}}});
    CHECK(protected_setting.error().code() == StatusCode::kInvalidArgument);
    CHECK(protected_setting.error().message().find("acks") != std::string::npos);
    // The partitioner is part of the message contract (docs/kafka.md): other producers of the
    // same keys, and readers that locate a stream's partition, rely on murmur2_random.
    CHECK(KafkaPublisher::Start(log.get(), {.bootstrap_servers = servers,
                                            .producer_settings = {{"partitioner", "random"}}})
              .error()
              .code() == StatusCode::kInvalidArgument);
    auto unknown_setting = KafkaPublisher::Start(
        log.get(), {.bootstrap_servers = servers, .producer_settings = {{"no.such", "1"}}});
    CHECK(unknown_setting.error().code() == StatusCode::kInvalidArgument);
    // Nothing was written by the refused starts.
    CHECK(!log->GetFollowerMeta(internal::PublisherCursorKey(kDefaultTopic))->has_value());

    REQUIRE(log->PutFollowerMeta(internal::PublisherCursorKey(kDefaultTopic), "garbage").ok());
    CHECK(KafkaPublisher::Start(log.get(), {.bootstrap_servers = servers}).error().code() ==
          StatusCode::kCorruption);
    // A cursor past the head belongs to another log.
    REQUIRE(log->PutFollowerMeta(internal::PublisherCursorKey(kDefaultTopic), "v1 5 5 -").ok());
    CHECK(KafkaPublisher::Start(log.get(), {.bootstrap_servers = servers}).error().code() ==
          StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace hpf::events
