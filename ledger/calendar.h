// ledger/calendar.h — days (Date), months (Month) and interest years (InterestYear) of the
// proleptic Gregorian calendar, as the fund's value dates and periods use them.
//
// A Date is a count of days since 1970-01-01 inside; conversions use Howard Hinnant's
// days-from-civil / civil-from-days algorithms. Valid dates are 1990-01-01 .. 2199-12-31
// (ledger/limits.h); every Date object holds a valid date, so untrusted input goes through
// the Result-returning factories and everything else asserts (REQUIRES). Pure and
// thread-safe; there is no "today" here: time enters through commands (DESIGN §1, 8).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/status.h"

namespace hpf::ledger {

// One calendar day.
class Date {
 public:
  // 1990-01-01, the first valid date (so that a default Date is still a valid one).
  Date() = default;

  // From yyyymmdd (20220621), the form of every *_date field of the schemas. Fails with
  // kInvalidArgument, naming the value and the rule, for a day that does not exist
  // (20230229, 20221301) or lies outside 1990-01-01 .. 2199-12-31.
  static Result<Date> FromYyyymmdd(uint32_t yyyymmdd);
  // From the year, month (1-12) and day (1-31), same checks.
  static Result<Date> FromCivil(int32_t year, int32_t month, int32_t day);
  // From "yyyy-mm-dd" exactly (ten characters, as query parameters and reports write it).
  static Result<Date> ParseIso(std::string_view text);
  // From a count of days since 1970-01-01. REQUIRES: the day is a valid date.
  static Date FromDaysSinceEpoch(int32_t days);

  int32_t days_since_epoch() const { return days_; }
  int32_t year() const;
  int32_t month() const;  // 1-12
  int32_t day() const;    // 1-31
  uint32_t yyyymmdd() const;
  std::string ToIsoString() const;  // "2022-06-21"

  auto operator<=>(const Date&) const = default;

 private:
  explicit Date(int32_t days) : days_(days) {}

  int32_t days_ = 7305;  // 1990-01-01; calendar.cc static_asserts the figure
};

// Days from `from` to `to`: the number of days in [from, to), negative if `to` is earlier.
// DaysBetween(2022-06-21, 2022-07-01) == 10.
int32_t DaysBetween(Date from, Date to);

// `date` moved by `days` (negative moves back). REQUIRES: the result is a valid date.
Date AddDays(Date date, int32_t days);

bool IsLeapYear(int32_t year);
// REQUIRES: 1 <= month <= 12.
int32_t DaysInMonth(int32_t year, int32_t month);

// One calendar month: contribution months, paid-up-to months (缴至年月), statement months.
class Month {
 public:
  // 1990-01, the first valid month.
  Month() = default;

  // From yyyymm (202206). Fails with kInvalidArgument for month 0 or 13 and outside
  // 1990-01 .. 2199-12.
  static Result<Month> FromYyyymm(uint32_t yyyymm);

  int32_t year() const { return index_ / 12; }
  int32_t month() const { return index_ % 12 + 1; }  // 1-12
  uint32_t yyyymm() const;

  // The following and previous months. REQUIRES: the result is a valid month.
  Month Next() const;
  Month Prev() const;

  Date FirstDay() const;
  Date LastDay() const;
  int32_t DayCount() const;  // 28-31

  auto operator<=>(const Month&) const = default;

 private:
  explicit Month(int32_t index) : index_(index) {}

  int32_t index_ = 1990 * 12;  // year × 12 + (month - 1)
};

// The month `date` falls in.
Month MonthOf(Date date);

// Months from `from` to `to`: MonthsBetween(2022-01, 2022-04) == 3; negative if `to` is
// earlier. (Arrears: an employer paid up to `from` is MonthsBetween(from, current) behind.)
int32_t MonthsBetween(Month from, Month to);

// An interest (and contribution) year: 1 July to the next 30 June, named by the year of its
// July — InterestYear 2021 is 2021-07-01 .. 2022-06-30. Interest is settled on its last day
// and credited with value date the next 1 July (DOMAIN §3). Valid years are 1990 .. 2198,
// those whose days and credit value date are all valid dates (ledger/limits.h).
class InterestYear {
 public:
  // 1990, the first valid year.
  InterestYear() = default;

  // Fails with kInvalidArgument outside 1990 .. 2198.
  static Result<InterestYear> FromStartingYear(int32_t year);
  // The year containing `date`. Fails with kInvalidArgument for a date before 1990-07-01 or
  // after 2199-06-30 (its year would be 1989 or 2199). See also InterestYearOf().
  static Result<InterestYear> Containing(Date date);

  int32_t starting_year() const { return year_; }

  Date FirstDay() const;         // 1 July of starting_year()
  Date LastDay() const;          // 30 June of starting_year() + 1
  Date SettlementDate() const;   // the day interest is settled: LastDay()
  Date CreditValueDate() const;  // the value date of the credit: the next year's FirstDay()
  int32_t DayCount() const;      // 366 if the year holds a 29 February, else 365

  // REQUIRES: the result is a valid interest year.
  InterestYear Next() const;
  InterestYear Prev() const;

  auto operator<=>(const InterestYear&) const = default;

 private:
  explicit InterestYear(int32_t year) : year_(year) {}

  int32_t year_ = 1990;
};

// The interest year containing `date`, for dates already validated against it.
// REQUIRES: 1990-07-01 <= date <= 2199-06-30 (Containing() checks instead).
InterestYear InterestYearOf(Date date);

}  // namespace hpf::ledger
