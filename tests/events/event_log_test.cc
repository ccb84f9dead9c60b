// tests/events/event_log_test.cc — appends, idempotency, state deltas, reopening, formats.
#include "events/event_log.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <rocksdb/db.h>

#include "events/internal/store_layout.h"
#include "events/verify.h"
#include "tests/support/records.h"

namespace hpf::events {
namespace {

using testing::MakeReceipt;
using testing::ReceiptSpec;
using testing::TempDir;

std::unique_ptr<EventLog> OpenLog(const std::string& dir, EventLogOptions options = {}) {
  options.data_dir = dir;
  options.durability = Durability::kNoSync;  // process-crash safe; fsync is tested in crash/
  auto log = EventLog::Open(options);
  REQUIRE_MESSAGE(log.has_value(), log.status().ToString());
  return std::move(log).value();
}

AppendResult AppendOne(EventLog& log, const ReceiptSpec& spec) {
  AppendBatch batch;
  REQUIRE(batch.AddRecord(MakeReceipt(spec)).ok());
  auto result = log.Append(std::move(batch));
  REQUIRE_MESSAGE(result.has_value(), result.status().ToString());
  return std::move(result).value();
}

TEST_SUITE("events") {
  TEST_CASE("EventLog: positions are gapless from 1 across concurrent submitters") {
    TempDir dir;
    auto log = OpenLog(dir.path());
    constexpr int kThreads = 4;
    constexpr int kBatches = 50;
    constexpr int kPerBatch = 20;
    std::vector<std::vector<uint64_t>> seen(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int b = 0; b < kBatches; ++b) {
          AppendBatch batch;
          for (int i = 0; i < kPerBatch; ++i) {
            HPF_ASSERT(
                batch.AddRecord(MakeReceipt({.key = fmt::format("t{}-b{}-{}", t, b, i)})).ok());
          }
          auto result = log->Append(std::move(batch));
          HPF_ASSERT(result.has_value());
          for (const auto& command : result->commands) {
            HPF_ASSERT(command.outcome == CommandOutcome::kAppended);
            seen[static_cast<size_t>(t)].push_back(command.position.value);
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    std::vector<uint64_t> all;
    for (const auto& s : seen) all.insert(all.end(), s.begin(), s.end());
    std::sort(all.begin(), all.end());
    REQUIRE(all.size() == kThreads * kBatches * kPerBatch);
    for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == i + 1);
    CHECK(log->head().position.value == all.size());
    // Scan returns every record with its own position in the link.
    uint64_t expected = 1;
    REQUIRE(log->Scan(GlobalPosition{1}, GlobalPosition{UINT64_MAX},
                      [&](const RecordRef& ref) {
                        auto record = VerifyRecord(ref.record);
                        HPF_ASSERT(record.has_value());
                        CHECK(RecordPosition(**record).value == expected);
                        CHECK(ref.position.value == expected);
                        ++expected;
                        return true;
                      })
                .ok());
    CHECK(expected == all.size() + 1);
  }

  TEST_CASE("EventLog: a reused key returns the original position, or a conflict") {
    TempDir dir;
    auto log = OpenLog(dir.path());
    AppendOne(*log, {.key = "ref-1", .amount_fen = 500});
    AppendOne(*log, {.key = "ref-2", .amount_fen = 700});
    SUBCASE("same content: duplicate of position 1, nothing appended") {
      const auto result = AppendOne(*log, {.key = "ref-1", .amount_fen = 500});
      CHECK(result.commands[0].outcome == CommandOutcome::kDuplicate);
      CHECK(result.commands[0].position.value == 1);
      CHECK(log->head().position.value == 2);
    }
    SUBCASE("different content: conflict naming position 1, nothing appended") {
      const auto result = AppendOne(*log, {.key = "ref-1", .amount_fen = 501});
      CHECK(result.commands[0].outcome == CommandOutcome::kConflict);
      CHECK(result.commands[0].position.value == 1);
      CHECK(log->head().position.value == 2);
    }
    SUBCASE("the same key twice in one batch: the second is a duplicate of the first") {
      AppendBatch batch;
      REQUIRE(batch.AddRecord(MakeReceipt({.key = "ref-3"})).ok());
      REQUIRE(batch.AddRecord(MakeReceipt({.key = "ref-3"})).ok());
      REQUIRE(batch.AddRecord(MakeReceipt({.key = "ref-3", .amount_fen = 1})).ok());
      auto result = log->Append(std::move(batch));
      REQUIRE(result.has_value());
      CHECK(result->commands[0].outcome == CommandOutcome::kAppended);
      CHECK(result->commands[0].position.value == 3);
      CHECK(result->commands[1].outcome == CommandOutcome::kDuplicate);
      CHECK(result->commands[1].position.value == 3);
      CHECK(result->commands[2].outcome == CommandOutcome::kConflict);
      CHECK(log->head().position.value == 3);
    }
    SUBCASE("an empty key is never deduplicated") {
      AppendOne(*log, {.key = "", .reference = "no-key"});
      AppendOne(*log, {.key = "", .reference = "no-key"});
      CHECK(log->head().position.value == 4);
    }
  }

  TEST_CASE("EventLog: keys are found after reopening, from the window and from the index") {
    TempDir dir;
    // A tiny window forces old keys out to the persistent index while appending.
    EventLogOptions options{.key_window_max = 64};
    {
      auto log = OpenLog(dir.path(), options);
      for (int i = 0; i < 500; ++i) AppendOne(*log, {.key = fmt::format("k{}", i)});
      // Keys evicted from the window are still duplicates: the precheck finds them.
      CHECK(AppendOne(*log, {.key = "k3"}).commands[0].outcome == CommandOutcome::kDuplicate);
      CHECK(log->indexed_through().value > 0);
      REQUIRE(log->Close().ok());
    }
    auto log = OpenLog(dir.path(), options);
    CHECK(log->indexed_through().value == 500);  // Close folded the window in
    CHECK(log->head().position.value == 500);
    for (int i : {0, 250, 499}) {
      const auto result = AppendOne(*log, {.key = fmt::format("k{}", i)});
      CHECK(result.commands[0].outcome == CommandOutcome::kDuplicate);
      CHECK(result.commands[0].position.value == static_cast<uint64_t>(i + 1));
    }
    auto hit = log->FindKey("k250");
    REQUIRE(hit.has_value());
    REQUIRE(hit->has_value());
    CHECK((*hit)->position.value == 251);
    auto miss = log->FindKey("k-none");
    REQUIRE(miss.has_value());
    CHECK(!miss->has_value());
  }

  TEST_CASE("EventLog: state deltas commit with their records") {
    TempDir dir;
    {
      auto log = OpenLog(dir.path());
      AppendBatch batch;
      REQUIRE(batch.AddRecord(MakeReceipt({.key = "s1"})).ok());
      REQUIRE(batch.PutState("employer/1", "suspense=100000").ok());
      REQUIRE(log->Append(std::move(batch)).has_value());
      SUBCASE("a batch with a delta and a duplicate command writes nothing") {
        AppendBatch again;
        REQUIRE(again.AddRecord(MakeReceipt({.key = "s1"})).ok());
        REQUIRE(again.AddRecord(MakeReceipt({.key = "s2"})).ok());
        REQUIRE(again.PutState("employer/1", "suspense=200000").ok());
        auto result = log->Append(std::move(again));
        REQUIRE(!result.has_value());
        CHECK(result.error().code() == StatusCode::kFailedPrecondition);
        CHECK(log->head().position.value == 1);
        CHECK(*log->GetState("employer/1").value() == "suspense=100000");
        CHECK(!log->FindKey("s2").value().has_value());
        // The producer's model diverged: the log refuses everything until reopened.
        AppendBatch later;
        REQUIRE(later.AddRecord(MakeReceipt({.key = "s3"})).ok());
        auto refused = log->Append(std::move(later));
        REQUIRE(!refused.has_value());
        CHECK(refused.error().code() == StatusCode::kFailedPrecondition);
        CHECK(refused.error().message().find("reopen") != std::string::npos);
        CHECK(log->head().position.value == 1);
      }
      REQUIRE(log->Close().ok());
    }
    auto log = OpenLog(dir.path());
    auto state = log->GetState("employer/1");
    REQUIRE(state.has_value());
    REQUIRE(state->has_value());
    CHECK(**state == "suspense=100000");
  }

  TEST_CASE("EventLog: the head and the hash algorithm survive reopening") {
    TempDir dir;
    HeadDigest head_sm3;
    {
      auto log = OpenLog(dir.Sub("sm3"), {.hash_algorithm = HashAlgorithm::kSm3});
      AppendOne(*log, {.key = "a"});
      head_sm3 = AppendOne(*log, {.key = "b"}).head;
    }
    HeadDigest head_sha;
    {
      auto log = OpenLog(dir.Sub("sha"));
      AppendOne(*log, {.key = "a"});
      head_sha = AppendOne(*log, {.key = "b"}).head;
    }
    CHECK(head_sm3.position.value == 2);
    CHECK(head_sm3.hash != head_sha.hash);
    // Reopening asks for SHA-256 but the store keeps the SM3 it was created with.
    auto log = OpenLog(dir.Sub("sm3"));
    CHECK(log->hash_algorithm() == HashAlgorithm::kSm3);
    CHECK(log->head() == head_sm3);
  }

  TEST_CASE("EventLog: a store of a newer format is refused with a clear error") {
    TempDir dir;
    { OpenLog(dir.path()); }
    {
      // Rewrite the header as a future build would.
      rocksdb::DB* raw = nullptr;
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      std::vector<rocksdb::ColumnFamilyDescriptor> families = {
          {rocksdb::kDefaultColumnFamilyName, {}},
          {"log", {}},
          {"state", {}},
          {"idem", {}},
          {"delta", {}}};
      REQUIRE(rocksdb::DB::Open({}, dir.path(), families, &handles, &raw).ok());
      const uint32_t version = kStoreFormatVersion + 1;
      REQUIRE(raw->Put({}, handles[0], "format_version",
                       std::string(reinterpret_cast<const char*>(&version), 4))
                  .ok());
      for (auto* handle : handles) REQUIRE(raw->DestroyColumnFamilyHandle(handle).ok());
      delete raw;
    }
    auto log = EventLog::Open({.data_dir = dir.path()});
    REQUIRE(!log.has_value());
    CHECK(log.error().code() == StatusCode::kUnimplemented);
    CHECK(log.error().message().find(fmt::format("format version {}", kStoreFormatVersion + 1)) !=
          std::string::npos);
    auto read_only = EventLog::OpenReadOnly(dir.path());
    REQUIRE(!read_only.has_value());
    CHECK(read_only.error().code() == StatusCode::kUnimplemented);
  }

  TEST_CASE("regression: a store whose creation was killed before its header opens again") {
    // Found by the crash test: RocksDB's files existed, so the store counted as existing,
    // and neither the column families nor the header were ever written.
    TempDir dir;
    {
      rocksdb::Options options;
      options.create_if_missing = true;
      rocksdb::DB* raw = nullptr;
      REQUIRE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
      delete raw;
    }
    auto existing = EventLog::Open({.data_dir = dir.path(), .mode = OpenMode::kOpenExisting});
    REQUIRE(!existing.has_value());
    CHECK(existing.error().code() == StatusCode::kNotFound);
    auto log = OpenLog(dir.path());
    CHECK(log->head().position.value == 0);
    AppendOne(*log, {.key = "after-crash"});
    CHECK(log->head().position.value == 1);
  }

  TEST_CASE("EventLog: open modes and read-only stores") {
    TempDir dir;
    SUBCASE("kOpenExisting on an empty directory is NotFound") {
      auto log = EventLog::Open({.data_dir = dir.Sub("none"), .mode = OpenMode::kOpenExisting});
      REQUIRE(!log.has_value());
      CHECK(log.error().code() == StatusCode::kNotFound);
    }
    SUBCASE("kCreateNew on an existing store is AlreadyExists") {
      { OpenLog(dir.path()); }
      auto log = EventLog::Open({.data_dir = dir.path(), .mode = OpenMode::kCreateNew});
      REQUIRE(!log.has_value());
      CHECK(log.error().code() == StatusCode::kAlreadyExists);
    }
    SUBCASE("a read-only store reads but refuses appends") {
      {
        auto log = OpenLog(dir.path());
        AppendOne(*log, {.key = "r1"});
      }
      auto log = EventLog::OpenReadOnly(dir.path());
      REQUIRE(log.has_value());
      CHECK((*log)->head().position.value == 1);
      AppendBatch batch;
      REQUIRE(batch.AddRecord(MakeReceipt({.key = "r2"})).ok());
      auto result = (*log)->Append(std::move(batch));
      REQUIRE(!result.has_value());
      CHECK(result.error().code() == StatusCode::kFailedPrecondition);
    }
    SUBCASE("a read-only open of nothing is NotFound") {
      auto log = EventLog::OpenReadOnly(dir.Sub("none"));
      REQUIRE(!log.has_value());
      CHECK(log.error().code() == StatusCode::kNotFound);
    }
  }

  TEST_CASE("AppendBatch: records that would corrupt the log are refused at the door") {
    AppendBatch batch;
    SUBCASE("unbalanced postings") {
      RecordBuilder builder;
      auto& fbb = builder.fbb();
      const auto payload = schema::CreateBankReceiptRecordedDirect(fbb, 1, "ICBC", "x", 100);
      const schema::Posting postings[] = {
          schema::Posting(101, schema::Side::Debit, schema::EntityKind::Bank, 0, 1, 100),
          schema::Posting(219, schema::Side::Credit, schema::EntityKind::Employer, 0, 1, 99)};
      const auto bytes = builder.Finish(
          {.idempotency_key = "u"}, schema::Event::BankReceiptRecorded, payload.Union(), postings);
      const Status status = batch.AddRecord(bytes);
      CHECK(status.code() == StatusCode::kInvalidArgument);
      CHECK(status.message().find("do not balance") != std::string::npos);
    }
    SUBCASE("a zero amount") {
      RecordBuilder builder;
      auto& fbb = builder.fbb();
      const auto payload = schema::CreateBankReceiptRecordedDirect(fbb, 1, "ICBC", "x", 0);
      const schema::Posting postings[] = {
          schema::Posting(101, schema::Side::Debit, schema::EntityKind::Bank, 0, 1, 0),
          schema::Posting(219, schema::Side::Credit, schema::EntityKind::Employer, 0, 1, 0)};
      const auto bytes =
          builder.Finish({}, schema::Event::BankReceiptRecorded, payload.Union(), postings);
      CHECK(batch.AddRecord(bytes).code() == StatusCode::kInvalidArgument);
    }
    SUBCASE("bytes that are not a record") {
      std::vector<uint8_t> junk(64, 0xab);
      CHECK(batch.AddRecord(junk).code() == StatusCode::kCorruption);
    }
    SUBCASE("regression: a postings vector 4 bytes off its alignment (found by record_fuzz)") {
      const char* root = std::getenv("HPF_SOURCE_DIR");  // CTest sets it
      if (root == nullptr) root = HPF_SOURCE_DIR_FALLBACK;
      std::ifstream in(
          std::string(root) + "/tests/fuzz/regressions/record_fuzz/misaligned_postings_vector",
          std::ios::binary);
      REQUIRE(in.good());
      std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::vector<uint64_t> aligned((raw.size() + 7) / 8);
      std::memcpy(aligned.data(), raw.data(), raw.size());
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(aligned.data()),
                                           raw.size());
      auto verified = VerifyRecord(bytes);
      REQUIRE(!verified.has_value());
      CHECK(verified.error().message().find("not 8-byte aligned") != std::string::npos);
      CHECK(batch.AddRecord(bytes).code() == StatusCode::kCorruption);
    }
    SUBCASE("a record that already has a position") {
      auto bytes = MakeReceipt({.key = "p"});
      PatchLink(bytes, GlobalPosition{7}, 1, Digest{});
      CHECK(batch.AddRecord(bytes).code() == StatusCode::kInvalidArgument);
    }
    CHECK(batch.record_count() == 0);
    CHECK(batch.record_bytes_total() == 0);
  }
  TEST_CASE("EventLog: follower meta is durable, apart from the log, and refused read-only") {
    TempDir dir;
    {
      auto log = OpenLog(dir.path());
      AppendOne(*log, {.key = "a"});
      auto missing = log->GetFollowerMeta("kafka/t/cursor");
      REQUIRE(missing.has_value());
      CHECK(!missing->has_value());
      REQUIRE(log->PutFollowerMeta("kafka/t/cursor", "1").ok());
      // A follower's key cannot reach the log's own meta keys: it lives under its prefix.
      REQUIRE(log->PutFollowerMeta("format_version", "garbage").ok());
    }
    auto log = OpenLog(dir.path());
    auto cursor = log->GetFollowerMeta("kafka/t/cursor");
    REQUIRE(cursor.has_value());
    CHECK(cursor->value_or("") == "1");
    CHECK(log->format_version() == kStoreFormatVersion);
    auto report = VerifyLog(*log, {});
    REQUIRE(report.has_value());
    CHECK(report->ok());
    REQUIRE(log->Close().ok());
    auto reader = EventLog::OpenReadOnly(dir.path());
    REQUIRE(reader.has_value());
    CHECK((*reader)->GetFollowerMeta("kafka/t/cursor")->value_or("") == "1");
    CHECK((*reader)->PutFollowerMeta("kafka/t/cursor", "2").code() ==
          StatusCode::kFailedPrecondition);
  }
  TEST_CASE("EventLog: a batch whose keys are promised new is not searched, only recorded") {
    TempDir dir;
    auto log = OpenLog(dir.path());
    AppendOne(*log, {.key = "kept"});
    AppendBatch promised;
    REQUIRE(promised.AddRecord(MakeReceipt({.key = "fresh"})).ok());
    promised.PromiseKeysAreNew();
    auto first = log->Append(std::move(promised));
    REQUIRE(first.has_value());
    CHECK(first->commands[0].outcome == CommandOutcome::kAppended);
    // The key was recorded: an ordinary batch finds it.
    AppendBatch again;
    REQUIRE(again.AddRecord(MakeReceipt({.key = "fresh"})).ok());
    auto duplicate = log->Append(std::move(again));
    REQUIRE(duplicate.has_value());
    CHECK(duplicate->commands[0].outcome == CommandOutcome::kDuplicate);
    CHECK(duplicate->commands[0].position == first->commands[0].position);
    // The contract's other side: a broken promise is not caught, and the key's first
    // position stays the one FindKey answers.
    AppendBatch broken;
    REQUIRE(broken.AddRecord(MakeReceipt({.key = "kept"})).ok());
    broken.PromiseKeysAreNew();
    auto twice = log->Append(std::move(broken));
    REQUIRE(twice.has_value());
    CHECK(twice->commands[0].outcome == CommandOutcome::kAppended);
    CHECK(log->FindKey("kept").value()->position.value == 1);
  }
  TEST_CASE("EventLog: FindKeys answers like FindKey for each key, in order") {
    TempDir dir;
    auto log = OpenLog(dir.path());
    for (int i = 0; i < 5; ++i) AppendOne(*log, {.key = fmt::format("fk{}", i)});
    const std::vector<std::string_view> keys = {"fk3", "", "nope", "fk0", "fk3"};
    auto hits = log->FindKeys(keys);
    REQUIRE(hits.has_value());
    REQUIRE(hits->size() == keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      CAPTURE(keys[i]);
      auto one = log->FindKey(keys[i]);
      REQUIRE(one.has_value());
      CHECK((*hits)[i].has_value() == one->has_value());
      if (one->has_value()) CHECK((*hits)[i]->position == (*one)->position);
    }
    CHECK((*hits)[0]->position.value == 4);
    CHECK((*hits)[3]->position.value == 1);
    CHECK(!(*hits)[2].has_value());
  }
}

}  // namespace
}  // namespace hpf::events
