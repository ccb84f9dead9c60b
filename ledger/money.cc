// ledger/money.cc
#include "ledger/money.h"

#include <cstdint>
#include <limits>

#include <fmt/core.h>

#include "events/assert.h"
#include "ledger/limits.h"

namespace hpf::ledger {
namespace {

// Products of a base in fen and a rate in ppm are in micro-fen.
constexpr Int128 kMicroFenPerFen = 1'000'000;
constexpr Int128 kMicroFenPerYuan = 100 * kMicroFenPerFen;
constexpr int64_t kFenPerYuan = 100;
static_assert(std::numeric_limits<Int128>::is_specialized, "Int128 limits below");

}  // namespace

Fen operator+(Fen a, Fen b) {
  Fen sum;
  const bool overflow = __builtin_add_overflow(a.value, b.value, &sum.value);
  HPF_ASSERT(!overflow);
  return sum;
}

Fen operator-(Fen a, Fen b) {
  Fen difference;
  const bool overflow = __builtin_sub_overflow(a.value, b.value, &difference.value);
  HPF_ASSERT(!overflow);
  return difference;
}

Fen operator-(Fen a) { return Fen{} - a; }

Fen& operator+=(Fen& a, Fen b) {
  a = a + b;
  return a;
}

Fen& operator-=(Fen& a, Fen b) {
  a = a - b;
  return a;
}

Int128 DivideHalfUp(Int128 numerator, Int128 denominator) {
  HPF_ASSERT(denominator > 0);
  const bool negative = numerator < 0;
  // Negating the most negative value would overflow.
  HPF_ASSERT(numerator != std::numeric_limits<Int128>::min());
  const Int128 magnitude = negative ? -numerator : numerator;
  Int128 quotient = magnitude / denominator;
  const Int128 remainder = magnitude % denominator;
  // remainder >= denominator / 2 exactly, without doubling (which could overflow).
  if (remainder >= denominator - remainder) {
    ++quotient;
  }
  return negative ? -quotient : quotient;
}

Fen FenFromInt128(Int128 fen) {
  HPF_ASSERT(fen >= std::numeric_limits<int64_t>::min());
  HPF_ASSERT(fen <= std::numeric_limits<int64_t>::max());
  return Fen{static_cast<int64_t>(fen)};
}

Fen ApplyRate(Fen base, RatePpm rate, RoundingRule rule) {
  HPF_ASSERT(base.value >= 0);
  HPF_ASSERT(rate.value <= kRatePpmMax);
  // At most (2^63 - 1) × 10^6 micro-fen: far inside Int128.
  const Int128 micro_fen = static_cast<Int128>(base.value) * rate.value;
  switch (rule) {
    case RoundingRule::kHalfUpToFen:
      return FenFromInt128(DivideHalfUp(micro_fen, kMicroFenPerFen));
    case RoundingRule::kHalfUpToYuan:
      return FenFromInt128(DivideHalfUp(micro_fen, kMicroFenPerYuan) * kFenPerYuan);
    case RoundingRule::kUpToYuan:
      return FenFromInt128((micro_fen + kMicroFenPerYuan - 1) / kMicroFenPerYuan * kFenPerYuan);
  }
  HPF_ASSERT(false && "unknown RoundingRule");
  return Fen{};
}

std::string FormatYuan(Fen amount) {
  // The magnitude in uint64: -INT64_MIN does not fit in int64, but does in uint64.
  const uint64_t magnitude = amount.value < 0 ? uint64_t{0} - static_cast<uint64_t>(amount.value)
                                              : static_cast<uint64_t>(amount.value);
  const uint64_t fen_per_yuan = kFenPerYuan;
  return fmt::format("{}{}.{:02}", amount.value < 0 ? "-" : "", magnitude / fen_per_yuan,
                     magnitude % fen_per_yuan);
}

}  // namespace hpf::ledger
