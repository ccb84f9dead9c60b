// events/append_batch.h — what one Append() call submits: commands' records + a state delta.
//
// A command is one idempotency unit: its records (1..kCommandRecordsMax) are appended together
// at consecutive positions or not at all. Part 0's envelope carries the key the log
// deduplicates by (an empty key is never deduplicated). The optional state delta is the
// write model's changed entities; the log stores it in the same WriteBatch as the records, so
// the stored state always matches the stored log (DESIGN principle 4).
// Thread safety: a batch is built by one thread and handed over whole.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"

namespace hpf::events {

class AppendBatch {
 public:
  AppendBatch() = default;

  // Adds one command's records, built with RecordBuilder (link zero). Each record is checked
  // (VerifyRecord, balanced postings, parts numbered 0..n-1 with one key); InvalidArgument and
  // nothing added otherwise.
  Status AddCommand(std::span<const std::span<const uint8_t>> records);
  // Shorthand for a command of one record.
  Status AddRecord(std::span<const uint8_t> record);

  // The state delta: applied in order, after all earlier batches' deltas.
  // Takes the strings by value: a caller's temporaries move in rather than being copied.
  Status PutState(std::string key, std::string value);
  Status DeleteState(std::string_view key);

  // The producer promises that no key of this batch is in the log or in any batch it queued
  // before, having looked each one up itself (EventLog::FindKey plus its own keys in flight).
  // The log then records the keys without searching for them again. Only the log's sole
  // appender can promise this (the ledger's sequencer, which must check anyway to answer
  // duplicates without deciding them); a broken promise stores a key twice, and FindKey
  // then answers the first.
  void PromiseKeysAreNew() { keys_promised_new_ = true; }
  bool keys_promised_new() const { return keys_promised_new_; }

  size_t command_count() const { return command_first_record_.size(); }
  size_t record_count() const { return record_offsets_.size(); }
  bool has_state_delta() const { return !state_ops_.empty(); }
  void Clear();

  // --- for the log ---
  struct RecordSlice {
    uint32_t offset;
    uint32_t size;
  };
  struct StateOp {
    std::string key;
    std::string value;
    bool is_delete;
  };
  std::span<const uint8_t> record(size_t index) const;
  size_t command_first_record(size_t command) const { return command_first_record_[command]; }
  size_t command_record_count(size_t command) const;
  const std::vector<StateOp>& state_ops() const { return state_ops_; }
  size_t record_bytes_total() const { return arena_bytes_; }

 private:
  Status CheckCommand(size_t first, size_t count) const;

  // Records live back to back in 8-byte words, so every record starts 8-byte aligned.
  std::vector<uint64_t> arena_;
  size_t arena_bytes_ = 0;  // sum of record sizes (unpadded)
  std::vector<RecordSlice> record_offsets_;
  std::vector<uint32_t> command_first_record_;
  std::vector<StateOp> state_ops_;
  bool keys_promised_new_ = false;
};

}  // namespace hpf::events
