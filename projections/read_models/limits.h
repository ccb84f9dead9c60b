// projections/read_models/limits.h — every bound of the read models, each with its reason.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hpf::projections::read_models {

// Items one list query answers. The HTTP server renders a page into one JSON answer; 1 000
// rows of an account list or a statement is ~200 KB, enough for any screen or export loop
// (the `next` cursor continues), small enough to answer in milliseconds.
inline constexpr size_t kPageItemsMax = 1000;
inline constexpr size_t kPageItemsDefault = 100;
static_assert(kPageItemsDefault <= kPageItemsMax);

// A cursor (`after`) is a few numbers in text; anything longer is not one of ours.
inline constexpr size_t kCursorBytesMax = 64;

// Consecutive account ids whose rows share one stored value (a page). A month-end allocates
// one line per account, so per-account keys would cost one RocksDB Put (2-4 µs, DESIGN §7) per
// event; an employer's employees are numbered together, so a page turns a remittance list's
// lines into a handful of Puts. 64 rows of ~150 bytes keep a page under 10 KB.
inline constexpr uint64_t kAccountsPerPage = 64;

// Positions per bucket of the per-event rows (statement lines, audit rows): a stored block
// holds one group's rows (an account page, an actor, a day) within one bucket, so a batch
// rewrites a few blocks instead of writing a key per row, and a finished bucket's blocks
// leave memory. 4 096 records is a few milliseconds of a rebuild; its blocks stay small.
inline constexpr uint64_t kBucketPositions = 4096;

// Regular allocations per account whose month and list the accounts model keeps, to know
// what a reversal of one of them does to the paid-up-to month (accounts.h). An older line's
// list was completed before the later lines' lists opened (an employer has one open list at a
// time), so reversing it never steps the month back.
inline constexpr size_t kRegularAllocationsKept = 4;

// Pending steps of one account's paid-up-to month (accounts.h): reversals of its latest
// regular lines whose lists may still be open, kept until its next regular line. Two between
// two regular lines are already rare; beyond eight the oldest is settled as a completed list's.
inline constexpr size_t kPendingStepsMax = 8;

// Value dates of one account's open interest year that the accounts model keeps, one entry
// per date (accounts.h): money is dated within the year, so there are at most its 366 days.
inline constexpr size_t kInterestDatesMax = 366;
static_assert(kInterestDatesMax <= UINT16_MAX);

// Bytes of one row of a stored block: a u16 length prefixes each row.
inline constexpr size_t kBlockRowBytesMax = 65535;

}  // namespace hpf::projections::read_models
