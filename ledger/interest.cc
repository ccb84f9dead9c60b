// ledger/interest.cc
#include "ledger/interest.h"

#include <algorithm>
#include <utility>

#include <fmt/core.h>

#include "events/assert.h"
#include "ledger/limits.h"

namespace hpf::ledger {
namespace {

constexpr Int128 kPpmPerUnit = 1'000'000;

// fen_days + delta × days, aborting on overflow (a bug: see ledger/money.h).
FenDays AddProduct(FenDays fen_days, Fen delta, int32_t days) {
  int64_t product = 0;
  const bool product_overflow = __builtin_mul_overflow(delta.value, int64_t{days}, &product);
  HPF_ASSERT(!product_overflow);
  FenDays sum;
  const bool sum_overflow = __builtin_add_overflow(fen_days.value, product, &sum.value);
  HPF_ASSERT(!sum_overflow);
  return sum;
}

}  // namespace

Result<DayBasis> DayBasisFromDays(uint16_t days) {
  switch (days) {
    case 360:
      return DayBasis::k360;
    case 365:
      return DayBasis::k365;
    default:
      return InvalidArgumentError(fmt::format("invalid day basis {}: must be 360 or 365", days));
  }
}

Status ValidateRateTable(std::span<const RateSegment> rate_table) {
  if (rate_table.empty()) {
    return InvalidArgumentError("rate table is empty");
  }
  if (rate_table.size() > kRateTableEntriesMax) {
    return InvalidArgumentError(fmt::format("rate table has {} entries, more than {}",
                                            rate_table.size(), kRateTableEntriesMax));
  }
  for (size_t i = 0; i < rate_table.size(); ++i) {
    const RateSegment& entry = rate_table[i];
    if (entry.rate.value > kRatePpmMax) {
      return InvalidArgumentError(
          fmt::format("rate table entry {} (from {}): rate {} ppm is above {} ppm", i,
                      entry.from.ToIsoString(), entry.rate.value, kRatePpmMax));
    }
    if (i > 0 && entry.from <= rate_table[i - 1].from) {
      return InvalidArgumentError(
          fmt::format("rate table entry {} (from {}): not after the previous entry (from {})", i,
                      entry.from.ToIsoString(), rate_table[i - 1].from.ToIsoString()));
    }
  }
  return Status::Ok();
}

InterestAccumulator::InterestAccumulator(InterestYear year, std::span<const RateSegment> rate_table,
                                         Fen opening_balance)
    : year_(year), latest_value_date_(year.FirstDay()) {
  HPF_DEBUG_ASSERT(ValidateRateTable(rate_table).ok());
  HPF_ASSERT(!rate_table.empty());
  const Date first_day = year.FirstDay();
  const Date last_day = year.LastDay();
  HPF_ASSERT(rate_table.front().from <= first_day);
  // The entry in force on the first day: the last one starting on or before it.
  size_t in_force = 0;
  while (in_force + 1 < rate_table.size() && rate_table[in_force + 1].from <= first_day) {
    ++in_force;
  }
  segments_.push_back({.from = first_day, .rate = rate_table[in_force].rate, .fen_days = {}});
  for (size_t i = in_force + 1; i < rate_table.size() && rate_table[i].from <= last_day; ++i) {
    HPF_ASSERT(rate_table[i].from > segments_.back().from);
    segments_.push_back({.from = rate_table[i].from, .rate = rate_table[i].rate, .fen_days = {}});
  }
  HPF_ASSERT(segments_.size() <= kRateSegmentsPerYearMax);
  for (const InterestSegment& segment : segments_) {
    HPF_ASSERT(segment.rate.value <= kRatePpmMax);
  }
  Apply(first_day, opening_balance);
}

Result<InterestAccumulator> InterestAccumulator::FromParts(InterestAccumulatorParts parts) {
  const Date first_day = parts.year.FirstDay();
  const Date last_day = parts.year.LastDay();
  const std::string year_name = fmt::format("interest year {}", parts.year.starting_year());
  if (parts.segments.empty() || parts.segments.size() > kRateSegmentsPerYearMax) {
    return InvalidArgumentError(fmt::format("{}: {} segments, expected 1 .. {}", year_name,
                                            parts.segments.size(), kRateSegmentsPerYearMax));
  }
  if (parts.segments.front().from != first_day) {
    return InvalidArgumentError(
        fmt::format("{}: the first segment starts on {}, not on the year's first day {}", year_name,
                    parts.segments.front().from.ToIsoString(), first_day.ToIsoString()));
  }
  for (size_t i = 0; i < parts.segments.size(); ++i) {
    const InterestSegment& segment = parts.segments[i];
    if (segment.rate.value > kRatePpmMax) {
      return InvalidArgumentError(fmt::format("{}: segment {} has rate {} ppm, above {} ppm",
                                              year_name, i, segment.rate.value, kRatePpmMax));
    }
    if (i > 0 && (segment.from <= parts.segments[i - 1].from || segment.from > last_day)) {
      return InvalidArgumentError(
          fmt::format("{}: segment {} starts on {}, not after the previous one and within "
                      "the year",
                      year_name, i, segment.from.ToIsoString()));
    }
  }
  if (parts.latest_value_date < first_day || parts.latest_value_date > last_day) {
    return InvalidArgumentError(fmt::format("{}: latest value date {} is outside the year",
                                            year_name, parts.latest_value_date.ToIsoString()));
  }
  InterestAccumulator accumulator;
  accumulator.year_ = parts.year;
  accumulator.segments_ = std::move(parts.segments);
  accumulator.balance_ = parts.balance;
  accumulator.latest_value_date_ = parts.latest_value_date;
  return accumulator;
}

void InterestAccumulator::Apply(Date value_date, Fen delta) {
  HPF_ASSERT(value_date >= year_.FirstDay());
  HPF_ASSERT(value_date <= year_.LastDay());
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Date end = i + 1 < segments_.size() ? segments_[i + 1].from : year_.CreditValueDate();
    const Date start = std::max(segments_[i].from, value_date);
    if (start < end) {
      segments_[i].fen_days = AddProduct(segments_[i].fen_days, delta, DaysBetween(start, end));
    }
  }
  balance_ += delta;
  latest_value_date_ = std::max(latest_value_date_, value_date);
}

FenDays InterestAccumulator::TotalFenDays() const {
  FenDays total;
  for (const InterestSegment& segment : segments_) {
    const bool overflow = __builtin_add_overflow(total.value, segment.fen_days.value, &total.value);
    HPF_ASSERT(!overflow);
  }
  return total;
}

std::vector<InterestSegment> InterestAccumulator::SegmentsUntil(Date until) const {
  HPF_ASSERT(until >= year_.FirstDay());
  HPF_ASSERT(until <= year_.CreditValueDate());
  HPF_ASSERT(latest_value_date_ <= until);
  std::vector<InterestSegment> result;
  for (size_t i = 0; i < segments_.size() && segments_[i].from < until; ++i) {
    const Date end = i + 1 < segments_.size() ? segments_[i + 1].from : year_.CreditValueDate();
    // The days of this segment from `until` on each hold the running balance (no change is
    // value-dated after `until`): take them out again.
    const int32_t days_after = DaysBetween(std::min(end, until), end);
    InterestSegment segment = segments_[i];
    segment.fen_days = AddProduct(segment.fen_days, -balance_, days_after);
    result.push_back(segment);
  }
  return result;
}

InterestAccumulatorParts InterestAccumulator::parts() const {
  return {.year = year_,
          .segments = segments_,
          .balance = balance_,
          .latest_value_date = latest_value_date_};
}

Fen InterestOn(std::span<const InterestSegment> segments, DayBasis basis) {
  const uint16_t basis_days = static_cast<uint16_t>(basis);
  HPF_ASSERT(basis_days == 360 || basis_days == 365);
  HPF_ASSERT(segments.size() <= kRateSegmentsPerYearMax);
  // Each term is below 2^63 × 2^20 = 2^83 and there are at most 16: far inside Int128.
  Int128 numerator = 0;
  for (const InterestSegment& segment : segments) {
    HPF_ASSERT(segment.rate.value <= kRatePpmMax);
    numerator += static_cast<Int128>(segment.fen_days.value) * segment.rate.value;
  }
  return FenFromInt128(DivideHalfUp(numerator, kPpmPerUnit * basis_days));
}

Fen InterestFor(const InterestAccumulator& accumulator, DayBasis basis) {
  return InterestOn(accumulator.segments(), basis);
}

Fen InterestToDate(const InterestAccumulator& accumulator, Date until, DayBasis basis) {
  return InterestOn(accumulator.SegmentsUntil(until), basis);
}

InterestAccumulator CarryForward(const InterestAccumulator& ended, Fen interest_credited,
                                 std::span<const RateSegment> rate_table) {
  return InterestAccumulator(ended.year().Next(), rate_table, ended.balance() + interest_credited);
}

}  // namespace hpf::ledger
