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

// The segments `rate_table` gives `year` (the entry in force on the year's first day, then
// every entry starting during the year), read in place: comparing an accumulator with its
// table allocates nothing. REQUIRES: rate_table is valid and its first entry starts on or
// before the year's first day.
class YearSegments {
 public:
  YearSegments(InterestYear year, std::span<const RateSegment> rate_table)
      : table_(rate_table), first_day_(year.FirstDay()) {
    HPF_ASSERT(!rate_table.empty());
    HPF_ASSERT(rate_table.front().from <= first_day_);
    const auto starts_after = [](Date day, const RateSegment& entry) { return day < entry.from; };
    in_force_ = static_cast<size_t>(
        std::upper_bound(table_.begin(), table_.end(), first_day_, starts_after) - table_.begin() -
        1);
    end_ = static_cast<size_t>(
        std::upper_bound(table_.begin(), table_.end(), year.LastDay(), starts_after) -
        table_.begin());
    HPF_ASSERT(size() <= kRateSegmentsPerYearMax);
  }

  size_t size() const { return end_ - in_force_; }
  InterestSegment operator[](size_t i) const {
    const RateSegment& entry = table_[in_force_ + i];
    HPF_ASSERT(entry.rate.value <= kRatePpmMax);
    return {.from = i == 0 ? first_day_ : entry.from, .rate = entry.rate, .fen_days = {}};
  }

  std::vector<InterestSegment> ToVector() const {
    std::vector<InterestSegment> segments;
    segments.reserve(size());
    for (size_t i = 0; i < size(); ++i) segments.push_back((*this)[i]);
    return segments;
  }

 private:
  std::span<const RateSegment> table_;
  Date first_day_;
  size_t in_force_ = 0;  // the last entry starting on or before the first day
  size_t end_ = 0;       // one past the last entry starting on or before the last day
};

// Where an accumulator's segments part from the table's: the index of the first segment that
// differs in start or rate (or exists on one side only) and the first day it concerns; none
// if they are the same.
std::optional<std::pair<size_t, Date>> FirstDifference(std::span<const InterestSegment> held,
                                                       const YearSegments& wanted) {
  for (size_t i = 0; i < held.size() || i < wanted.size(); ++i) {
    if (i >= held.size()) return std::pair{i, wanted[i].from};
    if (i >= wanted.size()) return std::pair{i, held[i].from};
    const InterestSegment segment = wanted[i];
    if (held[i].from != segment.from || held[i].rate != segment.rate) {
      return std::pair{i, std::min(held[i].from, segment.from)};
    }
  }
  return std::nullopt;
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
  // A year's segments: the entry in force on its first day, and one per entry starting after
  // it within the year. Entries are sorted, so for entry i those are the entries from
  // `after_first` (the first starting after the year's first day) to i.
  size_t after_first = 0;
  for (size_t i = 0; i < rate_table.size(); ++i) {
    const auto year = InterestYear::Containing(rate_table[i].from);
    if (!year.has_value()) continue;  // before the first or after the last interest year
    while (after_first <= i && rate_table[after_first].from <= year->FirstDay()) ++after_first;
    const size_t segments = 1 + (i + 1 - after_first);
    if (segments > kRateSegmentsPerYearMax) {
      return InvalidArgumentError(fmt::format(
          "rate table entry {} (from {}): interest year {} would have {} rate segments, more "
          "than {}",
          i, rate_table[i].from.ToIsoString(), year->starting_year(), segments,
          kRateSegmentsPerYearMax));
    }
  }
  return Status::Ok();
}

InterestAccumulator::InterestAccumulator(InterestYear year, std::span<const RateSegment> rate_table,
                                         Fen opening_balance)
    : year_(year), latest_value_date_(year.FirstDay()) {
  HPF_DEBUG_ASSERT(ValidateRateTable(rate_table).ok());
  segments_ = YearSegments(year, rate_table).ToVector();
  Apply(year.FirstDay(), opening_balance);
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

std::optional<Date> InterestAccumulator::FirstDayUnlike(
    std::span<const RateSegment> rate_table) const {
  const auto difference = FirstDifference(segments_, YearSegments(year_, rate_table));
  if (!difference.has_value()) return std::nullopt;
  return difference->second;
}

Status InterestAccumulator::Rerate(std::span<const RateSegment> rate_table) {
  const YearSegments table_segments(year_, rate_table);
  const auto difference = FirstDifference(segments_, table_segments);
  if (!difference.has_value()) return Status::Ok();
  const auto [first_index, first_day] = *difference;
  if (latest_value_date_ > first_day) {
    return FailedPreconditionError(fmt::format(
        "interest year {}: the rate table changes from {}, but money is value-dated {}",
        year_.starting_year(), first_day.ToIsoString(), latest_value_date_.ToIsoString()));
  }
  // Every day from first_day on holds balance_. The segments before first_index start and
  // rate as before: each keeps its 积数, give or take the days its end moves by (all on or
  // after first_day); the others start on or after first_day and hold balance_ × their days.
  const auto end_of = [this](std::span<const InterestSegment> segments, size_t i) {
    return i + 1 < segments.size() ? segments[i + 1].from : year_.CreditValueDate();
  };
  std::vector<InterestSegment> wanted = table_segments.ToVector();
  for (size_t i = 0; i < wanted.size(); ++i) {
    const Date end = end_of(wanted, i);
    wanted[i].fen_days =
        i < first_index
            ? AddProduct(segments_[i].fen_days, balance_, DaysBetween(end_of(segments_, i), end))
            : AddProduct(FenDays{}, balance_, DaysBetween(wanted[i].from, end));
  }
  segments_ = std::move(wanted);
  return Status::Ok();
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
