// events/event_log.cc — group commit, idempotency and storage of the event log.
//
// Threads: callers of Append() (prechecks against the persistent key index, then queue), the
// writer thread (idempotency, positions, links, hashes: builds one WriteBatch per group), the
// committer thread (writes each group in order, without syncing), the syncer thread (one WAL
// sync for every group written so far, then publishes the head and answers the callers) and
// the indexer thread (folds committed keys into the persistent index when the
// log is quiet or the key window fills).
#include "events/event_log.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <set>
#include <thread>
#include <unordered_map>

#include <fmt/core.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include "events/internal/chunk_codec.h"
#include "events/internal/key_window.h"
#include "events/internal/state_delta.h"
#include "events/internal/store_layout.h"
#include "events/limits.h"
#include "events/record.h"

namespace hpf::events {

using internal::KeyFingerprint;
using internal::PositionKey;

namespace {

Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  const std::string message = fmt::format("{}: {}", what, status.ToString());
  if (status.IsCorruption()) return CorruptionError(message);
  if (status.IsNotFound()) return NotFoundError(message);
  if (status.IsInvalidArgument()) return InvalidArgumentError(message);
  return IoError(message);
}

std::string EncodeU64(uint64_t value) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &value, 8);
  return out;
}

uint64_t DecodeU64(std::string_view bytes) {
  uint64_t value = 0;
  std::memcpy(&value, bytes.data(), std::min<size_t>(8, bytes.size()));
  return value;
}

std::string FingerprintKey(uint64_t fingerprint) {
  return PositionKey(GlobalPosition{fingerprint});  // the same big-endian encoding
}

// Unions sorted lists of big-endian positions: re-indexing after a crash merges the same
// position again, which must stay one entry.
class PositionListMerge final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    std::vector<std::string_view> items;
    auto add = [&items](const rocksdb::Slice& s) {
      for (size_t i = 0; i + 8 <= s.size(); i += 8) items.emplace_back(s.data() + i, 8);
    };
    if (existing != nullptr) add(*existing);
    add(value);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    new_value->clear();
    for (auto item : items) new_value->append(item);
    return true;
  }
  const char* Name() const override { return "hpf.PositionListMerge.v1"; }
};

rocksdb::ColumnFamilyOptions LogFamilyOptions() {
  rocksdb::ColumnFamilyOptions options;
  // Chunks are ~300 KiB values written in key order: large memtables mean few flushes, and
  // level compaction of non-overlapping sequential files is a trivial move. Records are
  // already compact FlatBuffers and every byte is hashed; compression would cost the one
  // spare core for little.
  options.write_buffer_size = 128 << 20;
  options.max_write_buffer_number = 4;
  options.compression = rocksdb::kNoCompression;
  options.target_file_size_base = 128 << 20;
  return options;
}

rocksdb::ColumnFamilyOptions IdempotencyFamilyOptions() {
  rocksdb::ColumnFamilyOptions options;
  // Almost every lookup is for a new key: a memtable bloom filter answers those without a
  // skiplist walk, as the table filters do for the files.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  options.merge_operator = std::make_shared<PositionListMerge>();
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.compression = rocksdb::kLZ4Compression;
  return options;
}

rocksdb::ColumnFamilyOptions OptionsForFamily(std::string_view name) {
  if (name == internal::kLogFamily) return LogFamilyOptions();
  if (name == internal::kIdempotencyFamily) return IdempotencyFamilyOptions();
  // Deltas are large values written in key order and soon deleted, like chunks.
  if (name == internal::kStateDeltaFamily) return LogFamilyOptions();
  return rocksdb::ColumnFamilyOptions();
}

// Copies a RocksDB value into 8-byte-aligned memory (RocksDB blocks carry no alignment
// promise; FlatBuffers wants one).
struct AlignedValue {
  std::vector<uint64_t> words;
  size_t size = 0;
  void Assign(std::string_view value) {
    words.resize((value.size() + 7) / 8);
    if (!value.empty()) std::memcpy(words.data(), value.data(), value.size());
    size = value.size();
  }
  std::string_view view() const { return {reinterpret_cast<const char*>(words.data()), size}; }
};

}  // namespace

struct EventLog::Impl {
  struct Group;  // one group commit in the pipeline, defined with the writer below
  // --- fixed at open ---
  EventLogOptions options;
  bool read_only = false;
  uint32_t format_version = kStoreFormatVersion;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* meta_cf = nullptr;
  rocksdb::ColumnFamilyHandle* log_cf = nullptr;
  rocksdb::ColumnFamilyHandle* state_cf = nullptr;
  rocksdb::ColumnFamilyHandle* idem_cf = nullptr;
  rocksdb::ColumnFamilyHandle* delta_cf = nullptr;  // null only in a v1 store opened read-only
  const Clock* clock = nullptr;
  size_t window_max = kIdempotencyWindowKeysMax;

  // --- submission queue ---
  struct Request {
    AppendBatch batch;
    uint64_t precheck_floor = 0;                    // indexed_through when the precheck began
    std::multiset<uint64_t>::iterator floor_entry;  // in floors, until the writer takes it
    std::vector<std::vector<uint64_t>> index_hits;  // per command: positions from the index
    std::promise<Result<AppendResult>> done;
  };
  std::mutex queue_mutex;
  std::condition_variable queue_cv;        // writer waits for requests
  std::condition_variable queue_space_cv;  // submitters wait for room
  std::deque<Request*> queue;
  bool stopping = false;
  std::thread writer;

  // --- writer -> committer pipeline ---
  static constexpr size_t kPipelineGroupsMax = 2;  // encoded groups waiting for their write
  std::mutex commit_mutex;
  std::condition_variable commit_cv;
  std::condition_variable commit_space_cv;
  std::deque<Group*> to_commit;
  bool commit_stopping = false;
  std::thread committer;

  // --- committer -> syncer pipeline ---
  std::mutex sync_mutex;
  std::condition_variable sync_cv;
  std::condition_variable sync_space_cv;
  std::deque<Group*> to_sync;  // written, waiting for the WAL sync
  bool sync_stopping = false;
  std::thread syncer;

  // Floors of prechecks in flight: the window keeps every key above the lowest (see Append).
  std::mutex floors_mutex;
  std::multiset<uint64_t> floors;

  // --- committed head ---
  mutable std::mutex head_mutex;
  mutable std::condition_variable head_cv;
  HeadDigest head;
  Status failed;  // set once by the writer when a write fails; appends are refused after

  // --- writer-owned (window also read by FindKey under window_mutex) ---
  HeadDigest prepared;  // the head after the last group handed to the committer
  uint64_t next_delta_sequence = 1;
  Status delta_refused;  // set once a batch with a state delta was refused (see DecideOutcomes)
  std::deque<std::unique_ptr<Group>> inflight;  // handed over, not yet reclaimed
  std::unique_ptr<ChainHasher> hasher;
  mutable std::mutex window_mutex;
  internal::KeyWindow window;

  // --- indexer ---
  std::thread indexer;
  std::mutex indexer_mutex;
  std::condition_variable indexer_cv;
  bool indexer_urgent = false;
  bool indexer_stopping = false;
  std::atomic<uint64_t> indexed_through{0};
  std::atomic<int64_t> last_append_us{0};
  Status indexer_failed;

  // --- state deltas (internal/state_delta.h) ---
  std::mutex fold_mutex;                           // one fold at a time
  std::atomic<uint64_t> delta_durable_through{0};  // sequence of the last synced delta
  std::atomic<uint64_t> delta_folded_through{0};
  std::atomic<uint64_t> delta_backlog_bytes{0};

  // --- statistics (written by the writer, read by anyone) ---
  std::atomic<uint64_t> stat_groups{0};
  std::atomic<uint64_t> stat_state_folds{0};
  std::atomic<uint64_t> stat_state_fold_micros{0};
  std::atomic<uint64_t> stat_batches{0};
  std::atomic<uint64_t> stat_records{0};
  std::atomic<uint64_t> stat_decide_micros{0};
  std::atomic<uint64_t> stat_encode_micros{0};
  std::atomic<uint64_t> stat_write_micros{0};
  std::atomic<uint64_t> stat_sync_micros{0};

  ~Impl() {
    for (auto* handle : handles) {
      if (db != nullptr) db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
  }

  // ------------------------------------------------------------------ opening
  Status OpenDb(const std::string& dir, bool create) {
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = create;
    db_options.create_missing_column_families = create;
    db_options.max_background_jobs = 2;
    db_options.bytes_per_sync = 1 << 20;
    db_options.max_total_wal_size = 512 << 20;
    // Flushes and compactions write with direct I/O: they stay out of the page cache, whose
    // writeback the WAL needs (measured on our VMs: sustained buffered writes ~0.4 GB/s,
    // direct writes ~1.4 GB/s; bench/RESULTS.md).
    db_options.use_direct_io_for_flush_and_compaction = true;
    std::vector<std::string> names;
    if (std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) {
      HPF_RETURN_IF_ERROR(FromRocks(rocksdb::DB::ListColumnFamilies(db_options, dir, &names),
                                    "listing column families"));
    }
    for (std::string_view wanted : {internal::kLogFamily, internal::kStateFamily,
                                    internal::kIdempotencyFamily, internal::kStateDeltaFamily}) {
      // Without `create`, a missing family stays missing: the caller checks the header first
      // (a newer format may lay out families differently), then reports what is missing.
      if (create && std::find(names.begin(), names.end(), wanted) == names.end()) {
        names.emplace_back(wanted);
      }
    }
    if (std::find(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName) == names.end()) {
      names.insert(names.begin(), rocksdb::kDefaultColumnFamilyName);
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& name : names) families.emplace_back(name, OptionsForFamily(name));
    rocksdb::DB* raw = nullptr;
    rocksdb::Status status =
        read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir, families, &handles, &raw)
                  : rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
    HPF_RETURN_IF_ERROR(FromRocks(status, fmt::format("opening the store in {}", dir)));
    db.reset(raw);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == rocksdb::kDefaultColumnFamilyName) meta_cf = handles[i];
      if (names[i] == internal::kLogFamily) log_cf = handles[i];
      if (names[i] == internal::kStateFamily) state_cf = handles[i];
      if (names[i] == internal::kIdempotencyFamily) idem_cf = handles[i];
      if (names[i] == internal::kStateDeltaFamily) delta_cf = handles[i];
    }
    return Status::Ok();
  }

  // A store is new until its header is written: a creation killed after RocksDB made its
  // files but before the synced header is finished here, not refused forever (crash test).
  Status ReadOrWriteHeader(OpenMode mode) {
    std::string value;
    rocksdb::Status status =
        db->Get(rocksdb::ReadOptions(), meta_cf, internal::kMetaFormatVersion, &value);
    if (status.IsNotFound()) {
      if (log_cf != nullptr) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), log_cf));
        it->SeekToFirst();
        HPF_RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
        if (it->Valid()) {
          return CorruptionError("the store holds records but no header (format version)");
        }
      }
      if (mode == OpenMode::kOpenExisting || read_only) {
        return NotFoundError("no hpf-ledger store here (no format version in the header)");
      }
      rocksdb::WriteBatch batch;
      HPF_RETURN_IF_ERROR(
          FromRocks(batch.Put(meta_cf, internal::kMetaFormatVersion,
                              std::string_view(EncodeU64(kStoreFormatVersion)).substr(0, 4)),
                    "header"));
      HPF_RETURN_IF_ERROR(FromRocks(batch.Put(meta_cf, internal::kMetaHashAlgorithm,
                                              HashAlgorithmName(options.hash_algorithm)),
                                    "header"));
      rocksdb::WriteOptions write_options;
      write_options.sync = true;
      HPF_RETURN_IF_ERROR(FromRocks(db->Write(write_options, &batch), "writing the header"));
      format_version = kStoreFormatVersion;
      algorithm = options.hash_algorithm;
      return Status::Ok();
    }
    if (mode == OpenMode::kCreateNew) {
      return AlreadyExistsError(fmt::format("a store already exists in {}", options.data_dir));
    }
    HPF_RETURN_IF_ERROR(FromRocks(status, "reading the header"));
    if (value.size() != 4) return CorruptionError("the store's format version is not 4 bytes");
    format_version = static_cast<uint32_t>(DecodeU64(value));
    if (format_version > kStoreFormatVersion) {
      return UnimplementedError(fmt::format(
          "the store has format version {}, newer than this build supports ({}); open it with "
          "a newer hpf-ledger",
          format_version, kStoreFormatVersion));
    }
    if (format_version == 0) return CorruptionError("the store's format version is 0");
    HPF_RETURN_IF_ERROR(
        FromRocks(db->Get(rocksdb::ReadOptions(), meta_cf, internal::kMetaHashAlgorithm, &value),
                  "reading the hash algorithm"));
    HPF_ASSIGN_OR_RETURN(algorithm, ParseHashAlgorithm(value));
    return Status::Ok();
  }

  // A v1 store (no delta family) opened for writing becomes v2: the family is added, then the
  // header says so — synced, so that an older build refuses a store whose state it would
  // read incompletely.
  Status UpgradeFormat() {
    if (format_version >= kStoreFormatVersion) return Status::Ok();
    if (delta_cf == nullptr) {
      rocksdb::ColumnFamilyHandle* handle = nullptr;
      HPF_RETURN_IF_ERROR(
          FromRocks(db->CreateColumnFamily(OptionsForFamily(internal::kStateDeltaFamily),
                                           std::string(internal::kStateDeltaFamily), &handle),
                    "adding the state delta family"));
      handles.push_back(handle);
      delta_cf = handle;
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    HPF_RETURN_IF_ERROR(
        FromRocks(db->Put(write_options, meta_cf, internal::kMetaFormatVersion,
                          std::string_view(EncodeU64(kStoreFormatVersion)).substr(0, 4)),
                  "upgrading the header"));
    format_version = kStoreFormatVersion;
    return Status::Ok();
  }

  Status LoadHead() {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), log_cf));
    it->SeekToLast();
    HPF_RETURN_IF_ERROR(FromRocks(it->status(), "seeking the log's last chunk"));
    if (!it->Valid()) {
      head = HeadDigest{};
      return Status::Ok();
    }
    AlignedValue chunk;
    chunk.Assign(it->value().ToStringView());
    HPF_ASSIGN_OR_RETURN(const GlobalPosition first,
                         internal::PositionFromKey(it->key().ToStringView()));
    Status visit_status;
    HPF_RETURN_IF_ERROR(internal::ForEachChunkEntry(
        chunk.view(), [&](uint32_t index, const internal::ChunkEntry& entry) {
          head.position = GlobalPosition{first.value + index};
          std::memcpy(head.hash.data(), entry.hash.data(), head.hash.size());
          return true;
        }));
    return Status::Ok();
  }

  Status LoadIndexState() {
    std::string value;
    rocksdb::Status status =
        db->Get(rocksdb::ReadOptions(), meta_cf, internal::kMetaIndexedThrough, &value);
    if (!status.IsNotFound()) {
      HPF_RETURN_IF_ERROR(FromRocks(status, "reading the index watermark"));
      if (value.size() != 8) return CorruptionError("the key index watermark is not 8 bytes");
      indexed_through.store(DecodeU64(value));
    }
    if (indexed_through.load() > head.position.value) {
      return CorruptionError(fmt::format("the key index covers position {} past the head {}",
                                         indexed_through.load(), head.position.value));
    }
    // Keys committed after the watermark (a crash before the indexer caught up) go back into
    // the window. Bounded by the window size: the indexer never falls further behind.
    const GlobalPosition from{indexed_through.load() + 1};
    if (from <= head.position) {
      Status status_in_scan;
      HPF_RETURN_IF_ERROR(ScanRange(from, head.position, [&](const RecordRef& ref) {
        auto record = VerifyRecord(ref.record);
        if (!record.has_value()) {
          status_in_scan = record.error();
          return false;
        }
        const auto* envelope = (*record)->envelope();
        const std::string_view key = RecordIdempotencyKey(**record);
        if (envelope->command_part() == 0 && !key.empty()) {
          window.Insert(KeyFingerprint(key), ref.position.value);
        }
        return true;
      }));
      HPF_RETURN_IF_ERROR(status_in_scan);
    }
    return Status::Ok();
  }

  // ------------------------------------------------------------------ reading
  Status ScanRange(GlobalPosition from, GlobalPosition to, const RecordVisitor& visit) const {
    if (from.value == 0) from = GlobalPosition{1};
    if (from > to) return Status::Ok();
    rocksdb::ReadOptions read_options;
    read_options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, log_cf));
    it->SeekForPrev(PositionKey(from));
    if (!it->Valid()) it->SeekToFirst();
    AlignedValue chunk;
    for (; it->Valid(); it->Next()) {
      HPF_ASSIGN_OR_RETURN(const GlobalPosition first,
                           internal::PositionFromKey(it->key().ToStringView()));
      if (first > to) break;
      chunk.Assign(it->value().ToStringView());
      bool keep_going = true;
      HPF_RETURN_IF_ERROR(internal::ForEachChunkEntry(
          chunk.view(), [&](uint32_t index, const internal::ChunkEntry& entry) {
            const GlobalPosition position{first.value + index};
            if (position < from) return true;
            if (position > to) {
              keep_going = false;
              return false;
            }
            keep_going = visit(RecordRef{position, entry.hash, entry.record});
            return keep_going;
          }));
      if (!keep_going) return Status::Ok();
    }
    return FromRocks(it->status(), "reading the log");
  }

  struct KeyAndHash {
    std::string key;
    Digest command_hash{};
  };

  // The key and command hash of the committed record at `position`.
  Result<KeyAndHash> CommittedKeyAt(GlobalPosition position) const {
    std::optional<KeyAndHash> found;
    Status inner;
    HPF_RETURN_IF_ERROR(ScanRange(position, position, [&](const RecordRef& ref) {
      auto record = VerifyRecord(ref.record);
      if (!record.has_value()) {
        inner = record.error();
        return false;
      }
      found = KeyAndHash{std::string(RecordIdempotencyKey(**record)), RecordCommandHash(**record)};
      return false;
    }));
    HPF_RETURN_IF_ERROR(inner);
    if (!found) return NotFoundError(fmt::format("no record at position {}", position.value));
    return *std::move(found);
  }

  // Positions the persistent index lists for each key (usually none).
  Result<std::vector<std::vector<uint64_t>>> LookupIndex(
      const std::vector<uint64_t>& fingerprints) const {
    std::vector<std::vector<uint64_t>> hits(fingerprints.size());
    if (fingerprints.empty()) return hits;
    std::vector<std::string> keys;
    keys.reserve(fingerprints.size());
    for (uint64_t fp : fingerprints) keys.push_back(FingerprintKey(fp));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db->MultiGet(rocksdb::ReadOptions(), idem_cf, slices.size(), slices.data(), values.data(),
                 statuses.data());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;
      HPF_RETURN_IF_ERROR(FromRocks(statuses[i], "reading the key index"));
      const std::string_view list = values[i].ToStringView();
      for (size_t at = 0; at + 8 <= list.size(); at += 8) {
        HPF_ASSIGN_OR_RETURN(const GlobalPosition p, internal::PositionFromKey(list.substr(at, 8)));
        hits[i].push_back(p.value);
      }
    }
    return hits;
  }

  // ------------------------------------------------------------------ appending
  static std::future<Result<AppendResult>> Ready(Status status) {
    std::promise<Result<AppendResult>> promise;
    promise.set_value(std::move(status));
    return promise.get_future();
  }

  std::future<Result<AppendResult>> AppendAsync(AppendBatch batch) {
    if (read_only) return Ready(FailedPreconditionError("the store is open read-only"));
    if (batch.command_count() == 0) {
      return Ready(InvalidArgumentError("an append needs a command"));
    }
    auto request = std::make_unique<Request>();
    // Register the precheck's floor before reading the index: the writer keeps every window
    // entry above it, so a key the index did not yet hold is still in the window when the
    // writer looks (no gap between the two sources).
    {
      std::lock_guard lock(floors_mutex);
      request->precheck_floor = indexed_through.load();
      request->floor_entry = floors.insert(request->precheck_floor);
    }
    if (request->precheck_floor > 0 && !batch.keys_promised_new()) {
      std::vector<uint64_t> fingerprints(batch.command_count());
      for (size_t c = 0; c < batch.command_count(); ++c) {
        const schema::Record* record =
            schema::GetRecord(batch.record(batch.command_first_record(c)).data());
        const std::string_view key = RecordIdempotencyKey(*record);
        fingerprints[c] = key.empty() ? 0 : KeyFingerprint(key);
      }
      auto hits = LookupIndex(fingerprints);
      if (!hits.has_value()) {
        std::lock_guard lock(floors_mutex);
        floors.erase(request->floor_entry);
        return Ready(std::move(hits).error());
      }
      request->index_hits = std::move(hits).value();
    }
    request->batch = std::move(batch);
    auto future = request->done.get_future();
    {
      std::unique_lock lock(queue_mutex);
      queue_space_cv.wait(lock, [&] { return stopping || queue.size() < kQueuedBatchesMax; });
      if (stopping) {
        std::lock_guard floor_lock(floors_mutex);
        floors.erase(request->floor_entry);
        return Ready(UnavailableError("the log is closing"));
      }
      queue.push_back(request.release());
    }
    queue_cv.notify_one();
    return future;
  }

  struct PendingRecord {
    std::span<const uint8_t> bytes;  // in a request's batch (unpatched)
  };

  // Everything one group writes. The writer builds it and hands it to the committer, and
  // keeps it (to answer key lookups for its positions) until the committer marks it done.
  struct Group {
    ~Group() {
      for (Request* request : requests) delete request;
    }
    std::atomic<bool> done{false};  // set by the committer after completing every request
    std::vector<Request*> requests;
    std::vector<std::vector<CommandResult>> results;  // per request
    std::vector<Status> request_errors;               // per request (ok = write it)
    std::vector<PendingRecord> records;               // accepted, in position order
    uint64_t first_position = 0;
    rocksdb::WriteBatch batch;
    HeadDigest new_head;
    Status encode_error;  // the group could not be encoded: fail its requests
    Status write_status;  // set by the committer
    bool floors_released = false;
    uint64_t delta_sequence = 0;  // of its state delta; 0 = none
    size_t delta_bytes = 0;
  };

  // Decides each command's outcome and assigns positions. A refused batch is rolled back
  // (its window entries are the newest, its records the last pending ones); window inserts
  // of the whole group are undone by ForgetAfter if the group's write fails.
  void DecideOutcomes(Group& group) {
    uint64_t next = prepared.position.value + 1;
    group.first_position = next;
    group.results.resize(group.requests.size());
    group.request_errors.resize(group.requests.size());
    std::lock_guard window_lock(window_mutex);
    for (size_t r = 0; r < group.requests.size(); ++r) {
      Request& request = *group.requests[r];
      const AppendBatch& batch = request.batch;
      std::vector<CommandResult>& results = group.results[r];
      if (batch.has_state_delta() && !delta_refused.ok()) {
        group.request_errors[r] = delta_refused;
        continue;
      }
      results.resize(batch.command_count());
      const uint64_t request_first = next;
      const size_t records_before = group.records.size();
      for (size_t c = 0; c < batch.command_count(); ++c) {
        const std::string_view key = RecordIdempotencyKey(
            *schema::GetRecord(batch.record(batch.command_first_record(c)).data()));
        if (!key.empty()) window.Prefetch(KeyFingerprint(key));
      }
      bool refuse = false;
      Status failure;
      for (size_t c = 0; c < batch.command_count(); ++c) {
        const size_t first_record = batch.command_first_record(c);
        const schema::Record* record = schema::GetRecord(batch.record(first_record).data());
        const std::string_view key = RecordIdempotencyKey(*record);
        if (!key.empty()) {
          const uint64_t fp = KeyFingerprint(key);
          if (!batch.keys_promised_new()) {
            auto earlier = FindEarlier(group, request, c, key, fp, RecordCommandHash(*record));
            if (!earlier.has_value()) {
              failure = earlier.error();
              break;
            }
            if (earlier->has_value()) {
              results[c] = **earlier;
              refuse = refuse || batch.has_state_delta();
              continue;
            }
          }
          window.Insert(fp, next);
        }
        results[c] = {CommandOutcome::kAppended, GlobalPosition{next}};
        for (size_t i = 0; i < batch.command_record_count(c); ++i) {
          group.records.push_back(PendingRecord{batch.record(first_record + i)});
        }
        next += batch.command_record_count(c);
      }
      if (!failure.ok() || refuse) {
        window.ForgetAfter(request_first - 1);
        group.records.resize(records_before);
        next = request_first;
        group.request_errors[r] =
            !failure.ok() ? failure
                          : FailedPreconditionError(
                                "the batch carries a state delta but holds a command already in "
                                "the log; decide it again against the current state");
        results.clear();
        if (batch.has_state_delta()) {
          // The producer's write model now holds changes the log does not: any later delta
          // was computed on top of them. Refuse every later batch with a delta (and make
          // the failure visible to Append) until the store is reopened.
          delta_refused = FailedPreconditionError(fmt::format(
              "a batch with a state delta was refused ({}); the write model no longer matches "
              "the log: reopen the store",
              group.request_errors[r].message()));
          std::lock_guard lock(head_mutex);
          if (failed.ok()) failed = delta_refused;
        }
      }
    }
  }

  Result<KeyAndHash> KeyAt(const Group& group, uint64_t position) const {
    auto from_pending = [](const Group& holder, uint64_t p) {
      const auto& pending = holder.records[p - holder.first_position];
      const schema::Record* record = schema::GetRecord(pending.bytes.data());
      return KeyAndHash{std::string(RecordIdempotencyKey(*record)), RecordCommandHash(*record)};
    };
    if (position >= group.first_position) return from_pending(group, position);
    for (const auto& earlier : inflight) {
      if (position >= earlier->first_position &&
          position < earlier->first_position + earlier->records.size()) {
        return from_pending(*earlier, position);
      }
    }
    return CommittedKeyAt(GlobalPosition{position});
  }

  // Finds an earlier command with this key among the index hits and the window (committed,
  // or pending earlier in this group or batch). Keys are compared in full, so a fingerprint
  // collision is never taken for a duplicate.
  Result<std::optional<CommandResult>> FindEarlier(const Group& group, const Request& request,
                                                   size_t command, std::string_view key,
                                                   uint64_t fp, const Digest& hash) const {
    std::optional<CommandResult> found;
    Status status;
    auto consider = [&](uint64_t position) {
      if (found || !status.ok()) return;
      auto earlier = KeyAt(group, position);
      if (!earlier.has_value()) {
        status = earlier.error();
      } else if (earlier->key == key) {
        found = CommandResult{
            earlier->command_hash == hash ? CommandOutcome::kDuplicate : CommandOutcome::kConflict,
            GlobalPosition{position}};
      }
    };
    if (!request.index_hits.empty()) {
      for (uint64_t position : request.index_hits[command]) consider(position);
    }
    window.ForEach(fp, consider);
    HPF_RETURN_IF_ERROR(status);
    return found;
  }

  // Copies accepted records into chunks, fills their links, extends the chain and adds
  // chunks and state deltas to the group's WriteBatch.
  Status EncodeGroup(Group& group) {
    const int64_t now_us = clock->NowMicros();
    Digest prev = prepared.hash;
    uint64_t position = group.first_position;
    for (size_t start = 0; start < group.records.size(); start += kChunkRecordsMax) {
      const size_t end = std::min(group.records.size(), start + kChunkRecordsMax);
      size_t capacity = internal::kChunkHeaderBytes;
      for (size_t i = start; i < end; ++i) {
        capacity += internal::ChunkEntryBytes(group.records[i].bytes.size());
      }
      std::string chunk;
      internal::ChunkWriter chunk_writer(&chunk, capacity);
      const uint64_t chunk_first = position;
      for (size_t i = start; i < end; ++i, ++position) {
        uint8_t* hash_slot = nullptr;
        std::span<uint8_t> stored = chunk_writer.AddRecord(group.records[i].bytes, &hash_slot);
        PatchLink(stored, GlobalPosition{position}, now_us, prev);
        prev = hasher->Link(prev, stored);
        std::memcpy(hash_slot, prev.data(), prev.size());
      }
      chunk_writer.Finish();
      HPF_RETURN_IF_ERROR(FromRocks(
          group.batch.Put(log_cf, PositionKey(GlobalPosition{chunk_first}), chunk), "batch"));
    }
    // Every batch's state delta, in order, as ONE value (internal/state_delta.h).
    std::string delta;
    for (size_t r = 0; r < group.requests.size(); ++r) {
      if (group.request_errors[r].ok()) {
        internal::AppendStateOps(group.requests[r]->batch.state_ops(), delta);
      }
    }
    if (!delta.empty()) {
      group.delta_sequence = next_delta_sequence++;
      group.delta_bytes = delta.size();
      HPF_RETURN_IF_ERROR(
          FromRocks(group.batch.Put(delta_cf, internal::StateDeltaKey(group.delta_sequence), delta),
                    "batch"));
    }
    group.new_head =
        group.records.empty() ? prepared : HeadDigest{GlobalPosition{position - 1}, prev};
    return Status::Ok();
  }

  void Complete(Group& group, const Status& write_status) {
    for (size_t r = 0; r < group.requests.size(); ++r) {
      Request* request = group.requests[r];
      if (!write_status.ok()) {
        request->done.set_value(write_status);
      } else if (!group.request_errors[r].ok()) {
        request->done.set_value(group.request_errors[r]);
      } else {
        request->done.set_value(AppendResult{std::move(group.results[r]), group.new_head});
      }
    }
    group.done.store(true, std::memory_order_release);
  }

  // Oldest position the window must keep: nothing the index lacks, nothing a precheck in
  // flight may have missed.
  uint64_t EvictionBound() {
    uint64_t bound = indexed_through.load();
    std::lock_guard lock(floors_mutex);
    if (!floors.empty()) bound = std::min(bound, *floors.begin());
    return bound;
  }

  // Back-pressure: waits while the window is full and the indexer can still make room. The
  // window may exceed its target by the groups in flight, whose keys cannot be evicted
  // before they are committed and indexed, and by what the current group's prechecks pin.
  void WaitForWindowRoom() {
    while (true) {
      {
        std::lock_guard lock(window_mutex);
        window.EvictThrough(EvictionBound());
        if (window.size() < window_max) return;
      }
      if (indexed_through.load() >= head_position_unlocked()) return;  // nothing more to fold
      {
        std::lock_guard lock(indexer_mutex);
        if (!indexer_failed.ok()) return;  // appends go on; the window may exceed its target
        indexer_urgent = true;
      }
      indexer_cv.notify_one();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  static uint64_t MicrosBetween(std::chrono::steady_clock::time_point from,
                                std::chrono::steady_clock::time_point to) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
  }

  // Drops the group's precheck floors. Only after DecideOutcomes: until the writer has looked
  // in the window for these batches' keys, eviction must not pass their prechecks' view of
  // the index (found in review: releasing them earlier let a key fall between the two).
  void ReleaseFloors(Group& group) {
    if (group.floors_released) return;
    std::lock_guard lock(floors_mutex);
    for (Request* request : group.requests) floors.erase(request->floor_entry);
    group.floors_released = true;
  }

  // Frees in-flight groups the committer has finished with, oldest first.
  void ReclaimCommittedGroups() {
    while (!inflight.empty() && inflight.front()->done.load(std::memory_order_acquire)) {
      inflight.pop_front();
    }
  }

  void WriterLoop() {
    // Runs until Close(): each turn takes every queued batch (up to the group limit), decides
    // and encodes them as one group, and hands it to the committer. While the committer
    // writes, the next group is prepared and batches keep arriving, so groups grow under load
    // and the WAL sync is shared by more records.
    while (true) {
      auto group = std::make_unique<Group>();
      {
        std::unique_lock lock(queue_mutex);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) break;  // stopping and drained
        size_t records = 0;
        while (!queue.empty() &&
               (group->requests.empty() ||
                records + queue.front()->batch.record_count() <= kGroupRecordsMax)) {
          records += queue.front()->batch.record_count();
          group->requests.push_back(queue.front());
          queue.pop_front();
        }
      }
      queue_space_cv.notify_all();
      ReclaimCommittedGroups();
      Status status;
      {
        std::lock_guard lock(head_mutex);
        status = failed;
      }
      if (status.ok()) {
        const auto t0 = std::chrono::steady_clock::now();
        WaitForWindowRoom();
        DecideOutcomes(*group);
        const auto t1 = std::chrono::steady_clock::now();
        ReleaseFloors(*group);
        status = EncodeGroup(*group);
        const auto t2 = std::chrono::steady_clock::now();
        stat_decide_micros.fetch_add(MicrosBetween(t0, t1), std::memory_order_relaxed);
        stat_encode_micros.fetch_add(MicrosBetween(t1, t2), std::memory_order_relaxed);
      }
      ReleaseFloors(*group);  // no-op when already released above
      if (!status.ok()) {
        // Nothing of this group was handed on: fail it here, in order after earlier groups
        // (the committer completes those; a failure here means the log already failed).
        group->encode_error = status;
      } else {
        prepared = group->new_head;
      }
      {
        std::unique_lock lock(commit_mutex);
        commit_space_cv.wait(lock, [&] { return to_commit.size() < kPipelineGroupsMax; });
        to_commit.push_back(group.get());
      }
      commit_cv.notify_one();
      inflight.push_back(std::move(group));
    }
    {
      std::lock_guard lock(commit_mutex);
      commit_stopping = true;
    }
    commit_cv.notify_one();
  }

  void CommitterLoop() {
    // Runs until the writer has stopped and every handed-over group is written. Groups are
    // written strictly in order, WITHOUT waiting for the disk: the syncer makes them durable
    // while the next group is written (the copy into the WAL and the disk's write-back then
    // overlap). Nothing written here is visible to readers before the syncer moves the head.
    while (true) {
      Group* group = nullptr;
      {
        std::unique_lock lock(commit_mutex);
        commit_cv.wait(lock, [&] { return commit_stopping || !to_commit.empty(); });
        if (to_commit.empty()) break;
        group = to_commit.front();
      }
      Status status;
      {
        std::lock_guard lock(head_mutex);
        status = failed;
      }
      if (status.ok()) status = group->encode_error;
      if (status.ok() && group->batch.Count() > 0) {
        const auto t0 = std::chrono::steady_clock::now();
        status = FromRocks(db->Write(rocksdb::WriteOptions(), &group->batch), "writing a group");
        stat_write_micros.fetch_add(MicrosBetween(t0, std::chrono::steady_clock::now()),
                                    std::memory_order_relaxed);
      }
      group->write_status = status;
      {
        std::unique_lock lock(sync_mutex);
        sync_space_cv.wait(lock, [&] { return to_sync.size() < kPipelineGroupsMax; });
        to_sync.push_back(group);
      }
      sync_cv.notify_one();
      {
        std::lock_guard lock(commit_mutex);
        to_commit.pop_front();
      }
      commit_space_cv.notify_one();
    }
    {
      std::lock_guard lock(sync_mutex);
      sync_stopping = true;
    }
    sync_cv.notify_one();
  }

  void SyncerLoop() {
    // Runs until the committer has stopped and every written group is finished. Each turn
    // syncs the WAL once for every group written so far (group commit of the syncs), then, in
    // order, publishes each group's head and answers its callers. After any failure every
    // later group fails: it was written on top of a log that is no longer trustworthy.
    Status pipeline_failure;
    while (true) {
      std::vector<Group*> groups;
      {
        std::unique_lock lock(sync_mutex);
        sync_cv.wait(lock, [&] { return sync_stopping || !to_sync.empty(); });
        if (to_sync.empty()) return;
        groups.assign(to_sync.begin(), to_sync.end());
      }
      size_t written_ok = 0;
      while (written_ok < groups.size() && groups[written_ok]->write_status.ok()) ++written_ok;
      Status sync_status;
      if (pipeline_failure.ok() && written_ok > 0 && options.durability == Durability::kSync) {
        const auto t0 = std::chrono::steady_clock::now();
        sync_status = FromRocks(db->SyncWAL(), "syncing the write-ahead log");
        stat_sync_micros.fetch_add(MicrosBetween(t0, std::chrono::steady_clock::now()),
                                   std::memory_order_relaxed);
      }
      for (size_t i = 0; i < groups.size(); ++i) {
        Group* group = groups[i];
        Status status = pipeline_failure;
        if (status.ok()) status = i < written_ok ? sync_status : group->write_status;
        if (!status.ok() && pipeline_failure.ok()) pipeline_failure = status;
        Finish(*group, status);
      }
      {
        std::lock_guard lock(sync_mutex);
        to_sync.erase(to_sync.begin(), to_sync.begin() + static_cast<long>(groups.size()));
      }
      sync_space_cv.notify_one();
    }
  }

  // Publishes a group's outcome: moves the head (or fails the log) and answers its callers.
  void Finish(Group& group, const Status& status) {
    stat_groups.fetch_add(1, std::memory_order_relaxed);
    stat_batches.fetch_add(group.requests.size(), std::memory_order_relaxed);
    stat_records.fetch_add(group.records.size(), std::memory_order_relaxed);
    {
      std::lock_guard lock(head_mutex);
      if (status.ok()) {
        head = group.new_head;
        if (group.delta_sequence != 0) {
          delta_durable_through.store(group.delta_sequence);
          delta_backlog_bytes.fetch_add(group.delta_bytes);
        }
      } else if (failed.ok()) {
        failed = IoError(fmt::format(
            "the log stopped accepting appends after a failed write ({}); reopen the store",
            status.ToString()));
      }
    }
    if (!status.ok()) {
      // Keys of groups that were not made durable must not be found later.
      std::lock_guard lock(window_mutex);
      window.ForgetAfter(head_position_unlocked());
    }
    head_cv.notify_all();
    last_append_us.store(clock->NowMicros());
    Complete(group, status);
  }

  uint64_t head_position_unlocked() {
    std::lock_guard lock(head_mutex);
    return head.position.value;
  }

  // ------------------------------------------------------------------ indexing
  // Folds committed keys from indexed_through+1 into the persistent index, at most
  // kIndexerBatchKeysMax records per WriteBatch. Unsynced: a crash loses only index entries,
  // and the watermark written with them says where to start again.
  Status IndexThrough(GlobalPosition target) {
    while (indexed_through.load() < target.value) {
      const GlobalPosition from{indexed_through.load() + 1};
      const GlobalPosition to{std::min(target.value, from.value + kIndexerBatchKeysMax - 1)};
      rocksdb::WriteBatch batch;
      Status inner;
      HPF_RETURN_IF_ERROR(ScanRange(from, to, [&](const RecordRef& ref) {
        auto record = VerifyRecord(ref.record);
        if (!record.has_value()) {
          inner = record.error();
          return false;
        }
        const std::string_view key = RecordIdempotencyKey(**record);
        if ((*record)->envelope()->command_part() == 0 && !key.empty()) {
          inner = FromRocks(
              batch.Merge(idem_cf, FingerprintKey(KeyFingerprint(key)), PositionKey(ref.position)),
              "index batch");
        }
        return inner.ok();
      }));
      HPF_RETURN_IF_ERROR(inner);
      HPF_RETURN_IF_ERROR(FromRocks(
          batch.Put(meta_cf, internal::kMetaIndexedThrough, EncodeU64(to.value)), "index batch"));
      HPF_RETURN_IF_ERROR(FromRocks(db->Write(rocksdb::WriteOptions(), &batch), "indexing keys"));
      indexed_through.store(to.value);
    }
    return Status::Ok();
  }

  // ------------------------------------------------------------------ state deltas
  // Folds the stored deltas with sequence <= `through` into the state family, oldest first,
  // in WriteBatches of at most kStateFoldBytesMax of deltas, until `bytes_max` are folded:
  // each key is written once with its latest value, and the folded deltas are deleted and
  // the watermark moved in the same batch. Unsynced, like the index: a crash loses a fold
  // whole, and its deltas are still there to fold again.
  Status FoldStateDeltas(uint64_t through, size_t bytes_max) {
    std::lock_guard lock(fold_mutex);
    size_t folded_bytes = 0;
    while (delta_folded_through.load() < through && folded_bytes < bytes_max) {
      const auto start = std::chrono::steady_clock::now();
      std::unordered_map<std::string, std::optional<std::string>> latest;
      uint64_t first = 0;
      uint64_t last = 0;
      size_t bytes = 0;
      {
        rocksdb::ReadOptions read_options;
        read_options.fill_cache = false;
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, delta_cf));
        for (it->Seek(internal::StateDeltaKey(delta_folded_through.load() + 1));
             it->Valid() && bytes < kStateFoldBytesMax; it->Next()) {
          HPF_ASSIGN_OR_RETURN(const uint64_t sequence,
                               internal::StateDeltaSequence(it->key().ToStringView()));
          if (sequence > through) break;
          if (first == 0) first = sequence;
          last = sequence;
          bytes += it->value().size();
          HPF_RETURN_IF_ERROR(internal::ForEachStateOp(
              it->value().ToStringView(),
              [&](std::string_view key, std::optional<std::string_view> value) {
                latest[std::string(key)] =
                    value ? std::optional<std::string>(*value) : std::optional<std::string>();
              }));
        }
        HPF_RETURN_IF_ERROR(FromRocks(it->status(), "reading state deltas"));
      }
      if (first == 0) {
        // Sequences without a stored delta (a group whose write failed) are skipped.
        delta_folded_through.store(through);
        break;
      }
      rocksdb::WriteBatch batch;
      for (const auto& [key, value] : latest) {
        HPF_RETURN_IF_ERROR(FromRocks(
            value ? batch.Put(state_cf, key, *value) : batch.Delete(state_cf, key), "fold"));
      }
      HPF_RETURN_IF_ERROR(FromRocks(batch.DeleteRange(delta_cf, internal::StateDeltaKey(first),
                                                      internal::StateDeltaKey(last + 1)),
                                    "fold"));
      HPF_RETURN_IF_ERROR(FromRocks(
          batch.Put(meta_cf, internal::kMetaStateFoldedThrough, EncodeU64(last)), "fold"));
      HPF_RETURN_IF_ERROR(FromRocks(db->Write(rocksdb::WriteOptions(), &batch), "folding state"));
      delta_folded_through.store(last);
      const uint64_t backlog = delta_backlog_bytes.load();
      delta_backlog_bytes.store(backlog - std::min<uint64_t>(backlog, bytes));
      folded_bytes += bytes;
      stat_state_folds.fetch_add(1, std::memory_order_relaxed);
      stat_state_fold_micros.fetch_add(MicrosBetween(start, std::chrono::steady_clock::now()),
                                       std::memory_order_relaxed);
    }
    return Status::Ok();
  }

  // At open: where the delta sequence stands. Every stored delta belongs to a group whose
  // records are stored too (one WriteBatch), so all of them count as durable.
  Status LoadDeltaState() {
    if (delta_cf == nullptr) return Status::Ok();
    std::string value;
    const rocksdb::Status status =
        db->Get(rocksdb::ReadOptions(), meta_cf, internal::kMetaStateFoldedThrough, &value);
    if (!status.IsNotFound()) {
      HPF_RETURN_IF_ERROR(FromRocks(status, "reading the state fold watermark"));
      if (value.size() != 8) return CorruptionError("the state fold watermark is not 8 bytes");
      delta_folded_through.store(DecodeU64(value));
    }
    uint64_t last = delta_folded_through.load();
    uint64_t bytes = 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), delta_cf));
    for (it->Seek(internal::StateDeltaKey(last + 1)); it->Valid(); it->Next()) {
      HPF_ASSIGN_OR_RETURN(last, internal::StateDeltaSequence(it->key().ToStringView()));
      bytes += it->value().size();
    }
    HPF_RETURN_IF_ERROR(FromRocks(it->status(), "reading state deltas"));
    delta_durable_through.store(last);
    delta_backlog_bytes.store(bytes);
    next_delta_sequence = last + 1;
    return Status::Ok();
  }

  // The stored state under `prefix` (a key, for exact = true) as of one snapshot: the state
  // family with every unfolded delta applied on top, in order.
  Status ReadState(std::string_view prefix, bool exact,
                   const std::function<bool(std::string_view, std::string_view)>& visit) const {
    const rocksdb::Snapshot* snapshot = db->GetSnapshot();
    struct Release {
      const rocksdb::DB* db;
      const rocksdb::Snapshot* snapshot;
      ~Release() { const_cast<rocksdb::DB*>(db)->ReleaseSnapshot(snapshot); }
    } release{db.get(), snapshot};
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot;
    auto matches = [&](std::string_view key) {
      return exact ? key == prefix : key.starts_with(prefix);
    };
    // Deltas first: usually there are none (a writable open folds them all), and then the
    // state family is streamed without a copy.
    std::map<std::string, std::optional<std::string>, std::less<>> overlay;
    if (delta_cf != nullptr) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, delta_cf));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        HPF_RETURN_IF_ERROR(internal::ForEachStateOp(
            it->value().ToStringView(),
            [&](std::string_view key, std::optional<std::string_view> value) {
              if (!matches(key)) return;
              overlay[std::string(key)] =
                  value ? std::optional<std::string>(*value) : std::optional<std::string>();
            }));
      }
      HPF_RETURN_IF_ERROR(FromRocks(it->status(), "reading state deltas"));
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, state_cf));
    auto pending = overlay.begin();
    // Visits overlay entries that sort before `bound` (all of them when bound is null).
    auto flush_overlay = [&](const std::string_view* bound) {
      for (; pending != overlay.end() && (bound == nullptr || pending->first < *bound); ++pending) {
        if (pending->second && !visit(pending->first, *pending->second)) return false;
      }
      return true;
    };
    for (it->Seek(prefix); it->Valid() && matches(it->key().ToStringView()); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      if (!flush_overlay(&key)) return Status::Ok();
      if (pending != overlay.end() && pending->first == key) {
        const bool keep_going = !pending->second || visit(key, *pending->second);
        ++pending;
        if (!keep_going) return Status::Ok();
        continue;
      }
      if (!visit(key, it->value().ToStringView())) return Status::Ok();
      if (exact) break;
    }
    HPF_RETURN_IF_ERROR(FromRocks(it->status(), "reading state"));
    flush_overlay(nullptr);
    return Status::Ok();
  }

  void IndexerLoop() {
    // Runs until Close(). Indexes when the log has been quiet for a while, when the window is
    // half full, or when the writer waits for room — never competing with a burst. While
    // merely idle it works one bounded batch at a time, so a burst that starts finds at most
    // one batch in its way.
    constexpr auto kCheckEvery = std::chrono::milliseconds(50);
    constexpr int64_t kQuietMicros = 500'000;
    while (true) {
      bool urgent = false;
      {
        std::unique_lock lock(indexer_mutex);
        indexer_cv.wait_for(lock, kCheckEvery, [&] { return indexer_stopping || indexer_urgent; });
        if (indexer_stopping) return;
        urgent = indexer_urgent;
        indexer_urgent = false;
      }
      const GlobalPosition head_position = [&] {
        std::lock_guard lock(head_mutex);
        return head.position;
      }();
      const uint64_t behind = head_position.value - indexed_through.load();
      const bool quiet = clock->NowMicros() - last_append_us.load() >= kQuietMicros;
      Status status;
      if (behind > 0 && (urgent || quiet || behind >= window_max / 2)) {
        const GlobalPosition target =
            urgent || behind >= window_max / 2
                ? head_position
                : GlobalPosition{
                      std::min(head_position.value, indexed_through.load() + kIndexerBatchKeysMax)};
        status = IndexThrough(target);
      }
      // State deltas the same way: all of them once the backlog is full, one bounded fold at
      // a time while the log is quiet.
      const uint64_t durable = delta_durable_through.load();
      if (status.ok() && durable > delta_folded_through.load()) {
        if (delta_backlog_bytes.load() >= kStateDeltaBacklogBytesMax) {
          status = FoldStateDeltas(durable, /*bytes_max=*/SIZE_MAX);
        } else if (quiet) {
          status = FoldStateDeltas(durable, kStateFoldBytesMax);
        }
      }
      if (!status.ok()) {
        std::lock_guard lock(indexer_mutex);
        indexer_failed = status;
        return;
      }
    }
  }

  Status Stop() {
    if (read_only || db == nullptr) return Status::Ok();
    {
      std::lock_guard lock(queue_mutex);
      if (stopping) return Status::Ok();
      stopping = true;
    }
    queue_cv.notify_all();
    queue_space_cv.notify_all();
    if (writer.joinable()) writer.join();        // hands its last groups to the committer
    if (committer.joinable()) committer.join();  // hands its last groups to the syncer
    if (syncer.joinable()) syncer.join();
    inflight.clear();
    {
      std::lock_guard lock(indexer_mutex);
      indexer_stopping = true;
    }
    indexer_cv.notify_all();
    if (indexer.joinable()) indexer.join();
    Status status;
    {
      std::lock_guard lock(indexer_mutex);
      status = indexer_failed;
    }
    // Fold the rest of the window into the index so the next open loads nothing.
    if (status.ok()) status = IndexThrough(head.position);
    if (status.ok()) status = FoldStateDeltas(delta_durable_through.load(), SIZE_MAX);
    if (status.ok()) {
      status = FromRocks(db->FlushWAL(/*sync=*/true), "syncing the write-ahead log");
    }
    return status;
  }
};

EventLog::EventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventLog::~EventLog() { Close().IgnoreError(); }  // Errors were the caller's to see in Close().

Result<std::unique_ptr<EventLog>> EventLog::Open(const EventLogOptions& options) {
  if (options.data_dir.empty()) return InvalidArgumentError("the data directory is empty");
  const bool exists = std::filesystem::exists(std::filesystem::path(options.data_dir) / "CURRENT");
  if (options.mode == OpenMode::kOpenExisting && !exists) {
    return NotFoundError(fmt::format("no store in {}", options.data_dir));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Default();
  impl->window_max =
      options.key_window_max != 0 ? options.key_window_max : kIdempotencyWindowKeysMax;
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return IoError(fmt::format("creating {}: {}", options.data_dir, ec.message()));
  HPF_RETURN_IF_ERROR(impl->OpenDb(options.data_dir,
                                   /*create=*/options.mode != OpenMode::kOpenExisting));
  HPF_RETURN_IF_ERROR(impl->ReadOrWriteHeader(options.mode));
  if (impl->log_cf == nullptr || impl->state_cf == nullptr || impl->idem_cf == nullptr) {
    // Only with kOpenExisting: a creation killed before its column families existed.
    return NotFoundError(fmt::format(
        "no complete hpf-ledger store in {} (its creation was interrupted); open it in a mode "
        "that may create a store",
        options.data_dir));
  }
  HPF_ASSIGN_OR_RETURN(impl->hasher, ChainHasher::Create(impl->algorithm));
  HPF_RETURN_IF_ERROR(impl->LoadHead());
  impl->prepared = impl->head;
  HPF_RETURN_IF_ERROR(impl->LoadIndexState());
  HPF_RETURN_IF_ERROR(impl->UpgradeFormat());
  HPF_RETURN_IF_ERROR(impl->LoadDeltaState());
  // Deltas a crash left unfolded (bounded by kStateDeltaBacklogBytesMax), so that the
  // caller's state loads from per-entity keys alone.
  HPF_RETURN_IF_ERROR(impl->FoldStateDeltas(impl->delta_durable_through.load(), SIZE_MAX));
  impl->last_append_us.store(impl->clock->NowMicros());
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] {
    pthread_setname_np(pthread_self(), "hpf-log-writer");
    raw->WriterLoop();
  });
  impl->committer = std::thread([raw] {
    pthread_setname_np(pthread_self(), "hpf-log-commit");
    raw->CommitterLoop();
  });
  impl->syncer = std::thread([raw] {
    pthread_setname_np(pthread_self(), "hpf-log-sync");
    raw->SyncerLoop();
  });
  impl->indexer = std::thread([raw] {
    pthread_setname_np(pthread_self(), "hpf-log-indexer");
    raw->IndexerLoop();
  });
  return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));
}

Result<std::unique_ptr<EventLog>> EventLog::OpenReadOnly(std::string_view data_dir) {
  const std::string dir(data_dir);
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) {
    return NotFoundError(fmt::format("no store in {}", dir));
  }
  auto impl = std::make_unique<Impl>();
  impl->read_only = true;
  impl->options.data_dir = dir;
  impl->clock = &SystemClock::Default();
  HPF_RETURN_IF_ERROR(impl->OpenDb(dir, /*create=*/false));
  if (impl->log_cf == nullptr || impl->state_cf == nullptr || impl->idem_cf == nullptr) {
    // Checked after the header so that a newer format is reported as such.
    HPF_RETURN_IF_ERROR(impl->ReadOrWriteHeader(OpenMode::kOpenExisting));
    return NotFoundError(
        fmt::format("no complete hpf-ledger store in {} (its creation was interrupted)", dir));
  }
  HPF_RETURN_IF_ERROR(impl->ReadOrWriteHeader(OpenMode::kOpenExisting));
  HPF_ASSIGN_OR_RETURN(impl->hasher, ChainHasher::Create(impl->algorithm));
  HPF_RETURN_IF_ERROR(impl->LoadHead());
  std::string value;
  if (impl->db->Get(rocksdb::ReadOptions(), impl->meta_cf, internal::kMetaIndexedThrough, &value)
          .ok()) {
    impl->indexed_through.store(DecodeU64(value));
  }
  return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));
}

Result<AppendResult> EventLog::Append(AppendBatch batch) {
  return impl_->AppendAsync(std::move(batch)).get();
}

std::future<Result<AppendResult>> EventLog::AppendAsync(AppendBatch batch) {
  return impl_->AppendAsync(std::move(batch));
}

HeadDigest EventLog::head() const {
  std::lock_guard lock(impl_->head_mutex);
  return impl_->head;
}

GlobalPosition EventLog::WaitForPosition(GlobalPosition position,
                                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->head_mutex);
  impl_->head_cv.wait_for(lock, timeout, [&] { return impl_->head.position >= position; });
  return impl_->head.position;
}

Status EventLog::Scan(GlobalPosition from, GlobalPosition to, const RecordVisitor& visit) const {
  return impl_->ScanRange(from, std::min(to, head().position), visit);
}

Status EventLog::ScanChunks(
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->log_cf));
  AlignedValue chunk;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    chunk.Assign(it->value().ToStringView());
    if (!visit(it->key().ToStringView(), chunk.view())) break;
  }
  return FromRocks(it->status(), "reading the log");
}

Result<std::optional<EventLog::KeyHit>> EventLog::FindKey(std::string_view key) const {
  HPF_ASSIGN_OR_RETURN(auto hits, FindKeys(std::span<const std::string_view>(&key, 1)));
  return hits[0];
}

Result<std::vector<std::optional<EventLog::KeyHit>>> EventLog::FindKeys(
    std::span<const std::string_view> keys) const {
  std::vector<std::optional<KeyHit>> found(keys.size());
  std::vector<uint64_t> fingerprints(keys.size(), 0);
  std::vector<std::vector<uint64_t>> candidates(keys.size());
  const uint64_t head_position = head().position.value;
  {
    // The window before the index: an entry leaves the window only once the index has it.
    std::lock_guard lock(impl_->window_mutex);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].empty()) continue;
      fingerprints[i] = KeyFingerprint(keys[i]);
      impl_->window.ForEach(fingerprints[i], [&](uint64_t p) { candidates[i].push_back(p); });
    }
  }
  HPF_ASSIGN_OR_RETURN(auto index_hits, impl_->LookupIndex(fingerprints));
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) continue;
    candidates[i].insert(candidates[i].end(), index_hits[i].begin(), index_hits[i].end());
    std::sort(candidates[i].begin(), candidates[i].end());
    for (uint64_t position : candidates[i]) {
      if (position > head_position) continue;  // not committed yet
      HPF_ASSIGN_OR_RETURN(const auto hit, impl_->CommittedKeyAt(GlobalPosition{position}));
      if (hit.key == keys[i]) {
        found[i] = KeyHit{GlobalPosition{position}, hit.command_hash};
        break;
      }
    }
  }
  return found;
}

Result<std::optional<std::string>> EventLog::GetState(std::string_view key) const {
  std::optional<std::string> found;
  HPF_RETURN_IF_ERROR(
      impl_->ReadState(key, /*exact=*/true, [&](std::string_view, std::string_view value) {
        found = std::string(value);
        return false;
      }));
  return found;
}

Status EventLog::ScanState(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return impl_->ReadState(prefix, /*exact=*/false, visit);
}

Status EventLog::PutFollowerMeta(std::string_view key, std::string_view value) {
  if (impl_->read_only) return FailedPreconditionError("the log is open read-only");
  rocksdb::WriteOptions options;
  options.sync = true;
  const std::string full = fmt::format("{}{}", internal::kMetaFollowerPrefix, key);
  return FromRocks(impl_->db->Put(options, impl_->meta_cf, full, value), "writing follower meta");
}

Result<std::optional<std::string>> EventLog::GetFollowerMeta(std::string_view key) const {
  const std::string full = fmt::format("{}{}", internal::kMetaFollowerPrefix, key);
  std::string value;
  const rocksdb::Status status =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->meta_cf, full, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  HPF_RETURN_IF_ERROR(FromRocks(status, "reading follower meta"));
  return std::optional(std::move(value));
}

EventLogStats EventLog::stats() const {
  return EventLogStats{.groups = impl_->stat_groups.load(),
                       .batches = impl_->stat_batches.load(),
                       .records = impl_->stat_records.load(),
                       .decide_micros = impl_->stat_decide_micros.load(),
                       .encode_micros = impl_->stat_encode_micros.load(),
                       .write_micros = impl_->stat_write_micros.load(),
                       .sync_micros = impl_->stat_sync_micros.load(),
                       .state_folds = impl_->stat_state_folds.load(),
                       .state_fold_micros = impl_->stat_state_fold_micros.load(),
                       .state_delta_backlog_bytes = impl_->delta_backlog_bytes.load()};
}

HashAlgorithm EventLog::hash_algorithm() const { return impl_->algorithm; }
uint32_t EventLog::format_version() const { return impl_->format_version; }
GlobalPosition EventLog::indexed_through() const {
  return GlobalPosition{impl_->indexed_through.load()};
}

Status EventLog::Close() {
  if (impl_ == nullptr) return Status::Ok();
  return impl_->Stop();
}

}  // namespace hpf::events
