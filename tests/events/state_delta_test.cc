// tests/events/state_delta_test.cc — the packed state deltas: the codec, the view of stored
// state while deltas are unfolded (writer and read-only reader), folding, and upgrading a v1
// store.
#include "events/internal/state_delta.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <rocksdb/db.h>

#include "events/event_log.h"
#include "tests/support/records.h"

namespace hpf::events {
namespace {

using testing::MakeReceipt;
using testing::TempDir;

std::unique_ptr<EventLog> OpenLog(const std::string& dir) {
  auto log = EventLog::Open({.data_dir = dir, .durability = Durability::kNoSync});
  REQUIRE_MESSAGE(log.has_value(), log.status().ToString());
  return std::move(log).value();
}

// Appends one receipt with the given state operations ("key=value" puts, "-key" deletes).
void AppendWithDelta(EventLog& log, const std::string& key,
                     const std::vector<std::string>& operations) {
  AppendBatch batch;
  REQUIRE(batch.AddRecord(MakeReceipt({.key = key})).ok());
  for (const std::string& op : operations) {
    if (op.starts_with("-")) {
      REQUIRE(batch.DeleteState(op.substr(1)).ok());
    } else {
      const size_t eq = op.find('=');
      REQUIRE(batch.PutState(op.substr(0, eq), op.substr(eq + 1)).ok());
    }
  }
  auto result = log.Append(std::move(batch));
  REQUIRE_MESSAGE(result.has_value(), result.status().ToString());
}

std::map<std::string, std::string> Scan(const EventLog& log, std::string_view prefix) {
  std::map<std::string, std::string> seen;
  REQUIRE(log.ScanState(prefix,
                        [&](std::string_view key, std::string_view value) {
                          seen.emplace(key, value);
                          return true;
                        })
              .ok());
  return seen;
}

std::optional<std::string> Get(const EventLog& log, std::string_view key) {
  auto value = log.GetState(key);
  REQUIRE(value.has_value());
  return *value;
}

TEST_SUITE("events") {
  TEST_CASE("state delta codec: operations round-trip in order; damage is Corruption") {
    std::string delta;
    internal::AppendStateOps({{.key = "a", .value = "1", .is_delete = false},
                              {.key = "b", .value = "", .is_delete = true}},
                             delta);
    internal::AppendStateOps({{.key = "a", .value = std::string(300, 'x'), .is_delete = false}},
                             delta);
    std::vector<std::string> seen;
    REQUIRE(internal::ForEachStateOp(delta, [&](std::string_view key,
                                                std::optional<std::string_view> value) {
              seen.push_back(fmt::format("{}={}", key, value ? value->size() : 999));
            }).ok());
    CHECK(seen == std::vector<std::string>{"a=1", "b=999", "a=300"});
    for (size_t cut = 0; cut < delta.size(); ++cut) {
      CAPTURE(cut);
      const Status status =
          internal::ForEachStateOp(std::string_view(delta).substr(0, cut), [](auto, auto) {});
      // A cut between two whole operations is a shorter valid delta; any other cut is not.
      if (cut != 1 && cut != 1 + 1 + 4 + 1 + 4 + 1 && cut != 1 + 1 + 4 + 1 + 4 + 1 + 1 + 4 + 1) {
        CHECK(status.code() == StatusCode::kCorruption);
      }
    }
    std::string bad_kind = delta;
    bad_kind[1] = 7;
    CHECK(internal::ForEachStateOp(bad_kind, [](auto, auto) {}).code() == StatusCode::kCorruption);
    CHECK(internal::StateDeltaSequence(internal::StateDeltaKey(0x0102030405060708)).value() ==
          0x0102030405060708);
    CHECK(internal::StateDeltaKey(1) < internal::StateDeltaKey(256));
    CHECK(!internal::StateDeltaSequence("short").has_value());
  }

  TEST_CASE("EventLog: stored state reads the latest delta before and after folding") {
    TempDir dir;
    auto log = OpenLog(dir.path());
    AppendWithDelta(*log, "k1", {"acct/1=a", "acct/2=b", "emp/1=e"});
    AppendWithDelta(*log, "k2", {"acct/1=a2", "-acct/2", "acct/3=c"});
    // Nothing folded yet (the log has not been quiet): reads see the deltas on top.
    CHECK(log->stats().state_folds == 0);
    CHECK(log->stats().state_delta_backlog_bytes > 0);
    CHECK(Get(*log, "acct/1") == "a2");
    CHECK(Get(*log, "acct/2") == std::nullopt);
    CHECK(Scan(*log, "acct/") ==
          std::map<std::string, std::string>{{"acct/1", "a2"}, {"acct/3", "c"}});
    SUBCASE("a reader opened beside the writer sees the same") {
      auto reader = EventLog::OpenReadOnly(dir.path());
      REQUIRE(reader.has_value());
      CHECK(Get(**reader, "acct/1") == "a2");
      CHECK(Get(**reader, "acct/2") == std::nullopt);
      CHECK(Scan(**reader, "acct/") == Scan(*log, "acct/"));
      CHECK(Scan(**reader, "emp/") == std::map<std::string, std::string>{{"emp/1", "e"}});
    }
    SUBCASE("Close folds every delta; the reopened store reads the same from entity keys") {
      REQUIRE(log->Close().ok());
      CHECK(log->stats().state_folds >= 1);
      CHECK(log->stats().state_delta_backlog_bytes == 0);
      log.reset();
      log = OpenLog(dir.path());
      CHECK(log->stats().state_folds == 0);  // nothing left to fold at open
      CHECK(Scan(*log, "acct/") ==
            std::map<std::string, std::string>{{"acct/1", "a2"}, {"acct/3", "c"}});
      AppendWithDelta(*log, "k3", {"acct/0=z", "-acct/3"});
      CHECK(Scan(*log, "acct/") ==
            std::map<std::string, std::string>{{"acct/0", "z"}, {"acct/1", "a2"}});
    }
  }

  TEST_CASE("EventLog: deltas left unfolded by a crash are folded at the next open") {
    TempDir dir;
    TempDir crashed;
    {
      auto log = OpenLog(dir.path());
      for (int i = 0; i < 50; ++i) {
        AppendWithDelta(*log, fmt::format("k{}", i),
                        {fmt::format("acct/{}=v{}", i % 7, i), fmt::format("emp/1=n{}", i)});
      }
      // Leave without Close(): the process "dies" with its deltas unfolded. Copy the
      // files as they are (RocksDB's WAL holds the unflushed writes).
      std::filesystem::copy(dir.path(), crashed.Sub("store"),
                            std::filesystem::copy_options::recursive);
    }
    auto log = OpenLog(crashed.Sub("store"));
    CHECK(log->stats().state_folds >= 1);
    CHECK(log->stats().state_delta_backlog_bytes == 0);
    CHECK(Get(*log, "emp/1") == "n49");
    for (int a = 0; a < 7; ++a) {
      const int last = 49 - ((49 - a) % 7);  // the last i with i % 7 == a
      CHECK(Get(*log, fmt::format("acct/{}", a)) == fmt::format("v{}", last));
    }
  }

  TEST_CASE("EventLog: a v1 store (no delta family) is upgraded when opened for writing") {
    TempDir dir;
    {
      auto log = OpenLog(dir.path());
      // No idempotency key: the raw RocksDB below, without the index's merge operator, could
      // not replay an index merge from the write-ahead log.
      AppendWithDelta(*log, "", {"acct/1=a"});
      REQUIRE(log->Close().ok());
    }
    {
      // Make it what a v1 build left: header format 1 and no delta family.
      rocksdb::DB* raw = nullptr;
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      std::vector<rocksdb::ColumnFamilyDescriptor> families = {
          {rocksdb::kDefaultColumnFamilyName, {}},
          {"log", {}},
          {"state", {}},
          {"idem", {}},
          {"delta", {}}};
      REQUIRE(rocksdb::DB::Open({}, dir.path(), families, &handles, &raw).ok());
      const uint32_t version = 1;
      REQUIRE(raw->Put({}, handles[0], "format_version",
                       std::string(reinterpret_cast<const char*>(&version), 4))
                  .ok());
      REQUIRE(raw->DropColumnFamily(handles[4]).ok());
      for (auto* handle : handles) REQUIRE(raw->DestroyColumnFamilyHandle(handle).ok());
      delete raw;
    }
    {
      auto reader = EventLog::OpenReadOnly(dir.path());
      REQUIRE(reader.has_value());
      CHECK((*reader)->format_version() == 1);
      CHECK(Get(**reader, "acct/1") == "a");
    }
    auto log = OpenLog(dir.path());
    CHECK(log->format_version() == kStoreFormatVersion);
    CHECK(Get(*log, "acct/1") == "a");
    AppendWithDelta(*log, "k2", {"acct/1=b"});
    CHECK(Get(*log, "acct/1") == "b");
  }
}

}  // namespace
}  // namespace hpf::events
