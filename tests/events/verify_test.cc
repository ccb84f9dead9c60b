// tests/events/verify_test.cc — verification finds and locates every kind of damage.
#include "events/verify.h"

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <rocksdb/db.h>

#include "events/internal/chunk_codec.h"
#include "tests/support/records.h"

namespace hpf::events {
namespace {

using testing::MakeReceipt;
using testing::TempDir;

// Appends `count` records in batches of `per_batch` (so several chunks and groups exist).
HeadDigest Fill(const std::string& dir, int count, int per_batch) {
  auto log = EventLog::Open({.data_dir = dir, .durability = Durability::kNoSync});
  HPF_ASSERT(log.has_value());
  HeadDigest head;
  for (int i = 0; i < count; i += per_batch) {
    AppendBatch batch;
    for (int j = i; j < std::min(count, i + per_batch); ++j) {
      HPF_ASSERT(
          batch.AddRecord(MakeReceipt({.key = fmt::format("v{}", j), .amount_fen = 1000 + j}))
              .ok());
    }
    auto result = (*log)->Append(std::move(batch));
    HPF_ASSERT(result.has_value());
    head = result->head;
  }
  return head;
}

// Opens the store with plain RocksDB and lets `edit` change the log family.
void EditLog(const std::string& dir,
             const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& edit) {
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                           {"log", {}},
                                                           {"state", {}},
                                                           {"idem", {}},
                                                           {"delta", {}}};
  rocksdb::DBOptions options;
  HPF_ASSERT(rocksdb::DB::Open(options, dir, families, &handles, &raw).ok());
  edit(raw, handles[1]);
  for (auto* handle : handles) HPF_ASSERT(raw->DestroyColumnFamilyHandle(handle).ok());
  delete raw;
}

// The chunk key holding `position`, and the byte offset of that record's entry in it.
struct Located {
  std::string key;
  std::string value;
  size_t entry_offset;
  size_t record_size;
};

Located Locate(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, uint64_t position) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, cf));
  it->SeekForPrev(internal::PositionKey(GlobalPosition{position}));
  HPF_ASSERT(it->Valid());
  Located located{it->key().ToString(), it->value().ToString(), 0, 0};
  const uint64_t first = internal::PositionFromKey(located.key).value().value;
  size_t offset = internal::kChunkHeaderBytes;
  HPF_ASSERT(internal::ForEachChunkEntry(located.value, [&](uint32_t index,
                                                            const internal::ChunkEntry& entry) {
               if (first + index == position) {
                 located.entry_offset = offset;
                 located.record_size = entry.record.size();
                 return false;
               }
               offset += internal::ChunkEntryBytes(entry.record.size());
               return true;
             }).ok());
  HPF_ASSERT(located.record_size > 0);
  return located;
}

VerifyReport Verify(const std::string& dir, VerifyOptions options = {}) {
  auto log = EventLog::OpenReadOnly(dir);
  HPF_ASSERT(log.has_value());
  auto report = VerifyLog(**log, options);
  HPF_ASSERT(report.has_value());
  return *report;
}

TEST_SUITE("events") {
  TEST_CASE("VerifyLog: an untouched log verifies and reports its head") {
    TempDir dir;
    const HeadDigest head = Fill(dir.path(), 3000, 700);
    const VerifyReport report = Verify(dir.path(), {.expected = head});
    CHECK(report.ok());
    CHECK(report.records_checked == 3000);
    CHECK(report.head == head);
  }

  TEST_CASE("VerifyLog: one changed byte of one stored record is reported at its position") {
    for (const uint64_t victim : {uint64_t{1}, uint64_t{1024}, uint64_t{1777}, uint64_t{3000}}) {
      // Which byte: early in the record (FlatBuffers header), the middle (payload), the last.
      for (const int where : {0, 1, 2}) {
        CAPTURE(victim);
        CAPTURE(where);
        TempDir dir;
        Fill(dir.path(), 3000, 700);
        EditLog(dir.path(), [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
          Located located = Locate(db, cf, victim);
          const size_t record_at = located.entry_offset + internal::kChunkEntryHeaderBytes;
          const size_t byte = where == 0   ? 9
                              : where == 1 ? located.record_size / 2
                                           : located.record_size - 1;
          located.value[record_at + byte] =
              static_cast<char>(located.value[record_at + byte] ^ 0x01);
          HPF_ASSERT(db->Put({}, cf, located.key, located.value).ok());
        });
        const VerifyReport report = Verify(dir.path());
        CHECK(!report.ok());
        CHECK(report.position.value == victim);
        CHECK(report.head.position.value == victim - 1);
      }
    }
  }

  TEST_CASE("VerifyLog: a changed stored hash is reported at its record") {
    TempDir dir;
    Fill(dir.path(), 100, 100);
    EditLog(dir.path(), [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
      Located located = Locate(db, cf, 40);
      located.value[located.entry_offset + 8] ^= 0x40;  // first byte of the hash
      HPF_ASSERT(db->Put({}, cf, located.key, located.value).ok());
    });
    const VerifyReport report = Verify(dir.path());
    CHECK(report.problem == VerifyProblem::kHashMismatch);
    CHECK(report.position.value == 40);
  }

  TEST_CASE("VerifyLog: a removed chunk is a gap at its first position") {
    TempDir dir;
    Fill(dir.path(), 3000, 1000);  // chunks start at 1, 1001, 2001 (1000 < 1024 per chunk)
    EditLog(dir.path(), [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
      HPF_ASSERT(db->Delete({}, cf, internal::PositionKey(GlobalPosition{1001})).ok());
    });
    const VerifyReport report = Verify(dir.path());
    CHECK(report.problem == VerifyProblem::kGap);
    CHECK(report.position.value == 1001);
  }

  TEST_CASE("VerifyLog: a history rewritten consistently is caught by the auditor's digest") {
    TempDir dir;
    const HeadDigest head = Fill(dir.path(), 50, 50);
    TempDir other;
    Fill(other.path(), 50, 25);  // same content, different commit times: a different chain
    VerifyReport report = Verify(other.path(), {.expected = head});
    CHECK(report.problem == VerifyProblem::kDigestMismatch);
    CHECK(report.position.value == 50);
    // A digest beyond the end: the log was truncated.
    report = Verify(dir.path(), {.expected = HeadDigest{GlobalPosition{51}, head.hash}});
    CHECK(report.problem == VerifyProblem::kShorterThanDigest);
    CHECK(report.position.value == 51);
  }
}

}  // namespace
}  // namespace hpf::events
