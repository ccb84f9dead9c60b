// events/event_log.h — the durable, totally ordered, hash-chained event log on RocksDB.
//
// The system of record (DESIGN §1). Records get gapless global positions from 1. Appends from
// any number of threads are group-committed through a three-stage pipeline: the writer thread
// drains the queue, decides idempotency, assigns positions, fills each record's link and
// extends the hash chain; the committer thread writes each group — records, idempotency data
// and every batch's state delta — as ONE RocksDB WriteBatch; the syncer thread syncs the WAL
// once for all groups written so far (by default) and only then moves the head and answers
// the submitters. The stages overlap, so groups grow under load and the disk's write-back
// runs beside the next group's copy. Readers (Scan, tailers) never see past the head.
// After a crash the log is the acknowledged prefix plus, at most, the groups that were in
// flight (≤ 3), each whole or absent, in order: an acknowledged append is never lost, and a
// retried command finds its original position by its idempotency key.
//
// Idempotency: a command's key maps to (position, command hash). Appending a command whose key
// is already in the log returns the original position: kDuplicate if the command hash is the
// same, kConflict if it differs — nothing is appended for it either way.
//
// Opening never replays the log: the head, the idempotency index and the caller's state are
// stored, not derived. The one exception is bounded: keys committed after the persistent
// index's watermark (only after a crash; Close() folds them in) are reloaded into the
// in-memory key window, at most limits.h's window size. Likewise the caller's state: each
// group's delta is stored as one value with its records and folded into per-entity keys
// behind the log (internal/state_delta.h); deltas a crash left unfolded — at most
// kStateDeltaBacklogBytesMax — are folded when the store is next opened for writing. A store
// whose format is newer than this build is refused. OpenReadOnly() opens a store another
// process may be writing.
//
// Thread safety: every method may be called from any thread. Close() (or the destructor)
// finishes queued appends first.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/append_batch.h"
#include "events/clock.h"
#include "events/hash_chain.h"
#include "events/status.h"
#include "events/types.h"

namespace hpf::events {

// The on-disk format this build writes and the newest it reads.
inline constexpr uint32_t kStoreFormatVersion = 2;

enum class OpenMode : uint8_t {
  kOpenOrCreate,  // create an empty store if the directory has none
  kCreateNew,     // fail with AlreadyExists if a store is there
  kOpenExisting,  // fail with NotFound if no store is there
};

enum class Durability : uint8_t {
  kSync,    // fsync the WAL before acknowledging a group (production; the default)
  kNoSync,  // acknowledge after the OS write; survives a process crash, not a power cut
};

struct EventLogOptions {
  std::string data_dir;
  OpenMode mode = OpenMode::kOpenOrCreate;
  // Used only when a store is created; an existing store keeps its own.
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  Durability durability = Durability::kSync;
  // Commit timestamps; nullptr means SystemClock::Default(). Must outlive the log.
  const Clock* clock = nullptr;
  // Idempotency keys kept in memory before appends wait for the indexer (limits.h).
  size_t key_window_max = 0;  // 0 means kIdempotencyWindowKeysMax
};

enum class CommandOutcome : uint8_t {
  kAppended,   // position = the command's first record
  kDuplicate,  // same key, same content: position = the original first record
  kConflict,   // same key, different content: position = the original first record
};

struct CommandResult {
  CommandOutcome outcome;
  GlobalPosition position;
};

struct AppendResult {
  std::vector<CommandResult> commands;  // one per command, in batch order
  HeadDigest head;                      // the head right after this batch's group
};

// One stored record as readers see it; spans are valid only during the visit.
struct RecordRef {
  GlobalPosition position;
  std::span<const uint8_t> hash;    // the stored chain hash (32 bytes)
  std::span<const uint8_t> record;  // the exact stored bytes, 8-byte aligned
};

// Called for each record in order; return false to stop early.
using RecordVisitor = std::function<bool(const RecordRef&)>;

// Counters since open, for /metrics and benchmarks. Times are wall-clock microseconds spent
// by the writer thread in each step of a group commit.
struct EventLogStats {
  uint64_t groups = 0;
  uint64_t batches = 0;
  uint64_t records = 0;
  uint64_t decide_micros = 0;  // idempotency and positions
  uint64_t encode_micros = 0;  // copying into chunks, links, hashing
  uint64_t write_micros = 0;   // RocksDB write (the committer)
  uint64_t sync_micros = 0;    // WAL sync (the syncer), overlapping the next write
  uint64_t state_folds = 0;    // folds of stored state deltas into per-entity keys
  uint64_t state_fold_micros = 0;
  uint64_t state_delta_backlog_bytes = 0;  // written deltas not yet folded
};

class EventLog {
 public:
  static Result<std::unique_ptr<EventLog>> Open(const EventLogOptions& options);
  // Read-only view (auditors, verify). Append fails with FailedPrecondition. Sees what was
  // committed when it was opened.
  static Result<std::unique_ptr<EventLog>> OpenReadOnly(std::string_view data_dir);

  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends the batch durably (per options.durability) and returns per-command outcomes.
  // Blocks until the batch's group is written. Errors: InvalidArgument (empty or oversized
  // batch); FailedPrecondition if a batch WITH a state delta holds a duplicate or conflicting
  // command (its delta was computed for new commands, so nothing of it is written) — the log
  // then refuses every later append until reopened, since later deltas were computed on top
  // of the refused one; IoError if the write failed — likewise.
  Result<AppendResult> Append(AppendBatch batch);

  // The same without waiting: the batch is queued (after its idempotency precheck, which
  // runs on the calling thread) and the future completes when its group is durable. Batches
  // queued by one thread are appended in the order they were queued. Lets a single producer
  // (the sequencer) keep the writer busy while earlier groups sync.
  std::future<Result<AppendResult>> AppendAsync(AppendBatch batch);

  // The committed head (position and hash). Position 0 for an empty log.
  HeadDigest head() const;

  // Waits until the committed head reaches `position` or `timeout` passes; returns the head
  // position either way. For tailers (log_tailer.h).
  GlobalPosition WaitForPosition(GlobalPosition position, std::chrono::milliseconds timeout) const;

  // Visits committed records from `from` (>= 1) through `to` (inclusive, clamped to the head)
  // in position order. Records are not verified; see verify.h. Corruption if a chunk's
  // structure is damaged.
  Status Scan(GlobalPosition from, GlobalPosition to, const RecordVisitor& visit) const;

  // Visits every stored chunk in key order with its raw value: for verification, which must
  // see gaps and damage that Scan() assumes away.
  Status ScanChunks(
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // The committed record with this key (the first record of its command), if any.
  struct KeyHit {
    GlobalPosition position;
    Digest command_hash;
  };
  Result<std::optional<KeyHit>> FindKey(std::string_view idempotency_key) const;
  // FindKey for many keys at once (one index read for all): one answer per key, in order.
  Result<std::vector<std::optional<KeyHit>>> FindKeys(
      std::span<const std::string_view> idempotency_keys) const;

  // The write model's stored state (the deltas of all committed batches).
  Result<std::optional<std::string>> GetState(std::string_view key) const;
  Status ScanState(
      std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Small durable values kept by the log's followers (the Kafka publisher's cursor), beside
  // the log but outside its append path: written synced, never part of a group, invisible to
  // Scan and verification. Keys are the follower's own names ("kafka/<topic>/cursor").
  // FailedPrecondition on a read-only log.
  Status PutFollowerMeta(std::string_view key, std::string_view value);
  Result<std::optional<std::string>> GetFollowerMeta(std::string_view key) const;

  EventLogStats stats() const;
  HashAlgorithm hash_algorithm() const;
  uint32_t format_version() const;
  // Position through which idempotency keys are in the persistent index.
  GlobalPosition indexed_through() const;

  // Finishes queued appends, folds the key window into the persistent index (so the next
  // open loads nothing), and closes the store. Idempotent.
  Status Close();

 private:
  struct Impl;
  explicit EventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpf::events
