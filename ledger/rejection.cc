// ledger/rejection.cc
#include "ledger/rejection.h"

namespace hpf::ledger {

std::string_view RejectionCode(Rejection rejection) {
  switch (rejection) {
    case Rejection::kEffectiveDateInvalid:
      return "effective_date_invalid";
    case Rejection::kIdempotencyKeyMissing:
      return "idempotency_key_missing";
    case Rejection::kMonthInvalid:
      return "month_invalid";
    case Rejection::kTextFieldInvalid:
      return "text_field_invalid";
    case Rejection::kAmountMustBePositive:
      return "amount_must_be_positive";
    case Rejection::kAmountExceedsLimit:
      return "amount_exceeds_limit";
    case Rejection::kPeriodInvalid:
      return "period_invalid";
    case Rejection::kEmployerAlreadyRegistered:
      return "employer_already_registered";
    case Rejection::kEmployerNotFound:
      return "employer_not_found";
    case Rejection::kEmployerRateOutOfBounds:
      return "employer_rate_out_of_bounds";
    case Rejection::kEmployerNotNormal:
      return "employer_not_normal";
    case Rejection::kEmployerClosed:
      return "employer_closed";
    case Rejection::kEmployerHasNormalAccounts:
      return "employer_has_normal_accounts";
    case Rejection::kEmployerHasSuspense:
      return "employer_has_suspense";
    case Rejection::kAccountAlreadyOpen:
      return "account_already_open";
    case Rejection::kAccountNotFound:
      return "account_not_found";
    case Rejection::kBaseBelowFloor:
      return "base_below_floor";
    case Rejection::kBaseAboveCap:
      return "base_above_cap";
    case Rejection::kAccountNotNormal:
      return "account_not_normal";
    case Rejection::kAccountNotSealed:
      return "account_not_sealed";
    case Rejection::kAccountFrozen:
      return "account_frozen";
    case Rejection::kAccountNotFrozen:
      return "account_not_frozen";
    case Rejection::kAccountAlreadyFrozen:
      return "account_already_frozen";
    case Rejection::kAccountClosed:
      return "account_closed";
    case Rejection::kAccountHasBalance:
      return "account_has_balance";
    case Rejection::kAccountNotAttachedToEmployer:
      return "account_not_attached_to_employer";
    case Rejection::kRemittanceAlreadyOpen:
      return "remittance_already_open";
    case Rejection::kRemittanceNotOpen:
      return "remittance_not_open";
    case Rejection::kPeriodOutOfSequence:
      return "period_out_of_sequence";
    case Rejection::kBackPaymentNotInPast:
      return "back_payment_not_in_past";
    case Rejection::kMonthOutsideRemittance:
      return "month_outside_remittance";
    case Rejection::kContributionAmountMismatch:
      return "contribution_amount_mismatch";
    case Rejection::kAllocationExceedsSuspense:
      return "allocation_exceeds_suspense";
    case Rejection::kAllocationExceedsRemittance:
      return "allocation_exceeds_remittance";
    case Rejection::kRemittanceIncomplete:
      return "remittance_incomplete";
    case Rejection::kInterestYearNotSettled:
      return "interest_year_not_settled";
    case Rejection::kInterestYearInvalid:
      return "interest_year_invalid";
    case Rejection::kSettlementBeforeYearEnd:
      return "settlement_before_year_end";
    case Rejection::kSettlementChunkInvalid:
      return "settlement_chunk_invalid";
    case Rejection::kInterestAlreadySettled:
      return "interest_already_settled";
  }
  return "unknown";
}

}  // namespace hpf::ledger
