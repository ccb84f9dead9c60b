// ledger/state.cc
#include "ledger/state.h"

#include <algorithm>
#include <type_traits>

#include <fmt/core.h>

#include "ledger/calendar.h"
#include "ledger/limits.h"

namespace hpf::ledger {

const EmployerState* State::employer(EmployerId id) const {
  auto it = employers.find(id);
  return it == employers.end() ? nullptr : &it->second;
}

const AccountState* State::account(AccountId id) const {
  auto it = accounts.find(id);
  return it == accounts.end() ? nullptr : &it->second;
}

const WithdrawalState* State::withdrawal(uint64_t id) const {
  auto it = withdrawals.find(id);
  return it == withdrawals.end() ? nullptr : &it->second;
}

bool IsWithdrawalReason(WithdrawalReason reason) {
  switch (reason) {
    case WithdrawalReason::kPurchase:
    case WithdrawalReason::kBuildOrOverhaul:
    case WithdrawalReason::kRetirement:
    case WithdrawalReason::kLossOfWorkingCapacity:
    case WithdrawalReason::kLeavingCity:
    case WithdrawalReason::kLoanRepayment:
    case WithdrawalReason::kRent:
    case WithdrawalReason::kDeath:
    case WithdrawalReason::kSeriousIllness:
    case WithdrawalReason::kOther:
      return true;
  }
  return false;
}

bool IsClosingReason(WithdrawalReason reason) {
  switch (reason) {
    case WithdrawalReason::kRetirement:
    case WithdrawalReason::kLossOfWorkingCapacity:
    case WithdrawalReason::kLeavingCity:
    case WithdrawalReason::kDeath:
      return true;
    default:
      return false;
  }
}

namespace {

WithdrawalState& WithdrawalOf(State& state, uint64_t id) {
  auto it = state.withdrawals.find(id);
  HPF_ASSERT(it != state.withdrawals.end());
  return it->second;
}

EmployerState& EmployerOf(State& state, EmployerId id) {
  auto it = state.employers.find(id);
  HPF_ASSERT(it != state.employers.end());
  return it->second;
}

AccountState& AccountOf(State& state, AccountId id) {
  auto it = state.accounts.find(id);
  HPF_ASSERT(it != state.accounts.end());
  return it->second;
}

void Detach(State& state, AccountState& account) {
  EmployerState& employer = EmployerOf(state, account.employer);
  HPF_ASSERT(employer.normal_accounts > 0);
  --employer.normal_accounts;
}

// An account attached to `employer` from the month after `paid_up_to` on joins its regular
// sequence: it is paid up to the employer's paid-up-to month at least, for the employer's
// next list to take it; the months it owes before that are back-paid (补缴).
uint32_t JoinedSequence(const EmployerState& employer, uint32_t paid_up_to) {
  return std::max(paid_up_to, employer.paid_up_to_month);
}

// Counts an account more (+1) or less (-1) among those with `year` open.
void Unsettled(FundState& fund, int32_t year, int delta) {
  uint32_t& count = fund.accounts_by_open_year[year];
  HPF_ASSERT(delta > 0 || count > 0);
  count = delta > 0 ? count + 1 : count - 1;
  if (count == 0) fund.accounts_by_open_year.erase(year);
}

// Months in state are valid months (Decide checked them): plain arithmetic suffices.
uint32_t NextMonthOf(uint32_t yyyymm) {
  return yyyymm % 100 == 12 ? (yyyymm / 100 + 1) * 100 + 1 : yyyymm + 1;
}
uint32_t PrevMonthOf(uint32_t yyyymm) {
  return yyyymm % 100 == 1 ? (yyyymm / 100 - 1) * 100 + 12 : yyyymm - 1;
}

// The first run that ends in `month` or later.
std::vector<PaidRun>::const_iterator RunFrom(const std::vector<PaidRun>& runs, uint32_t month) {
  return std::lower_bound(runs.begin(), runs.end(), month,
                          [](const PaidRun& run, uint32_t m) { return run.to_month < m; });
}

// Merges runs[first..last] (clamped) where two that touch have the same base.
void MergeRuns(std::vector<PaidRun>& runs, size_t first, size_t last) {
  last = std::min(last, runs.size() - 1);
  for (size_t i = last; i > first; --i) {
    PaidRun& before = runs[i - 1];
    const PaidRun& after = runs[i];
    if (before.base == after.base && NextMonthOf(before.to_month) == after.from_month) {
      before.to_month = after.to_month;
      runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

// Adds `delta` (negative for a reversal) to the base paid for `month`, keeping the runs
// ascending, disjoint, positive and merged. REQUIRES: the result is >= 0.
void AddPaidBase(std::vector<PaidRun>& runs, uint32_t month, Fen delta) {
  HPF_ASSERT(delta != Fen{0});
  // The usual case, a regular month after the last one paid, costs O(1).
  if (runs.empty() || runs.back().to_month < month) {
    HPF_ASSERT(delta > Fen{0});
    if (!runs.empty() && runs.back().base == delta && NextMonthOf(runs.back().to_month) == month) {
      runs.back().to_month = month;
    } else {
      runs.push_back(PaidRun{month, month, delta});
    }
    return;
  }
  const auto at = static_cast<size_t>(RunFrom(runs, month) - runs.begin());
  std::vector<PaidRun> pieces;  // what replaces runs[at] when it holds the month
  size_t replaced = 0;
  if (runs[at].from_month <= month) {
    const PaidRun run = runs[at];
    replaced = 1;
    if (run.from_month < month) pieces.push_back({run.from_month, PrevMonthOf(month), run.base});
    const Fen paid = run.base + delta;
    HPF_ASSERT(paid >= Fen{0});
    if (paid > Fen{0}) pieces.push_back({month, month, paid});
    if (month < run.to_month) pieces.push_back({NextMonthOf(month), run.to_month, run.base});
  } else {
    HPF_ASSERT(delta > Fen{0});
    pieces.push_back({month, month, delta});
  }
  const auto position = runs.begin() + static_cast<std::ptrdiff_t>(at);
  runs.erase(position, position + static_cast<std::ptrdiff_t>(replaced));
  runs.insert(runs.begin() + static_cast<std::ptrdiff_t>(at), pieces.begin(), pieces.end());
  if (!runs.empty()) MergeRuns(runs, at == 0 ? 0 : at - 1, at + pieces.size());
}

}  // namespace

std::pair<RatePpm, RatePpm> RatesFor(const EmployerState& employer, uint32_t month) {
  for (const RateReduction& reduction : employer.reductions) {
    if (reduction.months.Contains(month)) {
      return {reduction.employer_rate, reduction.employee_rate};
    }
  }
  HPF_ASSERT(!employer.rate_changes.empty());
  for (auto it = employer.rate_changes.rbegin(); it != employer.rate_changes.rend(); ++it) {
    if (it->from_month <= month) return {it->employer_rate, it->employee_rate};
  }
  const RateChange& first = employer.rate_changes.front();
  return {first.employer_rate, first.employee_rate};
}

Fen BaseFor(const AccountState& account, uint32_t month) {
  HPF_ASSERT(!account.base_changes.empty());
  for (auto it = account.base_changes.rbegin(); it != account.base_changes.rend(); ++it) {
    if (it->from_month <= month) return it->base;
  }
  return account.base_changes.front().base;
}

Fen PaidBaseFor(const AccountState& account, uint32_t month) {
  const auto run = RunFrom(account.paid_runs, month);
  return run != account.paid_runs.end() && run->from_month <= month ? run->base : Fen{0};
}

uint32_t MonthAfter(uint32_t yyyymm) {
  const Month month = Month::FromYyyymm(yyyymm).value();
  return yyyymm >= kMonthYyyymmMax ? kNoMonth : month.Next().yyyymm();
}

uint32_t MonthBefore(uint32_t yyyymm) {
  HPF_ASSERT(yyyymm > kMonthYyyymmMin);
  return Month::FromYyyymm(yyyymm).value().Prev().yyyymm();
}

uint32_t NextRegularMonth(const EmployerState& employer, uint32_t paid_up_to) {
  uint32_t next = MonthAfter(paid_up_to);
  // Deferrals do not overlap; each pass skips at least one, so this ends.
  bool moved = true;
  while (moved && next != kNoMonth) {
    moved = false;
    for (const MonthRange& deferral : employer.deferrals) {
      if (deferral.Contains(next)) {
        next = MonthAfter(deferral.to_month);
        moved = true;
        break;
      }
    }
  }
  return next;
}

uint32_t NextDueMonth(const EmployerState& employer, const AccountState& account) {
  uint32_t next = MonthAfter(account.paid_up_to_month);
  // Each pass moves past a deferral or a run of paid months, or stops: this ends.
  bool moved = true;
  while (moved && next != kNoMonth) {
    moved = false;
    for (const MonthRange& deferral : employer.deferrals) {
      if (deferral.Contains(next)) {
        next = MonthAfter(deferral.to_month);
        moved = true;
        break;
      }
    }
    if (moved || next == kNoMonth) continue;
    const auto run = RunFrom(account.paid_runs, next);
    if (run != account.paid_runs.end() && run->from_month <= next) {
      next = MonthAfter(run->to_month);
      moved = true;
    }
  }
  return next;
}

Date CountedFrom(const AccountState& account, Date value_date) {
  HPF_ASSERT(account.interest.has_value());
  const InterestYear year = account.interest->year();
  HPF_ASSERT(value_date <= year.LastDay());
  return std::max(value_date, year.FirstDay());
}

void Evolve(State& state, const Fact& fact, Date effective_date, const PolicyBook& policy) {
  std::visit(
      [&state, effective_date, &policy](const auto& f) {
        using F = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<F, EmployerRegistered>) {
          const bool inserted =
              state.employers
                  .emplace(f.terms.employer,
                           EmployerState{
                               .status = EmployerStatus::kNormal,
                               .employer_rate = f.terms.employer_rate,
                               .employee_rate = f.terms.employee_rate,
                               .paid_up_to_month = MonthBefore(f.terms.first_contribution_month),
                               .rate_changes = {RateChange{f.terms.first_contribution_month,
                                                           f.terms.employer_rate,
                                                           f.terms.employee_rate}},
                               .version = 1})
                  .second;
          HPF_ASSERT(inserted);
        } else if constexpr (std::is_same_v<F, EmployerRatesChanged>) {
          EmployerState& employer = EmployerOf(state, f.employer);
          HPF_ASSERT(employer.rate_changes.back().from_month < f.from_month);
          employer.rate_changes.push_back(
              RateChange{f.from_month, f.employer_rate, f.employee_rate});
          employer.employer_rate = f.employer_rate;
          employer.employee_rate = f.employee_rate;
          ++employer.version;
        } else if constexpr (std::is_same_v<F, EmployerRateReductionGranted>) {
          EmployerState& employer = EmployerOf(state, f.terms.employer);
          employer.reductions.push_back(RateReduction{{f.terms.from_month, f.terms.to_month},
                                                      f.terms.employer_rate,
                                                      f.terms.employee_rate});
          ++employer.version;
        } else if constexpr (std::is_same_v<F, EmployerDeferralGranted>) {
          EmployerState& employer = EmployerOf(state, f.terms.employer);
          employer.deferrals.push_back(MonthRange{f.terms.from_month, f.terms.to_month});
          ++employer.version;
        } else if constexpr (std::is_same_v<F, EmployerSealed>) {
          EmployerState& employer = EmployerOf(state, f.employer);
          HPF_ASSERT(employer.status == EmployerStatus::kNormal);
          employer.status = EmployerStatus::kSealed;
          ++employer.version;
        } else if constexpr (std::is_same_v<F, EmployerClosed>) {
          EmployerState& employer = EmployerOf(state, f.employer);
          HPF_ASSERT(employer.status != EmployerStatus::kClosed);
          employer.status = EmployerStatus::kClosed;
          ++employer.version;
        } else if constexpr (std::is_same_v<F, EmployerReopened>) {
          EmployerState& employer = EmployerOf(state, f.employer);
          HPF_ASSERT(employer.status == EmployerStatus::kSealed);
          employer.status = EmployerStatus::kNormal;
          employer.paid_up_to_month = MonthBefore(f.first_contribution_month);
          ++employer.version;
        } else if constexpr (std::is_same_v<F, AccountOpened>) {
          EmployerState& employer = EmployerOf(state, f.terms.employer);
          ++employer.normal_accounts;
          ++state.fund.accounts_by_open_year[InterestYearOf(effective_date).starting_year()];
          const bool inserted =
              state.accounts
                  .emplace(
                      f.terms.account,
                      AccountState{
                          .status = AccountStatus::kNormal,
                          .employer = f.terms.employer,
                          .contribution_base = f.terms.contribution_base,
                          .paid_up_to_month = JoinedSequence(
                              employer, MonthBefore(f.terms.first_contribution_month)),
                          .interest = InterestAccumulator(InterestYearOf(effective_date),
                                                          policy.personal_rate_table(), Fen{0}),
                          .base_changes = {BaseChange{f.terms.first_contribution_month,
                                                      f.terms.contribution_base}},
                          .version = 1})
                  .second;
          HPF_ASSERT(inserted);
        } else if constexpr (std::is_same_v<F, AccountBaseChanged>) {
          AccountState& account = AccountOf(state, f.account);
          BaseChange& latest = account.base_changes.back();
          HPF_ASSERT(latest.from_month <= f.from_month);
          if (latest.from_month == f.from_month) {
            latest.base = f.contribution_base;  // a correction of the latest change
          } else {
            account.base_changes.push_back(BaseChange{f.from_month, f.contribution_base});
          }
          account.contribution_base = f.contribution_base;
          ++account.version;
        } else if constexpr (std::is_same_v<F, AccountSealed>) {
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(account.status == AccountStatus::kNormal);
          Detach(state, account);
          account.status = AccountStatus::kSealed;
          ++account.version;
        } else if constexpr (std::is_same_v<F, AccountUnsealed>) {
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(account.status == AccountStatus::kSealed);
          account.status = AccountStatus::kNormal;
          account.employer = f.employer;
          account.contribution_base = f.contribution_base;
          // The new employment's base from its first month on replaces whatever the old one
          // had recorded for those months.
          std::erase_if(account.base_changes, [&f](const BaseChange& change) {
            return change.from_month >= f.first_contribution_month;
          });
          account.base_changes.push_back(
              BaseChange{f.first_contribution_month, f.contribution_base});
          EmployerState& employer = EmployerOf(state, f.employer);
          // The new employment's sequence starts at its first month (or joins the employer's),
          // wherever the old one stood: months it has paid are skipped (NextDueMonth), and an
          // old alignment that passed months without paying them must not lose them (found by
          // the long simulation: unsealed twice, a month fell between the two employers).
          account.paid_up_to_month =
              JoinedSequence(employer, MonthBefore(f.first_contribution_month));
          ++employer.normal_accounts;
          ++account.version;
        } else if constexpr (std::is_same_v<F, AccountFrozen>) {
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(!account.frozen);
          account.frozen = true;
          ++account.version;
        } else if constexpr (std::is_same_v<F, AccountUnfrozen>) {
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(account.frozen);
          account.frozen = false;
          ++account.version;
        } else if constexpr (std::is_same_v<F, AccountClosed>) {
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(account.status != AccountStatus::kClosed);
          if (account.status == AccountStatus::kNormal) Detach(state, account);
          Unsettled(state.fund, account.interest->year().starting_year(), -1);
          account.status = AccountStatus::kClosed;
          ++account.version;
        } else if constexpr (std::is_same_v<F, BankReceiptRecorded>) {
          EmployerState& employer = EmployerOf(state, f.terms.employer);
          employer.suspense += f.terms.amount;
          ++employer.version;
        } else if constexpr (std::is_same_v<F, RemittanceOpened>) {
          EmployerState& employer = EmployerOf(state, f.terms.employer);
          HPF_ASSERT(!employer.remittance.has_value());
          HPF_ASSERT(f.terms.remittance_id > employer.last_remittance_id);
          employer.last_remittance_id = f.terms.remittance_id;
          employer.remittance = OpenRemittanceState{.remittance_id = f.terms.remittance_id,
                                                    .kind = f.terms.kind,
                                                    .from_month = f.terms.from_month,
                                                    .to_month = f.terms.to_month,
                                                    .total = f.terms.total};
          ++employer.version;
        } else if constexpr (std::is_same_v<F, ContributionAllocated>) {
          EmployerState& employer = EmployerOf(state, f.employer);
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(employer.remittance.has_value());
          const Fen amount = f.employer_amount + f.employee_amount;
          employer.suspense -= amount;
          HPF_ASSERT(employer.suspense >= Fen{0});
          employer.remittance->allocated += amount;
          ++employer.remittance->allocations;
          account.balance += amount;
          account.interest->Apply(CountedFrom(account, effective_date), amount);
          AddPaidBase(account.paid_runs, f.month, f.contribution_base);
          if (f.kind == RemittanceKind::kRegular) account.paid_up_to_month = f.month;
          ++account.version;  // the record is on the account's stream, not the employer's
        } else if constexpr (std::is_same_v<F, RemittanceCompleted>) {
          EmployerState& employer = EmployerOf(state, f.employer);
          HPF_ASSERT(employer.remittance.has_value());
          employer.remittance.reset();
          employer.paid_up_to_month = f.paid_up_to_month;
          ++employer.version;
        } else if constexpr (std::is_same_v<F, YearEndInterestCredited>) {
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(account.interest.has_value());
          HPF_ASSERT(account.interest->year().starting_year() == f.interest_year);
          account.balance += f.interest;
          account.interest =
              CarryForward(*account.interest, f.interest, policy.personal_rate_table());
          ++account.version;
          Unsettled(state.fund, f.interest_year, -1);
          Unsettled(state.fund, f.interest_year + 1, +1);
          auto run = state.fund.runs.find(f.interest_year);
          if (run != state.fund.runs.end() && !run->second.completed) {
            ++run->second.credited_count;
            run->second.interest_total += f.interest;
          }
        } else if constexpr (std::is_same_v<F, YearEndSettlementStarted>) {
          const bool inserted =
              state.fund.runs
                  .emplace(f.interest_year, SettlementRun{.accounts_count = f.accounts_count})
                  .second;
          HPF_ASSERT(inserted);
          ++state.fund.version;
        } else if constexpr (std::is_same_v<F, YearEndSettlementCompleted>) {
          auto run = state.fund.runs.find(static_cast<int32_t>(f.settlement_id));
          HPF_ASSERT(run != state.fund.runs.end());
          HPF_ASSERT(!run->second.completed);
          run->second.completed = true;
          ++state.fund.version;
        } else if constexpr (std::is_same_v<F, RecordReversed>) {
          const ReversalTarget& target = *f.terms.target;
          const bool inserted = state.reversed_positions.insert(f.terms.position).second;
          HPF_ASSERT(inserted);
          const Date original_date = Date::FromYyyymmdd(target.effective_date).value();
          if (const auto* receipt = std::get_if<BankReceiptRecorded>(&*target.original)) {
            EmployerState& employer = EmployerOf(state, receipt->terms.employer);
            employer.suspense -= receipt->terms.amount;
            HPF_ASSERT(employer.suspense >= Fen{0});
            ++employer.version;
          } else if (const auto* allocation =
                         std::get_if<ContributionAllocated>(&*target.original)) {
            EmployerState& employer = EmployerOf(state, allocation->employer);
            AccountState& account = AccountOf(state, allocation->account);
            const Fen amount = allocation->employer_amount + allocation->employee_amount;
            account.balance -= amount;
            HPF_ASSERT(account.balance >= Fen{0});
            account.interest->Apply(CountedFrom(account, original_date), -amount);
            AddPaidBase(account.paid_runs, allocation->month, -allocation->contribution_base);
            employer.suspense += amount;  // back in suspense, for the corrected allocation
            // While its list is open the line reopens, and the account's latest regular month
            // steps back so that the corrected line can follow. Once the list is completed
            // the month stays in the sequence of both the employer and the account (neither
            // steps back: the employer's next list would skip the account, or the account its
            // employer's) and is unpaid again: a back-payment makes it good.
            if (employer.remittance.has_value() &&
                employer.remittance->remittance_id == allocation->remittance_id) {
              employer.remittance->allocated -= amount;
              --employer.remittance->allocations;
              if (allocation->kind == RemittanceKind::kRegular &&
                  account.paid_up_to_month == allocation->month) {
                account.paid_up_to_month = MonthBefore(allocation->month);
              }
            }
            ++account.version;
          } else if (const auto* interest =
                         std::get_if<YearEndInterestCredited>(&*target.original)) {
            AccountState& account = AccountOf(state, interest->account);
            account.balance -= interest->interest;
            HPF_ASSERT(account.balance >= Fen{0});
            // The credit counted from the next year's first day (its value date, 1 July).
            const Date credited_from =
                InterestYear::FromStartingYear(interest->interest_year).value().CreditValueDate();
            account.interest->Apply(CountedFrom(account, credited_from), -interest->interest);
            ++account.version;
          }
        } else if constexpr (std::is_same_v<F, WithdrawalApplied>) {
          AccountState& account = AccountOf(state, f.terms.account);
          HPF_ASSERT(account.withdrawal_in_flight == 0);
          account.withdrawal_in_flight = f.terms.withdrawal_id;
          const bool inserted = state.withdrawals
                                    .emplace(f.terms.withdrawal_id,
                                             WithdrawalState{.status = WithdrawalStatus::kApplied,
                                                             .account = f.terms.account,
                                                             .reason = f.terms.reason,
                                                             .applicant = f.applicant,
                                                             .version = 1})
                                    .second;
          HPF_ASSERT(inserted);
        } else if constexpr (std::is_same_v<F, WithdrawalApproved>) {
          WithdrawalState& withdrawal = WithdrawalOf(state, f.withdrawal_id);
          HPF_ASSERT(withdrawal.status == WithdrawalStatus::kApplied);
          withdrawal.status = WithdrawalStatus::kApproved;
          withdrawal.held = f.amount;
          ++withdrawal.version;
        } else if constexpr (std::is_same_v<F, WithdrawalRejected> ||
                             std::is_same_v<F, WithdrawalCancelled>) {
          WithdrawalState& withdrawal = WithdrawalOf(state, f.withdrawal_id);
          HPF_ASSERT(withdrawal.status == WithdrawalStatus::kApplied ||
                     withdrawal.status == WithdrawalStatus::kApproved);
          withdrawal.status = std::is_same_v<F, WithdrawalRejected> ? WithdrawalStatus::kRejected
                                                                    : WithdrawalStatus::kCancelled;
          withdrawal.held = Fen{0};
          ++withdrawal.version;
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(account.withdrawal_in_flight == f.withdrawal_id);
          account.withdrawal_in_flight = 0;
        } else if constexpr (std::is_same_v<F, InterestToDateCredited>) {
          AccountState& account = AccountOf(state, f.account);
          // A payment after the open year's end (the withdrawal kept the settlement away)
          // carries the accumulator to the year of the payment, crediting nothing on the way:
          // the interest of those years is this credit.
          while (account.interest->year().LastDay() < f.until_date) {
            const int32_t ended = account.interest->year().starting_year();
            account.interest =
                CarryForward(*account.interest, Fen{0}, policy.personal_rate_table());
            Unsettled(state.fund, ended, -1);
            Unsettled(state.fund, ended + 1, +1);
          }
          account.balance += f.interest;
          if (f.interest > Fen{0}) account.interest->Apply(f.until_date, f.interest);
          ++account.version;
        } else if constexpr (std::is_same_v<F, WithdrawalPaid>) {
          WithdrawalState& withdrawal = WithdrawalOf(state, f.withdrawal_id);
          HPF_ASSERT(withdrawal.status == WithdrawalStatus::kApproved);
          withdrawal.status = WithdrawalStatus::kPaid;
          withdrawal.held = Fen{0};
          ++withdrawal.version;
          AccountState& account = AccountOf(state, f.account);
          HPF_ASSERT(account.withdrawal_in_flight == f.withdrawal_id);
          account.withdrawal_in_flight = 0;
          account.balance -= f.amount;
          HPF_ASSERT(account.balance >= Fen{0});
          if (f.amount > Fen{0}) account.interest->Apply(effective_date, -f.amount);
        } else if constexpr (std::is_same_v<F, PolicyChanged>) {
          HPF_ASSERT(f.policy_version == state.policy.version + 1);
          HPF_ASSERT(f.book != nullptr);
          state.policy =
              PolicyInForce{.version = f.policy_version, .book = f.book, .document = f.document};
          const Status rerated = RerateAccounts(state, f.book->personal_rate_table());
          HPF_ASSERT(rerated.ok());  // Decide() checked every account's value dates
        } else {
          static_assert(sizeof(F) == 0, "every fact must be applied");
        }
      },
      fact);
}

Status RerateAccounts(State& state, std::span<const RateSegment> rate_table) {
  for (auto& [id, account] : state.accounts) {
    if (!account.interest.has_value()) continue;
    if (Status status = account.interest->Rerate(rate_table); !status.ok()) {
      return FailedPreconditionError(fmt::format("account {}: {}", id.value, status.message()));
    }
  }
  return Status::Ok();
}

}  // namespace hpf::ledger
