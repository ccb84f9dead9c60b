// ledger/facts.h — what Decide() concluded happened (past tense), part 1: employers and
// personal accounts, contributions, interest, reversals and policy changes, and closing
// withdrawals. Each fact becomes
// one record of schemas/events.fbs (the table of the same name) when the sequencer appends
// it; Evolve() applies it to the write model's state.
// Lifecycle facts move no money and carry no postings; PostingsOf() gives a money fact's
// double entry, derived from the fact alone so that it can never disagree with it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ledger/commands.h"
#include "ledger/interest.h"
#include "ledger/policy.h"
#include "ledger/postings.h"

namespace hpf::ledger {

struct EmployerRegistered {
  RegisterEmployer terms;  // validated
};
struct EmployerRatesChanged {
  EmployerId employer;
  RatePpm employer_rate;
  RatePpm employee_rate;
  uint32_t from_month = 0;
};
struct EmployerRateReductionGranted {
  GrantRateReduction terms;  // validated
};
struct EmployerDeferralGranted {
  GrantDeferral terms;  // validated
};
struct EmployerSealed {
  EmployerId employer;
  EmployerExitReason reason = EmployerExitReason::kOther;
  std::string approval_reference;
};
struct EmployerClosed {
  EmployerId employer;
  EmployerExitReason reason = EmployerExitReason::kOther;
  std::string approval_reference;
};
struct EmployerReopened {
  EmployerId employer;
  uint32_t first_contribution_month = 0;
};
struct AccountOpened {
  OpenAccount terms;  // validated
};
struct AccountBaseChanged {
  AccountId account;
  EmployerId employer;
  Fen contribution_base;
  uint32_t from_month = 0;
};
struct AccountSealed {
  AccountId account;
  EmployerId employer;
  AccountSealReason reason = AccountSealReason::kLeftEmployer;
};
struct AccountUnsealed {
  AccountId account;
  EmployerId employer;
  EmployerId previous_employer;
  Fen contribution_base;
  uint32_t first_contribution_month = 0;
};
struct AccountFrozen {
  AccountId account;
  std::string court_order_reference;
  std::string authority;
};
struct AccountUnfrozen {
  AccountId account;
  std::string court_order_reference;
  std::string authority;
};
// Values = schema AccountCloseReason.
enum class AccountCloseReason : uint8_t {
  kClosingWithdrawal = 1,  // 销户提取 paid out the balance
  kTransferredOut = 2,     // 外部转出 (part 2)
  kHeirlessBalance = 3,    // death without heirs (part 2)
  kOther = 99,             // closed with nothing in it (CloseAccount)
};
struct AccountClosed {
  AccountId account;
  EmployerId employer;
  AccountCloseReason reason = AccountCloseReason::kOther;
  uint64_t withdrawal_id = 0;  // the closing withdrawal that emptied it; 0 for kOther
};

struct BankReceiptRecorded {
  RecordBankReceipt terms;  // validated
};
struct RemittanceOpened {
  OpenRemittance terms;  // validated
};
struct ContributionAllocated {
  uint64_t remittance_id = 0;
  EmployerId employer;
  AccountId account;
  RemittanceKind kind = RemittanceKind::kRegular;
  uint32_t month = 0;
  Fen contribution_base;
  RatePpm employer_rate;  // the rates applied, so the rounding can be rechecked
  RatePpm employee_rate;
  Fen employer_amount;
  Fen employee_amount;
};
struct RemittanceCompleted {
  uint64_t remittance_id = 0;
  EmployerId employer;
  RemittanceKind kind = RemittanceKind::kRegular;
  uint32_t allocations_count = 0;
  Fen total;
  uint32_t paid_up_to_month = 0;  // the employer's paid-up-to month afterwards
};

// One account's year settled: the 积数 by rate segment, the day basis and the interest.
struct YearEndInterestCredited {
  AccountId account;
  int32_t interest_year = 0;
  // The run that credited it. A year is settled by one run, named by the year (2022 settles
  // 2022-07-01 .. 2023-06-30), so every chunk and every later credit of it agree.
  uint64_t settlement_id = 0;
  std::vector<InterestSegment> segments;
  DayBasis day_basis = DayBasis::k360;
  Fen interest;  // >= 0; no postings when 0
};

// A settlement run began: its first chunk, for `accounts_count` accounts (DOMAIN §3).
struct YearEndSettlementStarted {
  uint64_t settlement_id = 0;  // = the interest year (see SettlementRun)
  int32_t interest_year = 0;
  DayBasis day_basis = DayBasis::k360;
  uint32_t accounts_count = 0;
};

// The run credited its last account. Accounts deferred (a withdrawal or transfer in flight,
// part 2) are none yet.
struct YearEndSettlementCompleted {
  uint64_t settlement_id = 0;  // = the interest year
  uint32_t accounts_credited_count = 0;
  uint32_t accounts_deferred_count = 0;
  Fen interest_total;
};

// A withdrawal was applied for by `applicant` (the command's actor); nothing is held yet.
struct WithdrawalApplied {
  ApplyWithdrawal terms;  // validated
  Fen amount;             // requested: for a closing reason, the balance on application
  std::string applicant;
  uint32_t decide_by_date = 0;  // yyyymmdd: the application's date + the policy's review days
};
struct WithdrawalApproved {
  uint64_t withdrawal_id = 0;
  AccountId account;
  std::string reviewer;
  Fen amount;  // held until paid or cancelled: for a closing reason, the balance on approval
};
struct WithdrawalRejected {
  uint64_t withdrawal_id = 0;
  AccountId account;
  std::string reviewer;
  std::string reason;
};
// Interest from the last settlement to a closing withdrawal's payment day (DOMAIN §3), over
// [from_date, until_date): the segments of the account's open interest year before
// until_date, and of the years after it when the payment comes after 30 June with the year
// still open (a withdrawal in flight keeps the settlement away, DOMAIN §3). Rounded once.
// Postings: Dr 41101 / Cr 201(account).
struct InterestToDateCredited {
  AccountId account;
  Date from_date;   // the open year's first day (the last settlement's value date)
  Date until_date;  // the payment day, exclusive (算头不算尾)
  DayBasis day_basis = DayBasis::k360;
  std::vector<InterestSegment> segments;
  Fen interest;                // >= 0; no postings when 0
  uint64_t withdrawal_id = 0;  // the cause
};
// The bank paid the withdrawal. Postings: Dr 201(account) / Cr 101(deposit).
struct WithdrawalPaid {
  uint64_t withdrawal_id = 0;
  AccountId account;
  WithdrawalReason reason = WithdrawalReason::kRetirement;
  Fen amount;  // for a closing reason: the balance with the interest to date, so 0 after
  uint64_t deposit_id = 1;
  std::string bank_code;
  std::string bank_reference;
};
struct WithdrawalCancelled {
  uint64_t withdrawal_id = 0;
  AccountId account;
  std::string reason;
};

// The money facts a reversal can negate, and what the sequencer read about the record.
using ReversibleFact =
    std::variant<BankReceiptRecorded, ContributionAllocated, YearEndInterestCredited>;

struct ReversalTarget {
  std::string event_type;                  // the record's schema table, for messages
  std::optional<ReversibleFact> original;  // empty: not a record a reversal negates
  uint32_t effective_date = 0;             // the original's value date (yyyymmdd)
  std::array<uint8_t, 32> record_hash{};   // its chain hash, binding the exact bytes
  bool moves_money = false;                // it has postings (for the rejection's message)
};

struct RecordReversed {
  ReverseRecord terms;  // validated; terms.target is set
};

// The policy in force from now on (stream Policy 1, its version = policy_version). Moves no
// money.
struct PolicyChanged {
  uint32_t policy_version = 0;                // 1, 2, 3 ... without gaps
  uint32_t effective_from = 0;                // yyyymmdd
  std::string document;                       // canonical: PolicyToJson(*book)
  std::array<uint8_t, 32> document_digest{};  // SHA-256 of `document`
  std::string summary;
  std::string approval_reference;
  // ParsePolicy(document), parsed once by Decide() for Evolve() to install; not recorded
  // (the document is).
  std::shared_ptr<const PolicyBook> book;
};

using Fact =
    std::variant<EmployerRegistered, EmployerRatesChanged, EmployerRateReductionGranted,
                 EmployerDeferralGranted, EmployerSealed, EmployerClosed, EmployerReopened,
                 AccountOpened, AccountBaseChanged, AccountSealed, AccountUnsealed, AccountFrozen,
                 AccountUnfrozen, AccountClosed, BankReceiptRecorded, RemittanceOpened,
                 ContributionAllocated, RemittanceCompleted, YearEndInterestCredited,
                 RecordReversed, PolicyChanged, YearEndSettlementStarted,
                 YearEndSettlementCompleted, WithdrawalApplied, WithdrawalApproved,
                 WithdrawalRejected, InterestToDateCredited, WithdrawalPaid, WithdrawalCancelled>;

// The double entry a fact implies (empty for facts that move no money).
std::vector<Posting> PostingsOf(const Fact& fact);

}  // namespace hpf::ledger
