// tests/projections/runtime_test.cc — the projection store and the runner over the log source:
// state and checkpoint commit together, views are consistent snapshots, what was applied is
// skipped by position, rebuilds give identical bytes, a projection added later catches up while
// the others go on, waits are bounded, and failures commit nothing.
#include "projections/runtime.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <rocksdb/db.h>

#include "events/log_tailer.h"
#include "projections/limits.h"
#include "projections/log_source.h"
#include "projections/projection_store.h"
#include "tests/projections/runtime_test_support.h"
#include "tests/support/records.h"

namespace hpf::projections {
namespace {

using events::GlobalPosition;
using hpf::testing::TempDir;
using testing::MakeTestProjection;
using namespace std::chrono_literals;

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

std::unique_ptr<ReadView> WaitFor(const Runner& runner, std::string_view name,
                                  GlobalPosition position) {
  auto view = runner.WaitForPosition(name, position, 30s);
  REQUIRE_MESSAGE(view.has_value(), view.status().ToString());
  return std::move(view).value();
}

std::string Reference(const events::EventLog& log, GlobalPosition through) {
  auto fresh = MakeTestProjection();
  auto dump = testing::ReferenceDump(log, through, *fresh);
  REQUIRE_MESSAGE(dump.has_value(), dump.status().ToString());
  return std::move(dump).value();
}

// A copy: the stats it comes from are often a temporary.
ProjectionStats StatsOf(const RunnerStats& stats, std::string_view name) {
  for (const auto& projection : stats.projections) {
    if (projection.name == name) return projection;
  }
  FAIL("no stats for ", name);
  return {};
}

// A small city's log, built once for the suites that only read it.
const events::EventLog& CityLog() {
  static TempDir dir;
  static std::unique_ptr<events::EventLog> log = [] {
    auto records = testing::BuildCityLog(
        dir.Sub("log"), {.seed = 7, .employers = 20, .accounts_per_employer = 8, .months = 12});
    HPF_ASSERT(records.has_value());
    auto opened = events::EventLog::Open(
        {.data_dir = dir.Sub("log"), .mode = events::OpenMode::kOpenExisting});
    HPF_ASSERT(opened.has_value());
    return std::move(opened).value();
  }();
  return *log;
}

// A log of receipts we append to ourselves: `count` records over `employers` streams.
void AppendReceipts(events::EventLog& log, int first, int count, int employers = 13) {
  for (int start = first; start < first + count; start += 500) {
    events::AppendBatch batch;
    for (int i = start; i < std::min(first + count, start + 500); ++i) {
      HPF_ASSERT(batch
                     .AddRecord(hpf::testing::MakeReceipt(
                         {.key = fmt::format("r{}", i),
                          .amount_fen = 100 + i,
                          .employer_id = static_cast<uint64_t>(1 + i % employers)}))
                     .ok());
    }
    HPF_ASSERT(log.Append(std::move(batch)).has_value());
  }
}

std::unique_ptr<events::EventLog> OpenLog(const std::string& dir) {
  auto log = events::EventLog::Open({.data_dir = dir, .durability = events::Durability::kNoSync});
  REQUIRE_MESSAGE(log.has_value(), log.status().ToString());
  return std::move(log).value();
}

// ---------------------------------------------------------------------------------------------
// A scripted source: delivers given messages in small chunks, honouring start offsets.

struct Scripted {
  int32_t partition = 0;
  int64_t offset = 0;
  GlobalPosition position;
  std::vector<uint64_t> words;  // the record, aligned
  size_t size = 0;
};

std::vector<Scripted> ScriptFromLog(const events::EventLog& log,
                                    const std::function<int32_t(const schema::Record&)>& part) {
  std::vector<Scripted> script;
  std::map<int32_t, int64_t> next_offset;
  REQUIRE(log.Scan(GlobalPosition{1}, log.head().position,
                   [&](const events::RecordRef& ref) {
                     Scripted item;
                     item.words.resize((ref.record.size() + 7) / 8);
                     std::memcpy(item.words.data(), ref.record.data(), ref.record.size());
                     item.size = ref.record.size();
                     item.position = ref.position;
                     auto record = events::VerifyRecord(ref.record);
                     HPF_ASSERT(record.has_value());
                     item.partition = part(**record);
                     item.offset = next_offset[item.partition]++;
                     script.push_back(std::move(item));
                     return true;
                   })
              .ok());
  return script;
}

class ScriptedSource final : public Source {
 public:
  explicit ScriptedSource(std::vector<Scripted> script, std::string id = "scripted")
      : script_(std::move(script)), id_(std::move(id)) {}
  std::string id() const override { return id_; }
  Result<std::unique_ptr<SourceReader>> OpenMain(StartOffsetFn start) override {
    std::map<int32_t, int64_t> starts;
    for (const auto& item : script_) {
      if (!starts.contains(item.partition)) {
        starts[item.partition] = start(item.partition, "s").next_offset;
      }
    }
    starts_seen = starts;
    return std::unique_ptr<SourceReader>(new Reader(script_, starts));
  }
  Result<std::unique_ptr<SourceReader>> OpenCatchUp(std::span<const PartitionStart>) override {
    return UnimplementedError("scripted source: no catch-up");
  }
  std::map<int32_t, int64_t> starts_seen;

 private:
  class Reader final : public SourceReader {
   public:
    Reader(const std::vector<Scripted>& script, std::map<int32_t, int64_t> starts)
        : script_(script) {
      for (const auto& [partition, start] : starts) {
        next_[partition] = start < 0 ? 0 : start;
      }
    }
    Status Poll(size_t max, std::chrono::milliseconds, std::vector<SourceMessage>& out) override {
      size_t taken = 0;
      while (at_ < script_.size() && taken < std::min<size_t>(max, 3)) {
        const Scripted& item = script_[at_++];
        if (item.offset < next_[item.partition]) continue;  // before its start
        next_[item.partition] = item.offset + 1;
        out.push_back({.partition = item.partition,
                       .offset = item.offset,
                       .position = item.position,
                       .bytes = {reinterpret_cast<const uint8_t*>(item.words.data()), item.size}});
        ++taken;
      }
      return Status::Ok();
    }
    Assignment assignment() const override {
      Assignment assignment{.generation = 1, .partitions = {}};
      for (const auto& [partition, next] : next_) {
        assignment.partitions.push_back({.partition = partition, .next_offset = next});
      }
      return assignment;
    }
    std::string offsets_scope() const override { return "s"; }

   private:
    const std::vector<Scripted>& script_;
    size_t at_ = 0;
    std::map<int32_t, int64_t> next_;
  };
  std::vector<Scripted> script_;
  std::string id_;
};

// Waits until the scripted runner has read everything (its records_read stops at the script).
void WaitForRecordsRead(const Runner& runner, uint64_t records) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (runner.stats().records_read < records && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(runner.stats().records_read >= records);
}

TEST_SUITE("projections") {
  TEST_CASE("ProjectionStore: a batch commits keys and checkpoint together; Reset drops both") {
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    const ProjectionMeta meta{.version = 1, .source_id = "log"};
    REQUIRE(store->Reset("alpha", meta).ok());
    REQUIRE(store->Reset("alpha2", meta).ok());
    ProjectionStore::Batch batch;
    batch.Writer("alpha").Put("k1", "v1");
    batch.Writer("alpha").Put("k2", "v2");
    batch.Writer("alpha2").Put("k1", "other");
    Checkpoint checkpoint{.offsets_scope = "log", .partitions = {}};
    checkpoint.Upsert(0) = {.partition = 0, .position = GlobalPosition{7}, .next_offset = 8};
    batch.SetCheckpoint("alpha", checkpoint);

    auto before = store->View("alpha");
    REQUIRE(before.has_value());
    CHECK((*before)->position().value == 0);
    CHECK(!(*(*before)->Get("k1")).has_value());

    REQUIRE(store->Commit(batch).ok());
    CHECK(batch.empty());
    auto first = store->View("alpha");
    REQUIRE(first.has_value());
    CHECK((*first)->position().value == 7);
    CHECK(*(*first)->Get("k1") == std::optional<std::string>("v1"));
    CHECK(*store->GetCheckpoint("alpha") == checkpoint);
    CHECK((*store->View("alpha2"))->position().value == 0);  // its checkpoint was not written

    // A view is a snapshot: later commits do not show in it.
    batch.Writer("alpha").Put("k1", "v1b");
    batch.Writer("alpha").Delete("k2");
    checkpoint.Upsert(0) = {.partition = 0, .position = GlobalPosition{9}, .next_offset = 10};
    batch.SetCheckpoint("alpha", checkpoint);
    REQUIRE(store->Commit(batch).ok());
    CHECK((*first)->position().value == 7);
    CHECK(*(*first)->Get("k1") == std::optional<std::string>("v1"));
    CHECK(*(*first)->Get("k2") == std::optional<std::string>("v2"));
    auto second = store->View("alpha");
    CHECK((*second)->position().value == 9);
    CHECK(*(*second)->Get("k1") == std::optional<std::string>("v1b"));
    CHECK(!(*(*second)->Get("k2")).has_value());

    // Scan: a name's keys only, from a prefix, after a key.
    std::vector<std::string> keys;
    batch.Writer("alpha").Put("k3", "v3");
    batch.Writer("alpha").Put("x1", "v");
    REQUIRE(store->Commit(batch).ok());
    auto third = store->View("alpha");
    REQUIRE((*third)
                ->Scan("k", "k1",
                       [&](std::string_view key, std::string_view) {
                         keys.emplace_back(key);
                         return true;
                       })
                .ok());
    CHECK(keys == std::vector<std::string>{"k3"});
    keys.clear();
    REQUIRE((*third)
                ->Scan("", "",
                       [&](std::string_view key, std::string_view) {
                         keys.emplace_back(key);
                         return true;
                       })
                .ok());
    CHECK(keys == std::vector<std::string>{"k1", "k3", "x1"});

    // Reset: keys and checkpoint gone in one write, meta replaced, the neighbour untouched.
    REQUIRE(store->Reset("alpha", {.version = 2, .source_id = "log"}).ok());
    auto reset = store->View("alpha");
    CHECK((*reset)->position().value == 0);
    CHECK(Dump(**reset).empty());
    CHECK(store->GetCheckpoint("alpha")->partitions.empty());
    CHECK(**store->GetMeta("alpha") == ProjectionMeta{.version = 2, .source_id = "log"});
    CHECK(*(*store->View("alpha2"))->Get("k1") == std::optional<std::string>("other"));
    CHECK(*store->ListProjections() == std::vector<std::string>{"alpha", "alpha2"});
  }

  TEST_CASE("ProjectionStore: a logged commit first flushes its projections' unlogged ones") {
    TempDir dir;
    {
      auto store = OpenStore(dir.Sub("p"));
      const ProjectionMeta meta{.version = 1, .source_id = "log"};
      REQUIRE(store->Reset("a", meta).ok());
      REQUIRE(store->Reset("b", meta).ok());
      auto commit = [&](std::string_view name, uint64_t position, ProjectionStore::WalUse wal) {
        ProjectionStore::Batch batch;
        batch.Writer(name).Put("k", std::to_string(position));
        Checkpoint checkpoint{.offsets_scope = "log", .partitions = {}};
        checkpoint.Upsert(0).position = GlobalPosition{position};
        batch.SetCheckpoint(name, checkpoint);
        REQUIRE(store->Commit(batch, wal).ok());
      };
      commit("a", 1, ProjectionStore::WalUse::kUnlogged);
      commit("a", 2, ProjectionStore::WalUse::kUnlogged);
      commit("b", 1, ProjectionStore::WalUse::kLogged);  // another projection: no flush
      CHECK(store->stats().unlogged_commits == 2);
      CHECK(store->stats().unlogged_flushes == 0);
      commit("a", 3, ProjectionStore::WalUse::kLogged);  // a's unlogged ones become durable
      CHECK(store->stats().unlogged_flushes == 1);
      commit("a", 4, ProjectionStore::WalUse::kLogged);
      CHECK(store->stats().unlogged_flushes == 1);
      CHECK((*store->View("a"))->position().value == 4);
      REQUIRE(store->FlushUnlogged().ok());  // nothing left: no flush
      CHECK(store->stats().unlogged_flushes == 1);
    }
    auto reopened = OpenStore(dir.Sub("p"));
    CHECK((*reopened->View("a"))->position().value == 4);
    CHECK(*(*reopened->View("a"))->Get("k") == std::optional<std::string>("4"));
    CHECK((*reopened->View("b"))->position().value == 1);
  }

  TEST_CASE("ProjectionStore: names are checked, unknown projections are NotFound") {
    CHECK(ProjectionStore::CheckName("").code() == StatusCode::kInvalidArgument);
    CHECK(ProjectionStore::CheckName("Accounts").code() == StatusCode::kInvalidArgument);
    CHECK(ProjectionStore::CheckName("a/b").code() == StatusCode::kInvalidArgument);
    CHECK(ProjectionStore::CheckName(std::string(kProjectionNameBytesMax + 1, 'a')).code() ==
          StatusCode::kInvalidArgument);
    CHECK(ProjectionStore::CheckName("fund-summary.v1_x").ok());
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    CHECK(store->View("nobody").status().code() == StatusCode::kNotFound);
    CHECK(!store->GetMeta("nobody")->has_value());
    CHECK(ProjectionStore::Open({.dir = ""}).status().code() == StatusCode::kInvalidArgument);
  }

  TEST_CASE("ProjectionStore: a store of a newer format is refused") {
    TempDir dir;
    OpenStore(dir.Sub("p")).reset();
    {
      rocksdb::DB* raw = nullptr;
      REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir.Sub("p"), &raw).ok());
      REQUIRE(raw->Put(rocksdb::WriteOptions(), "!format", std::string("\0\0\0\2", 4)).ok());
      delete raw;
    }
    CHECK(ProjectionStore::Open({.dir = dir.Sub("p")}).status().code() ==
          StatusCode::kUnimplemented);
  }

  TEST_CASE("ProjectionStore: a partitioned checkpoint reflects its lowest partition") {
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    REQUIRE(store->Reset("k", {.version = 1, .source_id = "kafka:t"}).ok());
    Checkpoint checkpoint{.offsets_scope = "c1", .partitions = {}};
    checkpoint.Upsert(2) = {.partition = 2, .position = GlobalPosition{7}, .next_offset = 3};
    checkpoint.Upsert(0) = {.partition = 0, .position = GlobalPosition{10}, .next_offset = 5};
    checkpoint.Upsert(1) = {.partition = 1, .position = GlobalPosition{4}, .next_offset = 2};
    CHECK(checkpoint.partitions[0].partition == 0);
    CHECK(checkpoint.partitions[2].partition == 2);
    ProjectionStore::Batch batch;
    batch.SetCheckpoint("k", checkpoint);
    REQUIRE(store->Commit(batch).ok());
    CHECK((*store->View("k"))->position().value == 4);
    CHECK(*store->GetCheckpoint("k") == checkpoint);
    checkpoint.Upsert(3);  // assigned, nothing applied yet: holds the position at 0
    batch.SetCheckpoint("k", checkpoint);
    REQUIRE(store->Commit(batch).ok());
    CHECK((*store->View("k"))->position().value == 0);
  }

  TEST_CASE("Runner: the log folded by the runner equals a fold from scratch") {
    const events::EventLog& log = CityLog();
    const GlobalPosition head = log.head().position;
    REQUIRE(head.value > 1000);
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(log);
    auto runner = NewRunner(*store, source, 500);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    auto view = WaitFor(*runner, "runtime-test", head);
    CHECK(view->position() == head);
    CHECK(testing::ReadTotals(*view)->records == head.value);
    const std::string expected = Reference(log, head);
    const std::string actual = Dump(*view);
    CHECK_MESSAGE(actual == expected, DescribeDumpDifference(expected, actual));
    const RunnerStats stats = runner->stats();
    CHECK(stats.state == RunnerState::kRunning);
    CHECK(stats.source_head == head);
    CHECK(StatsOf(stats, "runtime-test").records_applied == head.value);
    CHECK(StatsOf(stats, "runtime-test").records_skipped == 0);
    CHECK(StatsOf(stats, "runtime-test").lag_records == 0);
    CHECK(!StatsOf(stats, "runtime-test").catching_up);
    CHECK(runner->Stop().ok());
    CHECK(runner->stats().state == RunnerState::kStopped);
  }

  TEST_CASE("Runner: projections spread over apply threads give the same bytes") {
    const events::EventLog& log = CityLog();
    const GlobalPosition head = log.head().position;
    const std::string expected = Reference(log, head);
    for (const size_t threads : {size_t{1}, size_t{3}}) {
      TempDir dir;
      auto store = OpenStore(dir.Sub("p"));
      LogSource source(log);
      auto runner = Runner::Create({.store = store.get(),
                                    .source = &source,
                                    .batch_records_max = 211,
                                    .apply_threads = threads});
      REQUIRE(runner.has_value());
      const std::vector<std::string> names = {"p0", "p1", "p2", "p3", "p4"};
      for (const auto& name : names) {
        REQUIRE((*runner)->Add(MakeTestProjection({.name = name})).ok());
      }
      REQUIRE((*runner)->Start().ok());
      for (size_t i = 0; i < names.size(); ++i) {
        const std::string actual = Dump(*WaitFor(**runner, names[i], head));
        CHECK_MESSAGE(actual == expected, threads, " threads, ", names[i], ": ",
                      DescribeDumpDifference(expected, actual));
        CHECK(StatsOf((*runner)->stats(), names[i]).apply_thread < threads);
      }
    }
  }

  TEST_CASE("Runner: heavy projections are spread over the apply threads") {
    const events::EventLog& log = CityLog();
    const GlobalPosition head = log.head().position;
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(log);
    auto runner = Runner::Create(
        {.store = store.get(), .source = &source, .batch_records_max = 64, .apply_threads = 2});
    REQUIRE(runner.has_value());
    // Dealt out in turn, both heavy ones land on thread 0.
    REQUIRE((*runner)
                ->Add(MakeTestProjection({.name = "heavy1", .spin_nanos_per_record = 20'000}))
                .ok());
    REQUIRE((*runner)->Add(MakeTestProjection({.name = "light1"})).ok());
    REQUIRE((*runner)
                ->Add(MakeTestProjection({.name = "heavy2", .spin_nanos_per_record = 20'000}))
                .ok());
    REQUIRE((*runner)->Add(MakeTestProjection({.name = "light2"})).ok());
    REQUIRE((*runner)->Start().ok());
    const std::string expected = Reference(log, head);
    for (const char* name : {"heavy1", "light1", "heavy2", "light2"}) {
      CHECK(Dump(*WaitFor(**runner, name, head)) == expected);
    }
    const RunnerStats stats = (*runner)->stats();
    CHECK(stats.rebalances >= 1);
    CHECK(StatsOf(stats, "heavy1").apply_thread != StatsOf(stats, "heavy2").apply_thread);
  }

  TEST_CASE("Runner: every view shows exactly the records through its position") {
    const events::EventLog& log = CityLog();
    const GlobalPosition head = log.head().position;
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(log);
    auto runner = NewRunner(*store, source, 37);  // many small commits
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    std::atomic<bool> done{false};
    std::atomic<int> views{0};
    std::atomic<int> inconsistent{0};
    std::set<uint64_t> positions;
    std::thread reader([&] {
      while (!done.load()) {
        auto view = runner->View("runtime-test");
        if (!view.has_value()) continue;
        auto totals = testing::ReadTotals(**view);
        if (!totals.has_value() || totals->records != (*view)->position().value) ++inconsistent;
        positions.insert((*view)->position().value);
        ++views;
      }
    });
    REQUIRE(runner->Start().ok());
    WaitFor(*runner, "runtime-test", head);
    done = true;
    reader.join();
    CHECK(inconsistent.load() == 0);
    CHECK(views.load() > 10);
    CHECK(positions.size() > 2);  // it saw the projection move, not only the ends
  }

  TEST_CASE("Runner: a restarted runner resumes after its checkpoint and applies nothing twice") {
    TempDir dir;
    auto log = OpenLog(dir.Sub("log"));
    AppendReceipts(*log, 0, 3000);
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(*log);
    {
      auto runner = NewRunner(*store, source, 256);
      REQUIRE(runner->Add(MakeTestProjection()).ok());
      REQUIRE(runner->Start().ok());
      WaitFor(*runner, "runtime-test", GlobalPosition{3000});
      REQUIRE(runner->Stop().ok());
    }
    AppendReceipts(*log, 3000, 1234);
    auto runner = NewRunner(*store, source, 256);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    auto view = WaitFor(*runner, "runtime-test", GlobalPosition{4234});
    CHECK(StatsOf(runner->stats(), "runtime-test").records_applied == 1234);
    const std::string expected = Reference(*log, GlobalPosition{4234});
    const std::string actual = Dump(*view);
    CHECK_MESSAGE(actual == expected, DescribeDumpDifference(expected, actual));
    // And it follows new appends.
    AppendReceipts(*log, 4234, 10);
    CHECK(WaitFor(*runner, "runtime-test", GlobalPosition{4244})->position().value == 4244);
  }

  TEST_CASE("Runner: repeated and overlapping deliveries are skipped by position") {
    const events::EventLog& log = CityLog();
    const GlobalPosition head = log.head().position;
    // Two partitions by stream, as a keyed topic has them; then a republished range of
    // partition 0 (the same positions again at later offsets).
    std::vector<Scripted> script = ScriptFromLog(log, [](const schema::Record& record) {
      return static_cast<int32_t>(record.envelope()->stream_id() % 2);
    });
    int64_t next_offset0 = 0;
    for (const auto& item : script) {
      if (item.partition == 0) next_offset0 = item.offset + 1;
    }
    std::vector<Scripted> repeats;
    for (const auto& item : script) {
      if (item.partition == 0 && item.offset >= 10 && item.offset < 30) {
        Scripted copy = item;
        copy.offset = next_offset0++;
        repeats.push_back(std::move(copy));
      }
    }
    for (auto& item : repeats) script.push_back(std::move(item));
    const uint64_t messages = script.size();
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    ScriptedSource source(std::move(script));
    {
      auto runner = NewRunner(*store, source);
      REQUIRE(runner->Add(MakeTestProjection()).ok());
      REQUIRE(runner->Start().ok());
      WaitForRecordsRead(*runner, messages);
      REQUIRE(runner->Stop().ok());
      const ProjectionStats& stats = StatsOf(runner->stats(), "runtime-test");
      CHECK(stats.records_applied == head.value);
      CHECK(stats.records_skipped == 20);
    }
    auto view = store->View("runtime-test");
    REQUIRE(view.has_value());
    CHECK((*view)->position().value > 0);
    const std::string expected = Reference(log, head);
    const std::string actual = Dump(**view);
    CHECK_MESSAGE(actual == expected, DescribeDumpDifference(expected, actual));
    // A second runner starts each partition at its stored next offset: nothing is read again.
    const Checkpoint checkpoint = *store->GetCheckpoint("runtime-test");
    auto runner = NewRunner(*store, source);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    std::this_thread::sleep_for(50ms);
    REQUIRE(runner->Stop().ok());
    REQUIRE(checkpoint.partitions.size() == 2);
    for (const auto& entry : checkpoint.partitions) {
      CHECK(source.starts_seen[entry.partition] == entry.next_offset);
    }
    CHECK(runner->stats().records_read == 0);
  }

  TEST_CASE("Runner: a rebuild on request gives the same bytes") {
    const events::EventLog& log = CityLog();
    const GlobalPosition head = log.head().position;
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(log);
    auto runner = NewRunner(*store, source, 300);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    const std::string before = Dump(*WaitFor(*runner, "runtime-test", head));
    REQUIRE(runner->Rebuild("runtime-test").ok());
    CHECK(runner->Rebuild("nobody").code() == StatusCode::kNotFound);
    const std::string after = Dump(*WaitFor(*runner, "runtime-test", head));
    CHECK_MESSAGE(after == before, DescribeDumpDifference(before, after));
    const ProjectionStats stats = StatsOf(runner->stats(), "runtime-test");
    CHECK(stats.rebuilds == 1);
    CHECK(stats.records_applied == 2 * head.value);
  }

  TEST_CASE("Runner: a new version or another source rebuilds from zero") {
    const events::EventLog& log = CityLog();
    const GlobalPosition head = log.head().position;
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(log);
    std::string first;
    {
      auto runner = NewRunner(*store, source);
      REQUIRE(runner->Add(MakeTestProjection()).ok());
      REQUIRE(runner->Start().ok());
      first = Dump(*WaitFor(*runner, "runtime-test", head));
    }
    SUBCASE("a new version") {
      auto runner = NewRunner(*store, source);
      REQUIRE(runner->Add(MakeTestProjection({.version = 2})).ok());
      REQUIRE(runner->Start().ok());
      const std::string second = Dump(*WaitFor(*runner, "runtime-test", head));
      CHECK(second == first);
      const ProjectionStats stats = StatsOf(runner->stats(), "runtime-test");
      CHECK(stats.rebuilds == 1);
      CHECK(stats.records_applied == head.value);
      CHECK(store->GetMeta("runtime-test")->value().version == 2);
    }
    SUBCASE("another source") {
      ScriptedSource scripted(ScriptFromLog(log, [](const schema::Record&) { return 0; }));
      auto runner = NewRunner(*store, scripted);
      REQUIRE(runner->Add(MakeTestProjection()).ok());
      REQUIRE(runner->Start().ok());
      WaitForRecordsRead(*runner, head.value);
      const std::string second = Dump(*WaitFor(*runner, "runtime-test", head));
      CHECK(second == first);
      CHECK(StatsOf(runner->stats(), "runtime-test").rebuilds == 1);
      CHECK(store->GetMeta("runtime-test")->value().source_id == "scripted");
    }
  }

  TEST_CASE("Runner: a projection added later catches up while the others go on") {
    TempDir dir;
    auto log = OpenLog(dir.Sub("log"));
    AppendReceipts(*log, 0, 20000);
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(*log);
    auto runner = NewRunner(*store, source, 200);
    REQUIRE(runner->Add(MakeTestProjection({.name = "first"})).ok());
    REQUIRE(runner->Start().ok());
    WaitFor(*runner, "first", GlobalPosition{20000});
    std::atomic<bool> appending{true};
    std::atomic<int> appended{20000};
    std::thread appender([&] {
      while (appending.load()) {
        AppendReceipts(*log, appended.load(), 50);
        appended += 50;
        std::this_thread::sleep_for(2ms);
      }
    });
    REQUIRE(runner->Add(MakeTestProjection({.name = "later"})).ok());
    const GlobalPosition first_at_add = StatsOf(runner->stats(), "first").applied_through;
    // Watch both while the later one catches up.
    GlobalPosition first_while_catching_up{0};
    bool seen_catching_up = false;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      const RunnerStats stats = runner->stats();
      if (!StatsOf(stats, "later").catching_up) {
        if (seen_catching_up || StatsOf(stats, "later").applied_through.value > 0) break;
        continue;
      }
      seen_catching_up = true;
      first_while_catching_up = StatsOf(stats, "first").applied_through;
      std::this_thread::sleep_for(1ms);
    }
    appending = false;
    appender.join();
    CHECK(seen_catching_up);
    CHECK(first_while_catching_up > first_at_add);  // the first one went on meanwhile
    const GlobalPosition head = log->head().position;
    const std::string expected = Reference(*log, head);
    const std::string first = Dump(*WaitFor(*runner, "first", head));
    const std::string later = Dump(*WaitFor(*runner, "later", head));
    CHECK_MESSAGE(first == expected, DescribeDumpDifference(expected, first));
    CHECK_MESSAGE(later == expected, DescribeDumpDifference(expected, later));
    CHECK(!StatsOf(runner->stats(), "later").catching_up);
    CHECK(StatsOf(runner->stats(), "later").records_applied == head.value);
    CHECK(StatsOf(runner->stats(), "first").records_applied == head.value);
    CHECK(runner->Add(MakeTestProjection({.name = "later"})).code() ==
          StatusCode::kInvalidArgument);
  }

  TEST_CASE("Runner: at Start, projections behind the others catch up on their own") {
    TempDir dir;
    auto log = OpenLog(dir.Sub("log"));
    AppendReceipts(*log, 0, 5000);
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(*log);
    {
      auto runner = NewRunner(*store, source);
      REQUIRE(runner->Add(MakeTestProjection({.name = "old"})).ok());
      REQUIRE(runner->Start().ok());
      WaitFor(*runner, "old", GlobalPosition{5000});
    }
    auto runner = NewRunner(*store, source, 100);
    REQUIRE(runner->Add(MakeTestProjection({.name = "old"})).ok());
    REQUIRE(runner->Add(MakeTestProjection({.name = "new"})).ok());
    REQUIRE(runner->Start().ok());
    AppendReceipts(*log, 5000, 100);
    CHECK(WaitFor(*runner, "old", GlobalPosition{5100})->position().value == 5100);
    const std::string expected = Reference(*log, GlobalPosition{5100});
    CHECK(Dump(*WaitFor(*runner, "new", GlobalPosition{5100})) == expected);
    CHECK(DumpOf(*runner, "old") == expected);
    // "old" stayed with the main reader (nothing re-read, nothing skipped); "new" read it all.
    CHECK(StatsOf(runner->stats(), "old").records_applied == 100);
    CHECK(StatsOf(runner->stats(), "old").records_skipped == 0);
    CHECK(StatsOf(runner->stats(), "new").records_applied == 5100);
  }

  TEST_CASE("Runner: WaitForPosition is bounded and sees its own writes") {
    TempDir dir;
    auto log = OpenLog(dir.Sub("log"));
    AppendReceipts(*log, 0, 100);
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(*log);
    auto runner = NewRunner(*store, source);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    WaitFor(*runner, "runtime-test", GlobalPosition{100});
    const auto start = std::chrono::steady_clock::now();
    auto late = runner->WaitForPosition("runtime-test", GlobalPosition{101}, 100ms);
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(late.status().code() == StatusCode::kDeadlineExceeded);
    CHECK(waited >= 100ms);
    CHECK(waited < 5s);
    // A wait longer than the limit is cut to it (not measured here: it would take a minute).
    CHECK(runner->WaitForPosition("nobody", GlobalPosition{1}, 10ms).status().code() ==
          StatusCode::kNotFound);
    // Read-your-writes: append, then wait for the appended position.
    std::thread writer([&] {
      std::this_thread::sleep_for(50ms);
      AppendReceipts(*log, 100, 1);
    });
    auto mine = runner->WaitForPosition("runtime-test", GlobalPosition{101}, 10s);
    writer.join();
    REQUIRE(mine.has_value());
    CHECK((*mine)->position().value >= 101);
    CHECK(testing::ReadTotals(**mine)->records == 101);
    REQUIRE(runner->Stop().ok());
    CHECK(runner->WaitForPosition("runtime-test", GlobalPosition{500}, 10s).status().code() ==
          StatusCode::kUnavailable);
  }

  TEST_CASE("Runner: an Apply error stops it and commits nothing of the failed batch") {
    TempDir dir;
    auto log = OpenLog(dir.Sub("log"));
    AppendReceipts(*log, 0, 2000);
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(*log);
    {
      auto runner = NewRunner(*store, source, 100);
      REQUIRE(runner->Add(MakeTestProjection({.fail_at_position = 1234})).ok());
      REQUIRE(runner->Start().ok());
      auto wait = runner->WaitForPosition("runtime-test", GlobalPosition{2000}, 30s);
      CHECK(wait.status().code() == StatusCode::kCorruption);
      CHECK(runner->stats().state == RunnerState::kFailed);
      CHECK(runner->stats().error.code() == StatusCode::kCorruption);
      const Status stopped = runner->Stop();
      CHECK(stopped.code() == StatusCode::kCorruption);
      CHECK(stopped.message().find("1201..1300") != std::string::npos);
      CHECK(runner->Add(MakeTestProjection({.name = "x"})).code() ==
            StatusCode::kFailedPrecondition);
    }
    // Committed: exactly the batches before the failed one.
    auto view = store->View("runtime-test");
    REQUIRE(view.has_value());
    CHECK((*view)->position().value == 1200);
    CHECK(Dump(**view) == Reference(*log, GlobalPosition{1200}));
    // A new runner loads what was committed and goes on from there.
    auto runner = NewRunner(*store, source, 100);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    CHECK(Dump(*WaitFor(*runner, "runtime-test", GlobalPosition{2000})) ==
          Reference(*log, GlobalPosition{2000}));
    CHECK(StatsOf(runner->stats(), "runtime-test").records_applied == 800);
  }

  TEST_CASE("Runner: a record that does not verify, or claims another position, stops it") {
    const events::EventLog& log = CityLog();
    std::vector<Scripted> script = ScriptFromLog(log, [](const schema::Record&) { return 0; });
    script.resize(50);
    SUBCASE("damaged bytes") {
      script[20].words[3] ^= 0xffffffffULL;
      script[20].size = 24;  // and cut short
    }
    SUBCASE("framed with another position") { script[20].position = GlobalPosition{999}; }
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    ScriptedSource source(std::move(script));
    auto runner = NewRunner(*store, source);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    REQUIRE(runner->Start().ok());
    auto wait = runner->WaitForPosition("runtime-test", GlobalPosition{50}, 30s);
    CHECK(wait.status().code() == StatusCode::kCorruption);
    CHECK(wait.status().message().find("offset 20") != std::string::npos);
    auto view = store->View("runtime-test");
    CHECK((*view)->position().value < 21);
  }

  TEST_CASE("Runner: bad options and names are refused") {
    TempDir dir;
    auto store = OpenStore(dir.Sub("p"));
    LogSource source(CityLog());
    CHECK(Runner::Create({.store = nullptr, .source = &source}).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(Runner::Create({.store = store.get(), .source = nullptr}).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(Runner::Create(
              {.store = store.get(), .source = &source, .batch_records_max = kBatchRecordsMax + 1})
              .status()
              .code() == StatusCode::kInvalidArgument);
    CHECK(Runner::Create(
              {.store = store.get(), .source = &source, .apply_threads = kApplyThreadsMax + 1})
              .status()
              .code() == StatusCode::kInvalidArgument);
    auto runner = NewRunner(*store, source);
    CHECK(runner->Add(MakeTestProjection({.name = "Bad Name"})).code() ==
          StatusCode::kInvalidArgument);
    CHECK(runner->Add(nullptr).code() == StatusCode::kInvalidArgument);
    REQUIRE(runner->Add(MakeTestProjection()).ok());
    CHECK(runner->Add(MakeTestProjection()).code() == StatusCode::kInvalidArgument);
    CHECK(runner->View("runtime-test").status().code() == StatusCode::kNotFound);  // not yet in
    REQUIRE(runner->Start().ok());
    CHECK(runner->Start().code() == StatusCode::kFailedPrecondition);
    CHECK(runner->View("runtime-test").has_value());
  }
}

}  // namespace
}  // namespace hpf::projections
