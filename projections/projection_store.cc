// projections/projection_store.cc
#include "projections/projection_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/core.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "events/assert.h"
#include "projections/limits.h"

namespace hpf::projections {

namespace {

constexpr std::string_view kFormatKey = "!format";
constexpr char kMetaTag = 'm';
constexpr char kScopeTag = 's';
constexpr char kCheckpointTag = 'c';
constexpr char kDataTag = 'd';
constexpr size_t kCheckpointValueBytes = 24;
constexpr size_t kMetaHeaderBytes = 8;

Status FromRocksDb(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  std::string message = fmt::format("{}: {}", what, status.ToString());
  if (status.IsCorruption()) return CorruptionError(std::move(message));
  if (status.IsIOError()) return IoError(std::move(message));
  if (status.IsNotFound()) return NotFoundError(std::move(message));
  if (status.IsInvalidArgument()) return InvalidArgumentError(std::move(message));
  return InternalError(std::move(message));
}

void PutBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}
void PutBigEndian64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}
uint32_t GetBigEndian32(const char* p) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}
uint64_t GetBigEndian64(const char* p) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}

// "p/<name>/" — every key of the projection starts with it; names hold no '/', so no prefix
// of one name is another's.
std::string NamePrefix(std::string_view name) {
  std::string prefix;
  prefix.reserve(name.size() + 3);
  prefix.append("p/").append(name).push_back('/');
  return prefix;
}
std::string TagKey(std::string_view name, char tag) {
  std::string key = NamePrefix(name);
  key.push_back(tag);
  return key;
}
std::string CheckpointKey(std::string_view name, int32_t partition) {
  std::string key = TagKey(name, kCheckpointTag);
  PutBigEndian32(key, static_cast<uint32_t>(partition));
  return key;
}

// The smallest key greater than every key that starts with `prefix`; empty if there is none.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

std::string EncodeMeta(const ProjectionMeta& meta) {
  std::string value;
  PutBigEndian32(value, kProjectionStoreFormatVersion);
  PutBigEndian32(value, meta.version);
  value.append(meta.source_id);
  return value;
}

Result<ProjectionMeta> DecodeMeta(std::string_view name, std::string_view value) {
  if (value.size() < kMetaHeaderBytes) {
    return CorruptionError(fmt::format("projection {}: meta of {} bytes", name, value.size()));
  }
  const uint32_t format = GetBigEndian32(value.data());
  if (format > kProjectionStoreFormatVersion) {
    return UnimplementedError(
        fmt::format("projection {}: meta format {} is newer than this build's {}", name, format,
                    kProjectionStoreFormatVersion));
  }
  return ProjectionMeta{.version = GetBigEndian32(value.data() + 4),
                        .source_id = std::string(value.substr(kMetaHeaderBytes))};
}

std::string EncodeCheckpoint(const PartitionCheckpoint& entry) {
  std::string value;
  PutBigEndian64(value, entry.position.value);
  PutBigEndian64(value, static_cast<uint64_t>(entry.next_offset));
  PutBigEndian64(value, entry.offset_position.value);
  return value;
}

class StoreWriter final : public ProjectionWriter {
 public:
  StoreWriter(std::string_view name, rocksdb::WriteBatch* batch)
      : name_(name), prefix_(TagKey(name, kDataTag)), batch_(batch) {}

  void Put(std::string_view key, std::string_view value) override {
    HPF_ASSERT(key.size() <= kProjectionKeyBytesMax);
    HPF_ASSERT(value.size() <= kProjectionValueBytesMax);
    const rocksdb::Slice key_parts[] = {prefix_, rocksdb::Slice(key.data(), key.size())};
    const rocksdb::Slice value_part(value.data(), value.size());
    const rocksdb::Status put =
        batch_->Put(rocksdb::SliceParts(key_parts, 2), rocksdb::SliceParts(&value_part, 1));
    HPF_ASSERT(put.ok());
  }

  void Delete(std::string_view key) override {
    HPF_ASSERT(key.size() <= kProjectionKeyBytesMax);
    const rocksdb::Slice key_parts[] = {prefix_, rocksdb::Slice(key.data(), key.size())};
    const rocksdb::Status deleted = batch_->Delete(rocksdb::SliceParts(key_parts, 2));
    HPF_ASSERT(deleted.ok());
  }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string prefix_;
  rocksdb::WriteBatch* batch_;
};

Result<Checkpoint> ReadCheckpoint(rocksdb::DB& db, const rocksdb::Snapshot* snapshot,
                                  std::string_view name) {
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  Checkpoint checkpoint;
  std::string scope;
  const rocksdb::Status got = db.Get(read, TagKey(name, kScopeTag), &scope);
  if (!got.ok() && !got.IsNotFound()) return FromRocksDb(got, "reading a checkpoint");
  if (got.ok()) checkpoint.offsets_scope = std::move(scope);
  const std::string begin = TagKey(name, kCheckpointTag);
  const std::string end = PrefixEnd(begin);
  rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    const rocksdb::Slice value = it->value();
    if (key.size() != begin.size() + 4 || value.size() != kCheckpointValueBytes) {
      return CorruptionError(fmt::format("projection {}: a checkpoint entry of {}+{} bytes", name,
                                         key.size(), value.size()));
    }
    const uint32_t partition = GetBigEndian32(key.data() + begin.size());
    if (partition >= static_cast<uint32_t>(kPartitionsMax)) {
      return CorruptionError(
          fmt::format("projection {}: checkpoint of partition {}", name, partition));
    }
    checkpoint.partitions.push_back(
        {.partition = static_cast<int32_t>(partition),
         .position = events::GlobalPosition{GetBigEndian64(value.data())},
         .next_offset = static_cast<int64_t>(GetBigEndian64(value.data() + 8)),
         .offset_position = events::GlobalPosition{GetBigEndian64(value.data() + 16)}});
  }
  HPF_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading a checkpoint"));
  return checkpoint;
}

class StoreView final : public ReadView {
 public:
  StoreView(rocksdb::DB* db, const rocksdb::Snapshot* snapshot, std::string_view name,
            events::GlobalPosition position)
      : db_(db), snapshot_(snapshot), prefix_(TagKey(name, kDataTag)), position_(position) {}
  ~StoreView() override { db_->ReleaseSnapshot(snapshot_); }
  StoreView(const StoreView&) = delete;
  StoreView& operator=(const StoreView&) = delete;

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    rocksdb::ReadOptions read;
    read.snapshot = snapshot_;
    std::string full = prefix_;
    full.append(key);
    std::string value;
    const rocksdb::Status got = db_->Get(read, full, &value);
    if (got.IsNotFound()) return std::optional<std::string>();
    HPF_RETURN_IF_ERROR(FromRocksDb(got, "reading a projection key"));
    return std::optional<std::string>(std::move(value));
  }

  Status Scan(std::string_view prefix, std::string_view after,
              const std::function<bool(std::string_view, std::string_view)>& visit) const override {
    rocksdb::ReadOptions read;
    read.snapshot = snapshot_;
    std::string start = prefix_;
    start.append(prefix);
    std::string end = PrefixEnd(start);
    rocksdb::Slice upper(end);
    if (!end.empty()) read.iterate_upper_bound = &upper;
    std::string after_key;
    if (!after.empty()) {
      after_key = prefix_;
      after_key.append(after);
      if (after_key > start) start = after_key;
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
    for (it->Seek(start); it->Valid(); it->Next()) {
      const rocksdb::Slice key = it->key();
      if (!after_key.empty() && key.compare(after_key) <= 0) continue;
      const std::string_view own(key.data() + prefix_.size(), key.size() - prefix_.size());
      if (!visit(own, std::string_view(it->value().data(), it->value().size()))) break;
    }
    return FromRocksDb(it->status(), "scanning a projection");
  }

  events::GlobalPosition position() const override { return position_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
  std::string prefix_;
  events::GlobalPosition position_;
};

}  // namespace

events::GlobalPosition Checkpoint::AppliedThrough() const {
  if (partitions.empty()) return events::GlobalPosition{0};
  events::GlobalPosition lowest = partitions.front().position;
  for (const auto& entry : partitions) lowest = std::min(lowest, entry.position);
  return lowest;
}

const PartitionCheckpoint* Checkpoint::Find(int32_t partition) const {
  for (const auto& entry : partitions) {
    if (entry.partition == partition) return &entry;
  }
  return nullptr;
}

PartitionCheckpoint& Checkpoint::Upsert(int32_t partition) {
  auto it = std::lower_bound(
      partitions.begin(), partitions.end(), partition,
      [](const PartitionCheckpoint& entry, int32_t p) { return entry.partition < p; });
  if (it != partitions.end() && it->partition == partition) return *it;
  return *partitions.insert(it, PartitionCheckpoint{.partition = partition});
}

// ---------------------------------------------------------------------------------------------

struct ProjectionStore::Batch::Impl {
  rocksdb::WriteBatch batch;
  std::vector<std::unique_ptr<StoreWriter>> writers;
  std::vector<std::string> names;  // every projection the batch writes for, once each
  void Touch(std::string_view name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
  }
};

ProjectionStore::Batch::Batch() : impl_(std::make_unique<Impl>()) {}
ProjectionStore::Batch::~Batch() = default;

ProjectionWriter& ProjectionStore::Batch::Writer(std::string_view name) {
  for (auto& writer : impl_->writers) {
    if (writer->name() == name) return *writer;
  }
  HPF_ASSERT(CheckName(name).ok());
  impl_->Touch(name);
  impl_->writers.push_back(std::make_unique<StoreWriter>(name, &impl_->batch));
  return *impl_->writers.back();
}

void ProjectionStore::Batch::SetCheckpoint(std::string_view name, const Checkpoint& checkpoint) {
  HPF_ASSERT(CheckName(name).ok());
  impl_->Touch(name);
  HPF_ASSERT(impl_->batch.Put(TagKey(name, kScopeTag), checkpoint.offsets_scope).ok());
  for (const auto& entry : checkpoint.partitions) {
    HPF_ASSERT(entry.partition >= 0);
    HPF_ASSERT(entry.partition < kPartitionsMax);
    HPF_ASSERT(
        impl_->batch.Put(CheckpointKey(name, entry.partition), EncodeCheckpoint(entry)).ok());
  }
}

bool ProjectionStore::Batch::empty() const { return impl_->batch.Count() == 0; }
size_t ProjectionStore::Batch::bytes() const { return impl_->batch.GetDataSize(); }
void ProjectionStore::Batch::Clear() {
  impl_->batch.Clear();
  impl_->writers.clear();
  impl_->names.clear();
}

// ---------------------------------------------------------------------------------------------

struct ProjectionStore::Impl {
  std::string dir;
  StoreSync sync = StoreSync::kNoSync;
  std::unique_ptr<rocksdb::DB> db;
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> commit_bytes{0};
  std::atomic<uint64_t> commit_entries{0};
  std::atomic<uint64_t> commit_micros{0};
  // Unlogged commits completed (counted after the write) and how many of them a flush has made
  // durable: a flush covers every write completed before it starts.
  std::atomic<uint64_t> unlogged_commits{0};
  std::atomic<uint64_t> unlogged_flushed{0};
  std::atomic<uint64_t> unlogged_flushes{0};
  std::mutex flush_mutex;
  // Per projection, the count of unlogged commits when its last one completed.
  std::mutex unlogged_mutex;
  std::map<std::string, uint64_t, std::less<>> unlogged_by_name;
};

ProjectionStore::ProjectionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProjectionStore::~ProjectionStore() {
  if (impl_->db != nullptr) {
    // Nothing is lost by skipping this: every commit is in the WAL already.
    impl_->db->Close().PermitUncheckedError();
  }
}

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(
    const ProjectionStoreOptions& options) {
  if (options.dir.empty()) return InvalidArgumentError("projection store: no directory given");
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.max_background_jobs = 2;
  // A rebuild writes many keys fast: larger memtables mean fewer flushes and L0 files.
  db_options.write_buffer_size = 64u << 20;
  db_options.max_write_buffer_number = 4;
  // Flushes and the first compactions leave their output uncompressed: a rebuild writes
  // hundreds of MB through them, and compressing it costs the CPU the rebuild needs. Data
  // that settles deeper is compressed (LZ4 where the library has it).
  const auto supported = rocksdb::GetSupportedCompressions();
  const bool lz4 =
      std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
  db_options.compression_per_level.assign(
      7, lz4 ? rocksdb::kLZ4Compression : rocksdb::kSnappyCompression);
  db_options.compression_per_level[0] = rocksdb::kNoCompression;
  db_options.compression_per_level[1] = rocksdb::kNoCompression;
  rocksdb::DB* raw = nullptr;
  HPF_RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::Open(db_options, options.dir, &raw),
                                  fmt::format("opening the projection store {}", options.dir)));
  auto impl = std::make_unique<Impl>();
  impl->dir = options.dir;
  impl->sync = options.sync;
  impl->db.reset(raw);
  std::string format;
  const rocksdb::Status got = raw->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (got.IsNotFound()) {
    std::string value;
    PutBigEndian32(value, kProjectionStoreFormatVersion);
    rocksdb::WriteOptions write;
    write.sync = true;
    HPF_RETURN_IF_ERROR(FromRocksDb(raw->Put(write, kFormatKey, value), "writing the format"));
  } else {
    HPF_RETURN_IF_ERROR(FromRocksDb(got, "reading the store format"));
    if (format.size() != 4) {
      return CorruptionError(
          fmt::format("projection store {}: format value of {} bytes", options.dir, format.size()));
    }
    const uint32_t version = GetBigEndian32(format.data());
    if (version > kProjectionStoreFormatVersion) {
      return UnimplementedError(
          fmt::format("projection store {} has format {}; this build reads up to {}", options.dir,
                      version, kProjectionStoreFormatVersion));
    }
  }
  return std::unique_ptr<ProjectionStore>(new ProjectionStore(std::move(impl)));
}

Status ProjectionStore::CheckName(std::string_view name) {
  if (name.empty() || name.size() > kProjectionNameBytesMax) {
    return InvalidArgumentError(
        fmt::format("projection name '{}' must be 1..{} bytes", name, kProjectionNameBytesMax));
  }
  for (const char c : name) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!plain) {
      return InvalidArgumentError(
          fmt::format("projection name '{}' may hold only a-z, 0-9, '_', '-' and '.'", name));
    }
  }
  return Status::Ok();
}

Result<std::optional<ProjectionMeta>> ProjectionStore::GetMeta(std::string_view name) const {
  HPF_RETURN_IF_ERROR(CheckName(name));
  std::string value;
  const rocksdb::Status got =
      impl_->db->Get(rocksdb::ReadOptions(), TagKey(name, kMetaTag), &value);
  if (got.IsNotFound()) return std::optional<ProjectionMeta>();
  HPF_RETURN_IF_ERROR(FromRocksDb(got, "reading projection meta"));
  HPF_ASSIGN_OR_RETURN(ProjectionMeta meta, DecodeMeta(name, value));
  return std::optional<ProjectionMeta>(std::move(meta));
}

Result<Checkpoint> ProjectionStore::GetCheckpoint(std::string_view name) const {
  HPF_RETURN_IF_ERROR(CheckName(name));
  return ReadCheckpoint(*impl_->db, nullptr, name);
}

Result<std::vector<std::string>> ProjectionStore::ListProjections() const {
  std::vector<std::string> names;
  const std::string end = "p0";  // '/' + 1
  rocksdb::ReadOptions read;
  rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read));
  it->Seek("p/");
  while (it->Valid()) {
    const std::string_view key(it->key().data(), it->key().size());
    const size_t slash = key.find('/', 2);
    if (slash == std::string_view::npos || slash + 1 >= key.size()) {
      return CorruptionError(fmt::format("projection store: stray key of {} bytes", key.size()));
    }
    const std::string_view name = key.substr(2, slash - 2);
    if (key[slash + 1] == kMetaTag && slash + 2 == key.size()) names.emplace_back(name);
    // Next name: everything of this one sorts below "p/<name>0".
    std::string next = NamePrefix(name);
    next.back() = '0';
    if (key[slash + 1] < kMetaTag) {
      it->Seek(TagKey(name, kMetaTag));
    } else {
      it->Seek(next);
    }
  }
  HPF_RETURN_IF_ERROR(FromRocksDb(it->status(), "listing projections"));
  return names;
}

Status ProjectionStore::Reset(std::string_view name, const ProjectionMeta& meta) {
  HPF_RETURN_IF_ERROR(CheckName(name));
  const std::string begin = NamePrefix(name);
  rocksdb::WriteBatch batch;
  HPF_RETURN_IF_ERROR(FromRocksDb(batch.DeleteRange(begin, PrefixEnd(begin)), "reset"));
  HPF_RETURN_IF_ERROR(FromRocksDb(batch.Put(TagKey(name, kMetaTag), EncodeMeta(meta)), "reset"));
  rocksdb::WriteOptions write;
  write.sync = impl_->sync == StoreSync::kSync;
  return FromRocksDb(impl_->db->Write(write, &batch), fmt::format("resetting projection {}", name));
}

Result<std::unique_ptr<ReadView>> ProjectionStore::View(std::string_view name) const {
  HPF_RETURN_IF_ERROR(CheckName(name));
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  std::string meta;
  const rocksdb::Status got = impl_->db->Get(read, TagKey(name, kMetaTag), &meta);
  auto checkpoint = ReadCheckpoint(*impl_->db, snapshot, name);
  if (!got.ok() || !checkpoint.has_value()) {
    impl_->db->ReleaseSnapshot(snapshot);
    if (got.IsNotFound()) return NotFoundError(fmt::format("no projection named '{}'", name));
    HPF_RETURN_IF_ERROR(FromRocksDb(got, "reading projection meta"));
    return checkpoint.error();
  }
  return std::unique_ptr<ReadView>(
      new StoreView(impl_->db.get(), snapshot, name, checkpoint->AppliedThrough()));
}

Status ProjectionStore::Commit(Batch& batch, WalUse wal) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> names = batch.impl_->names;
  if (wal == WalUse::kLogged) {
    uint64_t needed = 0;
    {
      std::lock_guard lock(impl_->unlogged_mutex);
      for (const auto& name : names) {
        const auto it = impl_->unlogged_by_name.find(name);
        if (it != impl_->unlogged_by_name.end()) needed = std::max(needed, it->second);
      }
    }
    if (impl_->unlogged_flushed.load() < needed) HPF_RETURN_IF_ERROR(FlushUnlogged());
  }
  rocksdb::WriteOptions write;
  write.sync = impl_->sync == StoreSync::kSync && wal == WalUse::kLogged;
  write.disableWAL = wal == WalUse::kUnlogged;
  const size_t bytes = batch.bytes();
  const uint64_t entries = batch.impl_->batch.Count();
  const rocksdb::Status written = impl_->db->Write(write, &batch.impl_->batch);
  batch.Clear();
  HPF_RETURN_IF_ERROR(FromRocksDb(written, "committing a projection batch"));
  if (wal == WalUse::kUnlogged) {
    const uint64_t count = impl_->unlogged_commits.fetch_add(1) + 1;
    std::lock_guard lock(impl_->unlogged_mutex);
    for (auto& name : names) {
      uint64_t& last = impl_->unlogged_by_name[name];
      last = std::max(last, count);
    }
  }
  impl_->commits.fetch_add(1, std::memory_order_relaxed);
  impl_->commit_bytes.fetch_add(bytes, std::memory_order_relaxed);
  impl_->commit_entries.fetch_add(entries, std::memory_order_relaxed);
  impl_->commit_micros.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count()),
      std::memory_order_relaxed);
  return Status::Ok();
}

Status ProjectionStore::FlushUnlogged() {
  if (impl_->unlogged_flushed.load() >= impl_->unlogged_commits.load()) return Status::Ok();
  std::lock_guard lock(impl_->flush_mutex);
  // Every unlogged commit counted here has completed its write, so the flush covers it.
  const uint64_t target = impl_->unlogged_commits.load();
  if (impl_->unlogged_flushed.load() >= target) return Status::Ok();
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  HPF_RETURN_IF_ERROR(FromRocksDb(impl_->db->Flush(flush), "flushing unlogged projection writes"));
  impl_->unlogged_flushed.store(target);
  impl_->unlogged_flushes.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

ProjectionStoreStats ProjectionStore::stats() const {
  return {.commits = impl_->commits.load(std::memory_order_relaxed),
          .commit_bytes = impl_->commit_bytes.load(std::memory_order_relaxed),
          .commit_entries = impl_->commit_entries.load(std::memory_order_relaxed),
          .commit_micros = impl_->commit_micros.load(std::memory_order_relaxed),
          .unlogged_commits = impl_->unlogged_commits.load(std::memory_order_relaxed),
          .unlogged_flushes = impl_->unlogged_flushes.load(std::memory_order_relaxed)};
}

const std::string& ProjectionStore::dir() const { return impl_->dir; }

// ---------------------------------------------------------------------------------------------

Result<std::string> DumpKeySpace(const ReadView& view) {
  std::string dump;
  auto put_length = [&dump](size_t size) {
    HPF_ASSERT(size <= UINT32_MAX);
    for (int shift = 0; shift < 32; shift += 8) {
      dump.push_back(static_cast<char>(static_cast<uint32_t>(size) >> shift));
    }
  };
  HPF_RETURN_IF_ERROR(view.Scan("", "", [&](std::string_view key, std::string_view value) {
    put_length(key.size());
    dump.append(key);
    put_length(value.size());
    dump.append(value);
    return true;
  }));
  return dump;
}

namespace {

struct DumpEntry {
  std::string_view key;
  std::string_view value;
};

std::vector<DumpEntry> ParseDump(std::string_view dump) {
  std::vector<DumpEntry> entries;
  auto take = [&dump](std::string_view& out) {
    if (dump.size() < 4) return false;
    uint32_t size = 0;
    for (int i = 3; i >= 0; --i)
      size = (size << 8) | static_cast<uint8_t>(dump[static_cast<size_t>(i)]);
    dump.remove_prefix(4);
    if (dump.size() < size) return false;
    out = dump.substr(0, size);
    dump.remove_prefix(size);
    return true;
  };
  DumpEntry entry;
  while (take(entry.key) && take(entry.value)) entries.push_back(entry);
  return entries;
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (const char c : bytes.substr(0, 64)) {
    const auto u = static_cast<uint8_t>(c);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (bytes.size() > 64) out += fmt::format("...({} bytes)", bytes.size());
  return out;
}

}  // namespace

std::string DescribeDumpDifference(std::string_view expected, std::string_view actual) {
  if (expected == actual) return "";
  const std::vector<DumpEntry> a = ParseDump(expected);
  const std::vector<DumpEntry> b = ParseDump(actual);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i].key != b[i].key) {
      return fmt::format("entry {}: expected key '{}', actual key '{}'", i, Printable(a[i].key),
                         Printable(b[i].key));
    }
    if (a[i].value != b[i].value) {
      return fmt::format("key '{}': expected value '{}', actual '{}'", Printable(a[i].key),
                         Printable(a[i].value), Printable(b[i].value));
    }
  }
  if (a.size() != b.size()) {
    const auto& longer = a.size() > b.size() ? a : b;
    return fmt::format("{} entries expected, {} actual; first extra key '{}'", a.size(), b.size(),
                       Printable(longer[std::min(a.size(), b.size())].key));
  }
  return "the dumps differ in framing";
}

}  // namespace hpf::projections
