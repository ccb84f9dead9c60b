// tests/projections/runtime_sources_test.cc — the two sources against each other: the same log
// through the log tailer and through a Kafka consumer group (librdkafka's mock cluster on
// 127.0.0.1, messages framed as the publisher frames them) gives byte-identical read models;
// and the Kafka source's own promises: per-partition checkpoints with offsets, republished
// ranges skipped by position, catch-up outside the group, offsets not trusted across brokers,
// malformed messages refused.
#include <chrono>
#include <functional>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "projections/kafka_source.h"
#include "projections/log_source.h"
#include "projections/projection_store.h"
#include "projections/runtime.h"
#include "tests/projections/runtime_test_support.h"
#include "tests/support/records.h"

namespace hpf::projections {
namespace {

using events::GlobalPosition;
using hpf::testing::TempDir;
using testing::MakeTestProjection;
using testing::MockKafka;
using namespace std::chrono_literals;

constexpr int32_t kPartitions = 4;
constexpr std::string_view kTopic = "hpf.ledger.events";

using testing::AllProjections;

std::vector<std::string> AllNames() { return testing::AllProjectionNames(); }

std::unique_ptr<ProjectionStore> OpenStore(const std::string& dir) {
  auto store = ProjectionStore::Open({.dir = dir});
  REQUIRE_MESSAGE(store.has_value(), store.status().ToString());
  return std::move(store).value();
}

std::unique_ptr<Runner> NewRunner(ProjectionStore& store, Source& source, size_t batch = 0) {
  auto runner = Runner::Create({.store = &store, .source = &source, .batch_records_max = batch});
  REQUIRE_MESSAGE(runner.has_value(), runner.status().ToString());
  return std::move(runner).value();
}

std::unique_ptr<KafkaSource> NewKafkaSource(const MockKafka& kafka, std::string group = "proj") {
  auto source = KafkaSource::Create(
      {.bootstrap_servers = kafka.bootstrap(),
       .topic = std::string(kTopic),
       .group_id = std::move(group),
       .properties = {
           {"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "100"}, {"log_level", "3"}}});
  REQUIRE_MESSAGE(source.has_value(), source.status().ToString());
  return std::move(source).value();
}

std::unique_ptr<MockKafka> StartKafka() {
  auto kafka = MockKafka::Start(3, std::string(kTopic), kPartitions);
  REQUIRE_MESSAGE(kafka.has_value(), kafka.status().ToString());
  return std::move(kafka).value();
}

std::string Dump(const ReadView& view) {
  auto dump = DumpKeySpace(view);
  REQUIRE_MESSAGE(dump.has_value(), dump.status().ToString());
  return std::move(dump).value();
}

std::string DumpOf(const Runner& runner, std::string_view name) {
  auto view = runner.View(name);
  REQUIRE_MESSAGE(view.has_value(), view.status().ToString());
  return Dump(**view);
}

// A copy: the stats it comes from are often a temporary.
ProjectionStats StatsOf(const RunnerStats& stats, std::string_view name) {
  for (const auto& projection : stats.projections) {
    if (projection.name == name) return projection;
  }
  FAIL("no stats for ", name);
  return {};
}

// A Kafka-fed projection has no single position to wait for (each partition has its own):
// wait until the test projection counts `records` and no partition lags.
void WaitForRecords(const Runner& runner, std::string_view name, uint64_t records) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  uint64_t seen = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const RunnerStats stats = runner.stats();
    REQUIRE_MESSAGE(stats.state != RunnerState::kFailed, stats.error.ToString());
    auto view = runner.View(name);
    if (view.has_value()) {
      auto totals = testing::ReadTotals(**view);
      if (!totals.has_value()) FAIL(totals.status().ToString());
      seen = totals->records;
      if (seen == records && StatsOf(stats, name).lag_records == 0 &&
          !StatsOf(stats, name).catching_up) {
        return;
      }
    }
    std::this_thread::sleep_for(5ms);
  }
  FAIL("projection ", name, " counted ", seen, " records, not ", records);
}

// The whole set folded from the log: the reference the Kafka-fed ones must equal.
struct LogFolded {
  TempDir dir;
  std::unique_ptr<ProjectionStore> store;
};

std::unique_ptr<LogFolded> FoldThroughLog(const events::EventLog& log) {
  auto folded = std::make_unique<LogFolded>();
  folded->store = OpenStore(folded->dir.Sub("p"));
  LogSource source(log);
  auto runner = NewRunner(*folded->store, source, 333);
  for (auto& projection : AllProjections()) REQUIRE(runner->Add(std::move(projection)).ok());
  REQUIRE(runner->Start().ok());
  for (const auto& name : AllNames()) {
    REQUIRE(runner->WaitForPosition(name, log.head().position, 30s).has_value());
  }
  REQUIRE(runner->Stop().ok());
  return folded;
}

void CheckSameReadModels(const ProjectionStore& expected, const Runner& actual) {
  for (const auto& name : AllNames()) {
    auto view = expected.View(name);
    REQUIRE(view.has_value());
    const std::string want = Dump(**view);
    const std::string got = DumpOf(actual, name);
    CHECK_MESSAGE(got == want, name, ": ", DescribeDumpDifference(want, got));
    CHECK(!want.empty());
  }
}

// A city's log, built once for the suite. A static object (not leaked): the log's threads must
// be stopped before the process exits.
struct City {
  City() {
    auto records = testing::BuildCityLog(dir.Sub("log"),
                                         {.seed = 11, .employers = 25, .accounts_per_employer = 8});
    HPF_ASSERT(records.has_value());
    auto opened = events::EventLog::Open(
        {.data_dir = dir.Sub("log"), .mode = events::OpenMode::kOpenExisting});
    HPF_ASSERT(opened.has_value());
    log = std::move(opened).value();
    head = log->head().position;
  }
  TempDir dir;
  std::unique_ptr<events::EventLog> log;
  GlobalPosition head;
};

const City& SharedCity() {
  static const City city;
  return city;
}

TEST_SUITE("projections") {
  TEST_CASE(
      "Sources: the same log through the log tailer and through Kafka gives identical "
      "read models") {
    const City& city = SharedCity();
    REQUIRE(city.head.value > 2000);
    auto kafka = StartKafka();
    // The whole log, then a republished range (a publisher that resumed from an older
    // cursor): the same positions again, later in their partitions.
    REQUIRE(kafka->Publish(*city.log, GlobalPosition{0}, city.head).ok());
    REQUIRE(kafka->Publish(*city.log, GlobalPosition{99}, GlobalPosition{300}).ok());
    const auto folded = FoldThroughLog(*city.log);

    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    auto source = NewKafkaSource(*kafka);
    auto runner = NewRunner(*store, *source, 250);
    for (auto& projection : AllProjections()) REQUIRE(runner->Add(std::move(projection)).ok());
    REQUIRE(runner->Start().ok());
    WaitForRecords(*runner, "runtime-test", city.head.value);
    CheckSameReadModels(*folded->store, *runner);
    const RunnerStats stats = runner->stats();
    CHECK(stats.records_read == city.head.value + 201);
    CHECK(StatsOf(stats, "runtime-test").records_applied == city.head.value);
    CHECK(StatsOf(stats, "runtime-test").records_skipped == 201);
    // Per-partition checkpoints: one entry per partition, each with its own position; the
    // view reflects the lowest.
    const Checkpoint checkpoint = *store->GetCheckpoint("runtime-test");
    REQUIRE(checkpoint.partitions.size() == kPartitions);
    GlobalPosition highest{0};
    for (const auto& entry : checkpoint.partitions) {
      CHECK(entry.position.value > 0);
      CHECK(entry.next_offset > 0);
      highest = std::max(highest, entry.position);
    }
    CHECK(highest == city.head);
    CHECK((*runner->View("runtime-test"))->position() == checkpoint.AppliedThrough());
    CHECK(checkpoint.offsets_scope.starts_with("kafka-cluster:"));
    REQUIRE(runner->Stop().ok());

    // A restarted projector seeks to its stored offsets: it reads only what is new.
    auto restarted = NewRunner(*store, *source, 250);
    for (auto& projection : AllProjections()) REQUIRE(restarted->Add(std::move(projection)).ok());
    REQUIRE(restarted->Start().ok());
    std::this_thread::sleep_for(200ms);
    CHECK(restarted->stats().records_read == 0);
    CheckSameReadModels(*folded->store, *restarted);
  }

  TEST_CASE(
      "Sources: Kafka — a projection added later catches up outside the group, and a "
      "rebuild reads the topic again") {
    const City& city = SharedCity();
    const GlobalPosition half{city.head.value / 2};
    auto kafka = StartKafka();
    REQUIRE(kafka->Publish(*city.log, GlobalPosition{0}, half).ok());
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    auto source = NewKafkaSource(*kafka);
    auto runner = NewRunner(*store, *source, 100);
    REQUIRE(runner->Add(MakeTestProjection({.name = "first"})).ok());
    REQUIRE(runner->Start().ok());
    WaitForRecords(*runner, "first", half.value);
    REQUIRE(runner->Add(MakeTestProjection({.name = "later"})).ok());
    // The rest arrives while "later" catches up.
    REQUIRE(kafka->Publish(*city.log, half, city.head).ok());
    WaitForRecords(*runner, "first", city.head.value);
    WaitForRecords(*runner, "later", city.head.value);
    const auto folded = FoldThroughLog(*city.log);
    const std::string want = Dump(**folded->store->View("runtime-test"));
    CHECK(DumpOf(*runner, "first") == want);
    CHECK(DumpOf(*runner, "later") == want);
    // "later" read everything on its own reader; "first" never read anything twice.
    CHECK(StatsOf(runner->stats(), "later").records_applied == city.head.value);
    CHECK(StatsOf(runner->stats(), "first").records_applied == city.head.value);
    CHECK(StatsOf(runner->stats(), "first").records_skipped == 0);

    REQUIRE(runner->Rebuild("first").ok());
    WaitForRecords(*runner, "first", city.head.value);
    CHECK(DumpOf(*runner, "first") == want);
    CHECK(StatsOf(runner->stats(), "first").records_applied == 2 * city.head.value);
  }

  TEST_CASE("Sources: every projection rebuilt on request gives the same bytes") {
    const City& city = SharedCity();
    const auto folded = FoldThroughLog(*city.log);
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(*city.log);
    auto runner = NewRunner(*store, source, 500);
    for (auto& projection : AllProjections()) REQUIRE(runner->Add(std::move(projection)).ok());
    REQUIRE(runner->Start().ok());
    for (const auto& name : AllNames()) {
      REQUIRE(runner->WaitForPosition(name, city.head, 30s).has_value());
      REQUIRE(runner->Rebuild(name).ok());
    }
    for (const auto& name : AllNames()) {
      REQUIRE(runner->WaitForPosition(name, city.head, 30s).has_value());
      CHECK(StatsOf(runner->stats(), name).rebuilds == 1);
      CHECK(StatsOf(runner->stats(), name).records_applied == 2 * city.head.value);
    }
    CheckSameReadModels(*folded->store, *runner);
  }

  TEST_CASE("Sources: Kafka — offsets from another broker are not trusted; positions are") {
    const City& city = SharedCity();
    const GlobalPosition part{city.head.value / 3};
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    {
      auto first_broker = StartKafka();
      REQUIRE(first_broker->Publish(*city.log, GlobalPosition{0}, part).ok());
      auto source = NewKafkaSource(*first_broker);
      auto runner = NewRunner(*store, *source);
      REQUIRE(runner->Add(MakeTestProjection()).ok());
      REQUIRE(runner->Start().ok());
      WaitForRecords(*runner, "runtime-test", part.value);
    }
    // A fresh broker whose offsets mean other positions: it holds the log from a little before
    // where the projection stands (the first broker's offsets, trusted, would skip records).
    auto second_broker = StartKafka();
    REQUIRE(second_broker->Publish(*city.log, GlobalPosition{part.value - 300}, city.head).ok());
    auto source = NewKafkaSource(*second_broker);
    auto runner = NewRunner(*store, *source);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    WaitForRecords(*runner, "runtime-test", city.head.value);
    const auto folded = FoldThroughLog(*city.log);
    CHECK(DumpOf(*runner, "runtime-test") == Dump(**folded->store->View("runtime-test")));
    CHECK(StatsOf(runner->stats(), "runtime-test").records_applied == city.head.value - part.value);
    CHECK(StatsOf(runner->stats(), "runtime-test").rebuilds == 0);
  }

  TEST_CASE(
      "Sources: Kafka — a stored offset is used only once the message before it holds "
      "the stored position") {
    const City& city = SharedCity();
    const GlobalPosition part{city.head.value / 2};
    auto kafka = StartKafka();
    REQUIRE(kafka->Publish(*city.log, GlobalPosition{0}, part).ok());
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    auto source = NewKafkaSource(*kafka);
    {
      auto runner = NewRunner(*store, *source);
      REQUIRE(runner->Add(MakeTestProjection()).ok());
      REQUIRE(runner->Start().ok());
      WaitForRecords(*runner, "runtime-test", part.value);
    }
    REQUIRE(kafka->Publish(*city.log, part, city.head).ok());
    // The stored offsets, moved on by 5 with their positions kept: offsets that mean other
    // positions here (as on a broker whose offsets differ). Trusted, they would skip records.
    Checkpoint checkpoint = *store->GetCheckpoint("runtime-test");
    REQUIRE(checkpoint.partitions.size() == kPartitions);
    for (auto& entry : checkpoint.partitions) entry.next_offset += 5;
    ProjectionStore::Batch batch;
    batch.SetCheckpoint("runtime-test", checkpoint);
    REQUIRE(store->Commit(batch).ok());
    auto runner = NewRunner(*store, *source);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    WaitForRecords(*runner, "runtime-test", city.head.value);
    const auto folded = FoldThroughLog(*city.log);
    CHECK(DumpOf(*runner, "runtime-test") == Dump(**folded->store->View("runtime-test")));
    CHECK(runner->stats().offset_resets == kPartitions);
    CHECK(StatsOf(runner->stats(), "runtime-test").records_applied == city.head.value - part.value);
  }

  TEST_CASE("Sources: Kafka — a message without a position, or of another schema, stops it") {
    const City& city = SharedCity();
    auto kafka = StartKafka();
    REQUIRE(kafka->Publish(*city.log, GlobalPosition{0}, GlobalPosition{10}).ok());
    StatusCode expected = StatusCode::kOk;
    SUBCASE("no position") {
      REQUIRE(kafka->PublishRaw("Account:1", "x", "", "hpf.v1").ok());
      expected = StatusCode::kCorruption;
    }
    SUBCASE("a position that is not a number") {
      REQUIRE(kafka->PublishRaw("Account:1", "x", "12a", "hpf.v1").ok());
      expected = StatusCode::kCorruption;
    }
    SUBCASE("bytes that are not a record") {
      REQUIRE(kafka->PublishRaw("Account:1", "not a record at all", "11", "hpf.v1").ok());
      expected = StatusCode::kCorruption;
    }
    SUBCASE("another schema") {
      REQUIRE(kafka->PublishRaw("Account:1", "x", "11", "hpf.v2").ok());
      expected = StatusCode::kUnimplemented;
    }
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    auto source = NewKafkaSource(*kafka);
    auto runner = NewRunner(*store, *source);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (runner->stats().state == RunnerState::kRunning &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    CHECK(runner->stats().state == RunnerState::kFailed);
    CHECK(runner->Stop().code() == expected);
    auto totals = testing::ReadTotals(**store->View("runtime-test"));
    CHECK(totals->records <= 10);
  }

  TEST_CASE("Sources: Kafka options are checked") {
    CHECK(KafkaSource::Create({.bootstrap_servers = "", .group_id = "g"}).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(
        KafkaSource::Create({.bootstrap_servers = "127.0.0.1:1", .group_id = ""}).status().code() ==
        StatusCode::kInvalidArgument);
    CHECK(KafkaSource::Create({.bootstrap_servers = "127.0.0.1:1",
                               .group_id = "g",
                               .properties = {{"no.such.property", "1"}}})
              .status()
              .code() == StatusCode::kInvalidArgument);
    auto source = KafkaSource::Create({.bootstrap_servers = "127.0.0.1:1", .group_id = "g"});
    REQUIRE(source.has_value());
    CHECK((*source)->id() == "kafka:hpf.ledger.events");
  }
}

}  // namespace
}  // namespace hpf::projections
