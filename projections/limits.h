// projections/limits.h — every bound of the projection runtime, each with its reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "events/limits.h"

namespace hpf::projections {

// Projections one runner drives. Each may hold a catch-up reader of its own (runtime.h), so
// this also bounds the readers of one source.
inline constexpr size_t kProjectionsMax = 64;

// A projection's name: it prefixes every key the projection stores. Short and plain
// ([a-z0-9_.-]) so that the prefix cannot collide with another name's.
inline constexpr size_t kProjectionNameBytesMax = 64;

// One key or value a projection writes. Keys are small composite ids; values may pack many
// rows (a statement block), so they get more room but stay well under RocksDB's comfort zone.
inline constexpr size_t kProjectionKeyBytesMax = 4096;
inline constexpr size_t kProjectionValueBytesMax = 64u << 20;

// Records handed to Apply() at once. Larger batches write each touched key fewer times per
// record (what makes a rebuild fast); the bound keeps one batch's copies (~0.5 KiB a record)
// and its WriteBatch in tens of MiB.
inline constexpr size_t kBatchRecordsMax = 65536;
inline constexpr size_t kBatchRecordsDefault = 8192;
static_assert(kBatchRecordsDefault <= kBatchRecordsMax);
static_assert(kBatchRecordsMax <= events::kReadRecordsMax, "a batch is one tailer read");

// Threads that apply batches (runtime.h RunnerOptions::apply_threads). Two by default: the
// projections split over them, beside the runner thread that reads and verifies, keep two
// cores busy; more only help with more cores and enough projections to spread.
inline constexpr size_t kApplyThreadsDefault = 2;
inline constexpr size_t kApplyThreadsMax = 16;
static_assert(kApplyThreadsDefault <= kApplyThreadsMax);

// Partitions of one source (Kafka topic) a runner tracks checkpoints for.
inline constexpr int32_t kPartitionsMax = 1024;

// The longest WaitForPosition() honours: a query that wants a position the runner has not
// reached within this is told so rather than held.
inline constexpr std::chrono::milliseconds kWaitForPositionMax{60'000};

// How long the runner thread sleeps in one poll of an idle source: bounds how late it notices
// Stop(), an added projection or a rebuild request.
inline constexpr std::chrono::milliseconds kIdlePollMax{100};

}  // namespace hpf::projections
