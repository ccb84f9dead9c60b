// ledger/limits.h — every bound of the ledger's arithmetic, each with its reason.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hpf::ledger {

// Dates accepted from outside, as yyyymmdd. Housing funds began in 1991-1992 (Qingdao's
// history starts 1992-07); 2199 leaves two centuries for loans (30 years) and archives.
// Anything outside is a typo or garbage (00010101, 99991231), not a business date.
inline constexpr uint32_t kDateYyyymmddMin = 19900101;
inline constexpr uint32_t kDateYyyymmddMax = 21991231;

// Months accepted from outside, as yyyymm: the months of the dates above.
inline constexpr uint32_t kMonthYyyymmMin = 199001;
inline constexpr uint32_t kMonthYyyymmMax = 219912;

// Interest years (1 July - 30 June, named by the July) whose every day, and whose credit
// value date (the next 1 July), lie in the date range: 1990-07-01 .. 2199-07-01.
inline constexpr int32_t kInterestYearFirst = 1990;
inline constexpr int32_t kInterestYearLast = 2198;
static_assert(kInterestYearFirst * 10000 + 701 >= kDateYyyymmddMin, "first year's 1 July");
static_assert((kInterestYearLast + 1) * 10000 + 701 <= kDateYyyymmddMax, "last credit date");

// A rate or a share, in ppm: at most 100 %. Deposit rates are ~1.5 %, contribution shares
// 5-12 %, penalty rates ~5 %; anything above 100 % a year is a configuration error. It also
// bounds base × rate by base, so a contribution cannot overflow where its base did not.
inline constexpr uint32_t kRatePpmMax = 1'000'000;

// Entries of a dated rate table (policy). Rates change a few times a decade (the fund's rate
// has been 1.50 % since 2016-02-21); 256 covers the whole date range at that pace.
inline constexpr size_t kRateTableEntriesMax = 256;

// Rate segments in one interest year. In 2015 the central bank changed deposit rates five
// times; 16 is three times that and keeps an accumulator (16 bytes a segment) and the
// InterestSegment list of an interest event small.
inline constexpr size_t kRateSegmentsPerYearMax = 16;
static_assert(kRateSegmentsPerYearMax <= kRateTableEntriesMax, "a year's rates come from it");

// One bank receipt or remittance list: 10 billion yuan. Qingdao collects ~25 bn yuan a YEAR
// (DOMAIN §10); a single transfer above this is a typo, and the bound keeps every sum of a
// year's postings far inside int64.
inline constexpr int64_t kCommandAmountFenMax = 1'000'000'000'000;

// Accounts settled by one SettleInterest command: one record each, so a chunk stays one
// bounded append (events/limits.h kCommandRecordsMax) and two million accounts settle in
// ~2 000 commands.
inline constexpr size_t kSettlementChunkAccountsMax = 1000;

// Interest years one interest-to-date may span: a closing withdrawal keeps the year-end
// settlement away while it is in flight, so its payment may come after 30 June of a year the
// account has not settled. Applications are decided in days; four years bound the record
// (16 segments a year) and mean a forgotten application, which the centre must look at.
inline constexpr size_t kInterestToDateYearsMax = 4;

// A policy file: a few dozen versions over the years, each a few hundred bytes.
inline constexpr size_t kPolicyVersionsMax = 1024;
inline constexpr size_t kPolicyFileBytesMax = 1 << 20;
// A policy's canonical document, as one PolicyChanged record carries it: ~230 bytes a version
// and ~35 a rate, so 48 KiB holds two centuries of yearly versions. It leaves the record
// (events/limits.h kRecordBytesMax, 64 KiB) room for the summary, the approval reference and
// the envelope (record_encoding.cc static_asserts the sum).
inline constexpr size_t kPolicyDocumentBytesMax = 48 * 1024;
static_assert(kPolicyDocumentBytesMax <= kPolicyFileBytesMax, "a recordable file loads");

}  // namespace hpf::ledger
