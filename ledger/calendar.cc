// ledger/calendar.cc
#include "ledger/calendar.h"

#include <fmt/core.h>

#include "events/assert.h"
#include "ledger/limits.h"

namespace hpf::ledger {
namespace {

// Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms" (public domain). Valid for
// every proleptic Gregorian date; our range keeps all values positive, but the era
// arithmetic is written for negative years too so the functions are correct as they stand.
constexpr int32_t DaysFromCivil(int32_t year, int32_t month, int32_t day) {
  const int32_t y = month <= 2 ? year - 1 : year;
  const int32_t era = (y >= 0 ? y : y - 399) / 400;
  const int32_t year_of_era = y - era * 400;  // [0, 399]
  const int32_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int32_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  return era * 146097 + day_of_era - 719468;
}

struct Civil {
  int32_t year;
  int32_t month;
  int32_t day;
};

constexpr Civil CivilFromDays(int32_t days) {
  const int32_t z = days + 719468;
  const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int32_t day_of_era = z - era * 146097;  // [0, 146096]
  const int32_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int32_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365]
  const int32_t shifted_month = (5 * day_of_year + 2) / 153;                   // March = 0
  const int32_t day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const int32_t month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  return Civil{year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

constexpr int32_t kDaysMin = DaysFromCivil(1990, 1, 1);
constexpr int32_t kDaysMax = DaysFromCivil(2199, 12, 31);
static_assert(kDaysMin == 7305, "Date's default in calendar.h");
static_assert(kDateYyyymmddMin == 19900101, "kDaysMin above");
static_assert(kDateYyyymmddMax == 21991231, "kDaysMax above");
static_assert(DaysFromCivil(1970, 1, 1) == 0, "the epoch");
static_assert(CivilFromDays(kDaysMax).year == 2199, "round trip");

constexpr int32_t kMonthIndexMin = 1990 * 12;
constexpr int32_t kMonthIndexMax = 2199 * 12 + 11;
static_assert(kMonthYyyymmMin == 199001, "kMonthIndexMin above");
static_assert(kMonthYyyymmMax == 219912, "kMonthIndexMax above");

constexpr int32_t kJuly = 7;

bool IsValidDays(int32_t days) { return days >= kDaysMin && days <= kDaysMax; }

}  // namespace

bool IsLeapYear(int32_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int32_t DaysInMonth(int32_t year, int32_t month) {
  HPF_ASSERT(month >= 1);
  HPF_ASSERT(month <= 12);
  constexpr int32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) {
    return 29;
  }
  return kDays[month - 1];
}

Result<Date> Date::FromCivil(int32_t year, int32_t month, int32_t day) {
  if (month < 1 || month > 12) {
    return InvalidArgumentError(
        fmt::format("invalid date {:04}-{:02}-{:02}: month must be 01-12", year, month, day));
  }
  // Check the year before DaysInMonth so a wild year cannot reach the arithmetic.
  if (year < 1990 || year > 2199) {
    return InvalidArgumentError(fmt::format(
        "invalid date {:04}-{:02}-{:02}: outside 1990-01-01 .. 2199-12-31", year, month, day));
  }
  const int32_t days_in_month = DaysInMonth(year, month);
  if (day < 1 || day > days_in_month) {
    return InvalidArgumentError(
        fmt::format("invalid date {:04}-{:02}-{:02}: {:04}-{:02} has days 01-{:02}", year, month,
                    day, year, month, days_in_month));
  }
  const int32_t days = DaysFromCivil(year, month, day);
  HPF_ASSERT(IsValidDays(days));
  return Date(days);
}

Result<Date> Date::FromYyyymmdd(uint32_t yyyymmdd) {
  if (yyyymmdd < kDateYyyymmddMin || yyyymmdd > kDateYyyymmddMax) {
    return InvalidArgumentError(fmt::format("invalid date {}: outside {} .. {} (yyyymmdd)",
                                            yyyymmdd, kDateYyyymmddMin, kDateYyyymmddMax));
  }
  // In range, so every part fits in int32.
  return FromCivil(static_cast<int32_t>(yyyymmdd / 10000),
                   static_cast<int32_t>(yyyymmdd / 100 % 100),
                   static_cast<int32_t>(yyyymmdd % 100));
}

Result<Date> Date::ParseIso(std::string_view text) {
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto digits = [&](size_t begin, size_t count) {
    int32_t value = 0;
    for (size_t i = begin; i < begin + count; ++i) {
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  bool well_formed = text.size() == 10 && text[4] == '-' && text[7] == '-';
  for (size_t i = 0; well_formed && i < text.size(); ++i) {
    well_formed = i == 4 || i == 7 || is_digit(text[i]);
  }
  if (!well_formed) {
    return InvalidArgumentError(
        fmt::format("invalid date \"{}\": expected yyyy-mm-dd", text.substr(0, 32)));
  }
  return FromCivil(digits(0, 4), digits(5, 2), digits(8, 2));
}

Date Date::FromDaysSinceEpoch(int32_t days) {
  HPF_ASSERT(IsValidDays(days));
  return Date(days);
}

int32_t Date::year() const { return CivilFromDays(days_).year; }
int32_t Date::month() const { return CivilFromDays(days_).month; }
int32_t Date::day() const { return CivilFromDays(days_).day; }

uint32_t Date::yyyymmdd() const {
  const Civil civil = CivilFromDays(days_);
  return static_cast<uint32_t>(civil.year * 10000 + civil.month * 100 + civil.day);
}

std::string Date::ToIsoString() const {
  const Civil civil = CivilFromDays(days_);
  return fmt::format("{:04}-{:02}-{:02}", civil.year, civil.month, civil.day);
}

int32_t DaysBetween(Date from, Date to) { return to.days_since_epoch() - from.days_since_epoch(); }

Date AddDays(Date date, int32_t days) {
  // Both operands are bounded by the valid range (|days| beyond it fails the assert below
  // without overflowing first).
  HPF_ASSERT(days >= kDaysMin - kDaysMax);
  HPF_ASSERT(days <= kDaysMax - kDaysMin);
  return Date::FromDaysSinceEpoch(date.days_since_epoch() + days);
}

Result<Month> Month::FromYyyymm(uint32_t yyyymm) {
  const uint32_t month = yyyymm % 100;
  if (month < 1 || month > 12) {
    return InvalidArgumentError(fmt::format("invalid month {}: month must be 01-12", yyyymm));
  }
  if (yyyymm < kMonthYyyymmMin || yyyymm > kMonthYyyymmMax) {
    return InvalidArgumentError(fmt::format("invalid month {}: outside {} .. {} (yyyymm)", yyyymm,
                                            kMonthYyyymmMin, kMonthYyyymmMax));
  }
  return Month(static_cast<int32_t>(yyyymm / 100) * 12 + static_cast<int32_t>(month) - 1);
}

uint32_t Month::yyyymm() const { return static_cast<uint32_t>(year() * 100 + month()); }

Month Month::Next() const {
  HPF_ASSERT(index_ < kMonthIndexMax);
  return Month(index_ + 1);
}

Month Month::Prev() const {
  HPF_ASSERT(index_ > kMonthIndexMin);
  return Month(index_ - 1);
}

Date Month::FirstDay() const { return Date::FromDaysSinceEpoch(DaysFromCivil(year(), month(), 1)); }

Date Month::LastDay() const {
  return Date::FromDaysSinceEpoch(DaysFromCivil(year(), month(), DayCount()));
}

int32_t Month::DayCount() const { return DaysInMonth(year(), month()); }

Month MonthOf(Date date) {
  return Month::FromYyyymm(date.yyyymmdd() / 100).value();  // a valid date has a valid month
}

int32_t MonthsBetween(Month from, Month to) {
  return (to.year() * 12 + to.month()) - (from.year() * 12 + from.month());
}

Result<InterestYear> InterestYear::FromStartingYear(int32_t year) {
  if (year < kInterestYearFirst || year > kInterestYearLast) {
    return InvalidArgumentError(fmt::format("invalid interest year {}: outside {} .. {}", year,
                                            kInterestYearFirst, kInterestYearLast));
  }
  return InterestYear(year);
}

Result<InterestYear> InterestYear::Containing(Date date) {
  const int32_t year = date.month() >= kJuly ? date.year() : date.year() - 1;
  if (year < kInterestYearFirst || year > kInterestYearLast) {
    return InvalidArgumentError(fmt::format(
        "date {} has no valid interest year: interest years run from {}-07-01 to {}-06-30",
        date.ToIsoString(), kInterestYearFirst, kInterestYearLast + 1));
  }
  return InterestYear(year);
}

Date InterestYear::FirstDay() const {
  return Date::FromDaysSinceEpoch(DaysFromCivil(year_, kJuly, 1));
}

Date InterestYear::LastDay() const { return AddDays(CreditValueDate(), -1); }

Date InterestYear::SettlementDate() const { return LastDay(); }

Date InterestYear::CreditValueDate() const {
  return Date::FromDaysSinceEpoch(DaysFromCivil(year_ + 1, kJuly, 1));
}

int32_t InterestYear::DayCount() const { return DaysBetween(FirstDay(), CreditValueDate()); }

InterestYear InterestYear::Next() const {
  HPF_ASSERT(year_ < kInterestYearLast);
  return InterestYear(year_ + 1);
}

InterestYear InterestYear::Prev() const {
  HPF_ASSERT(year_ > kInterestYearFirst);
  return InterestYear(year_ - 1);
}

InterestYear InterestYearOf(Date date) { return InterestYear::Containing(date).value(); }

}  // namespace hpf::ledger
