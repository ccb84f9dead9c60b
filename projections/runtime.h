// projections/runtime.h — the projection runtime: drives one source into registered projections
// and commits each batch with the projections' checkpoints (DESIGN principle 6).
//
// The runner thread reads and verifies; apply threads (RunnerOptions::apply_threads) call
// Projection::Load() and Apply(), each projection on one of them at a time. Each round:
//  1. the runner polls the main reader (source.h) for what is ready, up to batch_records_max
//     records — no artificial wait, so a busy source gives big batches and a quiet one low
//     latency;
//  2. verifies every record (events::VerifyRecord on an 8-byte-aligned copy) and checks that
//     the position its framing claims is the one in its link — Corruption otherwise;
//  3. for each in-step projection, its apply thread drops the records at or below its
//     checkpoint for their partition (already applied: a restart, a republished range, a
//     projection ahead of the reader) and hands the rest to Apply();
//  4. each apply thread commits its projections' writes, each with its checkpoint, in ONE
//     WriteBatch (projection_store.h). After a crash each projection resumes exactly after what
//     it committed: nothing is applied twice, nothing skipped. Meanwhile the runner reads and
//     verifies the next batch;
//  5. each catching-up projection gets one batch from its own catch-up reader (its own
//     commit); once that reader has reached the main reader's offsets in every partition, the
//     projection joins the in-step group (what the main reader then delivers that it has, it
//     skips).
// Far behind (two full batches in a row), commits skip RocksDB's write-ahead log
// (projection_store.h WalUse) and are flushed before the projection's next logged commit and
// at Stop().
//
// Which projections are in step. At Start(), those with the most advanced checkpoint; the rest
// catch up. A projection added after Start(), or rebuilt, catches up from its checkpoint (from
// position 1 when new) with a catch-up reader of its own — for the log another LogTailer, for
// Kafka a consumer outside the group reading the main reader's partitions — while the others go
// on from the main reader. A projection whose stored version or source differs from its own is
// reset first (rebuilt from zero).
//
// Queries get a ReadView (a RocksDB snapshot) and the position it reflects, read from the
// checkpoint in the same snapshot. WaitForPosition() is the bounded read-your-writes wait.
//
// Failures. A source error, a record that does not verify or an Apply() error stops the runner
// without committing the batch: stats() shows the error, Stop() returns it, waits end with it.
// Restart with a new Runner: each projection is loaded again from what was committed.
//
// Thread safety: every method may be called from any thread. The store and the source must
// outlive the runner; the runner owns its projections.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "events/types.h"
#include "projections/projection.h"
#include "projections/projection_store.h"
#include "projections/source.h"

namespace hpf::projections {

struct RunnerOptions {
  ProjectionStore* store = nullptr;  // required
  Source* source = nullptr;          // required
  // Records per batch handed to Apply(): 1 .. kBatchRecordsMax; 0 means kBatchRecordsDefault.
  size_t batch_records_max = 0;
  // Threads that apply batches, 1 .. kApplyThreadsMax; 0 means kApplyThreadsDefault. Each
  // projection runs on one of them at a time (never two at once); each thread commits its
  // projections' writes and checkpoints in a WriteBatch of its own. Projections are dealt out
  // in the order they are added, then moved between threads, between batches, when their
  // measured cost (Apply() CPU and bytes written) says another spread is a tenth faster.
  size_t apply_threads = 0;
};

struct ProjectionStats {
  std::string name;
  uint32_t version = 0;
  bool catching_up = false;
  events::GlobalPosition applied_through;  // as committed (Checkpoint::AppliedThrough)
  uint64_t lag_records = 0;  // records in the source past its checkpoint (main reader's view)
  uint64_t batches = 0;      // commits that carried its records
  uint64_t records_applied = 0;
  uint64_t records_skipped = 0;  // delivered but already applied
  uint64_t rebuilds = 0;         // resets since Start(), by version, source or request
  uint64_t apply_micros = 0;     // CPU time in its Apply()
  size_t apply_thread = 0;       // the apply thread it is pinned to
};

enum class RunnerState : uint8_t {
  kNotStarted,
  kRunning,
  kStopped,  // by Stop()
  kFailed,   // by an error; see RunnerStats::error
};

struct RunnerStats {
  RunnerState state = RunnerState::kNotStarted;
  Status error;  // why it failed (OK otherwise)
  // The highest position the source has shown: the log's head, or for Kafka the highest
  // position any reader delivered.
  events::GlobalPosition source_head;
  uint64_t batches = 0;       // rounds that read records, main and catch-up
  uint64_t records_read = 0;  // records delivered by every reader, verified
  double records_per_s = 0;   // records_read over the last second or so
  // CPU time of the runner thread in each step (not wall time: waits are not counted).
  uint64_t verify_micros = 0;  // verifying records
  uint64_t apply_micros = 0;   // in Apply()
  uint64_t commit_micros = 0;  // building and writing the WriteBatch
  uint64_t read_micros = 0;    // polling readers (copies included)
  uint64_t rebalances = 0;     // times projections were moved between apply threads
  // Partitions re-read from their start because a stored offset meant another position on
  // this broker (source.h PartitionStart).
  uint64_t offset_resets = 0;
  std::vector<ProjectionStats> projections;
};

class Runner {
 public:
  // InvalidArgument if a required option is missing or out of range.
  static Result<std::unique_ptr<Runner>> Create(const RunnerOptions& options);

  ~Runner();  // Stop()
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Registers a projection (see the file comment for how it starts). InvalidArgument for a bad
  // or duplicate name, or more than kProjectionsMax projections. Before Start() it returns at
  // once; after, once the runner thread has taken it in (reset if needed, Load() called),
  // returning that step's error — bounded by kWaitForPositionMax (DeadlineExceeded).
  Status Add(std::unique_ptr<Projection> projection);

  // Starts the runner thread. FailedPrecondition if started before. Errors of the initial
  // loading (meta, checkpoints, Load()) are returned here and the thread is not started.
  Status Start();

  // Stops the thread after the round in progress. Returns the error that stopped it, if any;
  // OK if it was running or never started. Idempotent.
  Status Stop();

  // Drops the projection's keys and checkpoint and rebuilds it from zero with a catch-up
  // reader while the others go on. Returns once the reset is committed (queries then see
  // position 0 and an empty key space, then the rebuild's progress). NotFound for an unknown
  // name; when the runner is not running, the reset is done at once on this thread.
  Status Rebuild(std::string_view name);

  // A consistent view of a registered projection and the position it reflects.
  // NotFound for an unknown name.
  Result<std::unique_ptr<ReadView>> View(std::string_view name) const;

  // Waits until the projection has applied every record at or below `position`, at most
  // min(timeout, kWaitForPositionMax), and returns a view at or past it. DeadlineExceeded
  // (naming where the projection stands) when the time runs out; the runner's error if it
  // fails meanwhile; Unavailable if it is stopped.
  Result<std::unique_ptr<ReadView>> WaitForPosition(std::string_view name,
                                                    events::GlobalPosition position,
                                                    std::chrono::milliseconds timeout) const;

  RunnerStats stats() const;

 private:
  struct Impl;
  explicit Runner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpf::projections
