// projections/projection_store.h — the projections' own RocksDB: each projection's key space,
// checkpoint and version, written together; consistent snapshots for queries.
//
// A store lives in its own directory (e.g. <data-dir>/projections), apart from the event log,
// because a projector may run on another host than the log (DESIGN §5). Every projection owns
// the keys under a prefix of its name:
//   p/<name>/m             meta: store format, the projection's version, the source that fed it
//   p/<name>/s             the offsets' scope (which broker the Kafka offsets belong to)
//   p/<name>/c<partition>  checkpoint of one partition: last applied position, next offset, ...
//   p/<name>/d<key>        the projection's own key space (what Apply() writes)
// A Batch carries puts of any number of projections plus their checkpoints and is committed as
// ONE RocksDB WriteBatch (DESIGN principle 6): after any crash, each projection's keys and its
// checkpoint are from the same moment. Reset() drops a projection's keys and checkpoint in one
// write, which is where a rebuild starts.
//
// A ReadView holds a RocksDB snapshot and computes its position from the checkpoint AS OF that
// snapshot, so the position always describes exactly the state the view shows.
//
// Durability: writes go through the WAL, unsynced by default — a killed process loses nothing it
// committed, a power cut may lose the last batches, which the runner then re-applies (the
// checkpoint went with them). StoreSync::kSync syncs each commit.
//
// Thread safety: every method may be called from any thread; a Batch belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "events/types.h"
#include "projections/projection.h"
#include "projections/source.h"

namespace hpf::projections {

// The on-disk format this build writes and the newest it reads.
inline constexpr uint32_t kProjectionStoreFormatVersion = 1;

// How far a projection has read one partition of its source. The log is one partition, 0,
// whose offsets are positions; a Kafka topic has one entry per partition.
struct PartitionCheckpoint {
  int32_t partition = 0;
  events::GlobalPosition position;         // the last record applied from it (0: none yet)
  int64_t next_offset = kOffsetBeginning;  // where reading it resumes
  // The position of the message at next_offset - 1 (applied, or skipped as already applied):
  // what a Kafka reader checks before it trusts next_offset (source.h PartitionStart).
  events::GlobalPosition offset_position;
  bool operator==(const PartitionCheckpoint&) const = default;
};

// Where a projection stands in its source.
struct Checkpoint {
  // Identifies the offset space of next_offset: "log", or the Kafka cluster id. Offsets from
  // another scope (a fresh development broker) are not trusted; positions still are.
  std::string offsets_scope;
  std::vector<PartitionCheckpoint> partitions;  // sorted by partition, each once

  // Every record at or below this position has been applied: the lowest position over the
  // partitions (0 when there is none). For the log, simply the last applied position.
  events::GlobalPosition AppliedThrough() const;
  const PartitionCheckpoint* Find(int32_t partition) const;
  // The entry for `partition`, created (position 0, from the beginning) in order if absent.
  PartitionCheckpoint& Upsert(int32_t partition);
  bool operator==(const Checkpoint&) const = default;
};

// What the store keeps about a projection besides its keys and checkpoint.
struct ProjectionMeta {
  uint32_t version = 0;
  std::string source_id;  // Source::id() of the source that fed it
  bool operator==(const ProjectionMeta&) const = default;
};

enum class StoreSync : uint8_t {
  kNoSync,  // WAL written, not synced: survives a process crash (the default; see above)
  kSync,    // WAL synced on every commit
};

struct ProjectionStoreOptions {
  std::string dir;  // created if missing
  StoreSync sync = StoreSync::kNoSync;
};

// Counters since open, for stats and benchmarks.
struct ProjectionStoreStats {
  uint64_t commits = 0;
  uint64_t commit_bytes = 0;
  uint64_t commit_entries = 0;  // puts and deletes
  uint64_t commit_micros = 0;   // time spent in RocksDB writes
  uint64_t unlogged_commits = 0;
  uint64_t unlogged_flushes = 0;  // flushes FlushUnlogged() made
};

class ProjectionStore {
 public:
  // Opens or creates the store. Unimplemented for a store of a newer format; IoError or
  // Corruption as RocksDB reports them.
  static Result<std::unique_ptr<ProjectionStore>> Open(const ProjectionStoreOptions& options);

  ~ProjectionStore();
  ProjectionStore(const ProjectionStore&) = delete;
  ProjectionStore& operator=(const ProjectionStore&) = delete;

  // OK for a usable projection name: 1..kProjectionNameBytesMax bytes of [a-z0-9_.-].
  // InvalidArgument naming the rule otherwise.
  static Status CheckName(std::string_view name);

  // The projection's meta, if the store has ever held it. Corruption if it does not decode.
  Result<std::optional<ProjectionMeta>> GetMeta(std::string_view name) const;
  // Its committed checkpoint (empty for a new or reset projection).
  Result<Checkpoint> GetCheckpoint(std::string_view name) const;
  // Every projection the store holds meta for, in name order.
  Result<std::vector<std::string>> ListProjections() const;

  // Drops every key and the checkpoint of `name` and stores `meta`, in one write.
  Status Reset(std::string_view name, const ProjectionMeta& meta);

  // A consistent read-only view of `name`'s key space with the position its checkpoint held at
  // that moment. NotFound if the store holds no meta for `name`. The store must outlive it.
  Result<std::unique_ptr<ReadView>> View(std::string_view name) const;

  // One atomic write: puts and deletes of any projections, with their checkpoints.
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    // Where `name`'s Apply() writes; valid until Commit() or Clear().
    // REQUIRES: CheckName(name) is OK.
    ProjectionWriter& Writer(std::string_view name);
    // Stores `checkpoint` as `name`'s, replacing the entries of the partitions it lists.
    void SetCheckpoint(std::string_view name, const Checkpoint& checkpoint);
    bool empty() const;
    size_t bytes() const;
    void Clear();

   private:
    friend class ProjectionStore;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  // Writes the batch as one RocksDB WriteBatch, then clears it. IoError if RocksDB fails; the
  // store then holds either all of the batch or none of it.
  //
  // WalUse::kUnlogged skips RocksDB's write-ahead log: for a rebuild or a long catch-up, where
  // the log's copy of every byte costs about a third of a commit. Such a batch is still whole
  // or absent after a crash, and still with its checkpoint (one column family: a memtable is
  // flushed whole, in order), but a crash loses it with every later one not yet flushed — the
  // projection then resumes from an earlier checkpoint. A logged commit first flushes whatever
  // unlogged commits of the same projections completed before it (a flush, FlushUnlogged),
  // so the log never replays a projection's batch over a state that lost its batches before.
  enum class WalUse : uint8_t { kLogged, kUnlogged };
  Status Commit(Batch& batch, WalUse wal = WalUse::kLogged);
  // Makes every unlogged commit completed so far durable (memtables to table files). IoError
  // as RocksDB reports it. Cheap when there is none.
  Status FlushUnlogged();

  ProjectionStoreStats stats() const;
  const std::string& dir() const;

 private:
  struct Impl;
  explicit ProjectionStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The whole key space of a view, in key order, each key and value length-prefixed (u32
// little-endian), for comparing read models byte for byte: equal dumps, identical read models.
Result<std::string> DumpKeySpace(const ReadView& view);

// A short human description of the first difference between two dumps ("" if equal), for test
// failures.
std::string DescribeDumpDifference(std::string_view expected, std::string_view actual);

}  // namespace hpf::projections
