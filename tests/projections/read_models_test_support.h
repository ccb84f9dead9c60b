// tests/projections/read_models_test_support.h — what the read models' suites share: a ledger
// driven through its real Sequencer on a temp EventLog, the log's records as SourcedRecords,
// an in-memory key space (the projection's store as the runtime would keep it), folds in any
// order and batch size, and stream-preserving interleavings.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "ledger/commands.h"
#include "ledger/policy.h"
#include "ledger/sequencer.h"
#include "projections/projection.h"
#include "tests/support/records.h"

namespace hpf::projections::read_models::testing {

// A projection's key space in memory; the view and the writer of a fold.
class MemoryStore final : public ReadView, public ProjectionWriter {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Scan(std::string_view prefix, std::string_view after,
              const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  events::GlobalPosition position() const override { return position_; }
  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;

  void set_position(events::GlobalPosition position) { position_ = position; }
  const std::map<std::string, std::string, std::less<>>& keys() const { return keys_; }
  std::map<std::string, std::string, std::less<>>& mutable_keys() { return keys_; }

 private:
  std::map<std::string, std::string, std::less<>> keys_;
  events::GlobalPosition position_;
};

// A ledger in a temp dir: the real event log and sequencer under the default policy.
class Ledger {
 public:
  Ledger();
  ~Ledger();
  // Submits one command; REQUIREs acceptance and returns its first record's position.
  uint64_t Run(uint32_t date, ledger::CommandBody body, std::string actor = "op:1",
               std::string channel = "counter");
  // The write model's state now.
  ledger::State Snapshot();
  ledger::Sequencer& sequencer() { return *sequencer_; }
  const events::EventLog& log() const { return *log_; }
  const ledger::PolicyBook& policy() const { return policy_; }

 private:
  hpf::testing::TempDir dir_;
  ledger::PolicyBook policy_;
  std::unique_ptr<events::EventLog> log_;
  std::unique_ptr<ledger::Sequencer> sequencer_;
  int keys_ = 0;
};

// Every committed record of a log, 8-byte aligned and verified, as the runtime hands them over.
class LoggedRecords {
 public:
  // REQUIREs a clean scan and that every record verifies.
  explicit LoggedRecords(const events::EventLog& log);
  const std::vector<SourcedRecord>& records() const { return records_; }
  // The records through `position` (a prefix of the log).
  std::vector<SourcedRecord> Through(uint64_t position) const;

 private:
  std::vector<std::vector<uint64_t>> storage_;
  std::vector<SourcedRecord> records_;
};

// Folds `records` into `projection` and `store` in batches of `batch_records`; REQUIREs every
// Apply() to succeed. The store's position becomes the highest position folded.
void Fold(Projection& projection, MemoryStore& store, const std::vector<SourcedRecord>& records,
          size_t batch_records);
// Applies the records as one batch and returns the projection's status (for failure tests).
Status ApplyAll(Projection& projection, MemoryStore& store,
                const std::vector<SourcedRecord>& records);

// A seeded order of `records` that keeps each stream's order but mixes the streams, as a Kafka
// consumer of partitions keyed by stream may see them.
std::vector<SourcedRecord> ShuffleStreams(const std::vector<SourcedRecord>& records, uint64_t seed);

// Builds a ledger-sim city through the sequencer (REQUIREs every command accepted).
struct CityRun {
  uint64_t commands = 0;
  uint64_t allocations = 0;
  uint64_t accounts = 0;
  uint64_t employers = 0;
};
CityRun RunCity(Ledger& ledger, uint32_t employers, uint32_t accounts_per_employer, uint64_t seed);

}  // namespace hpf::projections::read_models::testing
