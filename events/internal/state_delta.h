// events/internal/state_delta.h — the stored form of a group's state delta (one RocksDB value).
//
// Writing each changed entity as its own key in the group's WriteBatch cost one random-key
// memtable insert per entity on the commit path — the largest cost of ingestion
// (bench/RESULTS.md, ingest). So a group's delta is stored as ONE value in the `delta` family,
// in the same WriteBatch as its records (principle 4 holds: stored state and log stay equal),
// and the indexer folds the deltas into per-entity keys of the `state` family later, behind
// the log, when it is quiet — writing each entity once however often it changed meanwhile.
//
// On-disk format v1 (a part of the store format, store_layout.h), little-endian:
//   u8 format (1) | operations, each: u8 kind (1 put, 2 delete) | u32 key size | key |
//                   u32 value size | value (puts only)
// The key of a delta is the big-endian u64 sequence number of the group that wrote it, so
// deltas sort in the order they were written.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/append_batch.h"
#include "events/status.h"

namespace hpf::events::internal {

inline constexpr uint8_t kStateDeltaFormat = 1;

// Appends `ops` to a delta value being built in `out` (the format byte first, when empty).
void AppendStateOps(const std::vector<AppendBatch::StateOp>& ops, std::string& out);

// Visits a delta's operations in order: `value` is nullopt for a delete. Corruption naming
// the offset when the value is malformed (nothing after that is visited).
Status ForEachStateOp(
    std::string_view delta,
    const std::function<void(std::string_view key, std::optional<std::string_view> value)>& visit);

// The sequence number as a key, and back (Corruption unless 8 bytes).
std::string StateDeltaKey(uint64_t sequence);
Result<uint64_t> StateDeltaSequence(std::string_view key);

}  // namespace hpf::events::internal
