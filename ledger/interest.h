// ledger/interest.h — interest on a personal account by accumulated daily balances (积数),
// DOMAIN §3: the accumulator of ONE account for ONE interest year, and the interest on it.
//
// Representation. Every day of the year adds its end-of-day balance to the accumulator, and a
// change value-dated D alters the end-of-day balance of D and of every later day of the year.
// So the accumulator is kept "as if nothing more happens this year": each rate segment holds
// Σ over its days of the end-of-day balance projected to the year's end, and a change of
// `delta` value-dated D adds delta × (its days in the segment from D on). Beside the
// segments it keeps the running balance (opening balance + every delta) and the latest value
// date applied. This makes both closings exact without keeping a list of postings:
//   - year end: the segments are the year's 积数 as they stand (nothing can follow);
//   - interest to date (closing withdrawal, transfer out) over [year start, until): while no
//     change is value-dated after `until`, every day from `until` on holds the running
//     balance, so the days from `until` on contribute exactly balance × their count, which is
//     subtracted. Applying the closing withdrawal itself (value-dated `until`, the payment
//     day) makes those days zero, so the year-end figure equals the interest to date as well.
// Apply() is order-insensitive: back-dated postings (补缴) may arrive in any order.
//
// Interest = Σ segment fen·days × rate_ppm / (10^6 × day basis), summed exactly in Int128 and
// rounded half-up to the fen once (ledger/money.h DivideHalfUp): the formula the interest
// events carry (schemas/events.fbs, InterestSegment) so a replay can recheck it.
// Values only; no I/O, no clock. Thread safety: a const accumulator may be shared; Apply()
// needs exclusive access.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "events/status.h"
#include "ledger/calendar.h"
#include "ledger/money.h"

namespace hpf::ledger {

// Accumulated balance: fen × days (积数).
struct FenDays {
  int64_t value = 0;
  auto operator<=>(const FenDays&) const = default;
};

// Days in the interest formula's year (DOMAIN §3, policy; 360 is the default). The values
// are the day counts, as the events' day_basis fields store them. On 365, a leap interest
// year still counts its 366 days of balances over 365.
enum class DayBasis : uint16_t {
  k360 = 360,
  k365 = 365,
};

// The DayBasis with `days` days; kInvalidArgument unless days is 360 or 365.
Result<DayBasis> DayBasisFromDays(uint16_t days);

// One entry of a dated rate table (policy): `rate` applies from `from` (inclusive) until the
// next entry's `from`. A table is sorted by `from`, strictly increasing.
struct RateSegment {
  Date from;
  RatePpm rate;
  bool operator==(const RateSegment&) const = default;
};

// Checks a rate table as the policy loader receives it: non-empty, at most
// kRateTableEntriesMax entries, `from` strictly increasing, every rate <= kRatePpmMax, and at
// most kRateSegmentsPerYearMax entries in force during any interest year (an accumulator's
// bound). kInvalidArgument naming the first offending entry (or year) otherwise.
Status ValidateRateTable(std::span<const RateSegment> rate_table);

// One stretch of an interest year at one rate with its 积数: it runs from `from` to the next
// segment's `from`, the last one to the end of the period (the year's credit value date, or
// the `until` of an interest-to-date). Mirrors schema InterestSegment.
struct InterestSegment {
  Date from;
  RatePpm rate;
  FenDays fen_days;
  bool operator==(const InterestSegment&) const = default;
};

// Everything an accumulator is, for persisting it (write-model state, projections) and
// restoring it with InterestAccumulator::FromParts().
struct InterestAccumulatorParts {
  InterestYear year;
  std::vector<InterestSegment> segments;  // the whole year, projected to its end
  Fen balance;                            // opening balance + every delta applied
  Date latest_value_date;                 // of any delta; the year's first day if none
};

class InterestAccumulator {
 public:
  // The accumulator of `year` for an account holding `opening_balance` at the start of the
  // year (the balance carried forward, with last year's interest credited on 1 July): every
  // day counts it, so each segment starts at opening_balance × its days. An account opened
  // during the year starts from Fen{0}. The segments are the entries of `rate_table` in force
  // during the year, the first one starting on the year's first day.
  // REQUIRES: ValidateRateTable(rate_table).ok(); rate_table.front().from <= year.FirstDay();
  //           at most kRateSegmentsPerYearMax entries are in force during the year.
  InterestAccumulator(InterestYear year, std::span<const RateSegment> rate_table,
                      Fen opening_balance);

  // Restores a persisted accumulator. kInvalidArgument if the parts break an invariant:
  // no segments or more than kRateSegmentsPerYearMax, the first not starting on the year's
  // first day, `from` not strictly increasing or outside the year, a rate above kRatePpmMax,
  // or latest_value_date outside the year.
  static Result<InterestAccumulator> FromParts(InterestAccumulatorParts parts);

  // The end-of-day balance changes by `delta` from `value_date` (inclusive) to the year's last
  // day (inclusive): adds delta × remaining days, split over the segments. A deposit,
  // allocation or back-payment (补缴) has a positive delta, a withdrawal or a reversal a
  // negative one. A withdrawal paid on D is value-dated D: D's end-of-day balance no longer
  // holds it, so it earns up to D - 1 (算头不算尾).
  // REQUIRES: year().FirstDay() <= value_date <= year().LastDay() (the caller decides what a
  // value date in an earlier, settled year means); no int64 overflow of balance or fen·days.
  void Apply(Date value_date, Fen delta);

  InterestYear year() const { return year_; }
  Fen balance() const { return balance_; }
  Date latest_value_date() const { return latest_value_date_; }
  // The whole year's segments: year end's 积数, what YearEndInterestCredited carries.
  std::span<const InterestSegment> segments() const { return segments_; }
  // Σ of segments()' fen·days.
  FenDays TotalFenDays() const;

  // The segments of [year().FirstDay(), until): the 积数 of the end-of-day balances of the
  // days before `until` only, what InterestToDateCredited carries. Segments starting on or
  // after `until` are left out (an empty list when until == year().FirstDay()); `until` ==
  // year().CreditValueDate() gives segments().
  // REQUIRES: year().FirstDay() <= until <= year().CreditValueDate();
  //           latest_value_date() <= until (no change value-dated after `until`).
  std::vector<InterestSegment> SegmentsUntil(Date until) const;

  InterestAccumulatorParts parts() const;

  // A policy change may alter the rate table from a day of the year on (PolicyChanged): the
  // first day of the year on which the segments stop being those `rate_table` gives (a
  // segment starting on another day or at another rate), or none if they are exactly those.
  std::optional<Date> FirstDayUnlike(std::span<const RateSegment> rate_table) const;

  // Makes the segments those of `rate_table` for the year, keeping every day's end-of-day
  // balance: the days before FirstDayUnlike() keep their 积数, and every day from it on holds
  // the running balance (no change is value-dated after it), so the new segments' 积数 are
  // exact. A no-op if FirstDayUnlike() is none. kFailedPrecondition, changing nothing, if a
  // change is value-dated after that day: splitting then would need the postings themselves.
  // REQUIRES: rate_table as the constructor's.
  Status Rerate(std::span<const RateSegment> rate_table);

 private:
  InterestAccumulator() = default;  // for FromParts

  InterestYear year_;
  std::vector<InterestSegment> segments_;  // 1 .. kRateSegmentsPerYearMax
  Fen balance_;
  Date latest_value_date_;
};

// round_half_up(Σ fen_days × rate_ppm / (10^6 × basis)) in fen: the one interest formula,
// for an accumulator's segments or for the segments an interest event carries.
Fen InterestOn(std::span<const InterestSegment> segments, DayBasis basis);

// The year's interest, settled on its last day: InterestOn(accumulator.segments(), basis).
Fen InterestFor(const InterestAccumulator& accumulator, DayBasis basis);

// Interest on the days of the year before `until`: for a closing withdrawal or transfer out
// paid on `until` (DOMAIN §3). InterestOn(accumulator.SegmentsUntil(until), basis).
// REQUIRES: as SegmentsUntil().
Fen InterestToDate(const InterestAccumulator& accumulator, Date until, DayBasis basis);

// The next year's accumulator after `ended` is settled: its opening balance is ended's
// closing balance plus the interest credited with value date 1 July, counted on every day
// of the new year (opening balance × days of the whole year, split by `rate_table`).
// REQUIRES: as the constructor, for ended.year().Next().
InterestAccumulator CarryForward(const InterestAccumulator& ended, Fen interest_credited,
                                 std::span<const RateSegment> rate_table);

}  // namespace hpf::ledger
