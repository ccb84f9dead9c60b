// events/limits.h — every bound of the event log, each with its reason.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hpf::events {

// One record (envelope + event + postings). The largest real event, a remittance allocation
// with its postings, is under 1 KiB; 64 KiB leaves room for policy changes.
inline constexpr size_t kRecordBytesMax = 64 * 1024;

// Records one command may produce: a year-end chunk or remittance list is split by the
// ledger into commands below this.
inline constexpr size_t kCommandRecordsMax = 4096;

// An idempotency key: bank references are ~20-32 bytes; keys are namespaced by the caller.
inline constexpr size_t kIdempotencyKeyBytesMax = 128;

// Records in one Append() call (one AppendBatch). A batch is never split across groups.
inline constexpr size_t kBatchRecordsMax = 65536;

// Records one group commit may hold: several batches are written as one WriteBatch.
inline constexpr size_t kGroupRecordsMax = 131072;
static_assert(kBatchRecordsMax <= kGroupRecordsMax, "a batch must fit in one group");
static_assert(kCommandRecordsMax <= kBatchRecordsMax, "a command must fit in one batch");

// Records per stored chunk (one RocksDB value): large enough that the per-key cost of RocksDB
// (memtable insert, index entry) is paid once per ~1000 records, small enough that reading one
// position costs one ~300 KiB value.
inline constexpr size_t kChunkRecordsMax = 1024;

// State-delta entries one batch may carry (the write model's changed entities).
inline constexpr size_t kStateDeltaEntriesMax = 1 << 20;
inline constexpr size_t kStateKeyBytesMax = 256;
inline constexpr size_t kStateValueBytesMax = 1 << 20;

// Submitted batches waiting for the writer: back-pressure beyond this.
inline constexpr size_t kQueuedBatchesMax = 1024;

// Recent idempotency keys held in memory (fingerprint + position, ~40 bytes each with the
// eviction ring). Keys older than the window are found in the persistent index. The indexer
// folds keys into that index when the log is idle or the window is half full, so bursts never
// wait for it; when the window is full, appends wait for the indexer (bounded memory).
inline constexpr size_t kIdempotencyWindowKeysMax = 8u << 20;
inline constexpr size_t kIndexerBatchKeysMax = 65536;

// Stored state deltas not yet folded into per-entity keys (internal/state_delta.h). The
// indexer folds when the log is quiet or the backlog reaches this, so a burst (a month's
// remittances) writes one value per group and each entity once afterwards. It bounds what an
// open after a crash folds (~0.5 s for 128 MiB here). One fold's WriteBatch takes at most
// kStateFoldBytesMax of deltas.
inline constexpr size_t kStateDeltaBacklogBytesMax = 128u << 20;
inline constexpr size_t kStateFoldBytesMax = 32u << 20;

// Records returned by one read call.
inline constexpr size_t kReadRecordsMax = 1u << 20;

}  // namespace hpf::events
