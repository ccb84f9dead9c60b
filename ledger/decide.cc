// ledger/decide.cc — the rules of part 1 (employers, personal accounts, contributions,
// interest, reversals, the policy), in precedence order.
#include "ledger/decide.h"

#include <memory>
#include <set>
#include <span>
#include <tuple>
#include <type_traits>

#include <fmt/core.h>

#include "events/hash_chain.h"
#include "events/limits.h"
#include "ledger/limits.h"

namespace hpf::ledger {

namespace {

// Text fields are bounded so that records stay small and messages readable.
constexpr size_t kNameBytesMax = 200;
constexpr size_t kCodeBytesMax = 32;
constexpr size_t kCreditCodeBytes = 18;
// A note explains a correction in a sentence or two: 1 000 bytes is ~330 Chinese characters
// in UTF-8.
constexpr size_t kNoteBytesMax = 1000;
// A PolicyChanged record carries the document, the summary (a note) and the approval
// reference; 4 KiB more covers the envelope (a key, an actor and a channel of at most 128,
// 128 and 64 bytes: ledger/sequencer.cc) and the FlatBuffers overhead.
static_assert(kPolicyDocumentBytesMax + kNoteBytesMax + kNameBytesMax + 4096 <=
                  events::kRecordBytesMax,
              "a policy change is one record the log accepts");

bool KnownReason(ReversalReason reason) {
  switch (reason) {
    case ReversalReason::kWrongAmount:
    case ReversalReason::kWrongAccount:
    case ReversalReason::kWrongDate:
    case ReversalReason::kDuplicate:
    case ReversalReason::kBankReturned:
    case ReversalReason::kOther:
      return true;
  }
  return false;
}

std::string Percent(RatePpm rate) {
  return fmt::format("{}.{:02} %", rate.value / 10'000, (rate.value % 10'000) / 100);
}

Decision Reject(Rejection rejection, std::string message) {
  return Decision{.facts = {}, .rejection = RejectionDetail{rejection, std::move(message)}};
}

Decision Accept(Fact fact) {
  Decision decision;
  decision.facts.push_back(std::move(fact));
  return decision;
}

// Ids name entities from 1 on: 0 is what a field the client left out arrives as.
std::optional<Decision> CheckIds(std::initializer_list<std::pair<std::string_view, uint64_t>> ids) {
  for (const auto& [field, id] : ids) {
    if (id == 0) {
      return Reject(Rejection::kIdMustNotBeZero,
                    fmt::format("{} must not be 0: ids start at 1", field));
    }
  }
  return std::nullopt;
}

std::optional<Decision> CheckMonth(uint32_t yyyymm, std::string_view field) {
  if (!Month::FromYyyymm(yyyymm).has_value()) {
    return Reject(Rejection::kMonthInvalid,
                  fmt::format("{} {} is not a month yyyymm from 199001 to 219912", field, yyyymm));
  }
  return std::nullopt;
}

std::optional<Decision> CheckText(std::string_view value, std::string_view field,
                                  size_t bytes_max) {
  if (value.empty() || value.size() > bytes_max) {
    return Reject(Rejection::kTextFieldInvalid,
                  fmt::format("{} must be 1 to {} bytes, got {}", field, bytes_max, value.size()));
  }
  return std::nullopt;
}

// A text field that may be left empty, bounded all the same.
std::optional<Decision> CheckOptionalText(std::string_view value, std::string_view field,
                                          size_t bytes_max) {
  if (value.size() > bytes_max) {
    return Reject(Rejection::kTextFieldInvalid, fmt::format("{} may hold at most {} bytes, got {}",
                                                            field, bytes_max, value.size()));
  }
  return std::nullopt;
}

// The unified social credit code (统一社会信用代码): 18 characters of digits and capital
// letters (GB 32100-2015). The check digit is not verified here: registration data comes
// from the centre's registry, which does.
std::optional<Decision> CheckCreditCode(std::string_view code) {
  bool ok = code.size() == kCreditCodeBytes;
  for (char c : code) ok = ok && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
  if (!ok) {
    return Reject(Rejection::kTextFieldInvalid,
                  fmt::format("unified social credit code '{}' must be 18 digits or capital "
                              "letters",
                              code));
  }
  return std::nullopt;
}

std::optional<Decision> CheckRates(RatePpm employer_rate, RatePpm employee_rate,
                                   const Policy& policy, Date date) {
  for (const auto& [side, rate] :
       {std::pair{"employer", employer_rate}, std::pair{"employee", employee_rate}}) {
    if (rate < policy.contribution_rate_min || rate > policy.contribution_rate_max) {
      return Reject(Rejection::kEmployerRateOutOfBounds,
                    fmt::format("{} rate {} is outside {} to {}, the policy in force on {}", side,
                                Percent(rate), Percent(policy.contribution_rate_min),
                                Percent(policy.contribution_rate_max), date.ToIsoString()));
    }
  }
  return std::nullopt;
}

std::optional<Decision> CheckBase(Fen base, const Policy& policy, Date date) {
  if (base < policy.base_floor) {
    return Reject(Rejection::kBaseBelowFloor,
                  fmt::format("contribution base {} yuan is below the floor {} yuan in force on {}",
                              FormatYuan(base), FormatYuan(policy.base_floor), date.ToIsoString()));
  }
  if (base > policy.base_cap) {
    return Reject(Rejection::kBaseAboveCap,
                  fmt::format("contribution base {} yuan is above the cap {} yuan in force on {}",
                              FormatYuan(base), FormatYuan(policy.base_cap), date.ToIsoString()));
  }
  return std::nullopt;
}

// The employer must exist and be open for business (not sealed, not closed).
std::optional<Decision> CheckEmployerNormal(const State& state, EmployerId id) {
  const EmployerState* employer = state.employer(id);
  if (employer == nullptr) {
    return Reject(Rejection::kEmployerNotFound,
                  fmt::format("employer {} is not registered", id.value));
  }
  if (employer->status == EmployerStatus::kClosed) {
    return Reject(Rejection::kEmployerClosed, fmt::format("employer {} is closed", id.value));
  }
  if (employer->status != EmployerStatus::kNormal) {
    return Reject(Rejection::kEmployerNotNormal, fmt::format("employer {} is sealed", id.value));
  }
  return std::nullopt;
}

// The account must exist and not be closed; returns it through `out`.
std::optional<Decision> FindOpenAccount(const State& state, AccountId id,
                                        const AccountState** out) {
  *out = state.account(id);
  if (*out == nullptr) {
    return Reject(Rejection::kAccountNotFound, fmt::format("account {} does not exist", id.value));
  }
  if ((*out)->status == AccountStatus::kClosed) {
    return Reject(Rejection::kAccountClosed, fmt::format("account {} is closed", id.value));
  }
  return std::nullopt;
}

std::optional<Decision> CheckAmount(Fen amount, std::string_view field) {
  if (amount <= Fen{0}) {
    return Reject(Rejection::kAmountMustBePositive,
                  fmt::format("{} must be > 0, got {} yuan", field, FormatYuan(amount)));
  }
  if (amount.value > kCommandAmountFenMax) {
    return Reject(Rejection::kAmountExceedsLimit,
                  fmt::format("{} {} yuan exceeds the limit of {} yuan per command", field,
                              FormatYuan(amount), FormatYuan(Fen{kCommandAmountFenMax})));
  }
  return std::nullopt;
}

std::optional<Decision> CheckPeriod(uint32_t from_month, uint32_t to_month) {
  if (auto r = CheckMonth(from_month, "from month")) return r;
  if (auto r = CheckMonth(to_month, "to month")) return r;
  if (from_month > to_month) {
    return Reject(Rejection::kPeriodInvalid,
                  fmt::format("the period runs from {} to {}: from must not be after to",
                              from_month, to_month));
  }
  return std::nullopt;
}

// A first contribution month: a valid month with a month before it (the paid-up-to month
// starts there), so not 1990-01 (found by the simulation: 199001 aborted in Evolve).
std::optional<Decision> CheckFirstMonth(uint32_t yyyymm) {
  if (auto r = CheckMonth(yyyymm, "first contribution month")) return r;
  if (yyyymm <= kMonthYyyymmMin) {
    return Reject(
        Rejection::kMonthInvalid,
        fmt::format("first contribution month {} must be after {}", yyyymm, kMonthYyyymmMin));
  }
  return std::nullopt;
}

// Each operator() checks one command's own rules after the common header checks.
class Rules {
 public:
  Rules(const State& state, const PolicyBook& book, Date effective, std::string_view actor)
      : state_(state),
        book_(book),
        policy_(book.At(effective)),
        effective_(effective),
        actor_(actor) {}

  Decision operator()(const RegisterEmployer& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}})) return *r;
    if (auto r = CheckFirstMonth(c.first_contribution_month)) return *r;
    if (auto r = CheckCreditCode(c.unified_social_credit_code)) return *r;
    if (auto r = CheckText(c.name, "name", kNameBytesMax)) return *r;
    if (auto r = CheckText(c.bank_code, "bank code", kCodeBytesMax)) return *r;
    if (state_.employer(c.employer) != nullptr) {
      return Reject(Rejection::kEmployerAlreadyRegistered,
                    fmt::format("employer {} is already registered", c.employer.value));
    }
    if (auto r = CheckRates(c.employer_rate, c.employee_rate, policy_, effective_)) return *r;
    return Accept(EmployerRegistered{c});
  }

  Decision operator()(const ChangeEmployerRates& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}})) return *r;
    if (auto r = CheckMonth(c.from_month, "from month")) return *r;
    if (auto r = CheckEmployerNormal(state_, c.employer)) return *r;
    const RateChange& latest = state_.employer(c.employer)->rate_changes.back();
    if (c.from_month <= latest.from_month) {
      return Reject(Rejection::kPeriodOutOfSequence,
                    fmt::format("employer {}'s rates already change from {}: a change takes "
                                "effect from a later month, not {}",
                                c.employer.value, latest.from_month, c.from_month));
    }
    if (auto r = CheckRates(c.employer_rate, c.employee_rate, policy_, effective_)) return *r;
    return Accept(EmployerRatesChanged{c.employer, c.employer_rate, c.employee_rate, c.from_month});
  }

  Decision operator()(const GrantRateReduction& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}})) return *r;
    if (auto r = CheckPeriod(c.from_month, c.to_month)) return *r;
    if (auto r = CheckText(c.approval_reference, "approval reference", kNameBytesMax)) return *r;
    if (auto r = CheckEmployerNormal(state_, c.employer)) return *r;
    const EmployerState& employer = *state_.employer(c.employer);
    for (const auto& [side, rate, current] :
         {std::tuple{"employer", c.employer_rate, employer.employer_rate},
          std::tuple{"employee", c.employee_rate, employer.employee_rate}}) {
      if (rate < policy_.contribution_rate_min) {
        return Reject(Rejection::kReducedRateBelowMinimum,
                      fmt::format("reduced {} rate {} is below the minimum {}", side, Percent(rate),
                                  Percent(policy_.contribution_rate_min)));
      }
      if (rate > current) {
        return Reject(Rejection::kReducedRateNotLower,
                      fmt::format("reduced {} rate {} is above the current {}", side, Percent(rate),
                                  Percent(current)));
      }
    }
    const MonthRange months{c.from_month, c.to_month};
    for (const RateReduction& granted : employer.reductions) {
      if (granted.months.Overlaps(months)) {
        return Reject(Rejection::kPeriodOverlapsGrant,
                      fmt::format("a reduction already covers {} to {}", granted.months.from_month,
                                  granted.months.to_month));
      }
    }
    return Accept(EmployerRateReductionGranted{c});
  }

  Decision operator()(const GrantDeferral& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}})) return *r;
    if (auto r = CheckPeriod(c.from_month, c.to_month)) return *r;
    if (auto r = CheckText(c.approval_reference, "approval reference", kNameBytesMax)) return *r;
    if (auto r = CheckEmployerNormal(state_, c.employer)) return *r;
    if (c.to_month > policy_.deferral_last_month.yyyymm()) {
      return Reject(Rejection::kDeferralBeyondPolicy,
                    fmt::format("deferrals run at most to {} under the policy in force on {}, "
                                "not {}",
                                policy_.deferral_last_month.yyyymm(), DateText(), c.to_month));
    }
    const MonthRange months{c.from_month, c.to_month};
    for (const MonthRange& granted : state_.employer(c.employer)->deferrals) {
      if (granted.Overlaps(months)) {
        return Reject(Rejection::kPeriodOverlapsGrant,
                      fmt::format("a deferral already covers {} to {}", granted.from_month,
                                  granted.to_month));
      }
    }
    return Accept(EmployerDeferralGranted{c});
  }

  Decision operator()(const SealEmployer& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}})) return *r;
    if (auto r = CheckExit(c.reason, c.approval_reference)) return *r;
    if (auto r = CheckEmployerNormal(state_, c.employer)) return *r;
    if (auto r = CheckEmployerEmpty(c.employer)) return *r;
    return Accept(EmployerSealed{c.employer, c.reason, c.approval_reference});
  }

  Decision operator()(const CloseEmployer& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}})) return *r;
    if (auto r = CheckExit(c.reason, c.approval_reference)) return *r;
    if (auto r = FindEmployerNotClosed(c.employer)) return *r;
    if (auto r = CheckEmployerEmpty(c.employer)) return *r;
    return Accept(EmployerClosed{c.employer, c.reason, c.approval_reference});
  }

  Decision operator()(const ReopenEmployer& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}})) return *r;
    if (auto r = CheckFirstMonth(c.first_contribution_month)) return *r;
    if (auto r = FindEmployerNotClosed(c.employer)) return *r;
    const EmployerState& employer = *state_.employer(c.employer);
    if (employer.status != EmployerStatus::kSealed) {
      return Reject(Rejection::kEmployerNotSealed,
                    fmt::format("employer {} is not sealed", c.employer.value));
    }
    if (c.first_contribution_month <= employer.paid_up_to_month) {
      return Reject(Rejection::kPeriodOutOfSequence,
                    fmt::format("employer {} is paid up to {}: contributions resume after it",
                                c.employer.value, employer.paid_up_to_month));
    }
    return Accept(EmployerReopened{c.employer, c.first_contribution_month});
  }

  Decision operator()(const OpenAccount& c) const {
    if (auto r = CheckIds({{"account id", c.account.value},
                           {"employer id", c.employer.value},
                           {"person id", c.person_id}}))
      return *r;
    if (auto r = CheckFirstMonth(c.first_contribution_month)) return *r;
    if (state_.account(c.account) != nullptr) {
      return Reject(Rejection::kAccountAlreadyOpen,
                    fmt::format("account {} already exists", c.account.value));
    }
    if (auto r = CheckEmployerNormal(state_, c.employer)) return *r;
    if (auto r = CheckBase(c.contribution_base, policy_, effective_)) return *r;
    return Accept(AccountOpened{c});
  }

  Decision operator()(const ChangeAccountBase& c) const {
    if (auto r = CheckIds({{"account id", c.account.value}})) return *r;
    if (auto r = CheckMonth(c.from_month, "from month")) return *r;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (account->status != AccountStatus::kNormal) {
      return Reject(
          Rejection::kAccountNotNormal,
          fmt::format("account {} is sealed: unseal it into an employer first", c.account.value));
    }
    // The base history only grows forward; a change from the latest change's month corrects
    // that change.
    const uint32_t latest = account->base_changes.back().from_month;
    if (c.from_month < latest) {
      return Reject(Rejection::kPeriodOutOfSequence,
                    fmt::format("account {}'s base already changes from {}: a change takes "
                                "effect from that month (correcting it) or a later one, not {}",
                                c.account.value, latest, c.from_month));
    }
    if (auto r = CheckBase(c.contribution_base, policy_, effective_)) return *r;
    return Accept(
        AccountBaseChanged{c.account, account->employer, c.contribution_base, c.from_month});
  }

  Decision operator()(const SealAccount& c) const {
    if (auto r = CheckIds({{"account id", c.account.value}})) return *r;
    if (c.reason != AccountSealReason::kLeftEmployer &&
        c.reason != AccountSealReason::kEmployerSealed && c.reason != AccountSealReason::kOther) {
      return Reject(Rejection::kCodeInvalid,
                    fmt::format("seal reason {} is not 1 (left the employer), 2 (the employer is "
                                "sealed) or 99 (other)",
                                static_cast<int>(c.reason)));
    }
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (account->status != AccountStatus::kNormal) {
      return Reject(Rejection::kAccountNotNormal,
                    fmt::format("account {} is already sealed", c.account.value));
    }
    return Accept(AccountSealed{c.account, account->employer, c.reason});
  }

  Decision operator()(const UnsealAccount& c) const {
    if (auto r = CheckIds({{"account id", c.account.value}, {"employer id", c.employer.value}}))
      return *r;
    if (auto r = CheckFirstMonth(c.first_contribution_month)) return *r;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (account->status != AccountStatus::kSealed) {
      return Reject(Rejection::kAccountNotSealed,
                    fmt::format("account {} is not sealed", c.account.value));
    }
    if (auto r = CheckEmployerNormal(state_, c.employer)) return *r;
    if (auto r = CheckBase(c.contribution_base, policy_, effective_)) return *r;
    return Accept(AccountUnsealed{c.account, c.employer, account->employer, c.contribution_base,
                                  c.first_contribution_month});
  }

  Decision operator()(const FreezeAccount& c) const {
    if (auto r = CheckIds({{"account id", c.account.value}})) return *r;
    if (auto r = CheckText(c.court_order_reference, "court order reference", kNameBytesMax)) {
      return *r;
    }
    if (auto r = CheckText(c.authority, "authority", kNameBytesMax)) return *r;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (account->frozen) {
      return Reject(Rejection::kAccountAlreadyFrozen,
                    fmt::format("account {} is already frozen", c.account.value));
    }
    return Accept(AccountFrozen{c.account, c.court_order_reference, c.authority});
  }

  Decision operator()(const UnfreezeAccount& c) const {
    if (auto r = CheckIds({{"account id", c.account.value}})) return *r;
    if (auto r = CheckText(c.court_order_reference, "court order reference", kNameBytesMax)) {
      return *r;
    }
    if (auto r = CheckText(c.authority, "authority", kNameBytesMax)) return *r;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (!account->frozen) {
      return Reject(Rejection::kAccountNotFrozen,
                    fmt::format("account {} is not frozen", c.account.value));
    }
    return Accept(AccountUnfrozen{c.account, c.court_order_reference, c.authority});
  }

  Decision operator()(const CloseAccount& c) const {
    if (auto r = CheckIds({{"account id", c.account.value}})) return *r;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (account->frozen) {
      return Reject(Rejection::kAccountFrozen,
                    fmt::format("account {} is frozen by a court order", c.account.value));
    }
    if (account->balance != Fen{0}) {
      return Reject(Rejection::kAccountHasBalance,
                    fmt::format("account {} holds {} yuan: a closing withdrawal or transfer out "
                                "pays it first",
                                c.account.value, FormatYuan(account->balance)));
    }
    // Closed with nothing in it: no withdrawal or transfer is its cause.
    Decision decision =
        Accept(AccountClosed{c.account, account->employer, AccountCloseReason::kOther});
    if (auto completed = RunCompletedByLeaving(*account)) decision.facts.push_back(*completed);
    return decision;
  }

  Decision operator()(const ApplyWithdrawal& c) const {
    if (auto r = CheckIds({{"withdrawal id", c.withdrawal_id}, {"account id", c.account.value}})) {
      return *r;
    }
    if (!IsWithdrawalReason(c.reason)) {
      return Reject(Rejection::kCodeInvalid,
                    fmt::format("withdrawal reason {} is not a reason code (01-09, 99)",
                                static_cast<int>(c.reason)));
    }
    if (auto r = CheckActor("applicant")) return *r;
    if (auto r = CheckOptionalText(c.payee_reference, "payee reference", kNameBytesMax)) {
      return *r;
    }
    if (auto r = CheckOptionalText(c.evidence_reference, "evidence reference", kNameBytesMax)) {
      return *r;
    }
    if (!IsClosingReason(c.reason)) {
      return Reject(Rejection::kPartialWithdrawalNotOffered,
                    fmt::format("withdrawal reason {:02}: the ledger takes closing withdrawals "
                                "(03 retirement, 04 loss of working capacity, 05 leaving the "
                                "city, 08 death) only; partial withdrawals (部分提取) are not "
                                "offered yet",
                                static_cast<int>(c.reason)));
    }
    if (state_.withdrawal(c.withdrawal_id) != nullptr) {
      return Reject(Rejection::kWithdrawalAlreadyExists,
                    fmt::format("withdrawal {} already exists: an application needs a new id",
                                c.withdrawal_id));
    }
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (auto r = CheckNothingLeaves(*account, c.account)) return *r;
    if (account->withdrawal_in_flight != 0) {
      return Reject(Rejection::kWithdrawalInFlight,
                    fmt::format("account {} already has withdrawal {} in flight: it is paid, "
                                "rejected or cancelled first",
                                c.account.value, account->withdrawal_in_flight));
    }
    return Accept(WithdrawalApplied{
        .terms = c,
        .amount = account->balance,
        .applicant = std::string(actor_),
        .decide_by_date = static_cast<uint32_t>(
            AddDays(effective_, static_cast<int32_t>(policy_.withdrawal_review_days)).yyyymmdd())});
  }

  Decision operator()(const ApproveWithdrawal& c) const {
    const WithdrawalState* withdrawal = nullptr;
    if (auto r = FindPendingForReview(c.withdrawal_id, "approve", &withdrawal)) return *r;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, withdrawal->account, &account)) return *r;
    if (auto r = CheckNothingLeaves(*account, withdrawal->account)) return *r;
    return Accept(WithdrawalApproved{.withdrawal_id = c.withdrawal_id,
                                     .account = withdrawal->account,
                                     .reviewer = std::string(actor_),
                                     .amount = account->balance});
  }

  Decision operator()(const RejectWithdrawal& c) const {
    if (auto r = CheckText(c.reason, "rejection reason", kNoteBytesMax)) return *r;
    const WithdrawalState* withdrawal = nullptr;
    if (auto r = FindPendingForReview(c.withdrawal_id, "reject", &withdrawal)) return *r;
    return Accept(WithdrawalRejected{.withdrawal_id = c.withdrawal_id,
                                     .account = withdrawal->account,
                                     .reviewer = std::string(actor_),
                                     .reason = c.reason});
  }

  Decision operator()(const PayWithdrawal& c) const {
    if (auto r = CheckIds({{"withdrawal id", c.withdrawal_id}, {"deposit id", c.deposit_id}})) {
      return *r;
    }
    if (auto r = CheckText(c.bank_code, "bank code", kCodeBytesMax)) return *r;
    if (auto r = CheckText(c.bank_reference, "bank reference", kNameBytesMax)) return *r;
    const WithdrawalState* withdrawal = nullptr;
    if (auto r = FindWithdrawal(c.withdrawal_id, &withdrawal)) return *r;
    if (withdrawal->status == WithdrawalStatus::kApplied) {
      return Reject(Rejection::kWithdrawalNotApproved,
                    fmt::format("withdrawal {} is not approved yet: a reviewer approves it "
                                "before the bank pays",
                                c.withdrawal_id));
    }
    if (auto r = CheckNotFinished(c.withdrawal_id, *withdrawal)) return *r;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, withdrawal->account, &account)) return *r;
    if (auto r = CheckNothingLeaves(*account, withdrawal->account)) return *r;
    const InterestAccumulator& open = *account->interest;
    if (effective_ < open.latest_value_date()) {
      return Reject(Rejection::kPaymentBeforeValueDatedMoney,
                    fmt::format("account {} holds money value-dated {}: a payment on {} would "
                                "pay interest on days it did not hold it",
                                withdrawal->account.value, open.latest_value_date().ToIsoString(),
                                DateText()));
    }
    // The interest from the last settlement to the payment day (DOMAIN §3): the open year's
    // days before it, and when the payment comes after that year's end (the withdrawal kept
    // the settlement away) the following years' with the balance carried, rounded once.
    const int32_t years_on =
        InterestYearOf(effective_).starting_year() - open.year().starting_year();
    if (years_on > static_cast<int32_t>(kInterestToDateYearsMax)) {
      return Reject(Rejection::kInterestYearNotSettled,
                    fmt::format("account {} has interest year {} unsettled, {} years before "
                                "the payment on {}: interest to date spans at most {} years",
                                withdrawal->account.value, open.year().starting_year(), years_on,
                                DateText(), kInterestToDateYearsMax));
    }
    std::vector<InterestSegment> segments;
    InterestAccumulator accumulator = open;
    while (accumulator.year().LastDay() < effective_) {
      segments.insert(segments.end(), accumulator.segments().begin(), accumulator.segments().end());
      accumulator = CarryForward(accumulator, Fen{0}, book_.personal_rate_table());
    }
    const std::vector<InterestSegment> last = accumulator.SegmentsUntil(effective_);
    segments.insert(segments.end(), last.begin(), last.end());
    const Fen interest = InterestOn(segments, policy_.day_basis);
    Decision decision;
    decision.facts.push_back(InterestToDateCredited{.account = withdrawal->account,
                                                    .from_date = open.year().FirstDay(),
                                                    .until_date = effective_,
                                                    .day_basis = policy_.day_basis,
                                                    .segments = std::move(segments),
                                                    .interest = interest,
                                                    .withdrawal_id = c.withdrawal_id});
    decision.facts.push_back(WithdrawalPaid{.withdrawal_id = c.withdrawal_id,
                                            .account = withdrawal->account,
                                            .reason = withdrawal->reason,
                                            .amount = account->balance + interest,
                                            .deposit_id = c.deposit_id,
                                            .bank_code = c.bank_code,
                                            .bank_reference = c.bank_reference});
    decision.facts.push_back(AccountClosed{.account = withdrawal->account,
                                           .employer = account->employer,
                                           .reason = AccountCloseReason::kClosingWithdrawal,
                                           .withdrawal_id = c.withdrawal_id});
    if (auto completed = RunCompletedByLeaving(*account)) decision.facts.push_back(*completed);
    return decision;
  }

  Decision operator()(const CancelWithdrawal& c) const {
    if (auto r = CheckText(c.reason, "cancellation reason", kNoteBytesMax)) return *r;
    const WithdrawalState* withdrawal = nullptr;
    if (auto r = FindWithdrawal(c.withdrawal_id, &withdrawal)) return *r;
    if (auto r = CheckNotFinished(c.withdrawal_id, *withdrawal)) return *r;
    return Accept(WithdrawalCancelled{
        .withdrawal_id = c.withdrawal_id, .account = withdrawal->account, .reason = c.reason});
  }

  Decision operator()(const RecordBankReceipt& c) const {
    if (auto r = CheckIds({{"employer id", c.employer.value}, {"deposit id", c.deposit_id}}))
      return *r;
    if (auto r = CheckText(c.bank_code, "bank code", kCodeBytesMax)) return *r;
    if (auto r = CheckText(c.bank_reference, "bank reference", kNameBytesMax)) return *r;
    if (auto r = CheckAmount(c.amount, "receipt amount")) return *r;
    if (auto r = FindEmployerNotClosed(c.employer)) return *r;
    return Accept(BankReceiptRecorded{c});
  }

  Decision operator()(const OpenRemittance& c) const {
    if (auto r = CheckIds({{"remittance id", c.remittance_id}, {"employer id", c.employer.value}}))
      return *r;
    if (c.kind != RemittanceKind::kRegular && c.kind != RemittanceKind::kBackPayment) {
      return Reject(Rejection::kCodeInvalid,
                    fmt::format("remittance kind {} is not 1 (regular, 汇缴) or 2 (back-payment, "
                                "补缴)",
                                static_cast<int>(c.kind)));
    }
    if (auto r = CheckPeriod(c.from_month, c.to_month)) return *r;
    if (auto r = CheckText(c.list_reference, "list reference", kNameBytesMax)) return *r;
    if (auto r = CheckAmount(c.total, "list total")) return *r;
    if (c.kind == RemittanceKind::kRegular) {
      if (auto r = CheckEmployerNormal(state_, c.employer)) return *r;
    } else if (auto r = FindEmployerNotClosed(c.employer)) {
      return *r;
    }
    const EmployerState& employer = *state_.employer(c.employer);
    if (employer.remittance.has_value()) {
      return Reject(Rejection::kRemittanceAlreadyOpen,
                    fmt::format("employer {} has remittance {} unfinished: complete it first",
                                c.employer.value, employer.remittance->remittance_id));
    }
    if (c.remittance_id <= employer.last_remittance_id) {
      return Reject(Rejection::kRemittanceIdNotIncreasing,
                    fmt::format("employer {}'s last list was {}: a new list needs a higher id, "
                                "not {}",
                                c.employer.value, employer.last_remittance_id, c.remittance_id));
    }
    // A regular list starts right after the paid-up-to month or, when the employer has a
    // deferral there, may skip the deferred months (they are back-paid later).
    const uint32_t next_due = MonthAfter(employer.paid_up_to_month);
    const uint32_t next_not_deferred = NextRegularMonth(employer, employer.paid_up_to_month);
    if (c.kind == RemittanceKind::kRegular && c.from_month != next_due &&
        c.from_month != next_not_deferred) {
      return Reject(
          Rejection::kPeriodOutOfSequence,
          fmt::format("employer {} is paid up to {}: a regular remittance starts at {}, "
                      "not {} (earlier months are back-payments)",
                      c.employer.value, employer.paid_up_to_month, next_due, c.from_month));
    }
    if (c.kind == RemittanceKind::kBackPayment && c.to_month > employer.paid_up_to_month) {
      return Reject(Rejection::kBackPaymentNotInPast,
                    fmt::format("employer {} is paid up to {}: a back-payment covers earlier "
                                "months only, not {}",
                                c.employer.value, employer.paid_up_to_month, c.to_month));
    }
    return Accept(RemittanceOpened{c});
  }

  Decision operator()(const AllocateContribution& c) const {
    if (auto r = CheckIds({{"remittance id", c.remittance_id},
                           {"employer id", c.employer.value},
                           {"account id", c.account.value}}))
      return *r;
    if (auto r = CheckMonth(c.month, "contribution month")) return *r;
    // Bounded before they are added: the sum of two untrusted int64 must not overflow (found
    // by the simulation: INT64_MAX + 1 aborted in Decide).
    if (c.employer_amount.value > kCommandAmountFenMax ||
        c.employee_amount.value > kCommandAmountFenMax) {
      return Reject(Rejection::kAmountExceedsLimit,
                    fmt::format("a contribution line's amounts are at most {} yuan a side",
                                FormatYuan(Fen{kCommandAmountFenMax})));
    }
    if (c.employer_amount < Fen{0} || c.employee_amount < Fen{0} ||
        c.employer_amount + c.employee_amount == Fen{0}) {
      return Reject(Rejection::kAmountMustBePositive,
                    "a contribution line needs amounts >= 0 on each side and > 0 in total");
    }
    if (auto r = FindEmployerNotClosed(c.employer)) return *r;
    const EmployerState& employer = *state_.employer(c.employer);
    if (!employer.remittance.has_value() || employer.remittance->remittance_id != c.remittance_id) {
      return Reject(Rejection::kRemittanceNotOpen,
                    fmt::format("employer {} has no unfinished remittance {}", c.employer.value,
                                c.remittance_id));
    }
    const OpenRemittanceState& remittance = *employer.remittance;
    const AccountState* account = nullptr;
    if (auto r = FindOpenAccount(state_, c.account, &account)) return *r;
    if (account->employer != c.employer) {
      return Reject(Rejection::kAccountNotAttachedToEmployer,
                    fmt::format("account {} belongs to employer {}, not {}", c.account.value,
                                account->employer.value, c.employer.value));
    }
    if (remittance.kind == RemittanceKind::kRegular && account->status != AccountStatus::kNormal) {
      return Reject(Rejection::kAccountNotNormal,
                    fmt::format("account {} is sealed: no regular contributions", c.account.value));
    }
    if (c.month < remittance.from_month || c.month > remittance.to_month) {
      return Reject(Rejection::kMonthOutsideRemittance,
                    fmt::format("month {} is outside remittance {} ({} to {})", c.month,
                                c.remittance_id, remittance.from_month, remittance.to_month));
    }
    if (remittance.kind == RemittanceKind::kRegular &&
        c.month != MonthAfter(account->paid_up_to_month) &&
        c.month != NextDueMonth(employer, *account)) {
      return Reject(Rejection::kPeriodOutOfSequence,
                    fmt::format("account {} is paid up to {}: the next regular month is {}, "
                                "not {}",
                                c.account.value, account->paid_up_to_month,
                                NextDueMonth(employer, *account), c.month));
    }
    if (auto r = CheckYearOpen(*account, c.account)) return *r;
    // A regular line's base is the account's base in force for its month, within floor and
    // cap; a back-payment line may carry the shortfall of an under-paid month (补缴 of a base
    // difference), so only the cap binds it.
    const Fen in_force = BaseFor(*account, c.month);
    const Fen paid = PaidBaseFor(*account, c.month);
    if (remittance.kind == RemittanceKind::kRegular) {
      if (paid > Fen{0}) {
        return Reject(Rejection::kMonthAlreadyPaid,
                      fmt::format("account {}'s {} is already paid on a base of {} yuan: a "
                                  "regular line pays a month with nothing paid (a shortfall is "
                                  "back-paid)",
                                  c.account.value, c.month, FormatYuan(paid)));
      }
      if (c.contribution_base != in_force) {
        return Reject(Rejection::kContributionBaseMismatch,
                      fmt::format("account {}'s base for {} is {} yuan: a regular line carries "
                                  "it, not {} yuan (change the base first, or back-pay a "
                                  "difference)",
                                  c.account.value, c.month, FormatYuan(in_force),
                                  FormatYuan(c.contribution_base)));
      }
      if (auto r = CheckBase(c.contribution_base, policy_, effective_)) return *r;
    } else if (c.contribution_base <= Fen{0}) {
      return Reject(Rejection::kAmountMustBePositive,
                    fmt::format("a back-payment base must be > 0, got {} yuan",
                                FormatYuan(c.contribution_base)));
    } else if (c.contribution_base > policy_.base_cap) {
      return Reject(Rejection::kBaseAboveCap,
                    fmt::format("a back-payment base of {} yuan is above the cap {} yuan",
                                FormatYuan(c.contribution_base), FormatYuan(policy_.base_cap)));
    } else if (c.contribution_base > in_force - paid) {
      // 补缴 makes good what is missing, never more: a month paid in full takes nothing.
      return Reject(
          Rejection::kMonthAlreadyPaid,
          paid >= in_force
              ? fmt::format("account {}'s {} is paid in full (a base of {} yuan paid, {} yuan "
                            "due): there is nothing to back-pay",
                            c.account.value, c.month, FormatYuan(paid), FormatYuan(in_force))
              : fmt::format("account {}'s {} has {} of its {} yuan base paid: a back-payment "
                            "carries at most the {} yuan still due, not {} yuan",
                            c.account.value, c.month, FormatYuan(paid), FormatYuan(in_force),
                            FormatYuan(in_force - paid), FormatYuan(c.contribution_base)));
    }
    const auto [employer_rate, employee_rate] = RatesFor(employer, c.month);
    const Fen employer_due = ApplyRate(c.contribution_base, employer_rate, policy_.rounding);
    const Fen employee_due = ApplyRate(c.contribution_base, employee_rate, policy_.rounding);
    if (c.employer_amount != employer_due || c.employee_amount != employee_due) {
      return Reject(
          Rejection::kContributionAmountMismatch,
          fmt::format("base {} yuan at {} / {} gives {} / {} yuan (employer / "
                      "employee), the line says {} / {}",
                      FormatYuan(c.contribution_base), Percent(employer_rate),
                      Percent(employee_rate), FormatYuan(employer_due), FormatYuan(employee_due),
                      FormatYuan(c.employer_amount), FormatYuan(c.employee_amount)));
    }
    const Fen amount = employer_due + employee_due;
    if (amount > employer.suspense) {
      return Reject(
          Rejection::kAllocationExceedsSuspense,
          fmt::format("allocating {} yuan but only {} yuan of employer {} has been "
                      "received",
                      FormatYuan(amount), FormatYuan(employer.suspense), c.employer.value));
    }
    if (remittance.allocated + amount > remittance.total) {
      return Reject(Rejection::kAllocationExceedsRemittance,
                    fmt::format("allocating {} yuan would exceed remittance {}'s total {} yuan "
                                "({} yuan already allocated)",
                                FormatYuan(amount), c.remittance_id, FormatYuan(remittance.total),
                                FormatYuan(remittance.allocated)));
    }
    return Accept(ContributionAllocated{.remittance_id = c.remittance_id,
                                        .employer = c.employer,
                                        .account = c.account,
                                        .kind = remittance.kind,
                                        .month = c.month,
                                        .contribution_base = c.contribution_base,
                                        .employer_rate = employer_rate,
                                        .employee_rate = employee_rate,
                                        .employer_amount = employer_due,
                                        .employee_amount = employee_due});
  }

  Decision operator()(const CompleteRemittance& c) const {
    if (auto r = CheckIds({{"remittance id", c.remittance_id}, {"employer id", c.employer.value}}))
      return *r;
    if (auto r = FindEmployerNotClosed(c.employer)) return *r;
    const EmployerState& employer = *state_.employer(c.employer);
    if (!employer.remittance.has_value() || employer.remittance->remittance_id != c.remittance_id) {
      return Reject(Rejection::kRemittanceNotOpen,
                    fmt::format("employer {} has no unfinished remittance {}", c.employer.value,
                                c.remittance_id));
    }
    const OpenRemittanceState& remittance = *employer.remittance;
    if (remittance.allocated != remittance.total) {
      return Reject(Rejection::kRemittanceIncomplete,
                    fmt::format("remittance {} has {} of {} yuan allocated", c.remittance_id,
                                FormatYuan(remittance.allocated), FormatYuan(remittance.total)));
    }
    return Accept(
        RemittanceCompleted{.remittance_id = c.remittance_id,
                            .employer = c.employer,
                            .kind = remittance.kind,
                            .allocations_count = remittance.allocations,
                            .total = remittance.total,
                            .paid_up_to_month = remittance.kind == RemittanceKind::kRegular
                                                    ? remittance.to_month
                                                    : employer.paid_up_to_month});
  }

  Decision operator()(const SettleInterest& c) const {
    const auto year = InterestYear::FromStartingYear(c.interest_year);
    if (!year.has_value()) {
      return Reject(Rejection::kInterestYearInvalid,
                    fmt::format("interest year {}: {}", c.interest_year, year.error().message()));
    }
    if (effective_ < year->LastDay()) {
      return Reject(Rejection::kSettlementBeforeYearEnd,
                    fmt::format("interest year {} is settled on {} or later, not on {}",
                                c.interest_year, year->LastDay().ToIsoString(), DateText()));
    }
    if (c.accounts.empty() || c.accounts.size() > kSettlementChunkAccountsMax) {
      return Reject(Rejection::kSettlementChunkInvalid,
                    fmt::format("a settlement names 1 to {} accounts, got {}",
                                kSettlementChunkAccountsMax, c.accounts.size()));
    }
    for (const AccountId id : c.accounts) {
      if (auto r = CheckIds({{"account id", id.value}})) return *r;
    }
    std::set<AccountId> seen;
    Decision decision;
    for (const AccountId id : c.accounts) {
      if (!seen.insert(id).second) {
        return Reject(Rejection::kSettlementChunkInvalid,
                      fmt::format("account {} appears twice in the settlement", id.value));
      }
      const AccountState* account = nullptr;
      if (auto r = FindOpenAccount(state_, id, &account)) return *r;
      const int32_t open_year = account->interest->year().starting_year();
      if (open_year < c.interest_year) {
        return Reject(Rejection::kInterestYearNotSettled,
                      fmt::format("account {} has interest year {} unsettled: settle it first",
                                  id.value, open_year));
      }
      if (open_year > c.interest_year) {
        return Reject(Rejection::kInterestAlreadySettled,
                      fmt::format("account {} is already settled for interest year {}", id.value,
                                  c.interest_year));
      }
      if (account->withdrawal_in_flight != 0) {
        return Reject(Rejection::kSettlementWithdrawalInFlight,
                      fmt::format("account {} has withdrawal {} in flight: its payment pays the "
                                  "interest to date instead; settle the chunk without it",
                                  id.value, account->withdrawal_in_flight));
      }
      const auto segments = account->interest->segments();
      decision.facts.push_back(
          YearEndInterestCredited{.account = id,
                                  .interest_year = c.interest_year,
                                  .settlement_id = static_cast<uint64_t>(c.interest_year),
                                  .segments = {segments.begin(), segments.end()},
                                  .day_basis = policy_.day_basis,
                                  .interest = InterestFor(*account->interest, policy_.day_basis)});
    }
    // The year's run: its first chunk starts it, the chunk that leaves no account of the year
    // to settle completes it (a run already completed only takes late credits).
    const uint64_t settlement_id = static_cast<uint64_t>(c.interest_year);
    const FundState& fund = state_.fund;
    const auto to_settle = fund.accounts_by_open_year.find(c.interest_year);
    HPF_ASSERT(to_settle != fund.accounts_by_open_year.end());  // the chunk's accounts count
    HPF_ASSERT(to_settle->second >= c.accounts.size());
    const auto run = fund.runs.find(c.interest_year);
    if (run == fund.runs.end()) {
      decision.facts.insert(decision.facts.begin(),
                            YearEndSettlementStarted{.settlement_id = settlement_id,
                                                     .interest_year = c.interest_year,
                                                     .day_basis = policy_.day_basis,
                                                     .accounts_count = to_settle->second});
    }
    const bool running = run == fund.runs.end() || !run->second.completed;
    if (running && to_settle->second == c.accounts.size()) {
      YearEndSettlementCompleted completed{.settlement_id = settlement_id};
      if (run != fund.runs.end()) {
        completed.accounts_credited_count = run->second.credited_count;
        completed.interest_total = run->second.interest_total;
      }
      for (const Fact& fact : decision.facts) {
        if (const auto* credit = std::get_if<YearEndInterestCredited>(&fact)) {
          ++completed.accounts_credited_count;
          completed.interest_total += credit->interest;
        }
      }
      decision.facts.push_back(std::move(completed));
    }
    return decision;
  }

  Decision operator()(const ReverseRecord& c) const {
    if (!KnownReason(c.reason)) {
      return Reject(Rejection::kCodeInvalid,
                    fmt::format("reversal reason {} is not one of 1-5 or 99 (wrong amount, "
                                "account, date, duplicate, returned by the bank, other)",
                                static_cast<int>(c.reason)));
    }
    if (auto r = CheckOptionalText(c.note, "note", kNoteBytesMax)) return *r;
    if (auto r = CheckOptionalText(c.approval_reference, "approval reference", kNameBytesMax)) {
      return *r;
    }
    if (c.target == nullptr) {
      return Reject(Rejection::kReversalTargetNotFound,
                    fmt::format("there is no committed record at position {}", c.position));
    }
    const ReversalTarget& target = *c.target;
    if (!target.original.has_value()) {
      // A closing withdrawal's interest to date and payment move money, but negating them
      // would leave a closed account holding it: a payment the bank returns needs the account
      // reopened (the withdrawals issue).
      return Reject(Rejection::kNotReversible,
                    target.moves_money
                        ? fmt::format("record {} is a {}: a closing withdrawal's money is not "
                                      "reversed by 红冲 (the account is closed)",
                                      c.position, target.event_type)
                        : fmt::format("record {} is a {}, which moves no money: it cannot be "
                                      "reversed",
                                      c.position, target.event_type));
    }
    if (state_.reversed_positions.contains(c.position)) {
      return Reject(Rejection::kAlreadyReversed,
                    fmt::format("record {} is already reversed", c.position));
    }
    if (const auto* receipt = std::get_if<BankReceiptRecorded>(&*target.original)) {
      const EmployerState* employer = state_.employer(receipt->terms.employer);
      HPF_ASSERT(employer != nullptr);  // the log holds it
      if (employer->suspense < receipt->terms.amount) {
        return Reject(Rejection::kReversalExceedsSuspense,
                      fmt::format("employer {} holds {} yuan unallocated, less than the {} yuan "
                                  "receipt: reverse its allocations first",
                                  receipt->terms.employer.value, FormatYuan(employer->suspense),
                                  FormatYuan(receipt->terms.amount)));
      }
    } else {
      const bool is_allocation = std::holds_alternative<ContributionAllocated>(*target.original);
      const AccountId id = is_allocation
                               ? std::get<ContributionAllocated>(*target.original).account
                               : std::get<YearEndInterestCredited>(*target.original).account;
      const Fen amount = is_allocation
                             ? std::get<ContributionAllocated>(*target.original).employer_amount +
                                   std::get<ContributionAllocated>(*target.original).employee_amount
                             : std::get<YearEndInterestCredited>(*target.original).interest;
      const AccountState* account = nullptr;
      if (auto r = FindOpenAccount(state_, id, &account)) return *r;
      if (auto r = CheckNothingLeaves(*account, id)) return *r;
      if (account->balance < amount) {
        return Reject(Rejection::kReversalWouldOverdraw,
                      fmt::format("account {} holds {} yuan, less than the {} yuan to reverse",
                                  id.value, FormatYuan(account->balance), FormatYuan(amount)));
      }
    }
    return Accept(RecordReversed{c});
  }

  Decision operator()(const ChangePolicy& c) const {
    if (auto r = CheckText(c.summary, "summary", kNoteBytesMax)) return *r;
    if (auto r = CheckText(c.approval_reference, "approval reference", kNameBytesMax)) return *r;
    const auto from = Date::FromYyyymmdd(c.effective_from);
    if (!from.has_value()) {
      return Reject(Rejection::kEffectiveDateInvalid,
                    fmt::format("effective from: {}", from.error().message()));
    }
    if (c.document.size() > kPolicyFileBytesMax) {
      return Reject(Rejection::kPolicyDocumentInvalid,
                    fmt::format("the policy document is {} bytes, more than the {} a policy file "
                                "may hold",
                                c.document.size(), kPolicyFileBytesMax));
    }
    auto parsed = ParsePolicy(c.document);
    if (!parsed.has_value()) {
      return Reject(Rejection::kPolicyDocumentInvalid,
                    fmt::format("the policy document is refused ({}); docs/policy.md describes "
                                "the format",
                                parsed.error().message()));
    }
    auto book = std::make_shared<const PolicyBook>(std::move(parsed).value());
    std::string document = PolicyToJson(*book);
    if (document.size() > kPolicyDocumentBytesMax) {
      return Reject(Rejection::kPolicyDocumentInvalid,
                    fmt::format("the policy's canonical document is {} bytes; a policy record "
                                "holds at most {}",
                                document.size(), kPolicyDocumentBytesMax));
    }
    if (*from < effective_) {
      return Reject(Rejection::kPolicyTakesEffectInPast,
                    fmt::format("the new policy would take effect on {}, before the command's "
                                "effective date {}: a policy change applies from a day not yet "
                                "past",
                                from->ToIsoString(), DateText()));
    }
    if (const auto day = FirstDayDiffering(book_, *book, *from)) {
      return Reject(Rejection::kPolicyChangeRetroactive,
                    fmt::format("the new policy differs on {} from the policy in force (version "
                                "{}), before it takes effect on {}: restate every version and "
                                "rate in force before {} as it is",
                                day->ToIsoString(), state_.policy.version, from->ToIsoString(),
                                from->ToIsoString()));
    }
    // A new rate from a day of an account's open year splits its 积数 there; that is exact
    // only while no money of the account is value-dated after that day.
    const std::span<const RateSegment> rates = book->personal_rate_table();
    for (const auto& [id, account] : state_.accounts) {
      if (!account.interest.has_value()) continue;
      const std::optional<Date> changes = account.interest->FirstDayUnlike(rates);
      if (changes.has_value() && account.interest->latest_value_date() > *changes) {
        return Reject(
            Rejection::kRateChangeBeforeValueDatedMoney,
            fmt::format("the new rate table changes account {}'s rates from {}, but the account "
                        "holds money value-dated {}: let the rate change take effect after the "
                        "latest value date, or reverse the money dated ahead",
                        id.value, changes->ToIsoString(),
                        account.interest->latest_value_date().ToIsoString()));
      }
    }
    PolicyChanged changed{.policy_version = state_.policy.version + 1,
                          .effective_from = c.effective_from,
                          .document = std::move(document),
                          .document_digest = {},
                          .summary = c.summary,
                          .approval_reference = c.approval_reference,
                          .book = std::move(book)};
    changed.document_digest = Sha256(changed.document);
    return Accept(std::move(changed));
  }

 private:
  // The first day before `until` on which `next` decides otherwise than `current`: another
  // version in force (At() differs), or another rate table entry; none if they agree on every
  // day before `until`.
  static std::optional<Date> FirstDayDiffering(const PolicyBook& current, const PolicyBook& next,
                                               Date until) {
    std::optional<Date> first;
    const auto earliest = [&first](Date day) {
      if (!first.has_value() || day < *first) first = day;
    };
    // At() is constant between version starts: compare it on each start before `until`, and
    // on the first supported day (a date before every version takes the first one).
    std::set<Date> starts = {Date()};
    for (const PolicyBook* book : {&current, &next}) {
      for (const Policy& version : book->versions()) {
        if (version.effective_from < until) starts.insert(version.effective_from);
      }
    }
    for (const Date day : starts) {
      if (!(current.At(day) == next.At(day))) {
        earliest(day);
        break;
      }
    }
    // The rate entries starting before `until` must be the same, one for one (an accumulator's
    // segments follow them, not only the rates they imply); so must the loan rates'.
    if (auto day =
            FirstEntryDiffering(current.personal_rate_table(), next.personal_rate_table(), until)) {
      earliest(*day);
    }
    if (auto day = FirstEntryDiffering(current.loan_rates(), next.loan_rates(), until)) {
      earliest(*day);
    }
    return first;
  }

  // The start of the first entry of two dated tables, among those starting before `until`,
  // that is not the same in both; none if they agree there.
  template <typename Entry>
  static std::optional<Date> FirstEntryDiffering(std::span<const Entry> a, std::span<const Entry> b,
                                                 Date until) {
    for (size_t i = 0; i < a.size() || i < b.size(); ++i) {
      const bool in_a = i < a.size() && a[i].from < until;
      const bool in_b = i < b.size() && b[i].from < until;
      if (!in_a && !in_b) break;
      if (in_a && in_b && a[i] == b[i]) continue;
      return in_a && in_b ? std::min(a[i].from, b[i].from) : in_a ? a[i].from : b[i].from;
    }
    return std::nullopt;
  }

  static events::Digest Sha256(std::string_view bytes) {
    auto sha256 = events::ChainHasher::Create(events::HashAlgorithm::kSha256);
    HPF_ASSERT(sha256.has_value());  // every OpenSSL the ledger builds with has SHA-256
    return (*sha256)->Plain(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }

  // Sealing or closing an employer leaves nothing behind: no normal account, no unfinished
  // list, no unallocated money.
  std::optional<Decision> CheckEmployerEmpty(EmployerId id) const {
    const EmployerState& employer = *state_.employer(id);
    if (employer.normal_accounts > 0) {
      return Reject(Rejection::kEmployerHasNormalAccounts,
                    fmt::format("employer {} still has {} normal accounts: seal them first",
                                id.value, employer.normal_accounts));
    }
    if (employer.remittance.has_value()) {
      return Reject(Rejection::kEmployerHasOpenRemittance,
                    fmt::format("employer {} has remittance {} unfinished", id.value,
                                employer.remittance->remittance_id));
    }
    if (employer.suspense > Fen{0}) {
      return Reject(Rejection::kEmployerHasSuspense,
                    fmt::format("employer {} holds {} yuan not yet allocated: allocate or refund "
                                "it first",
                                id.value, FormatYuan(employer.suspense)));
    }
    return std::nullopt;
  }

  // A court order freezes an account (冻结): nothing may leave it, nor be approved to.
  static std::optional<Decision> CheckNothingLeaves(const AccountState& account, AccountId id) {
    if (account.frozen) {
      return Reject(
          Rejection::kAccountFrozen,
          fmt::format("account {} is frozen by a court order: nothing may leave it", id.value));
    }
    return std::nullopt;
  }

  // The command's actor names the applicant or the reviewer: four eyes need a name.
  std::optional<Decision> CheckActor(std::string_view role) const {
    if (actor_.empty()) {
      return Reject(Rejection::kTextFieldInvalid,
                    fmt::format("the {} is the command's actor, which is empty", role));
    }
    return std::nullopt;
  }

  std::optional<Decision> FindWithdrawal(uint64_t id, const WithdrawalState** out) const {
    if (auto r = CheckIds({{"withdrawal id", id}})) return r;
    *out = state_.withdrawal(id);
    if (*out == nullptr) {
      return Reject(Rejection::kWithdrawalNotFound,
                    fmt::format("withdrawal {} was never applied for", id));
    }
    return std::nullopt;
  }

  static std::optional<Decision> CheckNotFinished(uint64_t id, const WithdrawalState& withdrawal) {
    switch (withdrawal.status) {
      case WithdrawalStatus::kApplied:
      case WithdrawalStatus::kApproved:
        return std::nullopt;
      case WithdrawalStatus::kPaid:
        return Reject(Rejection::kWithdrawalFinished,
                      fmt::format("withdrawal {} is already paid", id));
      case WithdrawalStatus::kRejected:
        return Reject(Rejection::kWithdrawalFinished,
                      fmt::format("withdrawal {} was rejected: a new application is needed", id));
      case WithdrawalStatus::kCancelled:
        return Reject(Rejection::kWithdrawalFinished,
                      fmt::format("withdrawal {} was cancelled: a new application is needed", id));
    }
    HPF_ASSERT(false);
    return std::nullopt;
  }

  // A withdrawal a reviewer may decide: applied, not yet decided, and not by its applicant.
  std::optional<Decision> FindPendingForReview(uint64_t id, std::string_view verb,
                                               const WithdrawalState** out) const {
    if (auto r = CheckActor("reviewer")) return r;
    if (auto r = FindWithdrawal(id, out)) return r;
    if ((*out)->status != WithdrawalStatus::kApplied) {
      if (auto r = CheckNotFinished(id, **out)) return r;
      return Reject(Rejection::kWithdrawalNotPending,
                    fmt::format("withdrawal {} is already approved: only an application "
                                "waiting for review can be {}d",
                                id, verb));
    }
    if ((*out)->applicant == actor_) {
      return Reject(Rejection::kReviewerIsApplicant,
                    fmt::format("{} applied for withdrawal {}: another person must {} it (four "
                                "eyes, 交叉复核)",
                                actor_, id, verb));
    }
    return std::nullopt;
  }

  // An account leaving the accounts its open year has to settle (closed): if that year's run
  // has started and was waiting for this account only, the run is complete.
  std::optional<Fact> RunCompletedByLeaving(const AccountState& account) const {
    const int32_t year = account.interest->year().starting_year();
    const FundState& fund = state_.fund;
    const auto to_settle = fund.accounts_by_open_year.find(year);
    HPF_ASSERT(to_settle != fund.accounts_by_open_year.end() && to_settle->second >= 1);
    const auto run = fund.runs.find(year);
    if (to_settle->second != 1 || run == fund.runs.end() || run->second.completed) {
      return std::nullopt;
    }
    return YearEndSettlementCompleted{.settlement_id = static_cast<uint64_t>(year),
                                      .accounts_credited_count = run->second.credited_count,
                                      .accounts_deferred_count = 0,
                                      .interest_total = run->second.interest_total};
  }

  // Money value-dated in a later interest year waits for the account's settlement, so that
  // every accumulator covers exactly one year.
  std::optional<Decision> CheckYearOpen(const AccountState& account, AccountId id) const {
    const InterestYear open_year = account.interest->year();
    if (effective_ > open_year.LastDay()) {
      return Reject(Rejection::kInterestYearNotSettled,
                    fmt::format("account {} has interest year {} unsettled: settle it before "
                                "posting money value-dated {}",
                                id.value, open_year.starting_year(), DateText()));
    }
    return std::nullopt;
  }

  // An employer's exit: a reason among its codes, an approval that may be empty.
  static std::optional<Decision> CheckExit(EmployerExitReason reason,
                                           std::string_view approval_reference) {
    switch (reason) {
      case EmployerExitReason::kDissolved:
      case EmployerExitReason::kSuspendedBusiness:
      case EmployerExitReason::kNoEmployees:
      case EmployerExitReason::kOther:
        return CheckOptionalText(approval_reference, "approval reference", kNameBytesMax);
    }
    return Reject(Rejection::kCodeInvalid,
                  fmt::format("exit reason {} is not 1 (dissolved), 2 (business suspended), 3 (no "
                              "employees) or 99 (other)",
                              static_cast<int>(reason)));
  }

  // The employer must exist and not be closed (a sealed employer may still pay arrears).
  std::optional<Decision> FindEmployerNotClosed(EmployerId id) const {
    const EmployerState* employer = state_.employer(id);
    if (employer == nullptr) {
      return Reject(Rejection::kEmployerNotFound,
                    fmt::format("employer {} is not registered", id.value));
    }
    if (employer->status == EmployerStatus::kClosed) {
      return Reject(Rejection::kEmployerClosed, fmt::format("employer {} is closed", id.value));
    }
    return std::nullopt;
  }

  // effective_ for messages: formatted only when a rejection needs it (most commands are
  // accepted, and the sequencer decides hundreds of thousands a second).
  std::string DateText() const { return effective_.ToIsoString(); }

  const State& state_;
  const PolicyBook& book_;  // the book in force
  const Policy& policy_;    // its version in force on the effective date
  Date effective_;
  std::string_view actor_;  // the command's authenticated principal
};

}  // namespace

Decision Decide(const State& state, const Command& command, const PolicyBook& policy) {
  if (command.header.idempotency_key.empty()) {
    return Reject(Rejection::kIdempotencyKeyMissing,
                  "every command needs an idempotency key (the bank reference or a client id)");
  }
  auto date = Date::FromYyyymmdd(command.header.effective_date);
  if (!date.has_value()) {
    return Reject(Rejection::kEffectiveDateInvalid,
                  fmt::format("effective date: {}", date.error().message()));
  }
  // Every command but a policy change posts or decides in an interest year (a policy may take
  // effect from the first supported day, 1990-01-01, before the first interest year).
  if (auto year = InterestYear::Containing(*date);
      !year.has_value() && !std::holds_alternative<ChangePolicy>(command.body)) {
    return Reject(Rejection::kEffectiveDateInvalid,
                  fmt::format("effective date: {}", year.error().message()));
  }
  return std::visit(Rules(state, policy, *date, command.header.actor), command.body);
}

}  // namespace hpf::ledger
