// projections/projection.h — the contract between the projection runtime and one read model.
//
// A projection folds committed records into its own key space of the projections store. The
// runtime (runtime.h) reads records from a source (the log tailer in global order, or a Kafka
// consumer group in per-partition order), verifies them, hands them to each projection in
// batches, and commits what the projection wrote TOGETHER with the projection's checkpoint in
// one RocksDB WriteBatch (DESIGN principle 6): after a crash a projection resumes exactly after
// what it last committed, and records it already applied are skipped by position, never
// applied twice.
//
// Determinism. The same records give byte-identical stored read models whichever source
// delivered them. A Kafka source keeps order only per stream (the message key), so Apply()
// must give the same stored bytes for any interleaving of different streams that keeps each
// stream's order: per-stream state follows its stream's records; cross-stream figures are
// sums, counts or keyed by position — never "the last record seen".
//
// Memory. A projection may keep its state in memory (loaded once by Load()) and write only
// what a batch changed: one RocksDB Put costs 2-4 µs, so writing each touched key once per
// batch, not once per record, is what makes a rebuild fast.
//
// Thread safety: the runtime calls Load() and Apply() from one thread; queries read through a
// ReadView (a RocksDB snapshot) from any thread and never touch the projection object.
// "One thread" means one at a time: the runtime may move a projection to another of its threads
// between calls (never while a call runs), and everything done before is visible after.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "events/record.h"
#include "events/status.h"
#include "events/types.h"

namespace hpf::projections {

namespace schema = ::hpf::schema::v1;

// One verified committed record.
struct SourcedRecord {
  events::GlobalPosition position;
  const schema::Record* record = nullptr;  // passed events::VerifyRecord
  std::span<const uint8_t> bytes;          // its exact bytes
};

// A consistent, read-only view of one projection's key space (keys without the runtime's
// prefix) at one moment, with the log position it reflects.
class ReadView {
 public:
  virtual ~ReadView() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  // Visits keys that start with `prefix` and sort after `after` (empty = from the first), in
  // key order, until `visit` returns false.
  virtual Status Scan(
      std::string_view prefix, std::string_view after,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const = 0;
  // Every record at or below this position has been applied (for a log source, exactly the
  // records 1..position; for a Kafka source, the lowest position over its partitions).
  virtual events::GlobalPosition position() const = 0;
};

// Where Apply() writes: one projection's key space within the batch being built.
class ProjectionWriter {
 public:
  virtual ~ProjectionWriter() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Stable name; the runtime stores the projection's keys and checkpoint under it.
  virtual std::string_view name() const = 0;
  // Bumped when the stored form or the folding changes: the runtime then rebuilds the
  // projection from position 1.
  virtual uint32_t version() const = 0;
  // Called once before the first Apply() with the projection's stored state (empty for a
  // new or rebuilding projection), to load what it keeps in memory.
  // It may be called again on the same object — after a rebuild (with an empty view), or
  // before a retry after a failed Apply() — and then replaces whatever the projection held.
  virtual Status Load(const ReadView& stored) = 0;
  // Folds `records` (in source order, none applied before) and writes every key they changed.
  // An error stops the runtime without committing the batch (the projection is then reloaded
  // before any retry): Corruption for a record the projection cannot make sense of.
  virtual Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) = 0;
};

}  // namespace hpf::projections
