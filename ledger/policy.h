// ledger/policy.h — the fund's parameters with the dates they take effect (DOMAIN: every
// *(policy)* figure). Decisions read the version in force on the command's effective date, so
// replaying the log under the policies it recorded gives the same decisions (DESIGN §1, 8).
//
// A policy change is itself an event (PolicyChanged, ledger/facts.h): the log records every
// book it decided under, as the canonical document PolicyToJson() writes, so a replay knows
// which policy decided what. A PolicyBook is the sequence of versions, oldest first.
// DefaultPolicy() is what the ledger ships with: the national rules and illustrative city
// figures; a centre loads its own with LoadPolicyFile() (format: docs/policy.md).
// Thread safety: immutable after construction; share freely.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "ledger/calendar.h"
#include "ledger/interest.h"
#include "ledger/money.h"

namespace hpf::ledger {

struct Policy {
  Date effective_from;
  // Contributions (DOMAIN §2).
  RatePpm contribution_rate_min{50'000};   // 5 % each side
  RatePpm contribution_rate_max{120'000};  // 12 % each side
  Fen base_floor{210'000};                 // local minimum wage, 2 100.00 yuan (illustrative)
  Fen base_cap{2'871'600};                 // 3 × previous year's average wage (illustrative)
  RoundingRule rounding = RoundingRule::kHalfUpToFen;
  Month deferral_last_month;  // 缓缴 allowed up to this month (2022: 2022-12)
  // Interest (DOMAIN §3).
  DayBasis day_basis = DayBasis::k360;
  // Withdrawals (DOMAIN §4): the centre decides an application within this many days; rent
  // withdrawals are capped per person and month.
  uint32_t withdrawal_review_days = 3;
  Fen rent_withdrawal_cap{200'000};  // 2 000.00 yuan a month
  // Flexible-employment contributors (灵活就业) may pay for themselves (DOMAIN §2).
  bool flexible_employment = true;
  // Loans (DOMAIN §5): the longest term, the penalty rate as a multiple of the contract rate
  // (1.3-1.5, 30-day month), and the 2022 exemption of epidemic-affected borrowers from
  // being marked overdue.
  uint32_t loan_term_months_max = 360;
  RatePpm loan_penalty_multiplier{1'500'000};  // × 1.5, in ppm of the contract rate
  bool loan_overdue_exemption = false;
  // Value-added income's yearly distribution (DOMAIN §6), shares in ppm summing to 10^6: loan
  // risk reserve, the centre's management expenses, affordable-housing supplementary funds.
  RatePpm distribution_risk_reserve{500'000};
  RatePpm distribution_management{360'000};
  RatePpm distribution_housing{140'000};

  bool operator==(const Policy&) const = default;
};

// HPF loan rates from a date on (DOMAIN §5): first or second home, a term of up to five years
// or longer. A table is sorted by `from`, strictly increasing.
struct LoanRates {
  Date from;
  RatePpm first_home_short;   // term <= 5 years
  RatePpm first_home_long;    // term > 5 years
  RatePpm second_home_short;  // at least 1.1 × the first home's
  RatePpm second_home_long;
  bool operator==(const LoanRates&) const = default;
};

// The versions of the policy, oldest first, and the one in force on a date.
class PolicyBook {
 public:
  // REQUIRES: !versions.empty(); effective_from strictly increasing; `personal_rate_table`
  // passes ValidateRateTable (ledger/interest.h); `loan_rates` non-empty, `from` strictly
  // increasing, rates <= kRatePpmMax.
  explicit PolicyBook(std::vector<Policy> versions,
                      std::vector<RateSegment> personal_rate_table = DefaultPersonalRates(),
                      std::vector<LoanRates> loan_rates = DefaultLoanRates());

  // 1.10 % from 1990 (balances carried forward), 1.50 % from 2016-02-21 (DOMAIN §3).
  static std::vector<RateSegment> DefaultPersonalRates();
  // 2.75 % / 3.25 % (first home, <= 5 / > 5 years) and 3.025 % / 3.575 % (second home) until
  // 2022-09-30; 2.60 % / 3.10 % for a first home from 2022-10-01 (DOMAIN §5).
  static std::vector<LoanRates> DefaultLoanRates();
  std::span<const LoanRates> loan_rates() const { return loan_rates_; }

  std::span<const Policy> versions() const { return versions_; }

  // The version in force on `date`: the last one whose effective_from <= date (the first
  // version if `date` precedes them all).
  const Policy& At(Date date) const;

  // The dated rate table for personal accounts (DOMAIN §3): 1.50 % from 2016-02-21. Before
  // that centres paid 0.35 % on the current year's deposits and 1.10 % on balances carried
  // forward; the ledger starts after 2016 and models one rate per day (TODO(#3): the two-rate
  // rule if a centre migrates pre-2016 history).
  std::span<const RateSegment> personal_rate_table() const { return personal_rate_table_; }

  // Same versions and same rate table, entry by entry.
  bool operator==(const PolicyBook&) const = default;

 private:
  std::vector<Policy> versions_;
  std::vector<RateSegment> personal_rate_table_;
  std::vector<LoanRates> loan_rates_;
};

// DOMAIN.md's defaults, in force from 1990-01-01.
PolicyBook DefaultPolicy();

// Parses a policy document (JSON, docs/policy.md): every field checked — type, range, the
// relations between fields (min <= max, floor <= cap, dates increasing) — and unknown fields
// refused, so a typo never silently falls back to a default. InvalidArgument naming the
// field path and the rule otherwise.
Result<PolicyBook> ParsePolicy(std::string_view json);
// Reads and parses a policy file; IoError if it cannot be read.
Result<PolicyBook> LoadPolicyFile(const std::string& path);

// The canonical document of `book` in docs/policy.md's format, as PolicyChanged records it
// (schemas/events.fbs PolicyFormat Json): UTF-8 JSON with every object's keys sorted and no
// insignificant whitespace, dates yyyy-mm-dd, amounts and rates as integers. Equal books give
// equal bytes, and ParsePolicy(PolicyToJson(book)) == book.
std::string PolicyToJson(const PolicyBook& book);

}  // namespace hpf::ledger
