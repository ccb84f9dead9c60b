// ledger/state.h — the write model: what Decide() needs to know about every employer and
// personal account. Owned by the sequencer's one thread (DESIGN principle 2); persisted as
// state deltas with the records that changed it, so opening never replays the log.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ledger/facts.h"
#include "ledger/interest.h"
#include "ledger/money.h"
#include "ledger/policy.h"

namespace hpf::ledger {

enum class EmployerStatus : uint8_t {
  kNormal = 1,  // 正常 (a deferral is a grant, not a status: see DOMAIN §2)
  kSealed = 2,  // 封存
  kClosed = 3,  // 销户
};

// The employer's one unfinished remittance list.
struct OpenRemittanceState {
  uint64_t remittance_id = 0;
  RemittanceKind kind = RemittanceKind::kRegular;
  uint32_t from_month = 0;
  uint32_t to_month = 0;
  Fen total;
  Fen allocated;
  uint32_t allocations = 0;
};

// A month range, both ends inclusive (yyyymm).
struct MonthRange {
  uint32_t from_month = 0;
  uint32_t to_month = 0;
  bool Contains(uint32_t month) const { return from_month <= month && month <= to_month; }
  bool Overlaps(const MonthRange& other) const {
    return from_month <= other.to_month && other.from_month <= to_month;
  }
  bool operator==(const MonthRange&) const = default;
};

// The employer's rates in force from a month on (registration, then each change).
struct RateChange {
  uint32_t from_month = 0;
  RatePpm employer_rate;
  RatePpm employee_rate;
  bool operator==(const RateChange&) const = default;
};

// 降比 granted for a period.
struct RateReduction {
  MonthRange months;
  RatePpm employer_rate;
  RatePpm employee_rate;
  bool operator==(const RateReduction&) const = default;
};

struct EmployerState {
  EmployerStatus status = EmployerStatus::kNormal;
  RatePpm employer_rate;
  RatePpm employee_rate;
  uint32_t paid_up_to_month = 0;  // yyyymm; the month before the first contribution month
  Fen suspense;                   // 暂收: received, not yet allocated
  uint32_t normal_accounts = 0;   // accounts attached and in state normal
  std::optional<OpenRemittanceState> remittance;
  std::vector<RateReduction> reductions;  // 降比 grants, non-overlapping
  std::vector<MonthRange> deferrals;      // 缓缴 grants, non-overlapping
  // Rates by month, oldest first, from_month increasing; the first is the registration's.
  // employer_rate / employee_rate above are the last entry's.
  std::vector<RateChange> rate_changes;
  // The last remittance list opened: ids only grow, so a reversal finds its line's list.
  uint64_t last_remittance_id = 0;
  uint64_t version = 0;  // facts applied to this employer's stream
};

// The contribution base in force from a month on (the opening's, then each change).
struct BaseChange {
  uint32_t from_month = 0;  // yyyymm
  Fen base;
  bool operator==(const BaseChange&) const = default;
};

// Consecutive months paid on the same base: every month from_month..to_month has `base` paid
// (the bases of the lines allocated for it, regular and back-payment, net of reversals).
struct PaidRun {
  uint32_t from_month = 0;  // yyyymm
  uint32_t to_month = 0;    // yyyymm, inclusive
  Fen base;                 // > 0
  bool operator==(const PaidRun&) const = default;
};

enum class AccountStatus : uint8_t {
  kNormal = 1,  // 正常
  kSealed = 2,  // 封存
  kClosed = 3,  // 销户
};

struct AccountState {
  AccountStatus status = AccountStatus::kNormal;
  bool frozen = false;  // 冻结 (a court order; orthogonal to sealed / normal)
  EmployerId employer;
  Fen contribution_base;  // the last entry of base_changes
  Fen balance;
  // yyyymm: where the account's regular sequence stands — the last regular month allocated,
  // or the month before it joined its employer's sequence (its first month, or the month
  // after the employer's paid-up-to month if that is later: it joins the employer's next
  // list). Months up to it may still be unpaid (deferred, reversed once their list was
  // completed, owed from before it joined): paid_runs says which months are paid.
  uint32_t paid_up_to_month = 0;
  // The 积数 of the interest year not yet settled (DOMAIN §3); its balance equals `balance`.
  std::optional<InterestAccumulator> interest;
  // The base by month, oldest first, from_month strictly increasing; the first is the
  // opening's. A regular line must carry the base in force for its month (BaseFor).
  std::vector<BaseChange> base_changes;
  // The months paid, ascending and disjoint; two runs that touch differ in base. A month is
  // paid in full when its paid base reaches its base in force: a back-payment (补缴) pays at
  // most the difference, a regular line only a month with nothing paid.
  std::vector<PaidRun> paid_runs;
  // The withdrawal applied or approved on the account (DOMAIN §4: one at a time; it keeps
  // the year-end settlement away, DOMAIN §3); 0 if none.
  uint64_t withdrawal_in_flight = 0;
  uint64_t version = 0;
};

enum class WithdrawalStatus : uint8_t {
  kApplied = 1,   // waiting for a reviewer
  kApproved = 2,  // its amount held, waiting for the bank
  kPaid = 3,
  kRejected = 4,
  kCancelled = 5,
};

// One withdrawal application (its stream is the withdrawal's). Kept after it ends, so that its
// id is never reused and its history can be told.
struct WithdrawalState {
  WithdrawalStatus status = WithdrawalStatus::kApplied;
  AccountId account;
  WithdrawalReason reason = WithdrawalReason::kRetirement;
  std::string applicant;  // the principal who applied: never its reviewer
  Fen held;               // while approved: the amount held (0 otherwise)
  uint64_t version = 0;
  bool operator==(const WithdrawalState&) const = default;
};

// One interest year's settlement run (年终结息): started by the year's first chunk, completed
// by the chunk that credits the last account it still had to settle. One run per year, named
// by the year (its settlement_id). Credits after it completed (an account opened back-dated
// into the year) name it too, without opening it again.
struct SettlementRun {
  uint32_t accounts_count = 0;  // accounts to settle when it started
  uint32_t credited_count = 0;  // credited while it ran
  Fen interest_total;           // Σ of those credits
  bool completed = false;
  bool operator==(const SettlementRun&) const = default;
};

// The fund as a whole (its stream is the fund's): the accounts each interest year still has to
// settle, and the settlement runs by interest year.
struct FundState {
  // Accounts not closed, by the interest year they have open (not yet settled); no zeros.
  std::map<int32_t, uint32_t> accounts_by_open_year;
  std::map<int32_t, SettlementRun> runs;
  uint64_t version = 0;  // facts applied to the fund's stream
  bool operator==(const FundState&) const = default;
};

// The policy the log recorded last (PolicyChanged): what the sequencer decides with.
struct PolicyInForce {
  uint32_t version = 0;                    // 0: none recorded yet (a new store)
  std::shared_ptr<const PolicyBook> book;  // null iff version == 0
  std::string document;                    // the recorded canonical document, PolicyToJson(*book)
};

struct State {
  std::map<EmployerId, EmployerState> employers;
  std::map<AccountId, AccountState> accounts;
  std::map<uint64_t, WithdrawalState> withdrawals;  // by withdrawal id
  std::set<uint64_t> reversed_positions;  // records already reversed (红冲), never twice
  PolicyInForce policy;
  FundState fund;

  const EmployerState* employer(EmployerId id) const;
  const AccountState* account(AccountId id) const;
  const WithdrawalState* withdrawal(uint64_t id) const;
};

// Applies a fact Decide() produced against this state, for the command with this effective
// (value) date, under the policy it was decided with (interest accumulators need its rates;
// the sequencer passes the state's own book, as to Decide()). A PolicyChanged installs its
// book as state.policy and re-rates every account's accumulator to the new rate table
// (InterestAccumulator::Rerate, which Decide() made sure is exact).
// REQUIRES: the fact was decided on `state` (facts are never re-validated here; a violated
// precondition is a bug and aborts).
void Evolve(State& state, const Fact& fact, Date effective_date, const PolicyBook& policy);

// Re-rates every account's accumulator to `rate_table` (after a policy change; the stored
// state's loader re-rates each account as it reads it, since accounts untouched since the
// change were stored under the old table). kFailedPrecondition naming the first account that
// cannot be re-rated exactly (InterestAccumulator::Rerate); accounts before it are re-rated.
Status RerateAccounts(State& state, std::span<const RateSegment> rate_table);

// The rates due for `month`: a reduction's if one covers it, else those in force that month
// (the last rate change from that month or before; the registration's for earlier months).
std::pair<RatePpm, RatePpm> RatesFor(const EmployerState& employer, uint32_t month);

// The contribution base in force for `month`: the last change from that month or before (the
// opening's for earlier months, as for rates). REQUIRES: the account has a base change.
Fen BaseFor(const AccountState& account, uint32_t month);

// The base paid so far for `month` (zero if nothing).
Fen PaidBaseFor(const AccountState& account, uint32_t month);

// The month after yyyymm, or kNoMonth after the last supported month (2199-12): the calendar
// ends there, and nothing can be due after it.
inline constexpr uint32_t kNoMonth = 0;
uint32_t MonthAfter(uint32_t yyyymm);
// The month before yyyymm. REQUIRES: yyyymm is a valid month after 1990-01 (Decide() checks
// first contribution months so; state holds only such months).
uint32_t MonthBefore(uint32_t yyyymm);

// The month a regular contribution after `paid_up_to` is for: the next month, skipping months
// the employer has a deferral for (those are back-paid later); kNoMonth past the calendar.
uint32_t NextRegularMonth(const EmployerState& employer, uint32_t paid_up_to);

// The month the account's next regular line pays: the first after its paid-up-to month that
// its employer has no deferral for and that has nothing paid (a month back-paid ahead of the
// sequence — for an account behind its employer — is not paid again); kNoMonth past the
// calendar.
uint32_t NextDueMonth(const EmployerState& employer, const AccountState& account);

// The day a posting value-dated `value_date` counts from in an account's accumulator: the
// date itself, or the first day of the account's open interest year when the date lies in a
// year already settled (a back-payment for an earlier year earns from the open year on;
// make-up interest for settled years is not paid — DOMAIN is silent, see ledger/README.md).
// REQUIRES: the account has an accumulator and value_date is not after its year.
Date CountedFrom(const AccountState& account, Date value_date);

}  // namespace hpf::ledger
