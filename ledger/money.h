// ledger/money.h — money (Fen), rates (RatePpm), rounding rules and the fixed-point helpers
// that every money formula of the ledger and the projections shares.
//
// Money is an integer count of fen (分, 0.01 yuan) in int64; rates and shares are integers in
// parts per million (1.5 % = 15 000). Formulas here keep their numerator and denominator as
// exact integers in Int128 and divide once, when rounding to the fen, so nothing is lost
// before that single rounding (DESIGN §3 asks for >= 10 decimal places; this is exact).
// Formulas that cannot stay rational (annuities) use Int128 fixed point with >= 10 decimal
// places. No floating point anywhere. All functions are pure and thread-safe.
//
// Overflow of Fen arithmetic is a bug, not a business outcome: amounts enter only through
// commands whose amounts are validated against limits far below 2^63 fen (9.2 * 10^16 yuan,
// thousands of times the national fund), so a sum that overflows means an invariant already
// broke. The operators therefore check with __builtin_*_overflow and abort (HPF_ASSERT)
// instead of returning a Result that every caller would have to thread through.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace hpf::ledger {

// A signed 128-bit integer. `__extension__` keeps -Wpedantic quiet; use only this alias.
__extension__ typedef __int128 Int128;

// An amount of money in fen. Negative amounts are deltas (a withdrawal, a reversal).
struct Fen {
  int64_t value = 0;
  auto operator<=>(const Fen&) const = default;
};

// Checked arithmetic: aborts on int64 overflow (see the file comment).
Fen operator+(Fen a, Fen b);
Fen operator-(Fen a, Fen b);
Fen operator-(Fen a);  // REQUIRES: a.value != INT64_MIN
Fen& operator+=(Fen& a, Fen b);
Fen& operator-=(Fen& a, Fen b);

// A yearly rate (interest, penalty) or a share (contribution rate, distribution ratio) in
// parts per million: 1.5 % = RatePpm{15'000}, 12 % = RatePpm{120'000}. Valid values are at
// most kRatePpmMax (100 %); functions taking a rate assert it.
struct RatePpm {
  uint32_t value = 0;
  auto operator<=>(const RatePpm&) const = default;
};

// How an exact amount becomes whole fen (DOMAIN §2, a policy parameter). Never banker's
// rounding: an exact half always goes up. The values are stored in policy events; never
// renumber them.
enum class RoundingRule : uint8_t {
  kHalfUpToFen = 1,   // 四舍五入到分: 0.5 fen and above up to the next fen (the default)
  kHalfUpToYuan = 2,  // 四舍五入到元: 50 fen and above up to the next yuan, else down
  kUpToYuan = 3,      // 遇零进整: any fraction of a yuan, however small, up to the next yuan
};

// base × rate / 10^6, rounded by `rule`: one side's monthly contribution (DOMAIN §2, rounded
// per side). The fraction is judged on the EXACT product: under kUpToYuan, 1 000.01 yuan × 5 %
// = 50.0005 yuan becomes 51 yuan, although it is 50.00 yuan to the fen.
// REQUIRES: base.value >= 0; rate.value <= kRatePpmMax; `rule` is one of the enumerators.
Fen ApplyRate(Fen base, RatePpm rate, RoundingRule rule);

// numerator / denominator rounded half-up on the magnitude (四舍五入): 41.5 -> 42 and
// -41.5 -> -42, so negating the inputs of a computation negates its result (a reversal
// reproduces the original amount exactly). Never banker's rounding.
// REQUIRES: denominator > 0; numerator is not the most negative Int128.
Int128 DivideHalfUp(Int128 numerator, Int128 denominator);

// The Fen holding `fen`. REQUIRES: `fen` fits in int64 (aborts otherwise).
Fen FenFromInt128(Int128 fen);

// Yuan with two decimals for people (statements, messages, reports): 123456 fen ->
// "1234.56", -1 -> "-0.01", 0 -> "0.00". No thousands separators, no currency sign.
std::string FormatYuan(Fen amount);

}  // namespace hpf::ledger
