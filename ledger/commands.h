// ledger/commands.h — what callers ask the ledger to do (imperative), part 1: employers,
// personal accounts and contributions, interest settlement, reversals and policy changes
// (issue #3), and the closing withdrawal (销户提取) that pays an account's interest to date.
//
// A command carries its idempotency key, the authenticated actor, the channel and the
// effective (value) date; time and ids enter only here, so Decide() is a pure function
// (DESIGN §1, 8). Commands are plain values; untrusted fields (dates, months, text) are
// checked by Decide() and answered with a Rejection, never assumed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ledger/money.h"

namespace hpf::ledger {

struct EmployerId {
  uint64_t value = 0;
  auto operator<=>(const EmployerId&) const = default;
};

struct AccountId {
  uint64_t value = 0;
  auto operator<=>(const AccountId&) const = default;
};

struct CommandHeader {
  std::string idempotency_key;  // the bank reference or client id; required
  std::string actor;            // authenticated principal
  std::string channel;          // bank code, counter, online
  uint32_t effective_date = 0;  // yyyymmdd, the business / value date
};

struct RegisterEmployer {
  EmployerId employer;
  std::string unified_social_credit_code;  // 18 characters
  std::string name;
  std::string bank_code;  // the collecting bank
  RatePpm employer_rate;
  RatePpm employee_rate;
  uint32_t first_contribution_month = 0;  // yyyymm
};

struct ChangeEmployerRates {
  EmployerId employer;
  RatePpm employer_rate;
  RatePpm employee_rate;
  uint32_t from_month = 0;  // yyyymm
};

// 降比: a lower rate for a period (2022 support policy), never below the policy minimum.
struct GrantRateReduction {
  EmployerId employer;
  RatePpm employer_rate;
  RatePpm employee_rate;
  uint32_t from_month = 0;  // yyyymm, inclusive
  uint32_t to_month = 0;    // yyyymm, inclusive
  std::string approval_reference;
};

// 缓缴: the employer may pay these months later (as back-payments); its employees keep their
// rights meanwhile. Only up to the policy's last deferrable month.
struct GrantDeferral {
  EmployerId employer;
  uint32_t from_month = 0;  // yyyymm, inclusive
  uint32_t to_month = 0;    // yyyymm, inclusive
  std::string approval_reference;
};

// Why an employer is sealed or closed. Values = schema EmployerExitReason.
enum class EmployerExitReason : uint8_t {
  kDissolved = 1,          // bankrupt, dissolved or deregistered (破产、解散、撤销)
  kSuspendedBusiness = 2,  // 停业
  kNoEmployees = 3,        // no contributing employees left
  kOther = 99,
};

// 封存: the employer stops contributing. Needs no normal accounts, no suspense, no open list.
struct SealEmployer {
  EmployerId employer;
  EmployerExitReason reason = EmployerExitReason::kOther;
  std::string approval_reference;  // may be empty
};

// 销户: the employer leaves the fund. Needs no normal accounts, no suspense, no open list.
struct CloseEmployer {
  EmployerId employer;
  EmployerExitReason reason = EmployerExitReason::kOther;
  std::string approval_reference;  // may be empty
};

// 启封: a sealed employer starts contributing again from `first_contribution_month`.
struct ReopenEmployer {
  EmployerId employer;
  uint32_t first_contribution_month = 0;  // yyyymm, after its paid-up-to month
};

struct OpenAccount {
  AccountId account;
  EmployerId employer;
  uint64_t person_id = 0;  // the centre's person registry; no identity numbers in the ledger
  Fen contribution_base;
  uint32_t first_contribution_month = 0;  // yyyymm
  // HMAC (the centre's key) of the normalised identity-document number, for matching only;
  // all zeros when the registry gave none. The number itself never enters the ledger.
  std::array<uint8_t, 32> identity_digest{};
};

struct ChangeAccountBase {
  AccountId account;
  Fen contribution_base;
  uint32_t from_month = 0;  // yyyymm
};

// Why an account is sealed. Values = schema AccountSealReason.
enum class AccountSealReason : uint8_t {
  kLeftEmployer = 1,    // the employee left; the employer asked to seal (封存)
  kEmployerSealed = 2,  // the whole employer is being sealed
  kOther = 99,
};

struct SealAccount {
  AccountId account;
  AccountSealReason reason = AccountSealReason::kLeftEmployer;
};

struct UnsealAccount {  // 启封 into an employer (the same one or a new one)
  AccountId account;
  EmployerId employer;
  Fen contribution_base;
  uint32_t first_contribution_month = 0;  // yyyymm
};

struct FreezeAccount {
  AccountId account;
  std::string court_order_reference;  // 协助执行通知书 number
  std::string authority;
};

struct UnfreezeAccount {
  AccountId account;
  std::string court_order_reference;
  std::string authority;
};

// 销户 of an account whose balance is zero. (A closing withdrawal closes an account by its own
// payment, which names it as the cause; so will a transfer out.)
struct CloseAccount {
  AccountId account;
};

// Why money is withdrawn (DOMAIN §4). Values = schema WithdrawalReason.
enum class WithdrawalReason : uint8_t {
  kPurchase = 1,               // 01 购房
  kBuildOrOverhaul = 2,        // 02 建造、翻建、大修
  kRetirement = 3,             // 03 离退休 (closing)
  kLossOfWorkingCapacity = 4,  // 04 丧失劳动能力 (closing)
  kLeavingCity = 5,            // 05 出境定居 / 离开本市 (closing)
  kLoanRepayment = 6,          // 06 偿还购房贷款
  kRent = 7,                   // 07 租房
  kDeath = 8,                  // 08 死亡或宣告死亡 (closing; heirs are paid)
  kSeriousIllness = 9,         // 09 重大疾病
  kOther = 99,                 // 99 其他
};

// One of the reason codes above (a value from outside may be any byte).
bool IsWithdrawalReason(WithdrawalReason reason);
// A closing reason (03, 04, 05, 08) pays the whole balance with interest to date and closes
// the account; the others are partial withdrawals (部分提取).
bool IsClosingReason(WithdrawalReason reason);

// A withdrawal (提取) is applied for, reviewed by another person (four eyes: the applicant
// never approves or rejects their own), then paid by the bank (DOMAIN §4). The applicant and
// reviewer are the commands' header.actor. The ledger takes closing reasons: the payment is
// the balance on the payment day plus the interest from the last settlement to that day, and
// the account closes. Partial reasons, with their policy limits (rent cap, price cap,
// per-channel limits), are refused until the withdrawals issue builds them.
struct ApplyWithdrawal {
  uint64_t withdrawal_id = 0;  // the centre's application number, never reused
  AccountId account;
  WithdrawalReason reason = WithdrawalReason::kRetirement;
  std::string payee_reference;     // the payee's bank account, as the centre's token
  std::string evidence_reference;  // retirement certificate, death certificate, ...
};

// The reviewer (header.actor, not the applicant) approves: the account's money is held for it.
struct ApproveWithdrawal {
  uint64_t withdrawal_id = 0;
};

// The reviewer (header.actor, not the applicant) refuses it, saying why.
struct RejectWithdrawal {
  uint64_t withdrawal_id = 0;
  std::string reason;
};

// The bank paid an approved withdrawal on the effective date, from the fund's deposit. For a
// closing reason the ledger credits interest to date first (Dr 41101 / Cr 201), pays the
// whole balance (Dr 201 / Cr 101) and closes the account.
struct PayWithdrawal {
  uint64_t withdrawal_id = 0;
  uint64_t deposit_id = 1;  // the centre's demand deposit it was paid from
  std::string bank_code;
  std::string bank_reference;  // the bank's transaction reference
};

// An applied or approved withdrawal is withdrawn by the person or stopped (the bank could not
// pay); its hold is released.
struct CancelWithdrawal {
  uint64_t withdrawal_id = 0;
  std::string reason;
};

// Money from an employer reached the fund's bank account: it waits in the employer's suspense
// (暂收) until a remittance list allocates it. Postings: Dr 101(deposit) / Cr 219(employer).
struct RecordBankReceipt {
  EmployerId employer;
  std::string bank_code;
  std::string bank_reference;  // the bank's transaction reference
  Fen amount;
  uint64_t deposit_id = 1;  // the centre's demand deposit that received it
};

// Values = schema BusinessType 01 / 02.
enum class RemittanceKind : uint8_t {
  kRegular = 1,      // 汇缴: the months right after the employer's paid-up-to month
  kBackPayment = 2,  // 补缴: earlier months, unpaid or under-paid
};

// An employer's remittance list (汇缴清册) begins: at most one unfinished per employer.
struct OpenRemittance {
  uint64_t remittance_id = 0;
  EmployerId employer;
  RemittanceKind kind = RemittanceKind::kRegular;
  uint32_t from_month = 0;  // yyyymm, inclusive
  uint32_t to_month = 0;    // yyyymm, inclusive
  uint32_t accounts_count = 0;
  Fen total;  // the list's total; allocations never exceed it
  std::string list_reference;
};

// One line of the list: one account, one month. The amounts must be base × rate per side,
// rounded by the policy's rule (the list is checked, not trusted).
// Postings: Dr 219(employer) / Cr 201(account).
struct AllocateContribution {
  uint64_t remittance_id = 0;
  EmployerId employer;
  AccountId account;
  uint32_t month = 0;  // yyyymm
  Fen contribution_base;
  Fen employer_amount;
  Fen employee_amount;
};

// The list is fully allocated; a regular remittance moves the paid-up-to month (缴至年月).
struct CompleteRemittance {
  uint64_t remittance_id = 0;
  EmployerId employer;
};

// The 30 June settlement of one interest year, for a chunk of accounts (a city's two million
// accounts settle in bounded commands). Each account's year of 积数 becomes interest, credited
// with value date 1 July (DOMAIN §3). Postings per account: Dr 41101 / Cr 201(account). The
// year's first chunk also records the run's start, the chunk that settles the year's last
// account its completion (on the fund's stream; no postings).
struct SettleInterest {
  int32_t interest_year = 0;  // named by its July: 2021 = 2021-07-01 .. 2022-06-30
  std::vector<AccountId> accounts;
};

// Values = schema ReversalReason.
enum class ReversalReason : uint8_t {
  kWrongAmount = 1,
  kWrongAccount = 2,  // posted to the wrong account or employer
  kWrongDate = 3,     // wrong effective (value) date
  kDuplicate = 4,     // the same business recorded twice under different keys
  kBankReturned = 5,  // the bank returned the payment (退票)
  kOther = 99,
};

struct ReversalTarget;  // ledger/facts.h

// 红冲: negates a money record of the log by its position (DOMAIN §8); the corrected record
// follows as a new command. The sequencer reads the record and fills `target` before Decide()
// runs, so that the decision stays a pure function of its inputs.
struct ReverseRecord {
  uint64_t position = 0;
  ReversalReason reason = ReversalReason::kOther;
  std::string note;
  std::string approval_reference;
  std::shared_ptr<const ReversalTarget> target;  // null: not resolved (rejected)
};

// A new policy (ledger/policy.h, docs/policy.md) for the ledger's decisions from
// `effective_from` on: the whole book, every version and the rate table, as a policy document.
// Not retroactive: the new book must agree with the one in force on every day before
// `effective_from`, which must not precede the command's effective date. The sequencer writes
// the first policy itself (ledger/sequencer.h); later ones come from the centre's staff.
struct ChangePolicy {
  std::string document;            // JSON text in docs/policy.md's format
  uint32_t effective_from = 0;     // yyyymmdd, the first day the new book may differ
  std::string summary;             // what changes and why, for people
  std::string approval_reference;  // the centre's decision document number
};

using CommandBody =
    std::variant<RegisterEmployer, ChangeEmployerRates, GrantRateReduction, GrantDeferral,
                 SealEmployer, CloseEmployer, ReopenEmployer, OpenAccount, ChangeAccountBase,
                 SealAccount, UnsealAccount, FreezeAccount, UnfreezeAccount, CloseAccount,
                 RecordBankReceipt, OpenRemittance, AllocateContribution, CompleteRemittance,
                 SettleInterest, ReverseRecord, ChangePolicy, ApplyWithdrawal, ApproveWithdrawal,
                 RejectWithdrawal, PayWithdrawal, CancelWithdrawal>;

struct Command {
  CommandHeader header;
  CommandBody body;
};

}  // namespace hpf::ledger
