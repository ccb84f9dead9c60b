// tests/ledger/calendar_test.cc — dates, months and interest years.
//
// Expected day counts were computed with Python's datetime (date(...) - date(...)).days and
// by hand; the comment beside each says how.
#include "ledger/calendar.h"

#include <cstdint>
#include <string>

#include <doctest/doctest.h>

namespace hpf::ledger {
namespace {

Date D(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }
Month M(uint32_t yyyymm) { return Month::FromYyyymm(yyyymm).value(); }
InterestYear Y(int32_t year) { return InterestYear::FromStartingYear(year).value(); }

// The message of a failed Result, for checking that it names the value and the rule.
template <typename T>
std::string ErrorOf(const Result<T>& result) {
  REQUIRE(!result.has_value());
  CHECK(result.error().code() == StatusCode::kInvalidArgument);
  return result.error().message();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_SUITE("ledger") {
  TEST_CASE("Date: yyyymmdd, civil fields and days since 1970 agree") {
    const Date date = D(20220621);
    CHECK(date.year() == 2022);
    CHECK(date.month() == 6);
    CHECK(date.day() == 21);
    CHECK(date.yyyymmdd() == 20220621u);
    CHECK(date.ToIsoString() == "2022-06-21");
    CHECK(date.days_since_epoch() == 19164);  // (date(2022,6,21) - date(1970,1,1)).days
    CHECK(Date::FromDaysSinceEpoch(19164) == date);
    CHECK(Date::FromCivil(2022, 6, 21).value() == date);
    CHECK(Date::ParseIso("2022-06-21").value() == date);
    CHECK(Date().yyyymmdd() == 19900101u);  // the default is the first valid day
    CHECK(D(19900101).days_since_epoch() == 7305);
    CHECK(D(21991231).days_since_epoch() == 84005);
  }

  TEST_CASE("Date: every day of the range matches an independent day-by-day count") {
    // Walk 1990-01-01 .. 2199-12-31 with a plain y/m/d counter (its own month lengths and
    // leap rule) and compare each day: 76 701 days, (date(2199,12,31) - date(1990,1,1)) + 1.
    const int32_t lengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int32_t year = 1990;
    int32_t month = 1;
    int32_t day = 1;
    int32_t days_count = 0;
    int32_t mismatches_count = 0;
    for (int32_t days = 7305; days <= 84005; ++days) {
      const uint32_t expected = static_cast<uint32_t>(year * 10000 + month * 100 + day);
      const Date date = Date::FromDaysSinceEpoch(days);
      const Result<Date> parsed = Date::FromYyyymmdd(expected);
      if (date.yyyymmdd() != expected || !parsed.has_value() || *parsed != date) {
        ++mismatches_count;
      }
      ++days_count;
      const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
      const int32_t length = month == 2 && leap ? 29 : lengths[month - 1];
      if (++day > length) {
        day = 1;
        if (++month > 12) {
          month = 1;
          ++year;
        }
      }
    }
    CHECK(days_count == 76701);
    CHECK(mismatches_count == 0);
    CHECK(year == 2200);  // the counter ended just past 2199-12-31
  }

  TEST_CASE("Date: leap years follow the Gregorian rule") {
    CHECK(Date::FromYyyymmdd(20240229).has_value());  // divisible by 4
    CHECK(Date::FromYyyymmdd(20000229).has_value());  // divisible by 400
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(20230229)), "2023-02 has days 01-28"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(21000229)), "2100-02 has days 01-28"));
    CHECK(IsLeapYear(2024));
    CHECK(IsLeapYear(2000));
    CHECK(!IsLeapYear(2100));
    CHECK(!IsLeapYear(2023));
    CHECK(DaysInMonth(2024, 2) == 29);
    CHECK(DaysInMonth(2100, 2) == 28);
    CHECK(DaysInMonth(2022, 4) == 30);
  }

  TEST_CASE("Date: invalid and out-of-range input is rejected with a message naming it") {
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(20230229)), "invalid date 2023-02-29"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(20221301)), "month must be 01-12"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(20220001)), "month must be 01-12"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(20220400)), "2022-04 has days 01-30"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(20220431)), "2022-04 has days 01-30"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(19891231)), "invalid date 19891231: outside"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(22000101)), "outside 19900101 .. 21991231"));
    CHECK(Contains(ErrorOf(Date::FromYyyymmdd(0)), "invalid date 0"));
    CHECK(Contains(ErrorOf(Date::FromCivil(1989, 12, 31)), "outside 1990-01-01"));
    CHECK(Contains(ErrorOf(Date::FromCivil(2022, 2, 30)), "2022-02 has days 01-28"));
    CHECK(Contains(ErrorOf(Date::ParseIso("2022-6-21")), "expected yyyy-mm-dd"));
    CHECK(Contains(ErrorOf(Date::ParseIso("2022-06-21x")), "expected yyyy-mm-dd"));
    CHECK(Contains(ErrorOf(Date::ParseIso("2022/06/21")), "expected yyyy-mm-dd"));
    CHECK(Contains(ErrorOf(Date::ParseIso("")), "expected yyyy-mm-dd"));
    CHECK(Contains(ErrorOf(Date::ParseIso("2023-02-29")), "2023-02 has days 01-28"));
  }

  TEST_CASE("DaysBetween: counts the days of [from, to), across months, years and leap days") {
    CHECK(DaysBetween(D(20220621), D(20220701)) == 10);  // 21..30 June
    CHECK(DaysBetween(D(20211231), D(20220101)) == 1);
    CHECK(DaysBetween(D(20220101), D(20211231)) == -1);
    CHECK(DaysBetween(D(20200228), D(20200301)) == 2);  // 2020-02-29 between
    CHECK(DaysBetween(D(20210228), D(20210301)) == 1);
    CHECK(DaysBetween(D(21000228), D(21000301)) == 1);    // 2100 is not a leap year
    CHECK(DaysBetween(D(20210115), D(20220630)) == 531);  // Python: 531
    CHECK(DaysBetween(D(19900101), D(21991231)) == 76700);
    CHECK(DaysBetween(D(20220621), D(20220621)) == 0);
  }

  TEST_CASE("AddDays: moves across month, year and leap-day boundaries") {
    CHECK(AddDays(D(20220621), 10) == D(20220701));
    CHECK(AddDays(D(20240228), 1) == D(20240229));
    CHECK(AddDays(D(20240301), -1) == D(20240229));
    CHECK(AddDays(D(20230301), -1) == D(20230228));
    CHECK(AddDays(D(20221231), 1) == D(20230101));
    CHECK(AddDays(D(19900101), 76700) == D(21991231));
  }

  TEST_CASE("Month: yyyymm, next and previous across years, first and last days") {
    const Month month = M(202212);
    CHECK(month.year() == 2022);
    CHECK(month.month() == 12);
    CHECK(month.Next() == M(202301));
    CHECK(M(202301).Prev() == month);
    CHECK(month.FirstDay() == D(20221201));
    CHECK(month.LastDay() == D(20221231));
    CHECK(M(202402).LastDay() == D(20240229));
    CHECK(M(202402).DayCount() == 29);
    CHECK(M(202302).DayCount() == 28);
    CHECK(MonthOf(D(20220621)) == M(202206));
    CHECK(MonthOf(D(20221231)).yyyymm() == 202212u);
    CHECK(MonthsBetween(M(202201), M(202204)) == 3);
    CHECK(MonthsBetween(M(202111), M(202202)) == 3);
    CHECK(MonthsBetween(M(202204), M(202201)) == -3);
    CHECK(Month().yyyymm() == 199001u);
    CHECK(Contains(ErrorOf(Month::FromYyyymm(202213)), "invalid month 202213"));
    CHECK(Contains(ErrorOf(Month::FromYyyymm(202200)), "month must be 01-12"));
    CHECK(Contains(ErrorOf(Month::FromYyyymm(198912)), "outside 199001 .. 219912"));
    CHECK(Contains(ErrorOf(Month::FromYyyymm(220001)), "outside 199001 .. 219912"));
  }

  TEST_CASE("InterestYear: 1 July to 30 June, named by its July, settled and credited") {
    const InterestYear year = Y(2021);
    CHECK(year.FirstDay() == D(20210701));
    CHECK(year.LastDay() == D(20220630));
    CHECK(year.SettlementDate() == D(20220630));
    CHECK(year.CreditValueDate() == D(20220701));
    CHECK(year.Next().FirstDay() == D(20220701));
    CHECK(year.Prev() == Y(2020));
    // Python: (date(2022,7,1) - date(2021,7,1)).days == 365; 2023-07..2024-06 holds
    // 2024-02-29 (366); 2019-07..2020-06 holds 2020-02-29 (366); 2099-07..2100-06 none (365).
    CHECK(year.DayCount() == 365);
    CHECK(Y(2023).DayCount() == 366);
    CHECK(Y(2019).DayCount() == 366);
    CHECK(Y(2099).DayCount() == 365);
  }

  TEST_CASE("InterestYear: the boundary days fall in the right year") {
    CHECK(InterestYearOf(D(20220630)) == Y(2021));
    CHECK(InterestYearOf(D(20220701)) == Y(2022));
    CHECK(InterestYearOf(D(20220101)) == Y(2021));
    CHECK(InterestYearOf(D(20211231)) == Y(2021));
    CHECK(InterestYearOf(D(19900701)) == Y(1990));
    CHECK(InterestYearOf(D(21990630)) == Y(2198));
    CHECK(Y(2198).CreditValueDate() == D(21990701));
    CHECK(Contains(ErrorOf(InterestYear::Containing(D(19900630))), "1990-06-30"));
    CHECK(Contains(ErrorOf(InterestYear::Containing(D(21990701))), "no valid interest year"));
    CHECK(Contains(ErrorOf(InterestYear::FromStartingYear(1989)), "invalid interest year 1989"));
    CHECK(Contains(ErrorOf(InterestYear::FromStartingYear(2199)), "outside 1990 .. 2198"));
  }
}

}  // namespace
}  // namespace hpf::ledger
