// tests/kafka/publisher_parts_test.cc — the publisher's pieces on their own: the delivered
// prefix, the stored cursor's format, librdkafka statistics, and the development broker.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include "events/dev_broker.h"
#include "events/internal/delivery_window.h"
#include "events/internal/publisher_cursor.h"
#include "events/internal/rdkafka_util.h"

namespace hpf::events {
namespace {

TEST_SUITE("kafka") {
  TEST_CASE("DeliveryWindow: the prefix moves only over delivered positions, without gaps") {
    internal::DeliveryWindow window(4);
    window.Reset(GlobalPosition{10});
    CHECK(window.published_through().value == 10);
    CHECK(window.next().value == 11);
    for (uint64_t p = 11; p <= 14; ++p) window.Produced(GlobalPosition{p});
    CHECK(window.room() == 0);
    CHECK(window.outstanding() == 4);
    CHECK(!window.Delivered(GlobalPosition{13}));  // 11 and 12 still out
    CHECK(!window.Delivered(GlobalPosition{12}));
    CHECK(window.published_through().value == 10);
    CHECK(window.Delivered(GlobalPosition{11}));  // 11, 12, 13 now a prefix
    CHECK(window.published_through().value == 13);
    CHECK(window.room() == 3);
    window.Produced(GlobalPosition{15});  // reuses the slot 11 had
    CHECK(!window.Delivered(GlobalPosition{15}));
    CHECK(window.Delivered(GlobalPosition{14}));
    CHECK(window.published_through().value == 15);
    CHECK(window.outstanding() == 0);
    // A restart forgets what was in flight.
    window.Produced(GlobalPosition{16});
    window.Reset(GlobalPosition{15});
    CHECK(window.next().value == 16);
    CHECK(window.outstanding() == 0);
  }

  TEST_CASE("PublisherCursor: round-trips and refuses anything else") {
    const internal::PublisherCursor cursor{.published_through = GlobalPosition{123456},
                                           .broker_messages = 123470,
                                           .cluster_id = "mockCluster1a2b"};
    const std::string text = internal::EncodePublisherCursor(cursor);
    CHECK(text == "v1 123456 123470 mockCluster1a2b");
    CHECK(*internal::DecodePublisherCursor(text) == cursor);
    const internal::PublisherCursor unknown_cluster{.published_through = GlobalPosition{7}};
    CHECK(internal::EncodePublisherCursor(unknown_cluster) == "v1 7 0 -");
    CHECK(*internal::DecodePublisherCursor("v1 7 0 -") == unknown_cluster);
    CHECK(internal::PublisherCursorKey("hpf.ledger.events") == "kafka/hpf.ledger.events/cursor");
    for (const char* bad : {"", "v1", "v2 1 1 -", "v1 x 1 -", "v1 1 -1 -", "v1 1 1", "v1 1 1 ",
                            "v1 1 1 a b", "v1 18446744073709551616 1 -"}) {
      CAPTURE(bad);
      CHECK(internal::DecodePublisherCursor(bad).error().code() == StatusCode::kCorruption);
    }
  }

  TEST_CASE("JudgeBroker: a broker lacking delivered messages is recognised") {
    using internal::BrokerFinding;
    using internal::JudgeBroker;
    const internal::PublisherCursor stored{
        .published_through = GlobalPosition{90}, .broker_messages = 100, .cluster_id = "c1"};
    const std::vector<int64_t> holds_all = {40, 60};
    const std::vector<int64_t> none;
    CHECK(JudgeBroker(stored, "c1", holds_all, none, false) == BrokerFinding::kHoldsAll);
    // More than delivered (repeats, another producer) is fine; an unknown id compares nothing.
    CHECK(JudgeBroker(stored, "c1", std::vector<int64_t>{50, 60}, none, false) ==
          BrokerFinding::kHoldsAll);
    CHECK(JudgeBroker(stored, "", holds_all, none, false) == BrokerFinding::kHoldsAll);
    CHECK(JudgeBroker({.broker_messages = 100}, "c2", holds_all, none, false) ==
          BrokerFinding::kHoldsAll);

    SUBCASE("fewer messages than delivered: the newest were lost") {
      CHECK(JudgeBroker(stored, "c1", std::vector<int64_t>{40, 59}, none, false) ==
            BrokerFinding::kLostLatest);
      CHECK(JudgeBroker(stored, "c1", std::vector<int64_t>{0, 0}, none, false) ==
            BrokerFinding::kLostLatest);
    }
    SUBCASE("another cluster") {
      CHECK(JudgeBroker(stored, "c2", holds_all, none, false) == BrokerFinding::kLostLatest);
    }
    SUBCASE("one partition short of what this process saw, hidden in the sum") {
      // The stored count is older than what was seen since; partition 1 grew, partition 0 lost.
      const std::vector<int64_t> seen = {45, 60};
      CHECK(JudgeBroker(stored, "c1", std::vector<int64_t>{44, 70}, seen, false) ==
            BrokerFinding::kLostLatest);
      CHECK(JudgeBroker(stored, "c1", std::vector<int64_t>{45, 70}, seen, false) ==
            BrokerFinding::kHoldsAll);
      // A partition that received messages is gone.
      CHECK(JudgeBroker(stored, "c1", std::vector<int64_t>{120}, seen, false) ==
            BrokerFinding::kLostLatest);
    }
    SUBCASE("offsets went back while publishing: the broker may lack the oldest records") {
      // Even a broker that now holds more than was delivered: it took over mid-stream.
      CHECK(JudgeBroker(stored, "c1", std::vector<int64_t>{400, 400}, none, true) ==
            BrokerFinding::kMayLackOldest);
    }
  }

  TEST_CASE("SumStatisticsCounter: adds the counter over every broker") {
    const std::string json =
        R"({"name":"p","brokers":{"a":{"txretries":3,"txerrs":1},"b":{"txretries":40}},)"
        R"("txretries_x":9,"c":{"txretries":"bad"}})";
    CHECK(internal::SumStatisticsCounter(json, "txretries") == 43);
    CHECK(internal::SumStatisticsCounter(json, "txerrs") == 1);
    CHECK(internal::SumStatisticsCounter("", "txretries") == 0);
    const std::string top =
        R"({"name":"a\"{","txmsgs_x":1,"topics":{"t":{"txmsgs":5,"p":[{"txmsgs":6}]}},)"
        R"("txmsgs":17,"brokers":{}})";
    CHECK(internal::TopLevelStatisticsCounter(top, "txmsgs") == 17);
    CHECK(internal::TopLevelStatisticsCounter(top, "rxmsgs") == 0);
  }

  TEST_CASE("DevBroker: serves the topic with its partitions on 127.0.0.1") {
    auto broker = DevBroker::Start({.broker_count = 3, .topic = "t", .partition_count = 5});
    REQUIRE(broker.has_value());
    const std::string& servers = (*broker)->bootstrap_servers();
    CHECK(servers.rfind("127.0.0.1:", 0) == 0);
    CHECK(std::count(servers.begin(), servers.end(), ',') == 2);
    REQUIRE((*broker)->CreateTopic("other", 2, 1).ok());

    auto conf = internal::MakeKafkaConf({{"bootstrap.servers", servers}});
    REQUIRE(conf.has_value());
    auto client = internal::NewKafka(RD_KAFKA_PRODUCER, std::move(conf).value());
    REQUIRE(client.has_value());
    const rd_kafka_metadata_t* metadata = nullptr;
    REQUIRE(rd_kafka_metadata(client->get(), 1, nullptr, &metadata, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(metadata->broker_cnt == 3);
    std::map<std::string, int> partitions;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      partitions[metadata->topics[i].topic] = metadata->topics[i].partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
    CHECK(partitions["t"] == 5);
    CHECK(partitions["other"] == 2);
  }

  TEST_CASE("DevBroker: counts out of range and unknown broker ids are refused") {
    CHECK(DevBroker::Start({.broker_count = 0}).error().code() == StatusCode::kInvalidArgument);
    CHECK(DevBroker::Start({.broker_count = kDevBrokersMax + 1}).error().code() ==
          StatusCode::kInvalidArgument);
    CHECK(DevBroker::Start({.partition_count = 0}).error().code() == StatusCode::kInvalidArgument);
    CHECK(DevBroker::Start({.replication_factor = 2}).error().code() ==
          StatusCode::kInvalidArgument);
    auto broker = DevBroker::Start({.topic = ""});
    REQUIRE(broker.has_value());
    CHECK((*broker)->SetBrokerDown(0).code() == StatusCode::kInvalidArgument);
    CHECK((*broker)->SetBrokerUp(2).code() == StatusCode::kInvalidArgument);
    CHECK((*broker)->CreateTopic("", 1, 1).code() == StatusCode::kInvalidArgument);
    CHECK((*broker)->CreateTopic("t", kDevPartitionsMax + 1, 1).code() ==
          StatusCode::kInvalidArgument);
    CHECK((*broker)->SetBrokerDown(1).ok());
    CHECK((*broker)->SetBrokerUp(1).ok());
  }
}

}  // namespace
}  // namespace hpf::events
