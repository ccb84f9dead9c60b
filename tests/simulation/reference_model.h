// tests/simulation/reference_model.h — a deliberately simple, independent model of the write
// model's rules (DOMAIN.md §1-4, §7, §8), for the seeded simulation (STYLE 8.5).
//
// It is written from DOMAIN.md and the rejection precedence that ledger/decide.h promises
// (the command's own fields, then the entities it names, then their states, then the policy's
// figures), never by calling Decide() or Evolve() or the ledger's calendar, rounding or
// interest code: plain maps, plain integers, arithmetic written out (a 积数 is Σ amount × the
// days it counts; a contribution is (base × rate_ppm + 500 000) / 1 000 000). It is meant to
// be obviously right, not fast. For every command it predicts acceptance (and applies the
// command to itself) or the one rejection the ledger must answer. It also numbers the facts
// as the log would (one position per fact), so that it can answer reversals (红冲) by
// position without being told what the record was.
//
// What it knows of the policy is the shipped default (ledger/policy.h DefaultPolicy()): one
// version for all dates. The simulation checks that the default still says so. A policy
// change (ChangePolicy) it accepts is the default restated in its canonical document
// (kModelPolicyDocument), which changes no figure; the same with another rounding rule from
// 1990 on (ModelRewrittenPolicyDocument()) would rewrite the past; any other document is one
// the generator spoiled on purpose, not a policy. Interest is
// modelled from 2016-07-01 on only (one rate, 1.50 %): the simulation never dates a command
// earlier.
//
// Where DOMAIN.md is silent the model takes the ledger's documented decision (ledger/README.md):
// money value-dated in a settled year counts from the open year's first day; a back-payment
// line's base may be a shortfall; reversing a regular line steps the account back only while
// its list is open and the month is the account's latest (once the list is completed the
// month is unpaid, for a back-payment). Rates and bases go by month: each month owes the rates
// and the base in force in it; a base change from the latest change's month corrects it, an
// unsealing's base replaces the months from its first month on. A month is paid once: a
// regular line pays a month with nothing paid, a back-payment at most the base still due, and
// an account's sequence skips months back-paid ahead of it. An account joins its employer's
// sequence: never behind the employer's paid-up-to month when it is opened or unsealed. One
// settlement run per interest year: its first chunk starts it for the accounts not closed
// with that year open, the chunk that leaves none completes it — or the closing (CloseAccount,
// a closing withdrawal's payment) of the last account it was waiting for.
//
// Closing withdrawals (销户提取, DOMAIN §3-4): applied for by one actor, approved or rejected
// by another (four eyes), paid by the bank or cancelled; one in flight per account, and it
// keeps the account's year-end settlement away. The payment credits the interest to date and
// pays the whole balance. The model computes that interest the plain way, independently of
// ledger/interest.h: it keeps the open year's postings by value date and walks the days from
// the year's first day to the day before the payment, adding each day's end-of-day balance ×
// the rate of that day, then divides by 10^6 × the day basis and rounds half-up once. A
// payment after 30 June of a year still open walks on into the next years, the balance
// carried with nothing credited on the way. The ledger's bookkeeping of it is followed too:
// the account's open year becomes the payment's, and the payment and its interest are
// value-dated the payment day.
//
// Where the ledger departs from DOMAIN.md, the model follows the ledger so that the simulation
// keeps guarding everything else, and says so here: no departure is known today.
//
// Not thread-safe; one simulation owns one model.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "ledger/commands.h"
#include "ledger/rejection.h"

namespace hpf::simulation {

// The default policy's figures (DOMAIN §2-3), as the model spells them.
inline constexpr uint32_t kModelRateMinPpm = 50'000;       // 5 % each side
inline constexpr uint32_t kModelRateMaxPpm = 120'000;      // 12 % each side
inline constexpr int64_t kModelBaseFloorFen = 210'000;     // 2 100.00 yuan
inline constexpr int64_t kModelBaseCapFen = 2'871'600;     // 28 716.00 yuan
inline constexpr uint32_t kModelInterestRatePpm = 15'000;  // 1.50 % a year since 2016-02-21
inline constexpr int64_t kModelDayBasis = 360;
inline constexpr uint32_t kModelDeferralLastMonth = 202212;  // 缓缴 up to 2022-12
// The personal rate before 2016-02-21 (0.35 % / 1.10 %, DOMAIN §3; the model's dates never
// reach it, but "the rate of that day" is looked up, not assumed).
inline constexpr uint32_t kModelEarlierInterestRatePpm = 11'000;
inline constexpr uint32_t kModelInterestRateFromDate = 20160221;
// The centre decides a withdrawal application within this many days (DOMAIN §4).
inline constexpr uint32_t kModelWithdrawalReviewDays = 3;
// Interest years one interest to date may span (ledger/limits.h kInterestToDateYearsMax).
inline constexpr int32_t kModelInterestToDateYearsMax = 4;
// The first date the model's interest covers: the first interest year wholly at 1.50 %.
inline constexpr uint32_t kModelFirstDate = 20160701;

// Bounds of the command fields (ledger/limits.h and the text rules of the commands).
inline constexpr int64_t kModelAmountMaxFen = 1'000'000'000'000;
inline constexpr size_t kModelTextBytesMax = 200;   // names, references, authorities
inline constexpr size_t kModelCodeBytesMax = 32;    // bank codes
inline constexpr size_t kModelNoteBytesMax = 1000;  // a reversal's note
inline constexpr size_t kModelCreditCodeBytes = 18;
inline constexpr size_t kModelSettlementAccountsMax = 1000;
// The shipped default as its canonical document (sorted keys, no whitespace), spelled out.
inline constexpr std::string_view kModelPolicyDocument =
    R"({"loan_rates":[{"first_home_long_ppm":32500,"first_home_short_ppm":27500,)"
    R"("from":"1990-01-01","second_home_long_ppm":35750,"second_home_short_ppm":30250},)"
    R"({"first_home_long_ppm":31000,"first_home_short_ppm":26000,"from":"2022-10-01",)"
    R"("second_home_long_ppm":35750,"second_home_short_ppm":30250}],)"
    R"("personal_rates":[{"from":"1990-01-01","rate_ppm":11000},)"
    R"({"from":"2016-02-21","rate_ppm":15000}],)"
    R"("versions":[{"base_cap_fen":2871600,"base_floor_fen":210000,)"
    R"("contribution_rate_max_ppm":120000,"contribution_rate_min_ppm":50000,)"
    R"("day_basis":360,"deferral_last_month":202212,"distribution_housing_ppm":140000,)"
    R"("distribution_management_ppm":360000,"distribution_risk_reserve_ppm":500000,)"
    R"("effective_from":"1990-01-01","flexible_employment":true,)"
    R"("loan_overdue_exemption":false,"loan_penalty_multiplier_ppm":1500000,)"
    R"("loan_term_months_max":360,"rent_withdrawal_cap_fen":200000,)"
    R"("rounding":"half_up_to_fen","withdrawal_review_days":3}]})";
// The shipped default with 遇零进整 from its first day: a change that would rewrite the past.
inline std::string ModelRewrittenPolicyDocument() {
  std::string document(kModelPolicyDocument);
  constexpr std::string_view kFrom = R"("rounding":"half_up_to_fen")";
  document.replace(document.find(kFrom), kFrom.size(), R"("rounding":"up_to_yuan")");
  return document;
}

// The records a reversal may name: the latest kModelJournalWindow positions (older ones are
// forgotten to bound memory on long runs; the simulation never names them).
inline constexpr uint64_t kModelJournalWindow = 1 << 18;

enum class ModelStatus : uint8_t { kNormal, kSealed, kClosed };

// An employer's one unfinished remittance list.
struct ModelRemittance {
  uint64_t id = 0;
  ledger::RemittanceKind kind = ledger::RemittanceKind::kRegular;
  uint32_t from_month = 0;  // yyyymm
  uint32_t to_month = 0;    // yyyymm
  int64_t total_fen = 0;
  int64_t allocated_fen = 0;
  uint32_t lines = 0;  // allocations made
};

// 降比: the rates due for the months of a period.
struct ModelReduction {
  uint32_t from_month = 0;
  uint32_t to_month = 0;
  uint32_t employer_rate_ppm = 0;
  uint32_t employee_rate_ppm = 0;
};

// 缓缴: months the employer pays later.
struct ModelDeferral {
  uint32_t from_month = 0;
  uint32_t to_month = 0;
};

struct ModelEmployer {
  ModelStatus status = ModelStatus::kNormal;
  uint32_t employer_rate_ppm = 0;
  uint32_t employee_rate_ppm = 0;
  uint32_t paid_up_to_month = 0;  // yyyymm
  int64_t suspense_fen = 0;       // received, not yet allocated
  std::optional<ModelRemittance> remittance;
  std::vector<ModelReduction> reductions;  // in the order granted
  std::vector<ModelDeferral> deferrals;    // in the order granted
  // (from month, employer rate, employee rate): the rates in force from each month on.
  std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> rate_history;
  uint64_t last_remittance_id = 0;  // list ids only grow
};

struct ModelAccount {
  ModelStatus status = ModelStatus::kNormal;
  bool frozen = false;
  uint64_t employer = 0;
  int64_t base_fen = 0;  // the latest base
  // (from month, base): the base in force from each month on, oldest first.
  std::vector<std::pair<uint32_t, int64_t>> base_history;
  // The base paid for each month with anything paid (regular and back-payment lines, net of
  // reversals), and in sum: how many months, what base over them all.
  std::map<uint32_t, int64_t> paid_base;
  int64_t paid_months = 0;
  int64_t paid_base_total = 0;
  int64_t balance_fen = 0;
  uint32_t paid_up_to_month = 0;  // yyyymm of the last regular month paid
  int32_t interest_year = 0;      // the open (unsettled) interest year, named by its July
  // 积数 of that year: every posting (and the opening balance) times the days it counts,
  // from its value date to the year's last day, both included.
  int64_t fen_days = 0;
  // The open year's money by value date, for interest to date: what each day adds to the
  // end-of-day balance (a date in an earlier, settled year counts from the year's first day,
  // and the opening balance is the first day's). Σ = balance_fen.
  std::map<uint32_t, int64_t> day_deltas;
  uint32_t latest_value_date = 0;     // of any money in the open year; its first day if none
  uint64_t withdrawal_in_flight = 0;  // applied or approved; 0 if none
};

enum class ModelWithdrawalStatus : uint8_t {
  kApplied = 1,
  kApproved = 2,
  kPaid = 3,
  kRejected = 4,
  kCancelled = 5,
};

struct ModelWithdrawal {
  ModelWithdrawalStatus status = ModelWithdrawalStatus::kApplied;
  uint64_t account = 0;
  ledger::WithdrawalReason reason = ledger::WithdrawalReason::kRetirement;
  std::string applicant;
  int64_t held_fen = 0;  // while approved: the balance on approval
};

// What a record of the log is, as far as a reversal cares: one entry per fact, by position.
enum class JournalKind : uint8_t { kLifecycle, kReceipt, kAllocation, kInterest, kReversal };

struct JournalEntry {
  JournalKind kind = JournalKind::kLifecycle;
  uint32_t date = 0;  // the command's effective (value) date
  uint64_t employer = 0;
  uint64_t account = 0;
  int64_t amount_fen = 0;
  int64_t base_fen = 0;  // allocations: the line's base
  uint32_t month = 0;    // allocations
  bool regular = false;
  uint64_t remittance_id = 0;
  int32_t interest_year = 0;  // interest credits
  bool reversed = false;
};

// A year's settlement run: open from its first chunk to the chunk that leaves the year no
// account to settle.
struct ModelRun {
  uint32_t accounts_count = 0;  // to settle when it started
  uint32_t credited_count = 0;
  int64_t interest_fen = 0;
  bool completed = false;
};

struct Prediction {
  std::optional<ledger::Rejection> rejection;  // nullopt: accepted (and applied)
  std::vector<int64_t> interest_fen;           // SettleInterest: each account's, in order
  // SettleInterest: the run started by this chunk (its accounts to settle), and the run it
  // completed (accounts credited, interest in total).
  std::optional<uint32_t> run_started;
  std::optional<std::pair<uint32_t, int64_t>> run_completed;
  uint64_t records = 0;  // accepted: the records it appends
  // ApplyWithdrawal / ApproveWithdrawal: the amount applied for / held, and the deadline.
  std::optional<int64_t> withdrawal_amount_fen;
  std::optional<uint32_t> decide_by_date;
  // PayWithdrawal: the interest to date, the days it covers, and the amount paid.
  std::optional<int64_t> interest_to_date_fen;
  uint32_t interest_from_date = 0;
  std::optional<int64_t> paid_fen;
};

class ReferenceModel {
 public:
  // Predicts the ledger's answer to `command`; when it is an acceptance, applies it.
  Prediction Apply(const ledger::Command& command);
  // The rejection Apply() would predict, without applying anything (nullopt: accepted).
  std::optional<ledger::Rejection> Check(const ledger::Command& command) const;

  const std::map<uint64_t, ModelEmployer>& employers() const { return employers_; }
  const std::map<uint64_t, ModelAccount>& accounts() const { return accounts_; }
  const ModelEmployer* employer(uint64_t id) const;
  const ModelAccount* account(uint64_t id) const;
  const std::map<uint64_t, ModelWithdrawal>& withdrawals() const { return withdrawals_; }
  const ModelWithdrawal* withdrawal(uint64_t id) const;

  // Accounts attached to `employer` and in state normal, counted by a scan of every account.
  uint32_t NormalAccountsOf(uint64_t employer) const;

  int64_t received_fen() const { return received_fen_; }  // Σ bank receipts, net
  int64_t interest_fen() const { return interest_fen_; }  // Σ interest credited, net
  int64_t paid_out_fen() const { return paid_out_fen_; }  // Σ withdrawals paid

  // The interest to date of `account` paid on `until` (exclusive), by the days: see the file
  // comment. REQUIRES: until >= the account's latest value date.
  static int64_t InterestToDate(const ModelAccount& account, uint32_t until);

  // The log as the model numbers it: every accepted fact takes the next position, from 1.
  uint64_t head_position() const { return head_position_; }
  // The record at `position`; null for 0, beyond the head or outside the window.
  const JournalEntry* record(uint64_t position) const;
  // Positions reversed so far.
  size_t reversed_count() const { return reversed_count_; }
  // Policy changes accepted so far (the ledger's policy version, less its genesis).
  uint32_t policy_changes() const { return policy_changes_; }

 private:
  using Answer = std::optional<ledger::Rejection>;

  // The rules of each command, in precedence order: the first broken one, or nullopt.
  Answer Rules(const ledger::RegisterEmployer& c, uint32_t date) const;
  Answer Rules(const ledger::ChangeEmployerRates& c, uint32_t date) const;
  Answer Rules(const ledger::GrantRateReduction& c, uint32_t date) const;
  Answer Rules(const ledger::GrantDeferral& c, uint32_t date) const;
  Answer Rules(const ledger::SealEmployer& c, uint32_t date) const;
  Answer Rules(const ledger::CloseEmployer& c, uint32_t date) const;
  Answer Rules(const ledger::ReopenEmployer& c, uint32_t date) const;
  Answer Rules(const ledger::OpenAccount& c, uint32_t date) const;
  Answer Rules(const ledger::ChangeAccountBase& c, uint32_t date) const;
  Answer Rules(const ledger::SealAccount& c, uint32_t date) const;
  Answer Rules(const ledger::UnsealAccount& c, uint32_t date) const;
  Answer Rules(const ledger::FreezeAccount& c, uint32_t date) const;
  Answer Rules(const ledger::UnfreezeAccount& c, uint32_t date) const;
  Answer Rules(const ledger::CloseAccount& c, uint32_t date) const;
  Answer Rules(const ledger::RecordBankReceipt& c, uint32_t date) const;
  Answer Rules(const ledger::OpenRemittance& c, uint32_t date) const;
  Answer Rules(const ledger::AllocateContribution& c, uint32_t date) const;
  Answer Rules(const ledger::CompleteRemittance& c, uint32_t date) const;
  Answer Rules(const ledger::SettleInterest& c, uint32_t date) const;
  Answer Rules(const ledger::ReverseRecord& c, uint32_t date) const;
  Answer Rules(const ledger::ChangePolicy& c, uint32_t date) const;
  Answer Rules(const ledger::ApplyWithdrawal& c, uint32_t date, std::string_view actor) const;
  Answer Rules(const ledger::ApproveWithdrawal& c, uint32_t date, std::string_view actor) const;
  Answer Rules(const ledger::RejectWithdrawal& c, uint32_t date, std::string_view actor) const;
  Answer Rules(const ledger::PayWithdrawal& c, uint32_t date) const;
  Answer Rules(const ledger::CancelWithdrawal& c, uint32_t date) const;
  // The effects of an accepted command (DOMAIN §1-3, §7, §8), its records included.
  void Effects(const ledger::RegisterEmployer& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::ChangeEmployerRates& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::GrantRateReduction& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::GrantDeferral& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::SealEmployer& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::CloseEmployer& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::ReopenEmployer& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::OpenAccount& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::ChangeAccountBase& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::SealAccount& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::UnsealAccount& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::FreezeAccount& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::UnfreezeAccount& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::CloseAccount& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::RecordBankReceipt& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::OpenRemittance& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::AllocateContribution& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::CompleteRemittance& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::SettleInterest& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::ReverseRecord& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::ChangePolicy& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::ApplyWithdrawal& c, uint32_t date, std::string_view actor,
               Prediction& prediction);
  void Effects(const ledger::ApproveWithdrawal& c, uint32_t date, std::string_view actor,
               Prediction& prediction);
  void Effects(const ledger::RejectWithdrawal& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::PayWithdrawal& c, uint32_t date, Prediction& prediction);
  void Effects(const ledger::CancelWithdrawal& c, uint32_t date, Prediction& prediction);

  // Appends the record of one fact to the journal.
  void Log(JournalEntry entry);

  // The employer must exist and be normal (not sealed, not closed).
  Answer EmployerMustBeNormal(uint64_t id) const;
  // The employer must exist and not be closed.
  Answer EmployerMustNotBeClosed(uint64_t id) const;
  // The existing employer has no normal accounts, no unfinished list and no suspense.
  Answer EmployerMustBeEmpty(uint64_t id) const;
  // The account must exist and not be closed.
  Answer AccountMustBeOpen(uint64_t id) const;

  // Accounts not closed whose open interest year is `year`, by a scan.
  uint32_t AccountsToSettle(int32_t year) const;
  // An account of `year` closed: if that year's run has started and now has no account left
  // to settle, it completes (one more record).
  void CompleteRunIfLast(int32_t year, Prediction& prediction);
  // A withdrawal a reviewer (`actor`) may decide: applied, undecided, not their own.
  Answer PendingForReview(uint64_t id, std::string_view actor) const;

  std::map<uint64_t, ModelEmployer> employers_;
  std::map<uint64_t, ModelAccount> accounts_;
  std::map<uint64_t, ModelWithdrawal> withdrawals_;  // by id, finished ones kept
  std::map<int32_t, ModelRun> runs_;                 // by interest year
  std::map<uint64_t, JournalEntry> journal_;         // by position, the latest window only
  uint64_t head_position_ = 0;
  size_t reversed_count_ = 0;
  uint32_t policy_changes_ = 0;  // accepted ChangePolicy commands
  int64_t received_fen_ = 0;
  int64_t interest_fen_ = 0;
  int64_t paid_out_fen_ = 0;
};

// --- calendar and money arithmetic, written out (shared with the command generator) ---

// A real calendar day from 1990-01-01 to 2199-12-31, as yyyymmdd.
bool IsValidDate(uint32_t yyyymmdd);
// A month from 1990-01 to 2199-12, as yyyymm.
bool IsValidMonth(uint32_t yyyymm);
// The following / previous month. REQUIRES: the result is a valid month.
uint32_t NextMonth(uint32_t yyyymm);
uint32_t PrevMonth(uint32_t yyyymm);
// The month of a date.
inline uint32_t MonthOfDate(uint32_t yyyymmdd) { return yyyymmdd / 100; }
// Days since an arbitrary origin: DayNumber(b) - DayNumber(a) is the days from a to b.
int64_t DayNumber(uint32_t yyyymmdd);
// The following day. REQUIRES: a valid date before 2199-12-31.
uint32_t NextDay(uint32_t yyyymmdd);
// The interest year (1 July - 30 June, named by its July) a date falls in.
int32_t InterestYearOf(uint32_t yyyymmdd);
// The interest year's last day, 30 June of the following year, as yyyymmdd.
uint32_t InterestYearLastDay(int32_t year);
// Its first day, 1 July, as yyyymmdd.
uint32_t InterestYearFirstDay(int32_t year);
// The day `days` after `yyyymmdd`. REQUIRES: the result is before 2199-12-31.
uint32_t DaysAfter(uint32_t yyyymmdd, uint32_t days);
// The rates due for `month`: a reduction's if one covers the month, else the current ones.
std::pair<uint32_t, uint32_t> RatesFor(const ModelEmployer& employer, uint32_t month);
// The base in force for `month`: the latest change from that month or before (the opening's
// for earlier months).
int64_t BaseFor(const ModelAccount& account, uint32_t month);
// The first month after `paid_up_to` that no deferral covers.
uint32_t NextRegularMonth(const ModelEmployer& employer, uint32_t paid_up_to);
// The first month after `paid_up_to` that no deferral of `employer` covers and for which
// `account` has nothing paid: what the account's next regular line pays.
uint32_t NextDueMonth(const ModelEmployer& employer, const ModelAccount& account,
                      uint32_t paid_up_to);
// base × rate rounded half-up to the fen: (base × rate_ppm + 500 000) / 1 000 000.
// REQUIRES: 0 <= base_fen <= kModelBaseCapFen.
int64_t ContributionFen(int64_t base_fen, uint32_t rate_ppm);

}  // namespace hpf::simulation
