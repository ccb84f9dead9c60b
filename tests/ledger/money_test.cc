// tests/ledger/money_test.cc — Fen arithmetic, the three rounding rules and yuan formatting.
//
// Every expected figure was computed outside the code under test (by hand and with Python's
// fractions.Fraction); the arithmetic is in the comment beside it.
#include "ledger/money.h"

#include <cstdint>
#include <limits>

#include <doctest/doctest.h>

namespace hpf::ledger {
namespace {

constexpr RatePpm kFivePercent{50'000};
constexpr RatePpm kTwelvePercent{120'000};

Fen ToFen(Fen base, RatePpm rate) { return ApplyRate(base, rate, RoundingRule::kHalfUpToFen); }
Fen ToYuan(Fen base, RatePpm rate) { return ApplyRate(base, rate, RoundingRule::kHalfUpToYuan); }
Fen UpToYuan(Fen base, RatePpm rate) { return ApplyRate(base, rate, RoundingRule::kUpToYuan); }

TEST_SUITE("ledger") {
  TEST_CASE("Fen: sums and differences are exact up to the ends of int64") {
    CHECK(Fen{100} + Fen{-250} == Fen{-150});
    CHECK(Fen{100} - Fen{250} == Fen{-150});
    CHECK(-Fen{42} == Fen{-42});
    const int64_t max = std::numeric_limits<int64_t>::max();
    CHECK(Fen{max - 1} + Fen{1} == Fen{max});
    CHECK(Fen{-max} - Fen{1} == Fen{std::numeric_limits<int64_t>::min()});
    Fen balance{1'000};
    balance += Fen{500};
    balance -= Fen{1'200};
    CHECK(balance == Fen{300});
  }

  TEST_CASE("ApplyRate: the three rounding rules on the same contributions") {
    SUBCASE("39 999.96 fen: all three give 400 yuan") {
      // 333 333 fen × 12 % = 39 999.96 fen: to the fen 40 000 (.96 >= .5); 399.9996 yuan
      // half-up to the yuan 400; any fraction up to the yuan 400.
      CHECK(ToFen(Fen{333'333}, kTwelvePercent) == Fen{40'000});
      CHECK(ToYuan(Fen{333'333}, kTwelvePercent) == Fen{40'000});
      CHECK(UpToYuan(Fen{333'333}, kTwelvePercent) == Fen{40'000});
    }
    SUBCASE("50 002.5 fen: all three differ") {
      // 1 000 050 fen × 5 % = 50 002.5 fen: to the fen 50 003 (half up; banker's rounding,
      // e.g. Python's round(), would give the even 50 002); 500.025 yuan half-up 500 yuan;
      // up to the yuan 501 yuan.
      CHECK(ToFen(Fen{1'000'050}, kFivePercent) == Fen{50'003});
      CHECK(ToYuan(Fen{1'000'050}, kFivePercent) == Fen{50'000});
      CHECK(UpToYuan(Fen{1'000'050}, kFivePercent) == Fen{50'100});
    }
    SUBCASE("a realistic base: 8 523.47 yuan at 5 %, all three differ") {
      // 852 347 fen × 5 % = 42 617.35 fen -> 42 617; 426.1735 yuan -> 426; -> 427 yuan.
      CHECK(ToFen(Fen{852'347}, kFivePercent) == Fen{42'617});
      CHECK(ToYuan(Fen{852'347}, kFivePercent) == Fen{42'600});
      CHECK(UpToYuan(Fen{852'347}, kFivePercent) == Fen{42'700});
      // 852 347 fen × 12 % = 102 281.64 fen -> 102 282; 1 022.8164 yuan -> 1 023; -> 1 023.
      CHECK(ToFen(Fen{852'347}, kTwelvePercent) == Fen{102'282});
      CHECK(ToYuan(Fen{852'347}, kTwelvePercent) == Fen{102'300});
      CHECK(UpToYuan(Fen{852'347}, kTwelvePercent) == Fen{102'300});
    }
    SUBCASE("an exact half goes up, never to even") {
      // 1 000 070 fen × 5 % = 50 003.5 fen -> 50 004 (odd 50 003 goes up).
      CHECK(ToFen(Fen{1'000'070}, kFivePercent) == Fen{50'004});
      // 50 002.5 -> 50 003: the even 50 002 goes up too (banker's would keep it).
      CHECK(ToFen(Fen{1'000'050}, kFivePercent) == Fen{50'003});
      // 1 001 000 fen × 5 % = 50 050 fen = 500.50 yuan: half-up to the yuan 501 yuan
      // (banker's would give the even 500); to the fen it is exact.
      CHECK(ToYuan(Fen{1'001'000}, kFivePercent) == Fen{50'100});
      CHECK(UpToYuan(Fen{1'001'000}, kFivePercent) == Fen{50'100});
      CHECK(ToFen(Fen{1'001'000}, kFivePercent) == Fen{50'050});
      // 1 fen × 50 % = 0.5 fen -> 1 fen; 0.005 yuan -> 0 yuan; any fraction -> 1 yuan.
      CHECK(ToFen(Fen{1}, RatePpm{500'000}) == Fen{1});
      CHECK(ToYuan(Fen{1}, RatePpm{500'000}) == Fen{0});
      CHECK(UpToYuan(Fen{1}, RatePpm{500'000}) == Fen{100});
      // 1 fen × 49.9999 % = 0.499999 fen -> 0 fen.
      CHECK(ToFen(Fen{1}, RatePpm{499'999}) == Fen{0});
    }
    SUBCASE("up to the yuan judges the exact product, below the fen too") {
      // 100 001 fen × 5 % = 5 000.05 fen = 50.0005 yuan: 5 000 fen to the fen and half-up to
      // the yuan, but 遇零进整 sees a fraction and gives 51 yuan.
      CHECK(ToFen(Fen{100'001}, kFivePercent) == Fen{5'000});
      CHECK(ToYuan(Fen{100'001}, kFivePercent) == Fen{5'000});
      CHECK(UpToYuan(Fen{100'001}, kFivePercent) == Fen{5'100});
    }
    SUBCASE("whole amounts and zero are left alone") {
      // 200 000 fen × 12 % = 24 000 fen = 240 yuan exactly.
      CHECK(ToFen(Fen{200'000}, kTwelvePercent) == Fen{24'000});
      CHECK(ToYuan(Fen{200'000}, kTwelvePercent) == Fen{24'000});
      CHECK(UpToYuan(Fen{200'000}, kTwelvePercent) == Fen{24'000});
      CHECK(UpToYuan(Fen{0}, kTwelvePercent) == Fen{0});
      CHECK(UpToYuan(Fen{123'456}, RatePpm{0}) == Fen{0});
    }
    SUBCASE("the largest base at 100 % is itself") {
      const Fen max{std::numeric_limits<int64_t>::max()};
      CHECK(ToFen(max, RatePpm{1'000'000}) == max);
    }
  }

  TEST_CASE("DivideHalfUp: halves go away from zero, symmetric for negatives") {
    CHECK(DivideHalfUp(83, 2) == 42);    // 41.5
    CHECK(DivideHalfUp(-83, 2) == -42);  // -41.5
    CHECK(DivideHalfUp(82, 2) == 41);
    CHECK(DivideHalfUp(25, 10) == 3);  // 2.5: not the even 2
    CHECK(DivideHalfUp(-25, 10) == -3);
    CHECK(DivideHalfUp(1, 3) == 0);  // 0.33
    CHECK(DivideHalfUp(2, 3) == 1);  // 0.67
    CHECK(DivideHalfUp(-2, 3) == -1);
    CHECK(DivideHalfUp(0, 7) == 0);
    // 10^30 + 5 * 10^11 over 10^12 = 10^18 + 0.5 -> 10^18 + 1: far beyond int64 intermediates.
    const Int128 trillion = 1'000'000'000'000;
    const Int128 big = trillion * trillion * 1'000'000 + 500'000'000'000;
    CHECK(DivideHalfUp(big, trillion) == Int128{1'000'000'000'000'000'001});
  }

  TEST_CASE("FenFromInt128: in-range values convert exactly") {
    CHECK(FenFromInt128(Int128{-5}) == Fen{-5});
    CHECK(FenFromInt128(Int128{std::numeric_limits<int64_t>::max()}) ==
          Fen{std::numeric_limits<int64_t>::max()});
  }

  TEST_CASE("FormatYuan: two decimals, a minus sign for negatives, both int64 ends") {
    CHECK(FormatYuan(Fen{123'456}) == "1234.56");
    CHECK(FormatYuan(Fen{-1}) == "-0.01");
    CHECK(FormatYuan(Fen{0}) == "0.00");
    CHECK(FormatYuan(Fen{5}) == "0.05");
    CHECK(FormatYuan(Fen{-100'000}) == "-1000.00");
    CHECK(FormatYuan(Fen{std::numeric_limits<int64_t>::max()}) == "92233720368547758.07");
    CHECK(FormatYuan(Fen{std::numeric_limits<int64_t>::min()}) == "-92233720368547758.08");
  }
}

}  // namespace
}  // namespace hpf::ledger
