// tests/ledger/interest_test.cc — accumulated daily balances (积数) and the interest on them.
//
// Every expected figure was computed outside the code under test: by hand (the tables in the
// comments) and checked with Python, summing each day's end-of-day balance one day at a time
// with datetime and rounding Fraction(Σ fen_days × rate_ppm, 10**6 × basis) half-up.
#include "ledger/interest.h"

#include <cstdint>
#include <optional>
#include <vector>

#include <doctest/doctest.h>

namespace hpf::ledger {
namespace {

Date D(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }
InterestYear Y(int32_t year) { return InterestYear::FromStartingYear(year).value(); }

// 1.50 % a year since 2016-02-21 (DOMAIN §3).
const std::vector<RateSegment> kRates = {{.from = D(20160221), .rate = RatePpm{15'000}}};

// HYPOTHETICAL: 1.50 % until 2022-01-31, then 1.75 % from 2022-02-01. No such change
// happened; it exercises a rate change inside interest year 2021.
const std::vector<RateSegment> kRatesChanging = {
    {.from = D(20160221), .rate = RatePpm{15'000}},
    {.from = D(20220201), .rate = RatePpm{17'500}},
};

TEST_SUITE("ledger") {
  TEST_CASE("InterestAccumulator: DOMAIN's worked example, 1 000 yuan from 2022-06-21") {
    InterestAccumulator accumulator(Y(2021), kRates, Fen{0});
    accumulator.Apply(D(20220621), Fen{100'000});
    // 21..30 June is 10 days: 100 000 fen × 10 = 1 000 000 fen·days.
    CHECK(accumulator.TotalFenDays() == FenDays{1'000'000});
    // 1 000 000 × 15 000 / (10^6 × 360) = 41.67 fen -> 42; on 365: 41.10 fen -> 41.
    CHECK(InterestFor(accumulator, DayBasis::k360) == Fen{42});
    CHECK(InterestFor(accumulator, DayBasis::k365) == Fen{41});
    CHECK(accumulator.balance() == Fen{100'000});
  }

  TEST_CASE("InterestAccumulator: one employee's year with a base change and a back-payment") {
    // Interest year 2021 (2021-07-01 .. 2022-06-30, 365 days). Carried forward 50 000.00 yuan.
    // Base 8 000.00 yuan until December, 9 000.00 yuan from January; 12 % each side, so
    // 960.00 + 960.00 = 1 920.00 yuan a month, then 1 080.00 + 1 080.00 = 2 160.00 yuan,
    // credited on the 15th. September was missed and back-paid (补缴) on 2022-03-20,
    // value-dated 2021-09-15 — applied after later postings, in the order they arrive.
    // Remaining days = (date(2022,7,1) - value date).days.
    //   value date   amount fen   days   fen·days
    //   2021-07-01    5 000 000    365   1 825 000 000   opening balance
    //   2021-07-15      192 000    351      67 392 000
    //   2021-08-15      192 000    320      61 440 000
    //   2021-09-15      192 000    289      55 488 000   back-payment
    //   2021-10-15      192 000    259      49 728 000
    //   2021-11-15      192 000    228      43 776 000
    //   2021-12-15      192 000    198      38 016 000
    //   2022-01-15      216 000    167      36 072 000   new base from January
    //   2022-02-15      216 000    136      29 376 000
    //   2022-03-15      216 000    108      23 328 000
    //   2022-04-15      216 000     77      16 632 000
    //   2022-05-15      216 000     47      10 152 000
    //   2022-06-15      216 000     16       3 456 000
    //   total balance 7 448 000         2 259 856 000 fen·days
    // 360: 2 259 856 000 × 15 000 / 360 000 000 = 94 160.67 fen -> 94 161 (941.61 yuan)
    // 365: 2 259 856 000 × 15 000 / 365 000 000 = 92 870.79 fen -> 92 871 (928.71 yuan)
    const Fen old_side = ApplyRate(Fen{800'000}, RatePpm{120'000}, RoundingRule::kHalfUpToFen);
    const Fen new_side = ApplyRate(Fen{900'000}, RatePpm{120'000}, RoundingRule::kHalfUpToFen);
    REQUIRE(old_side == Fen{96'000});
    REQUIRE(new_side == Fen{108'000});

    InterestAccumulator accumulator(Y(2021), kRates, Fen{5'000'000});
    for (const uint32_t date : {20210715u, 20210815u, 20211015u, 20211115u, 20211215u}) {
      accumulator.Apply(D(date), old_side + old_side);
    }
    for (const uint32_t date : {20220115u, 20220215u, 20220315u}) {
      accumulator.Apply(D(date), new_side + new_side);
    }
    accumulator.Apply(D(20210915), old_side + old_side);  // the back-payment, posted 2022-03-20
    for (const uint32_t date : {20220415u, 20220515u, 20220615u}) {
      accumulator.Apply(D(date), new_side + new_side);
    }
    CHECK(accumulator.TotalFenDays() == FenDays{2'259'856'000});
    CHECK(accumulator.balance() == Fen{7'448'000});
    CHECK(accumulator.latest_value_date() == D(20220615));
    const Fen interest = InterestFor(accumulator, DayBasis::k360);
    CHECK(interest == Fen{94'161});
    CHECK(InterestFor(accumulator, DayBasis::k365) == Fen{92'871});

    // Carried forward: interest year 2022 (365 days) opens with 7 448 000 + 94 161 =
    // 7 542 161 fen on every day: 7 542 161 × 365 = 2 752 888 765 fen·days.
    const InterestAccumulator next = CarryForward(accumulator, interest, kRates);
    CHECK(next.year() == Y(2022));
    CHECK(next.balance() == Fen{7'542'161});
    CHECK(next.TotalFenDays() == FenDays{2'752'888'765});
    REQUIRE(next.segments().size() == 1);
    CHECK(next.segments()[0].from == D(20220701));
  }

  TEST_CASE("InterestAccumulator: a rate change inside the year splits the accumulator") {
    // kRatesChanging (hypothetical): segment A = 2021-07-01 .. 2022-01-31 (215 days) at
    // 1.50 %, segment B = 2022-02-01 .. 2022-06-30 (150 days) at 1.75 %.
    // Opening 1 000 000 fen; +200 000 on 2021-12-01 (62 days in A, 150 in B);
    // -300 000 on 2022-03-10 (113 days, all in B).
    //   A: 1 000 000 × 215 + 200 000 × 62             = 227 400 000 fen·days
    //   B: 1 200 000 × 150 − 300 000 × 113            = 146 100 000 fen·days
    //   Σ fen·days × ppm: 227 400 000 × 15 000 + 146 100 000 × 17 500 = 5 967 750 000 000
    //   360: / 360 000 000 = 16 577.08 fen -> 16 577;  365: / 365 000 000 = 16 350 exactly.
    // (One rate of 1.50 % on all 373 500 000 fen·days would give 15 563 on 360.)
    InterestAccumulator accumulator(Y(2021), kRatesChanging, Fen{1'000'000});
    accumulator.Apply(D(20220310), Fen{-300'000});
    accumulator.Apply(D(20211201), Fen{200'000});
    const std::vector<InterestSegment> expected = {
        {.from = D(20210701), .rate = RatePpm{15'000}, .fen_days = FenDays{227'400'000}},
        {.from = D(20220201), .rate = RatePpm{17'500}, .fen_days = FenDays{146'100'000}},
    };
    CHECK(std::vector<InterestSegment>(accumulator.segments().begin(),
                                       accumulator.segments().end()) == expected);
    CHECK(InterestFor(accumulator, DayBasis::k360) == Fen{16'577});
    CHECK(InterestFor(accumulator, DayBasis::k365) == Fen{16'350});
    CHECK(InterestOn(expected, DayBasis::k360) == Fen{16'577});
  }

  std::vector<InterestSegment> SegmentsOf(const InterestAccumulator& accumulator) {
    return {accumulator.segments().begin(), accumulator.segments().end()};
  }

  TEST_CASE("InterestAccumulator: re-rated by a new table, as if the table had been its own") {
    // The year above, decided under 1.50 % all year (kRates) until a policy change brings
    // kRatesChanging (1.75 % from 2022-02-01) while the latest value date is 2021-12-01:
    //   A: 1 000 000 × 215 + 200 000 × 62 = 227 400 000 (kept: the days before 2022-02-01
    //      and the days from it on, which all hold 1 200 000, move out of it)
    //   B: 1 200 000 × 150                 = 180 000 000
    // The later withdrawal then gives the figures of the case above.
    InterestAccumulator accumulator(Y(2021), kRates, Fen{1'000'000});
    accumulator.Apply(D(20211201), Fen{200'000});
    CHECK(accumulator.FirstDayUnlike(kRates) == std::nullopt);
    CHECK(accumulator.FirstDayUnlike(kRatesChanging) == D(20220201));
    REQUIRE(accumulator.Rerate(kRatesChanging).ok());
    CHECK(SegmentsOf(accumulator) ==
          std::vector<InterestSegment>{
              {.from = D(20210701), .rate = RatePpm{15'000}, .fen_days = FenDays{227'400'000}},
              {.from = D(20220201), .rate = RatePpm{17'500}, .fen_days = FenDays{180'000'000}},
          });
    CHECK(accumulator.FirstDayUnlike(kRatesChanging) == std::nullopt);
    accumulator.Apply(D(20220310), Fen{-300'000});
    CHECK(InterestFor(accumulator, DayBasis::k360) == Fen{16'577});
    CHECK(accumulator.balance() == Fen{900'000});

    // Back to one rate: exact only while nothing is value-dated after 2022-02-01. The
    // withdrawal of 2022-03-10 is: refused, nothing changed.
    const auto before = SegmentsOf(accumulator);
    const Status refused = accumulator.Rerate(kRates);
    CHECK(refused.code() == StatusCode::kFailedPrecondition);
    CHECK(refused.message() ==
          "interest year 2021: the rate table changes from 2022-02-01, but money is value-dated "
          "2022-03-10");
    CHECK(SegmentsOf(accumulator) == before);
  }

  TEST_CASE("InterestAccumulator: re-rating matches the accumulator built under the new table") {
    const std::vector<RateSegment> from_first_day = {
        {.from = D(20160221), .rate = RatePpm{15'000}},
        {.from = D(20210701), .rate = RatePpm{16'000}},
    };
    struct Case {
      const char* name;
      const std::vector<RateSegment>* old_table;
      const std::vector<RateSegment>* new_table;
      uint32_t latest;  // the value date of the one deposit before re-rating
    };
    const std::vector<Case> cases = {
        {"a boundary added", &kRates, &kRatesChanging, 20211201},
        {"a boundary removed (two segments become one)", &kRatesChanging, &kRates, 20220201},
        {"the rate from the year's first day", &kRates, &from_first_day, 20210701},
        {"the same table", &kRatesChanging, &kRatesChanging, 20220630},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      InterestAccumulator rerated(Y(2021), *c.old_table, Fen{1'000'000});
      InterestAccumulator fresh(Y(2021), *c.new_table, Fen{1'000'000});
      for (InterestAccumulator* accumulator : {&rerated, &fresh}) {
        accumulator->Apply(D(20210701), Fen{-50'000});
        accumulator->Apply(D(c.latest), Fen{123'456});
      }
      REQUIRE(rerated.Rerate(*c.new_table).ok());
      CHECK(SegmentsOf(rerated) == SegmentsOf(fresh));
      CHECK(rerated.TotalFenDays() == fresh.TotalFenDays());
      CHECK(rerated.latest_value_date() == fresh.latest_value_date());
      // Later money counts the same way under both.
      rerated.Apply(D(20220401), Fen{7'000});
      fresh.Apply(D(20220401), Fen{7'000});
      CHECK(SegmentsOf(rerated) == SegmentsOf(fresh));
    }
  }

  TEST_CASE("InterestAccumulator: the rate in force on 1 July starts the year's first segment") {
    // A table whose later entries lie before the year and after it: only the entry in force
    // on 2021-07-01 (1.50 % from 2016-02-21) and none after 2022-06-30 count.
    const std::vector<RateSegment> table = {
        {.from = D(20150101), .rate = RatePpm{11'000}},
        {.from = D(20160221), .rate = RatePpm{15'000}},
        {.from = D(20220701), .rate = RatePpm{20'000}},
    };
    const InterestAccumulator accumulator(Y(2021), table, Fen{100});
    REQUIRE(accumulator.segments().size() == 1);
    CHECK(accumulator.segments()[0].from == D(20210701));
    CHECK(accumulator.segments()[0].rate == RatePpm{15'000});
    CHECK(accumulator.segments()[0].fen_days == FenDays{36'500});  // 100 fen × 365 days
  }

  TEST_CASE("InterestToDate: a closing withdrawal counts the days before its payment date") {
    SUBCASE("one rate") {
      // Opening 2 000 000 fen; +100 000 on 2021-07-15 and on 2021-08-15; closed (retirement)
      // and paid on 2021-09-10, so the balances of 2021-07-01 .. 2021-09-09 count:
      //   2 000 000 × 71 (31 + 31 + 9 days)  = 142 000 000
      //     100 000 × 57 (17 + 31 + 9)       =   5 700 000
      //     100 000 × 26 (17 + 9)            =   2 600 000
      //                                        150 300 000 fen·days
      // 360: 150 300 000 × 15 000 / 360 000 000 = 6 262.5 fen -> 6 263 (half up, not the even
      // 6 262); 365: / 365 000 000 = 6 176.71 -> 6 177.
      InterestAccumulator accumulator(Y(2021), kRates, Fen{2'000'000});
      accumulator.Apply(D(20210715), Fen{100'000});
      accumulator.Apply(D(20210815), Fen{100'000});
      const std::vector<InterestSegment> until = accumulator.SegmentsUntil(D(20210910));
      REQUIRE(until.size() == 1);
      CHECK(until[0].fen_days == FenDays{150'300'000});
      CHECK(InterestToDate(accumulator, D(20210910), DayBasis::k360) == Fen{6'263});
      CHECK(InterestToDate(accumulator, D(20210910), DayBasis::k365) == Fen{6'177});

      // Applying the closing withdrawal itself (value date = payment date) zeroes the later
      // days, so the year's figure is the same, and truncating again changes nothing.
      accumulator.Apply(D(20210910), -accumulator.balance());
      CHECK(accumulator.balance() == Fen{0});
      CHECK(accumulator.TotalFenDays() == FenDays{150'300'000});
      CHECK(InterestFor(accumulator, DayBasis::k360) == Fen{6'263});
      CHECK(InterestToDate(accumulator, D(20210910), DayBasis::k360) == Fen{6'263});
    }
    SUBCASE("across the hypothetical rate change") {
      // kRatesChanging; opening 1 000 000 fen, +200 000 on 2021-12-01.
      // Paid 2022-03-10: A = 1 000 000 × 215 + 200 000 × 62 = 227 400 000;
      //   B = 1 200 000 × 37 (2022-02-01 .. 03-09) = 44 400 000;
      //   Σ × ppm = 3 411 000 000 000 + 777 000 000 000 = 4 188 000 000 000
      //   360: 11 633.33 -> 11 633; 365: 11 473.97 -> 11 474.
      // Paid 2022-01-20: A = 1 000 000 × 203 + 200 000 × 50 = 213 000 000; B is not reached.
      //   360: 213 000 000 × 15 000 / 360 000 000 = 8 875 exactly; 365: 8 753.42 -> 8 753.
      InterestAccumulator accumulator(Y(2021), kRatesChanging, Fen{1'000'000});
      accumulator.Apply(D(20211201), Fen{200'000});
      const std::vector<InterestSegment> march = {
          {.from = D(20210701), .rate = RatePpm{15'000}, .fen_days = FenDays{227'400'000}},
          {.from = D(20220201), .rate = RatePpm{17'500}, .fen_days = FenDays{44'400'000}},
      };
      CHECK(accumulator.SegmentsUntil(D(20220310)) == march);
      CHECK(InterestToDate(accumulator, D(20220310), DayBasis::k360) == Fen{11'633});
      CHECK(InterestToDate(accumulator, D(20220310), DayBasis::k365) == Fen{11'474});
      const std::vector<InterestSegment> january = {
          {.from = D(20210701), .rate = RatePpm{15'000}, .fen_days = FenDays{213'000'000}},
      };
      CHECK(accumulator.SegmentsUntil(D(20220120)) == january);
      CHECK(InterestToDate(accumulator, D(20220120), DayBasis::k360) == Fen{8'875});
      CHECK(InterestToDate(accumulator, D(20220120), DayBasis::k365) == Fen{8'753});
    }
    SUBCASE("paid on the year's first day or after its last") {
      // Paid on 1 July: no day of the year counts. Until the credit value date: the whole year.
      InterestAccumulator accumulator(Y(2021), kRates, Fen{2'000'000});
      CHECK(accumulator.SegmentsUntil(D(20210701)).empty());
      CHECK(InterestToDate(accumulator, D(20210701), DayBasis::k360) == Fen{0});
      CHECK(accumulator.SegmentsUntil(D(20220701)) ==
            std::vector<InterestSegment>(accumulator.segments().begin(),
                                         accumulator.segments().end()));
    }
  }

  TEST_CASE("InterestAccumulator: parts round-trip and broken parts are refused") {
    InterestAccumulator accumulator(Y(2021), kRatesChanging, Fen{1'000'000});
    accumulator.Apply(D(20211201), Fen{200'000});
    const InterestAccumulatorParts parts = accumulator.parts();
    const Result<InterestAccumulator> restored = InterestAccumulator::FromParts(parts);
    REQUIRE(restored.has_value());
    CHECK(restored->parts().segments == parts.segments);
    CHECK(restored->balance() == Fen{1'200'000});
    CHECK(restored->latest_value_date() == D(20211201));

    InterestAccumulatorParts no_segments = parts;
    no_segments.segments.clear();
    CHECK(!InterestAccumulator::FromParts(no_segments).has_value());
    InterestAccumulatorParts late_start = parts;
    late_start.segments[0].from = D(20210702);
    CHECK(!InterestAccumulator::FromParts(late_start).has_value());
    InterestAccumulatorParts unsorted = parts;
    unsorted.segments[1].from = D(20210701);
    CHECK(!InterestAccumulator::FromParts(unsorted).has_value());
    InterestAccumulatorParts beyond_year = parts;
    beyond_year.segments[1].from = D(20220701);
    CHECK(!InterestAccumulator::FromParts(beyond_year).has_value());
    InterestAccumulatorParts wild_rate = parts;
    wild_rate.segments[1].rate = RatePpm{1'000'001};
    CHECK(!InterestAccumulator::FromParts(wild_rate).has_value());
    InterestAccumulatorParts late_value_date = parts;
    late_value_date.latest_value_date = D(20220701);
    const Result<InterestAccumulator> refused = InterestAccumulator::FromParts(late_value_date);
    REQUIRE(!refused.has_value());
    CHECK(refused.error().code() == StatusCode::kInvalidArgument);
    CHECK(refused.error().message() ==
          "interest year 2021: latest value date 2022-07-01 is outside the year");
  }

  TEST_CASE("ValidateRateTable: empty, unsorted and excessive tables are refused") {
    CHECK(ValidateRateTable(kRatesChanging).ok());
    CHECK(ValidateRateTable({}).code() == StatusCode::kInvalidArgument);
    const std::vector<RateSegment> unsorted = {
        {.from = D(20220201), .rate = RatePpm{17'500}},
        {.from = D(20220201), .rate = RatePpm{15'000}},
    };
    const Status status = ValidateRateTable(unsorted);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(status.message() ==
          "rate table entry 1 (from 2022-02-01): not after the previous entry (from 2022-02-01)");
    const std::vector<RateSegment> wild = {{.from = D(20160221), .rate = RatePpm{1'000'001}}};
    CHECK(!ValidateRateTable(wild).ok());
    // An accumulator holds at most 16 segments a year: the entry in force on 1 July and 15
    // changes. A change on 1 July itself replaces the entry in force.
    std::vector<RateSegment> busy = {{.from = D(20160221), .rate = RatePpm{15'000}},
                                     {.from = D(20220701), .rate = RatePpm{15'100}}};
    for (uint32_t day = 1; day <= 15; ++day) {
      busy.push_back({.from = D(20220800 + day), .rate = RatePpm{15'000 + day}});
    }
    CHECK(ValidateRateTable(busy).ok());
    busy.push_back({.from = D(20230630), .rate = RatePpm{15'500}});
    CHECK(ValidateRateTable(busy).message() ==
          "rate table entry 17 (from 2023-06-30): interest year 2022 would have 17 rate "
          "segments, more than 16");
  }

  TEST_CASE("DayBasisFromDays: 360 and 365 only") {
    CHECK(DayBasisFromDays(360).value() == DayBasis::k360);
    CHECK(DayBasisFromDays(365).value() == DayBasis::k365);
    CHECK(DayBasisFromDays(366).error().code() == StatusCode::kInvalidArgument);
    CHECK(!DayBasisFromDays(0).has_value());
  }
}

}  // namespace
}  // namespace hpf::ledger
