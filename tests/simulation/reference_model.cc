// tests/simulation/reference_model.cc — the rules, one command at a time, in the precedence
// ledger/decide.h states: the command's own fields, the entities named, their states, the
// policy's figures.
#include "tests/simulation/reference_model.h"

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>

#include "ledger/money.h"

namespace hpf::simulation {

using ledger::Rejection;
using ledger::RemittanceKind;

// --- calendar and money ---

namespace {

bool IsLeap(uint32_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

uint32_t DaysIn(uint32_t year, uint32_t month) {
  static constexpr uint32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

bool TextOk(const std::string& text, size_t bytes_max) {
  return !text.empty() && text.size() <= bytes_max;
}

// Ids start at 1.
bool AnyZero(std::initializer_list<uint64_t> ids) {
  return std::find(ids.begin(), ids.end(), uint64_t{0}) != ids.end();
}

// An employer's seal or closing: dissolved (1), business suspended (2), no employees (3) or
// other (99); an approval reference that may be empty, of at most 200 bytes.
std::optional<Rejection> ExitFieldsOk(int reason, const std::string& approval_reference) {
  if ((reason < 1 || reason > 3) && reason != 99) return Rejection::kCodeInvalid;
  if (approval_reference.size() > kModelTextBytesMax) return Rejection::kTextFieldInvalid;
  return std::nullopt;
}

bool CreditCodeOk(const std::string& code) {
  if (code.size() != kModelCreditCodeBytes) return false;
  for (const char c : code) {
    const bool digit = c >= '0' && c <= '9';
    const bool capital = c >= 'A' && c <= 'Z';
    if (!digit && !capital) return false;
  }
  return true;
}

// Both sides within 5 %-12 %.
bool RatesOk(uint32_t employer_rate_ppm, uint32_t employee_rate_ppm) {
  for (const uint32_t rate : {employer_rate_ppm, employee_rate_ppm}) {
    if (rate < kModelRateMinPpm || rate > kModelRateMaxPpm) return false;
  }
  return true;
}

// Floor and cap of a contribution base: nullopt when inside.
std::optional<Rejection> BaseRule(int64_t base_fen) {
  if (base_fen < kModelBaseFloorFen) return Rejection::kBaseBelowFloor;
  if (base_fen > kModelBaseCapFen) return Rejection::kBaseAboveCap;
  return std::nullopt;
}

// Days a posting value-dated `date` counts in `year`: from the date (or the year's first day,
// for a date in an earlier year, already settled) to the year's last day, both included.
int64_t CountedDays(int32_t year, uint32_t date) {
  const uint32_t from = std::max(date, InterestYearFirstDay(year));
  return DayNumber(InterestYearLastDay(year)) - DayNumber(from) + 1;
}

// The personal interest rate of a day: the dated table of DOMAIN §3, looked up.
uint32_t RateOn(uint32_t yyyymmdd) {
  return yyyymmdd >= kModelInterestRateFromDate ? kModelInterestRatePpm
                                                : kModelEarlierInterestRatePpm;
}

// The account's open year becomes `year`, holding its whole balance from the first day on.
void OpenYear(ModelAccount& account, int32_t year) {
  const uint32_t first = InterestYearFirstDay(year);
  account.interest_year = year;
  account.fen_days = account.balance_fen * CountedDays(year, first);
  account.day_deltas.clear();
  if (account.balance_fen != 0) account.day_deltas[first] = account.balance_fen;
  account.latest_value_date = first;
}

// Money value-dated `date` changes the account's balance by `delta` (a date in a settled year
// counts from the open year's first day). Nothing is recorded for no money.
void Post(ModelAccount& account, uint32_t date, int64_t delta) {
  if (delta == 0) return;
  const uint32_t counted_from = std::max(date, InterestYearFirstDay(account.interest_year));
  account.balance_fen += delta;
  account.fen_days += delta * CountedDays(account.interest_year, counted_from);
  if ((account.day_deltas[counted_from] += delta) == 0) account.day_deltas.erase(counted_from);
  account.latest_value_date = std::max(account.latest_value_date, counted_from);
}

}  // namespace

bool IsValidDate(uint32_t yyyymmdd) {
  const uint32_t year = yyyymmdd / 10000;
  const uint32_t month = yyyymmdd / 100 % 100;
  const uint32_t day = yyyymmdd % 100;
  if (year < 1990 || year > 2199 || month < 1 || month > 12) return false;
  return day >= 1 && day <= DaysIn(year, month);
}

bool IsValidMonth(uint32_t yyyymm) {
  const uint32_t year = yyyymm / 100;
  const uint32_t month = yyyymm % 100;
  return year >= 1990 && year <= 2199 && month >= 1 && month <= 12;
}

uint32_t NextMonth(uint32_t yyyymm) {
  return yyyymm % 100 == 12 ? (yyyymm / 100 + 1) * 100 + 1 : yyyymm + 1;
}

uint32_t PrevMonth(uint32_t yyyymm) {
  return yyyymm % 100 == 1 ? (yyyymm / 100 - 1) * 100 + 12 : yyyymm - 1;
}

int64_t DayNumber(uint32_t yyyymmdd) {
  const int64_t year = yyyymmdd / 10000;
  const uint32_t month = yyyymmdd / 100 % 100;
  const int64_t day = yyyymmdd % 100;
  // Days of the years before this one (Gregorian leap rule), then of its months before this.
  const int64_t before = year - 1;
  int64_t days = before * 365 + before / 4 - before / 100 + before / 400;
  for (uint32_t m = 1; m < month; ++m) days += DaysIn(static_cast<uint32_t>(year), m);
  return days + day;
}

uint32_t NextDay(uint32_t yyyymmdd) {
  const uint32_t year = yyyymmdd / 10000;
  const uint32_t month = yyyymmdd / 100 % 100;
  const uint32_t day = yyyymmdd % 100;
  if (day < DaysIn(year, month)) return yyyymmdd + 1;
  if (month < 12) return year * 10000 + (month + 1) * 100 + 1;
  return (year + 1) * 10000 + 101;
}

int32_t InterestYearOf(uint32_t yyyymmdd) {
  const auto year = static_cast<int32_t>(yyyymmdd / 10000);
  return yyyymmdd / 100 % 100 >= 7 ? year : year - 1;
}

uint32_t InterestYearLastDay(int32_t year) { return static_cast<uint32_t>(year + 1) * 10000 + 630; }

uint32_t InterestYearFirstDay(int32_t year) { return static_cast<uint32_t>(year) * 10000 + 701; }

uint32_t DaysAfter(uint32_t yyyymmdd, uint32_t days) {
  for (uint32_t i = 0; i < days; ++i) yyyymmdd = NextDay(yyyymmdd);
  return yyyymmdd;
}

std::pair<uint32_t, uint32_t> RatesFor(const ModelEmployer& employer, uint32_t month) {
  for (const ModelReduction& r : employer.reductions) {
    if (r.from_month <= month && month <= r.to_month) {
      return {r.employer_rate_ppm, r.employee_rate_ppm};
    }
  }
  // The latest change from `month` or before; months before them all owe the first rates.
  std::pair<uint32_t, uint32_t> rates{std::get<1>(employer.rate_history.front()),
                                      std::get<2>(employer.rate_history.front())};
  for (const auto& [from, employer_rate, employee_rate] : employer.rate_history) {
    if (from <= month) rates = {employer_rate, employee_rate};
  }
  return rates;
}

int64_t BaseFor(const ModelAccount& account, uint32_t month) {
  int64_t base = account.base_history.front().second;
  for (const auto& [from, changed] : account.base_history) {
    if (from <= month) base = changed;
  }
  return base;
}

uint32_t NextRegularMonth(const ModelEmployer& employer, uint32_t paid_up_to) {
  uint32_t month = NextMonth(paid_up_to);
  auto deferred = [&employer](uint32_t m) {
    for (const ModelDeferral& d : employer.deferrals) {
      if (d.from_month <= m && m <= d.to_month) return true;
    }
    return false;
  };
  while (deferred(month)) month = NextMonth(month);
  return month;
}

uint32_t NextDueMonth(const ModelEmployer& employer, const ModelAccount& account,
                      uint32_t paid_up_to) {
  uint32_t month = NextMonth(paid_up_to);
  auto deferred = [&employer](uint32_t m) {
    for (const ModelDeferral& d : employer.deferrals) {
      if (d.from_month <= m && m <= d.to_month) return true;
    }
    return false;
  };
  while (deferred(month) || account.paid_base.contains(month)) month = NextMonth(month);
  return month;
}

int64_t ContributionFen(int64_t base_fen, uint32_t rate_ppm) {
  // At most 2 871 600 × 120 000: far inside int64.
  return (base_fen * rate_ppm + 500'000) / 1'000'000;
}

// --- the model ---

const ModelEmployer* ReferenceModel::employer(uint64_t id) const {
  auto it = employers_.find(id);
  return it == employers_.end() ? nullptr : &it->second;
}

const ModelAccount* ReferenceModel::account(uint64_t id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

const ModelWithdrawal* ReferenceModel::withdrawal(uint64_t id) const {
  auto it = withdrawals_.find(id);
  return it == withdrawals_.end() ? nullptr : &it->second;
}

uint32_t ReferenceModel::NormalAccountsOf(uint64_t employer) const {
  uint32_t count = 0;
  for (const auto& [id, account] : accounts_) {
    if (account.employer == employer && account.status == ModelStatus::kNormal) ++count;
  }
  return count;
}

std::optional<Rejection> ReferenceModel::Check(const ledger::Command& command) const {
  if (command.header.idempotency_key.empty()) return Rejection::kIdempotencyKeyMissing;
  const uint32_t date = command.header.effective_date;
  // A real day, inside an interest year whose days are all valid: 1990-07-01 .. 2199-06-30
  // (a policy change needs a real day only: a policy may apply from 1990-01-01).
  const bool policy = std::holds_alternative<ledger::ChangePolicy>(command.body);
  if (!IsValidDate(date) || (!policy && (date < 19900701 || date > 21990630))) {
    return Rejection::kEffectiveDateInvalid;
  }
  const std::string_view actor = command.header.actor;
  return std::visit(
      [this, date, actor](const auto& body) {
        // The four-eyes commands read their actor: the applicant or the reviewer.
        if constexpr (requires { this->Rules(body, date, actor); }) {
          return Rules(body, date, actor);
        } else {
          return Rules(body, date);
        }
      },
      command.body);
}

Prediction ReferenceModel::Apply(const ledger::Command& command) {
  Prediction prediction{.rejection = Check(command)};
  if (!prediction.rejection.has_value()) {
    const uint32_t date = command.header.effective_date;
    const std::string_view actor = command.header.actor;
    const uint64_t head_before = head_position_;
    std::visit(
        [this, date, actor, &prediction](const auto& body) {
          if constexpr (requires { this->Effects(body, date, actor, prediction); }) {
            Effects(body, date, actor, prediction);
          } else {
            Effects(body, date, prediction);
          }
        },
        command.body);
    // Money facts log themselves; every other command is one fact that moves no money.
    if (head_position_ == head_before) Log(JournalEntry{.kind = JournalKind::kLifecycle});
    prediction.records = head_position_ - head_before;
  }
  return prediction;
}

const JournalEntry* ReferenceModel::record(uint64_t position) const {
  auto it = journal_.find(position);
  return it == journal_.end() ? nullptr : &it->second;
}

void ReferenceModel::Log(JournalEntry entry) {
  journal_[++head_position_] = entry;
  if (head_position_ > kModelJournalWindow) journal_.erase(head_position_ - kModelJournalWindow);
}

ReferenceModel::Answer ReferenceModel::EmployerMustBeNormal(uint64_t id) const {
  const ModelEmployer* e = employer(id);
  if (e == nullptr) return Rejection::kEmployerNotFound;
  if (e->status == ModelStatus::kClosed) return Rejection::kEmployerClosed;
  if (e->status != ModelStatus::kNormal) return Rejection::kEmployerNotNormal;
  return std::nullopt;
}

ReferenceModel::Answer ReferenceModel::EmployerMustNotBeClosed(uint64_t id) const {
  const ModelEmployer* e = employer(id);
  if (e == nullptr) return Rejection::kEmployerNotFound;
  if (e->status == ModelStatus::kClosed) return Rejection::kEmployerClosed;
  return std::nullopt;
}

ReferenceModel::Answer ReferenceModel::EmployerMustBeEmpty(uint64_t id) const {
  // Sealing or closing leaves nothing behind: no one contributing, no list half done, no
  // money waiting for a list.
  if (NormalAccountsOf(id) > 0) return Rejection::kEmployerHasNormalAccounts;
  const ModelEmployer& e = *employer(id);
  if (e.remittance.has_value()) return Rejection::kEmployerHasOpenRemittance;
  if (e.suspense_fen > 0) return Rejection::kEmployerHasSuspense;
  return std::nullopt;
}

ReferenceModel::Answer ReferenceModel::AccountMustBeOpen(uint64_t id) const {
  const ModelAccount* a = account(id);
  if (a == nullptr) return Rejection::kAccountNotFound;
  if (a->status == ModelStatus::kClosed) return Rejection::kAccountClosed;
  return std::nullopt;
}

// --- employers ---

ReferenceModel::Answer ReferenceModel::Rules(const ledger::RegisterEmployer& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.first_contribution_month)) return Rejection::kMonthInvalid;
  if (!CreditCodeOk(c.unified_social_credit_code)) return Rejection::kTextFieldInvalid;
  if (!TextOk(c.name, kModelTextBytesMax)) return Rejection::kTextFieldInvalid;
  if (!TextOk(c.bank_code, kModelCodeBytesMax)) return Rejection::kTextFieldInvalid;
  if (employer(c.employer.value) != nullptr) return Rejection::kEmployerAlreadyRegistered;
  if (!RatesOk(c.employer_rate.value, c.employee_rate.value)) {
    return Rejection::kEmployerRateOutOfBounds;
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::RegisterEmployer& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  employers_[c.employer.value] = ModelEmployer{
      .status = ModelStatus::kNormal,
      .employer_rate_ppm = c.employer_rate.value,
      .employee_rate_ppm = c.employee_rate.value,
      // Nothing paid yet: paid up to the month before the first.
      .paid_up_to_month = PrevMonth(c.first_contribution_month),
      .rate_history = {{c.first_contribution_month, c.employer_rate.value, c.employee_rate.value}},
  };
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::ChangeEmployerRates& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.from_month)) return Rejection::kMonthInvalid;
  if (auto r = EmployerMustBeNormal(c.employer.value)) return r;
  // Rates change forward: from a month after the latest change.
  if (c.from_month <= std::get<0>(employer(c.employer.value)->rate_history.back())) {
    return Rejection::kPeriodOutOfSequence;
  }
  if (!RatesOk(c.employer_rate.value, c.employee_rate.value)) {
    return Rejection::kEmployerRateOutOfBounds;
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::ChangeEmployerRates& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ModelEmployer& e = employers_.at(c.employer.value);
  e.employer_rate_ppm = c.employer_rate.value;
  e.employee_rate_ppm = c.employee_rate.value;
  e.rate_history.emplace_back(c.from_month, c.employer_rate.value, c.employee_rate.value);
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::SealEmployer& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (auto r = ExitFieldsOk(static_cast<int>(c.reason), c.approval_reference)) return r;
  if (auto r = EmployerMustBeNormal(c.employer.value)) return r;
  return EmployerMustBeEmpty(c.employer.value);
}

void ReferenceModel::Effects(const ledger::SealEmployer& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  employers_.at(c.employer.value).status = ModelStatus::kSealed;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::GrantRateReduction& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.from_month) || !IsValidMonth(c.to_month)) return Rejection::kMonthInvalid;
  if (c.from_month > c.to_month) return Rejection::kPeriodInvalid;
  if (!TextOk(c.approval_reference, kModelTextBytesMax)) return Rejection::kTextFieldInvalid;
  if (auto r = EmployerMustBeNormal(c.employer.value)) return r;
  const ModelEmployer& e = *employer(c.employer.value);
  // 降比: lower, never below 5 %; the employer's side first.
  const std::pair<uint32_t, uint32_t> sides[] = {{c.employer_rate.value, e.employer_rate_ppm},
                                                 {c.employee_rate.value, e.employee_rate_ppm}};
  for (const auto& [reduced, current] : sides) {
    if (reduced < kModelRateMinPpm) return Rejection::kReducedRateBelowMinimum;
    if (reduced > current) return Rejection::kReducedRateNotLower;
  }
  for (const ModelReduction& r : e.reductions) {
    if (r.from_month <= c.to_month && c.from_month <= r.to_month) {
      return Rejection::kPeriodOverlapsGrant;
    }
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::GrantRateReduction& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  employers_.at(c.employer.value)
      .reductions.push_back(ModelReduction{.from_month = c.from_month,
                                           .to_month = c.to_month,
                                           .employer_rate_ppm = c.employer_rate.value,
                                           .employee_rate_ppm = c.employee_rate.value});
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::GrantDeferral& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.from_month) || !IsValidMonth(c.to_month)) return Rejection::kMonthInvalid;
  if (c.from_month > c.to_month) return Rejection::kPeriodInvalid;
  if (!TextOk(c.approval_reference, kModelTextBytesMax)) return Rejection::kTextFieldInvalid;
  if (auto r = EmployerMustBeNormal(c.employer.value)) return r;
  if (c.to_month > kModelDeferralLastMonth) return Rejection::kDeferralBeyondPolicy;
  for (const ModelDeferral& d : employer(c.employer.value)->deferrals) {
    if (d.from_month <= c.to_month && c.from_month <= d.to_month) {
      return Rejection::kPeriodOverlapsGrant;
    }
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::GrantDeferral& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  employers_.at(c.employer.value)
      .deferrals.push_back(ModelDeferral{.from_month = c.from_month, .to_month = c.to_month});
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::CloseEmployer& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (auto r = ExitFieldsOk(static_cast<int>(c.reason), c.approval_reference)) return r;
  if (auto r = EmployerMustNotBeClosed(c.employer.value)) return r;
  return EmployerMustBeEmpty(c.employer.value);
}

void ReferenceModel::Effects(const ledger::CloseEmployer& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  employers_.at(c.employer.value).status = ModelStatus::kClosed;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::ReopenEmployer& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.first_contribution_month)) return Rejection::kMonthInvalid;
  if (auto r = EmployerMustNotBeClosed(c.employer.value)) return r;
  const ModelEmployer& e = *employer(c.employer.value);
  if (e.status != ModelStatus::kSealed) return Rejection::kEmployerNotSealed;
  if (c.first_contribution_month <= e.paid_up_to_month) return Rejection::kPeriodOutOfSequence;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::ReopenEmployer& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ModelEmployer& e = employers_.at(c.employer.value);
  e.status = ModelStatus::kNormal;
  e.paid_up_to_month = PrevMonth(c.first_contribution_month);  // the months between: unpaid
}

// --- personal accounts ---

ReferenceModel::Answer ReferenceModel::Rules(const ledger::OpenAccount& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.account.value, c.employer.value, c.person_id})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.first_contribution_month)) return Rejection::kMonthInvalid;
  if (account(c.account.value) != nullptr) return Rejection::kAccountAlreadyOpen;
  if (auto r = EmployerMustBeNormal(c.employer.value)) return r;
  return BaseRule(c.contribution_base.value);
}

void ReferenceModel::Effects(const ledger::OpenAccount& c, uint32_t date,
                             Prediction& /*prediction*/) {
  accounts_[c.account.value] = ModelAccount{
      .status = ModelStatus::kNormal,
      .frozen = false,
      .employer = c.employer.value,
      .base_fen = c.contribution_base.value,
      .base_history = {{c.first_contribution_month, c.contribution_base.value}},
      .balance_fen = 0,
      // It joins its employer's sequence: never behind the employer's paid-up-to month (the
      // months it owes before are back-paid).
      .paid_up_to_month = std::max(PrevMonth(c.first_contribution_month),
                                   employer(c.employer.value)->paid_up_to_month),
  };
  OpenYear(accounts_.at(c.account.value), InterestYearOf(date));  // during the year, empty
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::ChangeAccountBase& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.account.value})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.from_month)) return Rejection::kMonthInvalid;
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  if (account(c.account.value)->status != ModelStatus::kNormal) {
    return Rejection::kAccountNotNormal;
  }
  // Never from before the latest change (from its month: a correction of it).
  if (c.from_month < account(c.account.value)->base_history.back().first) {
    return Rejection::kPeriodOutOfSequence;
  }
  return BaseRule(c.contribution_base.value);
}

void ReferenceModel::Effects(const ledger::ChangeAccountBase& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ModelAccount& a = accounts_.at(c.account.value);
  a.base_fen = c.contribution_base.value;
  if (a.base_history.back().first == c.from_month) {
    a.base_history.back().second = c.contribution_base.value;
  } else {
    a.base_history.emplace_back(c.from_month, c.contribution_base.value);
  }
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::SealAccount& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.account.value})) return Rejection::kIdMustNotBeZero;
  // Left the employer (1), the employer sealed (2), other (99).
  const auto reason = static_cast<int>(c.reason);
  if (reason != 1 && reason != 2 && reason != 99) return Rejection::kCodeInvalid;
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  if (account(c.account.value)->status != ModelStatus::kNormal) {
    return Rejection::kAccountNotNormal;
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::SealAccount& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  accounts_.at(c.account.value).status = ModelStatus::kSealed;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::UnsealAccount& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.account.value, c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.first_contribution_month)) return Rejection::kMonthInvalid;
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  if (account(c.account.value)->status != ModelStatus::kSealed) {
    return Rejection::kAccountNotSealed;
  }
  if (auto r = EmployerMustBeNormal(c.employer.value)) return r;
  return BaseRule(c.contribution_base.value);
}

void ReferenceModel::Effects(const ledger::UnsealAccount& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ModelAccount& a = accounts_.at(c.account.value);
  a.status = ModelStatus::kNormal;
  a.employer = c.employer.value;
  a.base_fen = c.contribution_base.value;
  // The new base from the first month on, whatever was recorded for those months before.
  while (!a.base_history.empty() && a.base_history.back().first >= c.first_contribution_month) {
    a.base_history.pop_back();
  }
  a.base_history.emplace_back(c.first_contribution_month, c.contribution_base.value);
  // The new employment's sequence: from its first month, never behind the new employer
  // (months the account has paid are skipped when they come, NextDueMonth).
  a.paid_up_to_month =
      std::max(PrevMonth(c.first_contribution_month), employer(c.employer.value)->paid_up_to_month);
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::FreezeAccount& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.account.value})) return Rejection::kIdMustNotBeZero;
  if (!TextOk(c.court_order_reference, kModelTextBytesMax) ||
      !TextOk(c.authority, kModelTextBytesMax)) {
    return Rejection::kTextFieldInvalid;
  }
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  if (account(c.account.value)->frozen) return Rejection::kAccountAlreadyFrozen;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::FreezeAccount& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  accounts_.at(c.account.value).frozen = true;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::UnfreezeAccount& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.account.value})) return Rejection::kIdMustNotBeZero;
  if (!TextOk(c.court_order_reference, kModelTextBytesMax) ||
      !TextOk(c.authority, kModelTextBytesMax)) {
    return Rejection::kTextFieldInvalid;
  }
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  if (!account(c.account.value)->frozen) return Rejection::kAccountNotFrozen;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::UnfreezeAccount& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  accounts_.at(c.account.value).frozen = false;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::CloseAccount& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.account.value})) return Rejection::kIdMustNotBeZero;
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  const ModelAccount& a = *account(c.account.value);
  if (a.frozen) return Rejection::kAccountFrozen;  // court order: no closing
  if (a.balance_fen != 0) return Rejection::kAccountHasBalance;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::CloseAccount& c, uint32_t /*date*/,
                             Prediction& prediction) {
  ModelAccount& a = accounts_.at(c.account.value);
  a.status = ModelStatus::kClosed;
  Log(JournalEntry{.kind = JournalKind::kLifecycle});
  CompleteRunIfLast(a.interest_year, prediction);
}

// --- contributions ---

ReferenceModel::Answer ReferenceModel::Rules(const ledger::RecordBankReceipt& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.employer.value, c.deposit_id})) return Rejection::kIdMustNotBeZero;
  if (!TextOk(c.bank_code, kModelCodeBytesMax) || !TextOk(c.bank_reference, kModelTextBytesMax)) {
    return Rejection::kTextFieldInvalid;
  }
  if (c.amount.value <= 0) return Rejection::kAmountMustBePositive;
  if (c.amount.value > kModelAmountMaxFen) return Rejection::kAmountExceedsLimit;
  // A sealed employer may still pay its arrears.
  return EmployerMustNotBeClosed(c.employer.value);
}

void ReferenceModel::Effects(const ledger::RecordBankReceipt& c, uint32_t date,
                             Prediction& /*prediction*/) {
  employers_.at(c.employer.value).suspense_fen += c.amount.value;  // Dr 101 / Cr 219
  received_fen_ += c.amount.value;
  Log(JournalEntry{.kind = JournalKind::kReceipt,
                   .date = date,
                   .employer = c.employer.value,
                   .amount_fen = c.amount.value});
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::OpenRemittance& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.remittance_id, c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (c.kind != RemittanceKind::kRegular && c.kind != RemittanceKind::kBackPayment) {
    return Rejection::kCodeInvalid;
  }
  if (!IsValidMonth(c.from_month) || !IsValidMonth(c.to_month)) return Rejection::kMonthInvalid;
  if (c.from_month > c.to_month) return Rejection::kPeriodInvalid;
  if (!TextOk(c.list_reference, kModelTextBytesMax)) return Rejection::kTextFieldInvalid;
  if (c.total.value <= 0) return Rejection::kAmountMustBePositive;
  if (c.total.value > kModelAmountMaxFen) return Rejection::kAmountExceedsLimit;
  const bool regular = c.kind == RemittanceKind::kRegular;
  // Regular lists need a normal employer; a sealed one may still back-pay.
  if (auto r = regular ? EmployerMustBeNormal(c.employer.value)
                       : EmployerMustNotBeClosed(c.employer.value)) {
    return r;
  }
  const ModelEmployer& e = *employer(c.employer.value);
  if (e.remittance.has_value()) return Rejection::kRemittanceAlreadyOpen;  // one at a time
  if (c.remittance_id <= e.last_remittance_id) return Rejection::kRemittanceIdNotIncreasing;
  // 汇缴 continues right after the paid-up-to month, or after the deferred months that
  // follow it (paid later); 补缴 covers earlier months only.
  if (regular && c.from_month != NextMonth(e.paid_up_to_month) &&
      c.from_month != NextRegularMonth(e, e.paid_up_to_month)) {
    return Rejection::kPeriodOutOfSequence;
  }
  if (!regular && c.to_month > e.paid_up_to_month) return Rejection::kBackPaymentNotInPast;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::OpenRemittance& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  employers_.at(c.employer.value).last_remittance_id = c.remittance_id;
  employers_.at(c.employer.value).remittance = ModelRemittance{.id = c.remittance_id,
                                                               .kind = c.kind,
                                                               .from_month = c.from_month,
                                                               .to_month = c.to_month,
                                                               .total_fen = c.total.value};
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::AllocateContribution& c,
                                             uint32_t date) const {
  if (AnyZero({c.remittance_id, c.employer.value, c.account.value}))
    return Rejection::kIdMustNotBeZero;
  if (!IsValidMonth(c.month)) return Rejection::kMonthInvalid;
  // Each side >= 0 and something in total; summed wide so that no input can overflow.
  const ledger::Int128 line_total =
      static_cast<ledger::Int128>(c.employer_amount.value) + c.employee_amount.value;
  if (c.employer_amount.value < 0 || c.employee_amount.value < 0 || line_total == 0) {
    return Rejection::kAmountMustBePositive;
  }
  if (auto r = EmployerMustNotBeClosed(c.employer.value)) return r;
  const ModelEmployer& e = *employer(c.employer.value);
  if (!e.remittance.has_value() || e.remittance->id != c.remittance_id) {
    return Rejection::kRemittanceNotOpen;
  }
  const ModelRemittance& list = *e.remittance;
  const bool regular = list.kind == RemittanceKind::kRegular;
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  const ModelAccount& a = *account(c.account.value);
  if (a.employer != c.employer.value) return Rejection::kAccountNotAttachedToEmployer;
  if (regular && a.status != ModelStatus::kNormal) return Rejection::kAccountNotNormal;
  if (c.month < list.from_month || c.month > list.to_month) {
    return Rejection::kMonthOutsideRemittance;
  }
  // Regular months come one after the other for each account too (deferred ones skipped, and
  // months back-paid ahead of the sequence).
  if (regular && c.month != NextMonth(a.paid_up_to_month) &&
      c.month != NextDueMonth(e, a, a.paid_up_to_month)) {
    return Rejection::kPeriodOutOfSequence;
  }
  // Money value-dated after the account's open interest year waits for its settlement.
  if (date > InterestYearLastDay(a.interest_year)) return Rejection::kInterestYearNotSettled;
  // A regular line's base is the account's for that month, within floor and cap; a
  // back-payment line may carry only the shortfall of an under-paid month, so only the cap
  // binds it (and it must be positive).
  // A month is paid once: a regular line needs nothing paid yet, a back-payment at most the
  // base still due (the base in force less what is paid).
  const auto paid = a.paid_base.find(c.month);
  const int64_t paid_fen = paid == a.paid_base.end() ? 0 : paid->second;
  if (regular) {
    if (paid_fen > 0) return Rejection::kMonthAlreadyPaid;
    if (c.contribution_base.value != BaseFor(a, c.month)) {
      return Rejection::kContributionBaseMismatch;
    }
    if (auto r = BaseRule(c.contribution_base.value)) return r;
  } else if (c.contribution_base.value <= 0) {
    return Rejection::kAmountMustBePositive;
  } else if (c.contribution_base.value > kModelBaseCapFen) {
    return Rejection::kBaseAboveCap;
  } else if (c.contribution_base.value > BaseFor(a, c.month) - paid_fen) {
    return Rejection::kMonthAlreadyPaid;
  }
  // Each side is base × its rate for that month, rounded by itself (DOMAIN §2).
  const auto [employer_rate, employee_rate] = RatesFor(e, c.month);
  const int64_t employer_due = ContributionFen(c.contribution_base.value, employer_rate);
  const int64_t employee_due = ContributionFen(c.contribution_base.value, employee_rate);
  if (c.employer_amount.value != employer_due || c.employee_amount.value != employee_due) {
    return Rejection::kContributionAmountMismatch;
  }
  const int64_t due = employer_due + employee_due;
  if (due > e.suspense_fen) return Rejection::kAllocationExceedsSuspense;
  if (list.allocated_fen + due > list.total_fen) return Rejection::kAllocationExceedsRemittance;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::AllocateContribution& c, uint32_t date,
                             Prediction& /*prediction*/) {
  // Dr 219(employer) / Cr 201(account).
  ModelEmployer& e = employers_.at(c.employer.value);
  ModelAccount& a = accounts_.at(c.account.value);
  const int64_t due = c.employer_amount.value + c.employee_amount.value;  // checked equal
  e.suspense_fen -= due;
  e.remittance->allocated_fen += due;
  ++e.remittance->lines;
  Post(a, date, due);
  int64_t& paid = a.paid_base[c.month];
  if (paid == 0) ++a.paid_months;
  paid += c.contribution_base.value;
  a.paid_base_total += c.contribution_base.value;
  if (e.remittance->kind == RemittanceKind::kRegular) a.paid_up_to_month = c.month;
  Log(JournalEntry{.kind = JournalKind::kAllocation,
                   .date = date,
                   .employer = c.employer.value,
                   .account = c.account.value,
                   .amount_fen = due,
                   .base_fen = c.contribution_base.value,
                   .month = c.month,
                   .regular = e.remittance->kind == RemittanceKind::kRegular,
                   .remittance_id = c.remittance_id});
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::CompleteRemittance& c,
                                             uint32_t /*date*/) const {
  if (AnyZero({c.remittance_id, c.employer.value})) return Rejection::kIdMustNotBeZero;
  if (auto r = EmployerMustNotBeClosed(c.employer.value)) return r;
  const ModelEmployer& e = *employer(c.employer.value);
  if (!e.remittance.has_value() || e.remittance->id != c.remittance_id) {
    return Rejection::kRemittanceNotOpen;
  }
  if (e.remittance->allocated_fen != e.remittance->total_fen) {
    return Rejection::kRemittanceIncomplete;
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::CompleteRemittance& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ModelEmployer& e = employers_.at(c.employer.value);
  // A regular list pays its months: the employer is paid up to the list's last month.
  if (e.remittance->kind == RemittanceKind::kRegular) e.paid_up_to_month = e.remittance->to_month;
  e.remittance.reset();
}

// --- interest ---

ReferenceModel::Answer ReferenceModel::Rules(const ledger::SettleInterest& c, uint32_t date) const {
  const int32_t year = c.interest_year;
  if (year < 1990 || year > 2198) return Rejection::kInterestYearInvalid;
  if (date < InterestYearLastDay(year)) return Rejection::kSettlementBeforeYearEnd;
  if (c.accounts.empty() || c.accounts.size() > kModelSettlementAccountsMax) {
    return Rejection::kSettlementChunkInvalid;
  }
  for (const ledger::AccountId id : c.accounts) {
    if (id.value == 0) return Rejection::kIdMustNotBeZero;
  }
  std::set<uint64_t> seen;
  for (const ledger::AccountId id : c.accounts) {
    if (!seen.insert(id.value).second) return Rejection::kSettlementChunkInvalid;
    if (auto r = AccountMustBeOpen(id.value)) return r;
    const ModelAccount& a = *account(id.value);
    if (a.interest_year < year) return Rejection::kInterestYearNotSettled;
    if (a.interest_year > year) return Rejection::kInterestAlreadySettled;
    // Its withdrawal's payment pays the interest to date instead (DOMAIN §3).
    if (a.withdrawal_in_flight != 0) return Rejection::kSettlementWithdrawalInFlight;
  }
  return std::nullopt;
}

uint32_t ReferenceModel::AccountsToSettle(int32_t year) const {
  uint32_t count = 0;
  for (const auto& [id, account] : accounts_) {
    if (account.status != ModelStatus::kClosed && account.interest_year == year) ++count;
  }
  return count;
}

void ReferenceModel::Effects(const ledger::SettleInterest& c, uint32_t date,
                             Prediction& prediction) {
  // The year's first chunk starts its run (a record of the fund's, before the credits).
  if (!runs_.contains(c.interest_year)) {
    const uint32_t count = AccountsToSettle(c.interest_year);
    runs_[c.interest_year] = ModelRun{.accounts_count = count};
    prediction.run_started = count;
    Log(JournalEntry{.kind = JournalKind::kLifecycle});
  }
  ModelRun& run = runs_.at(c.interest_year);
  for (const ledger::AccountId id : c.accounts) {
    ModelAccount& a = accounts_.at(id.value);
    // interest = 积数 × rate ÷ day basis, half-up to the fen once (DOMAIN §3).
    const ledger::Int128 numerator =
        static_cast<ledger::Int128>(a.fen_days) * kModelInterestRatePpm;
    const ledger::Int128 denominator = static_cast<ledger::Int128>(1'000'000) * kModelDayBasis;
    const auto interest = static_cast<int64_t>((numerator + denominator / 2) / denominator);
    prediction.interest_fen.push_back(interest);
    // Credited with value date 1 July: the next year opens with the whole balance, every day.
    a.balance_fen += interest;
    interest_fen_ += interest;
    OpenYear(a, c.interest_year + 1);
    Log(JournalEntry{.kind = JournalKind::kInterest,
                     .date = date,
                     .account = id.value,
                     .amount_fen = interest,
                     .interest_year = c.interest_year});
    if (!run.completed) {
      ++run.credited_count;
      run.interest_fen += interest;
    }
  }
  // The chunk that leaves the year no account to settle completes the run (after the credits).
  if (!run.completed && AccountsToSettle(c.interest_year) == 0) {
    run.completed = true;
    prediction.run_completed = std::pair{run.credited_count, run.interest_fen};
    Log(JournalEntry{.kind = JournalKind::kLifecycle});
  }
}

// --- reversals (红冲, DOMAIN §8) ---

ReferenceModel::Answer ReferenceModel::Rules(const ledger::ReverseRecord& c,
                                             uint32_t /*date*/) const {
  const auto reason = static_cast<int>(c.reason);
  if ((reason < 1 || reason > 5) && reason != 99) return Rejection::kCodeInvalid;
  // The note and the approval may be empty, never long.
  if (c.note.size() > kModelNoteBytesMax || c.approval_reference.size() > kModelTextBytesMax) {
    return Rejection::kTextFieldInvalid;
  }
  const JournalEntry* entry = record(c.position);
  if (entry == nullptr) return Rejection::kReversalTargetNotFound;
  const bool money = entry->kind == JournalKind::kReceipt ||
                     entry->kind == JournalKind::kAllocation ||
                     entry->kind == JournalKind::kInterest;
  if (!money) return Rejection::kNotReversible;
  if (entry->reversed) return Rejection::kAlreadyReversed;
  if (entry->kind == JournalKind::kReceipt) {
    // The money must still be in suspense: its allocations are reversed first.
    if (employer(entry->employer)->suspense_fen < entry->amount_fen) {
      return Rejection::kReversalExceedsSuspense;
    }
    return std::nullopt;
  }
  if (auto r = AccountMustBeOpen(entry->account)) return r;
  const ModelAccount& a = *account(entry->account);
  if (a.frozen) return Rejection::kAccountFrozen;  // nothing may leave
  if (a.balance_fen < entry->amount_fen) return Rejection::kReversalWouldOverdraw;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::ReverseRecord& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  JournalEntry& entry = journal_.at(c.position);
  entry.reversed = true;
  ++reversed_count_;
  const int64_t amount = entry.amount_fen;
  if (entry.kind == JournalKind::kReceipt) {
    employers_.at(entry.employer).suspense_fen -= amount;
    received_fen_ -= amount;
  } else if (entry.kind == JournalKind::kAllocation) {
    // The money goes back to the employer's suspense, undone from its value date on.
    ModelEmployer& e = employers_.at(entry.employer);
    ModelAccount& a = accounts_.at(entry.account);
    Post(a, entry.date, -amount);
    // The month is short of the line's base again.
    a.paid_base_total -= entry.base_fen;
    if ((a.paid_base[entry.month] -= entry.base_fen) == 0) {
      a.paid_base.erase(entry.month);
      --a.paid_months;
    }
    e.suspense_fen += amount;
    // A line of a list still open reopens, and if it paid the account's latest regular month
    // the account steps back to pay it again. Once the list is completed nothing steps back
    // (the account would fall behind its employer): the month is simply unpaid, for a
    // back-payment.
    if (e.remittance.has_value() && e.remittance->id == entry.remittance_id) {
      e.remittance->allocated_fen -= amount;
      --e.remittance->lines;
      if (entry.regular && a.paid_up_to_month == entry.month) {
        a.paid_up_to_month = PrevMonth(entry.month);
      }
    }
  } else {
    // The credit was value-dated 1 July after its year.
    ModelAccount& a = accounts_.at(entry.account);
    Post(a, InterestYearFirstDay(entry.interest_year + 1), -amount);
    interest_fen_ -= amount;
  }
  Log(JournalEntry{.kind = JournalKind::kReversal});
}

// --- closing withdrawals (销户提取, DOMAIN §3-4) ---

int64_t ReferenceModel::InterestToDate(const ModelAccount& account, uint32_t until) {
  // Day by day from the open year's first day to the day before `until` (算头不算尾), on into
  // the next years when `until` comes after 30 June: each day's end-of-day balance times the
  // rate of that day. The sum is in fen·ppm; one division and one rounding, at the end.
  ledger::Int128 fen_ppm_days = 0;
  int64_t balance = 0;
  auto delta = account.day_deltas.begin();
  for (uint32_t day = InterestYearFirstDay(account.interest_year); day < until;
       day = NextDay(day)) {
    while (delta != account.day_deltas.end() && delta->first <= day) {
      balance += delta->second;
      ++delta;
    }
    fen_ppm_days += static_cast<ledger::Int128>(balance) * RateOn(day);
  }
  const ledger::Int128 denominator = static_cast<ledger::Int128>(1'000'000) * kModelDayBasis;
  return static_cast<int64_t>((fen_ppm_days + denominator / 2) / denominator);
}

void ReferenceModel::CompleteRunIfLast(int32_t year, Prediction& prediction) {
  auto run = runs_.find(year);
  if (run == runs_.end() || run->second.completed || AccountsToSettle(year) != 0) return;
  run->second.completed = true;
  prediction.run_completed = std::pair{run->second.credited_count, run->second.interest_fen};
  Log(JournalEntry{.kind = JournalKind::kLifecycle});
}

ReferenceModel::Answer ReferenceModel::PendingForReview(uint64_t id, std::string_view actor) const {
  if (actor.empty()) return Rejection::kTextFieldInvalid;  // four eyes need a name
  if (id == 0) return Rejection::kIdMustNotBeZero;
  const ModelWithdrawal* w = withdrawal(id);
  if (w == nullptr) return Rejection::kWithdrawalNotFound;
  if (w->status == ModelWithdrawalStatus::kApproved) return Rejection::kWithdrawalNotPending;
  if (w->status != ModelWithdrawalStatus::kApplied) return Rejection::kWithdrawalFinished;
  if (w->applicant == actor) return Rejection::kReviewerIsApplicant;
  return std::nullopt;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::ApplyWithdrawal& c, uint32_t /*date*/,
                                             std::string_view actor) const {
  if (AnyZero({c.withdrawal_id, c.account.value})) return Rejection::kIdMustNotBeZero;
  // The reason codes of the data standard: 01-09 and 99.
  const auto reason = static_cast<int>(c.reason);
  if ((reason < 1 || reason > 9) && reason != 99) return Rejection::kCodeInvalid;
  if (actor.empty()) return Rejection::kTextFieldInvalid;  // the applicant
  // The payee's and the evidence's references may be empty, never long.
  if (c.payee_reference.size() > kModelTextBytesMax ||
      c.evidence_reference.size() > kModelTextBytesMax) {
    return Rejection::kTextFieldInvalid;
  }
  // Closing reasons only: retirement, loss of working capacity, leaving the city, death.
  if (reason != 3 && reason != 4 && reason != 5 && reason != 8) {
    return Rejection::kPartialWithdrawalNotOffered;
  }
  if (withdrawal(c.withdrawal_id) != nullptr) return Rejection::kWithdrawalAlreadyExists;
  if (auto r = AccountMustBeOpen(c.account.value)) return r;
  const ModelAccount& a = *account(c.account.value);
  if (a.frozen) return Rejection::kAccountFrozen;                          // nothing may leave
  if (a.withdrawal_in_flight != 0) return Rejection::kWithdrawalInFlight;  // one at a time
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::ApplyWithdrawal& c, uint32_t date,
                             std::string_view actor, Prediction& prediction) {
  ModelAccount& a = accounts_.at(c.account.value);
  a.withdrawal_in_flight = c.withdrawal_id;
  withdrawals_[c.withdrawal_id] = ModelWithdrawal{.status = ModelWithdrawalStatus::kApplied,
                                                  .account = c.account.value,
                                                  .reason = c.reason,
                                                  .applicant = std::string(actor)};
  prediction.withdrawal_amount_fen = a.balance_fen;  // a closing reason asks for all of it
  prediction.decide_by_date = DaysAfter(date, kModelWithdrawalReviewDays);
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::ApproveWithdrawal& c, uint32_t /*date*/,
                                             std::string_view actor) const {
  if (auto r = PendingForReview(c.withdrawal_id, actor)) return r;
  const uint64_t id = withdrawal(c.withdrawal_id)->account;
  if (auto r = AccountMustBeOpen(id)) return r;
  if (account(id)->frozen) return Rejection::kAccountFrozen;
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::ApproveWithdrawal& c, uint32_t /*date*/,
                             std::string_view /*actor*/, Prediction& prediction) {
  ModelWithdrawal& w = withdrawals_.at(c.withdrawal_id);
  w.status = ModelWithdrawalStatus::kApproved;
  w.held_fen = accounts_.at(w.account).balance_fen;  // held: the balance on approval
  prediction.withdrawal_amount_fen = w.held_fen;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::RejectWithdrawal& c, uint32_t /*date*/,
                                             std::string_view actor) const {
  if (!TextOk(c.reason, kModelNoteBytesMax)) return Rejection::kTextFieldInvalid;
  return PendingForReview(c.withdrawal_id, actor);
}

void ReferenceModel::Effects(const ledger::RejectWithdrawal& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ModelWithdrawal& w = withdrawals_.at(c.withdrawal_id);
  w.status = ModelWithdrawalStatus::kRejected;
  w.held_fen = 0;
  accounts_.at(w.account).withdrawal_in_flight = 0;
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::PayWithdrawal& c, uint32_t date) const {
  if (AnyZero({c.withdrawal_id, c.deposit_id})) return Rejection::kIdMustNotBeZero;
  if (!TextOk(c.bank_code, kModelCodeBytesMax) || !TextOk(c.bank_reference, kModelTextBytesMax)) {
    return Rejection::kTextFieldInvalid;
  }
  const ModelWithdrawal* w = withdrawal(c.withdrawal_id);
  if (w == nullptr) return Rejection::kWithdrawalNotFound;
  if (w->status == ModelWithdrawalStatus::kApplied) return Rejection::kWithdrawalNotApproved;
  if (w->status != ModelWithdrawalStatus::kApproved) return Rejection::kWithdrawalFinished;
  if (auto r = AccountMustBeOpen(w->account)) return r;
  const ModelAccount& a = *account(w->account);
  if (a.frozen) return Rejection::kAccountFrozen;
  // Interest to date counts the days before the payment: none of them may lack money that
  // is value-dated later (nor may the payment precede the open year's first day).
  if (date < a.latest_value_date) return Rejection::kPaymentBeforeValueDatedMoney;
  if (InterestYearOf(date) - a.interest_year > kModelInterestToDateYearsMax) {
    return Rejection::kInterestYearNotSettled;
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::PayWithdrawal& c, uint32_t date,
                             Prediction& prediction) {
  ModelWithdrawal& w = withdrawals_.at(c.withdrawal_id);
  ModelAccount& a = accounts_.at(w.account);
  const int32_t open_year = a.interest_year;
  const int64_t interest = InterestToDate(a, date);
  prediction.interest_to_date_fen = interest;
  prediction.interest_from_date = InterestYearFirstDay(open_year);
  // The ledger's bookkeeping: the years the payment comes after are carried, nothing
  // credited; the interest, then the payment, are value-dated the payment day.
  while (InterestYearLastDay(a.interest_year) < date) OpenYear(a, a.interest_year + 1);
  Post(a, date, interest);  // Dr 41101 / Cr 201
  interest_fen_ += interest;
  Log(JournalEntry{.kind = JournalKind::kLifecycle});  // not reversible
  const int64_t paid = a.balance_fen;
  prediction.paid_fen = paid;
  Post(a, date, -paid);  // Dr 201 / Cr 101
  paid_out_fen_ += paid;
  Log(JournalEntry{.kind = JournalKind::kLifecycle});
  w.status = ModelWithdrawalStatus::kPaid;
  w.held_fen = 0;
  a.withdrawal_in_flight = 0;
  a.status = ModelStatus::kClosed;
  Log(JournalEntry{.kind = JournalKind::kLifecycle});
  CompleteRunIfLast(open_year, prediction);
}

ReferenceModel::Answer ReferenceModel::Rules(const ledger::CancelWithdrawal& c,
                                             uint32_t /*date*/) const {
  if (!TextOk(c.reason, kModelNoteBytesMax)) return Rejection::kTextFieldInvalid;
  if (c.withdrawal_id == 0) return Rejection::kIdMustNotBeZero;
  const ModelWithdrawal* w = withdrawal(c.withdrawal_id);
  if (w == nullptr) return Rejection::kWithdrawalNotFound;
  if (w->status != ModelWithdrawalStatus::kApplied &&
      w->status != ModelWithdrawalStatus::kApproved) {
    return Rejection::kWithdrawalFinished;
  }
  return std::nullopt;
}

void ReferenceModel::Effects(const ledger::CancelWithdrawal& c, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ModelWithdrawal& w = withdrawals_.at(c.withdrawal_id);
  w.status = ModelWithdrawalStatus::kCancelled;
  w.held_fen = 0;
  accounts_.at(w.account).withdrawal_in_flight = 0;
}

// --- the policy ---

ReferenceModel::Answer ReferenceModel::Rules(const ledger::ChangePolicy& c, uint32_t date) const {
  if (c.summary.empty() || c.summary.size() > kModelNoteBytesMax) {
    return Rejection::kTextFieldInvalid;
  }
  if (c.approval_reference.empty() || c.approval_reference.size() > kModelTextBytesMax) {
    return Rejection::kTextFieldInvalid;
  }
  if (!IsValidDate(c.effective_from)) return Rejection::kEffectiveDateInvalid;
  // The one book the model knows, restated or rewritten; anything else was spoiled by the
  // generator.
  const bool restated = c.document == kModelPolicyDocument;
  if (!restated && c.document != ModelRewrittenPolicyDocument()) {
    return Rejection::kPolicyDocumentInvalid;
  }
  if (c.effective_from < date) return Rejection::kPolicyTakesEffectInPast;
  // Another rounding rule from 1990-01-01: every effective date the model sees is later.
  if (!restated) return Rejection::kPolicyChangeRetroactive;
  return std::nullopt;  // the same book: it changes nothing, before its date or after
}

void ReferenceModel::Effects(const ledger::ChangePolicy& /*c*/, uint32_t /*date*/,
                             Prediction& /*prediction*/) {
  ++policy_changes_;  // one record that moves no money (Apply logs it)
}

}  // namespace hpf::simulation
