// ledger/rejection.h — every business rule a command can break, one value per rule.
//
// A rejection is a legitimate outcome, not a failure (STYLE 5.1): the command is answered with
// its code and a message a bank's integrator can act on, and nothing is written. The numbers
// are stable (they reach clients and logs): never renumber or reuse one; retired rules keep
// their number. Decide() checks rules in a fixed precedence order, so a command that breaks
// several always gets the same one. Only rules Decide() implements are listed (each has a
// test that breaks it); each area has its range (100s command fields, 200s employers, 300s
// accounts, 400s contributions, 500s interest, 600s reversals, 700s the policy, 800s
// withdrawals).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hpf::ledger {

enum class Rejection : uint16_t {
  // --- the command itself (100s) ---
  kEffectiveDateInvalid = 101,   // not a calendar date in the supported range
  kIdempotencyKeyMissing = 102,  // every command carries its key
  kMonthInvalid = 103,           // not a yyyymm month in the supported range
  kTextFieldInvalid = 104,       // empty, too long or not the expected form
  kIdempotencyConflict = 105,    // the key was used by a different command (sequencer)
  kAmountMustBePositive = 106,   // money amounts are > 0 fen
  kAmountExceedsLimit = 107,     // above the per-command ceiling (ledger/limits.h)
  kPeriodInvalid = 108,          // from month after to month
  kIdMustNotBeZero = 109,        // entity ids start at 1 (0 is a field left out)
  kCodeInvalid = 110,            // a coded field (a kind, a reason) holds none of its codes
  kAtomicListAborted = 111,      // another command of its all-or-none list was not accepted
                                 // (sequencer); the message names that command's index
  kAtomicListTooLarge = 112,     // an all-or-none list's records exceed one append (sequencer)

  // --- employers (200s) ---
  kEmployerAlreadyRegistered = 201,
  kEmployerNotFound = 202,
  kEmployerRateOutOfBounds = 203,  // each side within the policy's bounds (5 %-12 %)
  kEmployerNotNormal = 204,        // sealed or closed: no rate changes, no new accounts
  kEmployerClosed = 205,
  kEmployerHasNormalAccounts = 206,  // seal the accounts before the employer
  kEmployerHasSuspense = 207,        // unallocated money must be allocated or refunded first
  kReducedRateBelowMinimum = 208,    // 降比 never below the policy minimum
  kReducedRateNotLower = 209,        // a reduction must not raise either side's rate
  kDeferralBeyondPolicy = 210,       // 缓缴 only up to the policy's last deferrable month
  kPeriodOverlapsGrant = 211,        // a grant of the same kind already covers part of it
  kEmployerNotSealed = 212,          // reopening (启封) needs a sealed employer
  kEmployerHasOpenRemittance = 213,  // finish the unfinished list first

  // --- personal accounts (300s) ---
  kAccountAlreadyOpen = 301,
  kAccountNotFound = 302,
  kBaseBelowFloor = 303,    // the contribution base is below the policy floor
  kBaseAboveCap = 304,      // ... or above the cap
  kAccountNotNormal = 305,  // sealed or closed
  kAccountNotSealed = 306,  // unsealing needs a sealed account
  kAccountFrozen = 307,     // court order: nothing may leave, no closing
  kAccountNotFrozen = 308,
  kAccountAlreadyFrozen = 309,
  kAccountClosed = 310,
  kAccountHasBalance = 311,  // closing needs a zero balance (closing withdrawal: part 2)
  kAccountNotAttachedToEmployer = 312,

  // --- contributions (400s) ---
  kRemittanceAlreadyOpen = 401,        // one unfinished remittance per employer
  kRemittanceNotOpen = 402,            // no such unfinished remittance for this employer
  kPeriodOutOfSequence = 403,          // regular: the next month is paid-up-to + 1
  kBackPaymentNotInPast = 404,         // back-payment only for months already due
  kMonthOutsideRemittance = 405,       // the line's month is not in the list's period
  kContributionAmountMismatch = 406,   // not base × rate rounded per side by the policy
  kAllocationExceedsSuspense = 407,    // never allocate money not yet received
  kAllocationExceedsRemittance = 408,  // never more than the list's total
  kRemittanceIncomplete = 409,         // completing needs the whole total allocated
  kRemittanceIdNotIncreasing = 410,    // an employer's list ids only grow (never reused)
  kContributionBaseMismatch = 411,     // a regular line carries the base in force that month
  kMonthAlreadyPaid = 412,             // a month is paid once in full: 补缴 only what is due

  // --- interest (500s) ---
  kInterestYearNotSettled = 501,        // an earlier interest year of the account is not settled
  kInterestYearInvalid = 502,           // not an interest year the ledger supports
  kSettlementBeforeYearEnd = 503,       // settlement runs on the year's last day (30 June) or later
  kSettlementChunkInvalid = 504,        // 1..limits.h accounts, each once
  kInterestAlreadySettled = 505,        // the account's year is already settled
  kSettlementWithdrawalInFlight = 506,  // an account of the chunk has a withdrawal applied
                                        // or approved (DOMAIN §3): it is paid to date instead

  // --- reversals (600s) ---
  kReversalTargetNotFound = 601,   // no record at that position (or not yet committed)
  kNotReversible = 602,            // only money records of this part can be reversed
  kAlreadyReversed = 603,          // a record is reversed at most once
  kReversalExceedsSuspense = 604,  // the receipt's money was already allocated
  kReversalWouldOverdraw = 605,    // the account no longer holds the amount

  // --- the policy (700s) ---
  kPolicyDocumentInvalid = 701,            // not a policy document (docs/policy.md), or too large
  kPolicyChangeRetroactive = 702,          // differs from the policy in force before effective_from
  kPolicyTakesEffectInPast = 703,          // effective_from precedes the command's effective date
  kRateChangeBeforeValueDatedMoney = 704,  // the rate table changes from a day before money
                                           // already value-dated (an account's 积数 is split)

  // --- withdrawals (800s) ---
  kWithdrawalAlreadyExists = 801,  // withdrawal ids are never reused
  kWithdrawalNotFound = 802,
  kPartialWithdrawalNotOffered = 803,   // only closing reasons (03 04 05 08) are taken yet
  kWithdrawalInFlight = 804,            // the account already has one applied or approved
  kReviewerIsApplicant = 805,           // four eyes: the applicant never decides their own
  kWithdrawalNotPending = 806,          // approving or rejecting needs one applied, undecided
  kWithdrawalNotApproved = 807,         // the bank pays approved withdrawals only
  kWithdrawalFinished = 808,            // already paid, rejected or cancelled
  kPaymentBeforeValueDatedMoney = 809,  // paid before a day money was value-dated on the account
};

// The stable code clients see, e.g. "employer_rate_out_of_bounds".
std::string_view RejectionCode(Rejection rejection);

// A rejection with the sentence that explains it for this command ("employer rate 13.00 %
// is above the policy maximum 12.00 % in force on 2022-07-01").
struct RejectionDetail {
  Rejection rejection;
  std::string message;
};

}  // namespace hpf::ledger
