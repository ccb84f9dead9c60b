// ledger/record_encoding.cc
//
// One Table() overload per Fact alternative builds its schema table. The union member comes
// from the table type Table() returns (FlatBuffers' EventTraits), so a fact can never be
// recorded with one table's type and another's bytes; the test checks that the table's name is
// the fact's name.
#include "ledger/record_encoding.h"

#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/core.h>

#include "events/hash_chain.h"
#include "ledger/calendar.h"
#include "ledger/internal/codec_support.h"

namespace hpf::ledger {

namespace {

namespace fb = ::flatbuffers;
using internal::FieldCount;

// A field added to a fact stops the build here: record it below (and in the test).
static_assert(FieldCount<EmployerRegistered>() == 1);
static_assert(FieldCount<RegisterEmployer>() == 7, "record the new field of EmployerRegistered");
static_assert(FieldCount<EmployerRatesChanged>() == 4, "record the new field");
static_assert(FieldCount<EmployerSealed>() == 3, "record the new field of EmployerSealed");
static_assert(FieldCount<AccountOpened>() == 1);
static_assert(FieldCount<OpenAccount>() == 6, "record the new field of AccountOpened");
static_assert(FieldCount<AccountBaseChanged>() == 4, "record the new field");
static_assert(FieldCount<AccountSealed>() == 3, "record the new field of AccountSealed");
static_assert(FieldCount<AccountUnsealed>() == 5, "record the new field of AccountUnsealed");
static_assert(FieldCount<AccountFrozen>() == 3, "record the new field of AccountFrozen");
static_assert(FieldCount<AccountUnfrozen>() == 3, "record the new field of AccountUnfrozen");
static_assert(FieldCount<AccountClosed>() == 4, "record the new field of AccountClosed");
static_assert(FieldCount<WithdrawalApplied>() == 4, "record the new field");
static_assert(FieldCount<ApplyWithdrawal>() == 5, "record the new field of WithdrawalApplied");
static_assert(FieldCount<WithdrawalApproved>() == 4, "record the new field");
static_assert(FieldCount<WithdrawalRejected>() == 4, "record the new field");
static_assert(FieldCount<InterestToDateCredited>() == 7, "record the new field");
static_assert(FieldCount<WithdrawalPaid>() == 7, "record the new field");
static_assert(FieldCount<WithdrawalCancelled>() == 3, "record the new field");
static_assert(FieldCount<BankReceiptRecorded>() == 1);
static_assert(FieldCount<RecordBankReceipt>() == 5, "record the new field");
static_assert(FieldCount<RemittanceOpened>() == 1);
static_assert(FieldCount<OpenRemittance>() == 8, "record the new field of RemittanceOpened");
static_assert(FieldCount<ContributionAllocated>() == 10, "record the new field");
static_assert(FieldCount<RemittanceCompleted>() == 6, "record the new field");
static_assert(FieldCount<YearEndInterestCredited>() == 6, "record the new field");
static_assert(FieldCount<EmployerClosed>() == 3, "record the new field of EmployerClosed");
static_assert(FieldCount<EmployerReopened>() == 2, "record the new field of EmployerReopened");
static_assert(FieldCount<EmployerRateReductionGranted>() == 1);
static_assert(FieldCount<GrantRateReduction>() == 6, "record the new field");
static_assert(FieldCount<EmployerDeferralGranted>() == 1);
static_assert(FieldCount<GrantDeferral>() == 4, "record the new field");
static_assert(FieldCount<RecordReversed>() == 1);
static_assert(FieldCount<YearEndSettlementStarted>() == 4, "record the new field");
static_assert(FieldCount<YearEndSettlementCompleted>() == 4, "record the new field");
static_assert(FieldCount<ReverseRecord>() == 5, "record the new field of RecordReversed");
static_assert(FieldCount<ReversalTarget>() == 5, "record or read the new field");
static_assert(FieldCount<PolicyChanged>() == 7, "record the new field of PolicyChanged");
static_assert(static_cast<uint8_t>(ReversalReason::kBankReturned) ==
                      static_cast<uint8_t>(schema::ReversalReason::BankReturned) &&
                  static_cast<uint8_t>(ReversalReason::kOther) ==
                      static_cast<uint8_t>(schema::ReversalReason::Other),
              "ReversalReason mirrors the schema's values");
static_assert(static_cast<uint8_t>(EmployerExitReason::kNoEmployees) ==
                      static_cast<uint8_t>(schema::EmployerExitReason::NoEmployees) &&
                  static_cast<uint8_t>(EmployerExitReason::kOther) ==
                      static_cast<uint8_t>(schema::EmployerExitReason::Other),
              "EmployerExitReason mirrors the schema's values");
static_assert(static_cast<uint8_t>(AccountSealReason::kEmployerSealed) ==
                      static_cast<uint8_t>(schema::AccountSealReason::EmployerSealed) &&
                  static_cast<uint8_t>(AccountSealReason::kOther) ==
                      static_cast<uint8_t>(schema::AccountSealReason::Other),
              "AccountSealReason mirrors the schema's values");
static_assert(static_cast<uint8_t>(AccountCloseReason::kHeirlessBalance) ==
                      static_cast<uint8_t>(schema::AccountCloseReason::HeirlessBalance) &&
                  static_cast<uint8_t>(AccountCloseReason::kOther) ==
                      static_cast<uint8_t>(schema::AccountCloseReason::Other),
              "AccountCloseReason mirrors the schema's values");
static_assert(static_cast<uint8_t>(WithdrawalReason::kSeriousIllness) ==
                      static_cast<uint8_t>(schema::WithdrawalReason::SeriousIllness) &&
                  static_cast<uint8_t>(WithdrawalReason::kOther) ==
                      static_cast<uint8_t>(schema::WithdrawalReason::Other),
              "WithdrawalReason mirrors the schema's values");

// A text the fact may leave empty: no string at all then (it decodes as "").
fb::Offset<fb::String> Optional(fb::FlatBufferBuilder& fbb, std::string_view text) {
  return text.empty() ? fb::Offset<fb::String>() : fbb.CreateString(text);
}

schema::BusinessType BusinessTypeOf(RemittanceKind kind) {
  switch (kind) {
    case RemittanceKind::kRegular:
      return schema::BusinessType::Remittance;
    case RemittanceKind::kBackPayment:
      break;
  }
  HPF_ASSERT(kind == RemittanceKind::kBackPayment);  // one of its enumerators (Decide checked)
  return schema::BusinessType::BackPayment;
}

fb::Offset<schema::EmployerRegistered> Table(fb::FlatBufferBuilder& fbb,
                                             const EmployerRegistered& f) {
  const RegisterEmployer& t = f.terms;
  const auto code = fbb.CreateString(t.unified_social_credit_code);
  const auto name = fbb.CreateString(t.name);
  const auto bank_code = fbb.CreateString(t.bank_code);
  schema::EmployerRegisteredBuilder b(fbb);
  b.add_employer_id(t.employer.value);
  b.add_unified_social_credit_code(code);
  b.add_name(name);
  b.add_bank_code(bank_code);
  b.add_employer_rate_ppm(t.employer_rate.value);
  b.add_employee_rate_ppm(t.employee_rate.value);
  b.add_first_contribution_month(t.first_contribution_month);
  return b.Finish();
}

fb::Offset<schema::EmployerRatesChanged> Table(fb::FlatBufferBuilder& fbb,
                                               const EmployerRatesChanged& f) {
  schema::EmployerRatesChangedBuilder b(fbb);
  b.add_employer_id(f.employer.value);
  b.add_employer_rate_ppm(f.employer_rate.value);
  b.add_employee_rate_ppm(f.employee_rate.value);
  b.add_from_month(f.from_month);
  return b.Finish();
}

fb::Offset<schema::EmployerRateReductionGranted> Table(fb::FlatBufferBuilder& fbb,
                                                       const EmployerRateReductionGranted& f) {
  const GrantRateReduction& t = f.terms;
  const auto approval = fbb.CreateString(t.approval_reference);
  schema::EmployerRateReductionGrantedBuilder b(fbb);
  b.add_employer_id(t.employer.value);
  b.add_employer_rate_ppm(t.employer_rate.value);
  b.add_employee_rate_ppm(t.employee_rate.value);
  b.add_from_month(t.from_month);
  b.add_to_month(t.to_month);
  b.add_approval_reference(approval);
  return b.Finish();
}

fb::Offset<schema::EmployerDeferralGranted> Table(fb::FlatBufferBuilder& fbb,
                                                  const EmployerDeferralGranted& f) {
  const GrantDeferral& t = f.terms;
  const auto approval = fbb.CreateString(t.approval_reference);
  schema::EmployerDeferralGrantedBuilder b(fbb);
  b.add_employer_id(t.employer.value);
  b.add_from_month(t.from_month);
  b.add_to_month(t.to_month);
  b.add_approval_reference(approval);
  return b.Finish();
}

// An empty approval reference is left out (it decodes as "").
fb::Offset<schema::EmployerSealed> Table(fb::FlatBufferBuilder& fbb, const EmployerSealed& f) {
  const fb::Offset<fb::String> approval = Optional(fbb, f.approval_reference);
  schema::EmployerSealedBuilder b(fbb);
  b.add_employer_id(f.employer.value);
  b.add_reason(static_cast<schema::EmployerExitReason>(f.reason));
  if (!approval.IsNull()) b.add_approval_reference(approval);
  return b.Finish();
}

fb::Offset<schema::EmployerClosed> Table(fb::FlatBufferBuilder& fbb, const EmployerClosed& f) {
  const fb::Offset<fb::String> approval = Optional(fbb, f.approval_reference);
  schema::EmployerClosedBuilder b(fbb);
  b.add_employer_id(f.employer.value);
  b.add_reason(static_cast<schema::EmployerExitReason>(f.reason));
  if (!approval.IsNull()) b.add_approval_reference(approval);
  return b.Finish();
}

fb::Offset<schema::EmployerReopened> Table(fb::FlatBufferBuilder& fbb, const EmployerReopened& f) {
  schema::EmployerReopenedBuilder b(fbb);
  b.add_employer_id(f.employer.value);
  b.add_first_contribution_month(f.first_contribution_month);
  return b.Finish();
}

// contributor_kind follows from the employer: every account of part 1 is opened under a
// registered employer (flexible employment, employer 0, is not a command yet). An identity
// digest of zeros (none given) is left out.
fb::Offset<schema::AccountOpened> Table(fb::FlatBufferBuilder& fbb, const AccountOpened& f) {
  const OpenAccount& t = f.terms;
  const bool has_digest = t.identity_digest != std::array<uint8_t, 32>{};
  const schema::Digest digest(
      fb::span<const uint8_t, 32>(t.identity_digest.data(), t.identity_digest.size()));
  schema::AccountOpenedBuilder b(fbb);
  if (has_digest) b.add_identity_digest(&digest);
  b.add_account_id(t.account.value);
  b.add_employer_id(t.employer.value);
  b.add_contributor_kind(t.employer.value != 0 ? schema::ContributorKind::Employee
                                               : schema::ContributorKind::FlexibleEmployment);
  b.add_person_id(t.person_id);
  b.add_contribution_base_fen(t.contribution_base.value);
  b.add_first_contribution_month(t.first_contribution_month);
  return b.Finish();
}

fb::Offset<schema::AccountBaseChanged> Table(fb::FlatBufferBuilder& fbb,
                                             const AccountBaseChanged& f) {
  schema::AccountBaseChangedBuilder b(fbb);
  b.add_account_id(f.account.value);
  b.add_employer_id(f.employer.value);
  b.add_contribution_base_fen(f.contribution_base.value);
  b.add_from_month(f.from_month);
  return b.Finish();
}

fb::Offset<schema::AccountSealed> Table(fb::FlatBufferBuilder& fbb, const AccountSealed& f) {
  schema::AccountSealedBuilder b(fbb);
  b.add_account_id(f.account.value);
  b.add_employer_id(f.employer.value);
  b.add_reason(static_cast<schema::AccountSealReason>(f.reason));
  return b.Finish();
}

fb::Offset<schema::AccountUnsealed> Table(fb::FlatBufferBuilder& fbb, const AccountUnsealed& f) {
  schema::AccountUnsealedBuilder b(fbb);
  b.add_account_id(f.account.value);
  b.add_employer_id(f.employer.value);
  b.add_previous_employer_id(f.previous_employer.value);
  b.add_contribution_base_fen(f.contribution_base.value);
  b.add_first_contribution_month(f.first_contribution_month);
  return b.Finish();
}

fb::Offset<schema::AccountFrozen> Table(fb::FlatBufferBuilder& fbb, const AccountFrozen& f) {
  const auto order = fbb.CreateString(f.court_order_reference);
  const auto authority = fbb.CreateString(f.authority);
  schema::AccountFrozenBuilder b(fbb);
  b.add_account_id(f.account.value);
  b.add_court_order_reference(order);
  b.add_authority(authority);
  return b.Finish();
}

fb::Offset<schema::AccountUnfrozen> Table(fb::FlatBufferBuilder& fbb, const AccountUnfrozen& f) {
  const auto order = fbb.CreateString(f.court_order_reference);
  const auto authority = fbb.CreateString(f.authority);
  schema::AccountUnfrozenBuilder b(fbb);
  b.add_account_id(f.account.value);
  b.add_court_order_reference(order);
  b.add_authority(authority);
  return b.Finish();
}

// cause_kind and cause_id: an account closed by CloseAccount has no cause (its balance was
// already zero); a closing withdrawal names itself (the transfer out of part 2 will too).
fb::Offset<schema::AccountClosed> Table(fb::FlatBufferBuilder& fbb, const AccountClosed& f) {
  schema::AccountClosedBuilder b(fbb);
  b.add_account_id(f.account.value);
  b.add_employer_id(f.employer.value);
  b.add_reason(static_cast<schema::AccountCloseReason>(f.reason));
  if (f.withdrawal_id != 0) {
    b.add_cause_kind(schema::EntityKind::Withdrawal);
    b.add_cause_id(f.withdrawal_id);
  }
  return b.Finish();
}

// A closing withdrawal pays the holder, or the heirs on a death (reason 08).
schema::WithdrawalPayee PayeeOf(WithdrawalReason reason) {
  return reason == WithdrawalReason::kDeath ? schema::WithdrawalPayee::Heirs
                                            : schema::WithdrawalPayee::AccountHolder;
}

// Fields of the schema table for partial withdrawals (local reason, loan payee, property
// price) stay at their defaults: closing withdrawals have none.
fb::Offset<schema::WithdrawalApplied> Table(fb::FlatBufferBuilder& fbb,
                                            const WithdrawalApplied& f) {
  const ApplyWithdrawal& t = f.terms;
  const auto payee = Optional(fbb, t.payee_reference);
  const auto evidence = Optional(fbb, t.evidence_reference);
  const auto applicant = fbb.CreateString(f.applicant);
  schema::WithdrawalAppliedBuilder b(fbb);
  b.add_withdrawal_id(t.withdrawal_id);
  b.add_account_id(t.account.value);
  b.add_reason(static_cast<schema::WithdrawalReason>(t.reason));
  b.add_amount_fen(f.amount.value);
  b.add_payee(PayeeOf(t.reason));
  b.add_payee_reference(payee);
  b.add_evidence_reference(evidence);
  b.add_applicant(applicant);
  b.add_decide_by_date(f.decide_by_date);
  return b.Finish();
}

fb::Offset<schema::WithdrawalApproved> Table(fb::FlatBufferBuilder& fbb,
                                             const WithdrawalApproved& f) {
  const auto reviewer = fbb.CreateString(f.reviewer);
  schema::WithdrawalApprovedBuilder b(fbb);
  b.add_withdrawal_id(f.withdrawal_id);
  b.add_account_id(f.account.value);
  b.add_reviewer(reviewer);
  b.add_amount_fen(f.amount.value);
  return b.Finish();
}

fb::Offset<schema::WithdrawalRejected> Table(fb::FlatBufferBuilder& fbb,
                                             const WithdrawalRejected& f) {
  const auto reviewer = fbb.CreateString(f.reviewer);
  const auto reason = fbb.CreateString(f.reason);
  schema::WithdrawalRejectedBuilder b(fbb);
  b.add_withdrawal_id(f.withdrawal_id);
  b.add_account_id(f.account.value);
  b.add_reviewer(reviewer);
  b.add_reason(reason);
  return b.Finish();
}

fb::Offset<schema::InterestToDateCredited> Table(fb::FlatBufferBuilder& fbb,
                                                 const InterestToDateCredited& f) {
  std::vector<schema::InterestSegment> segments;
  segments.reserve(f.segments.size());
  for (const InterestSegment& segment : f.segments) {
    segments.emplace_back(segment.from.yyyymmdd(), segment.rate.value, segment.fen_days.value);
  }
  const auto segments_offset = fbb.CreateVectorOfStructs(segments);
  schema::InterestToDateCreditedBuilder b(fbb);
  b.add_account_id(f.account.value);
  b.add_from_date(f.from_date.yyyymmdd());
  b.add_until_date(f.until_date.yyyymmdd());
  b.add_day_basis(static_cast<uint16_t>(f.day_basis));
  b.add_segments(segments_offset);
  b.add_interest_fen(f.interest.value);
  b.add_cause_kind(schema::EntityKind::Withdrawal);
  b.add_cause_id(f.withdrawal_id);
  return b.Finish();
}

fb::Offset<schema::WithdrawalPaid> Table(fb::FlatBufferBuilder& fbb, const WithdrawalPaid& f) {
  const auto bank_code = fbb.CreateString(f.bank_code);
  const auto reference = fbb.CreateString(f.bank_reference);
  schema::WithdrawalPaidBuilder b(fbb);
  b.add_withdrawal_id(f.withdrawal_id);
  b.add_account_id(f.account.value);
  b.add_reason(static_cast<schema::WithdrawalReason>(f.reason));
  b.add_amount_fen(f.amount.value);
  b.add_deposit_id(f.deposit_id);
  b.add_bank_code(bank_code);
  b.add_bank_reference(reference);
  return b.Finish();
}

fb::Offset<schema::WithdrawalCancelled> Table(fb::FlatBufferBuilder& fbb,
                                              const WithdrawalCancelled& f) {
  const auto reason = fbb.CreateString(f.reason);
  schema::WithdrawalCancelledBuilder b(fbb);
  b.add_withdrawal_id(f.withdrawal_id);
  b.add_account_id(f.account.value);
  b.add_reason(reason);
  return b.Finish();
}

fb::Offset<schema::BankReceiptRecorded> Table(fb::FlatBufferBuilder& fbb,
                                              const BankReceiptRecorded& f) {
  const RecordBankReceipt& t = f.terms;
  const auto bank_code = fbb.CreateString(t.bank_code);
  const auto reference = fbb.CreateString(t.bank_reference);
  schema::BankReceiptRecordedBuilder b(fbb);
  b.add_employer_id(t.employer.value);
  b.add_bank_code(bank_code);
  b.add_bank_reference(reference);
  b.add_amount_fen(t.amount.value);
  b.add_deposit_id(t.deposit_id);
  return b.Finish();
}

fb::Offset<schema::RemittanceOpened> Table(fb::FlatBufferBuilder& fbb, const RemittanceOpened& f) {
  const OpenRemittance& t = f.terms;
  const auto list_reference = fbb.CreateString(t.list_reference);
  schema::RemittanceOpenedBuilder b(fbb);
  b.add_remittance_id(t.remittance_id);
  b.add_employer_id(t.employer.value);
  b.add_business_type(BusinessTypeOf(t.kind));
  b.add_from_month(t.from_month);
  b.add_to_month(t.to_month);
  b.add_accounts_count(t.accounts_count);
  b.add_total_fen(t.total.value);
  b.add_list_reference(list_reference);
  return b.Finish();
}

fb::Offset<schema::ContributionAllocated> Table(fb::FlatBufferBuilder& fbb,
                                                const ContributionAllocated& f) {
  schema::ContributionAllocatedBuilder b(fbb);
  b.add_remittance_id(f.remittance_id);
  b.add_employer_id(f.employer.value);
  b.add_account_id(f.account.value);
  b.add_business_type(BusinessTypeOf(f.kind));
  b.add_contribution_month(f.month);
  b.add_contribution_base_fen(f.contribution_base.value);
  b.add_employer_rate_ppm(f.employer_rate.value);
  b.add_employee_rate_ppm(f.employee_rate.value);
  b.add_employer_amount_fen(f.employer_amount.value);
  b.add_employee_amount_fen(f.employee_amount.value);
  return b.Finish();
}

fb::Offset<schema::RemittanceCompleted> Table(fb::FlatBufferBuilder& fbb,
                                              const RemittanceCompleted& f) {
  schema::RemittanceCompletedBuilder b(fbb);
  b.add_remittance_id(f.remittance_id);
  b.add_employer_id(f.employer.value);
  b.add_business_type(BusinessTypeOf(f.kind));
  b.add_allocations_count(f.allocations_count);
  b.add_total_fen(f.total.value);
  b.add_paid_up_to_month(f.paid_up_to_month);
  return b.Finish();
}

// The interest year gives the period: [1 July, next 1 July), the credit's value date.
fb::Offset<schema::YearEndInterestCredited> Table(fb::FlatBufferBuilder& fbb,
                                                  const YearEndInterestCredited& f) {
  const auto year = InterestYear::FromStartingYear(f.interest_year);
  HPF_ASSERT(year.has_value());  // Decide checked the year
  std::vector<schema::InterestSegment> segments;
  segments.reserve(f.segments.size());
  for (const InterestSegment& segment : f.segments) {
    segments.emplace_back(segment.from.yyyymmdd(), segment.rate.value, segment.fen_days.value);
  }
  const auto segments_offset = fbb.CreateVectorOfStructs(segments);
  schema::YearEndInterestCreditedBuilder b(fbb);
  b.add_settlement_id(f.settlement_id);
  b.add_account_id(f.account.value);
  b.add_from_date(year->FirstDay().yyyymmdd());
  b.add_until_date(year->CreditValueDate().yyyymmdd());
  b.add_day_basis(static_cast<uint16_t>(f.day_basis));
  b.add_segments(segments_offset);
  b.add_interest_fen(f.interest.value);
  return b.Finish();
}

// The interest year gives the period; its credit value date is the run's until_date.
fb::Offset<schema::YearEndSettlementStarted> Table(fb::FlatBufferBuilder& fbb,
                                                   const YearEndSettlementStarted& f) {
  const auto year = InterestYear::FromStartingYear(f.interest_year);
  HPF_ASSERT(year.has_value());  // Decide checked the year
  schema::YearEndSettlementStartedBuilder b(fbb);
  b.add_settlement_id(f.settlement_id);
  b.add_from_date(year->FirstDay().yyyymmdd());
  b.add_until_date(year->CreditValueDate().yyyymmdd());
  b.add_day_basis(static_cast<uint16_t>(f.day_basis));
  b.add_accounts_count(f.accounts_count);
  return b.Finish();
}

fb::Offset<schema::YearEndSettlementCompleted> Table(fb::FlatBufferBuilder& fbb,
                                                     const YearEndSettlementCompleted& f) {
  schema::YearEndSettlementCompletedBuilder b(fbb);
  b.add_settlement_id(f.settlement_id);
  b.add_accounts_credited_count(f.accounts_credited_count);
  b.add_accounts_deferred_count(f.accounts_deferred_count);
  b.add_interest_total_fen(f.interest_total.value);
  return b.Finish();
}

fb::Offset<schema::RecordReversed> Table(fb::FlatBufferBuilder& fbb, const RecordReversed& f) {
  const ReverseRecord& t = f.terms;
  HPF_ASSERT(t.target != nullptr);  // Decide() accepts only a resolved reversal
  const auto note = fbb.CreateString(t.note);
  const auto approval = fbb.CreateString(t.approval_reference);
  const schema::Digest hash(
      fb::span<const uint8_t, 32>(t.target->record_hash.data(), t.target->record_hash.size()));
  schema::RecordReversedBuilder b(fbb);
  b.add_reversed_position(t.position);
  b.add_reversed_record_hash(&hash);
  b.add_reason(static_cast<schema::ReversalReason>(t.reason));
  b.add_note(note);
  b.add_approval_reference(approval);
  return b.Finish();
}

// The book is not recorded: it is ParsePolicy(document), and the document is.
fb::Offset<schema::PolicyChanged> Table(fb::FlatBufferBuilder& fbb, const PolicyChanged& f) {
  const auto document =
      fbb.CreateVector(reinterpret_cast<const uint8_t*>(f.document.data()), f.document.size());
  const auto summary = fbb.CreateString(f.summary);
  const auto approval = fbb.CreateString(f.approval_reference);
  const schema::Digest digest(
      fb::span<const uint8_t, 32>(f.document_digest.data(), f.document_digest.size()));
  schema::PolicyChangedBuilder b(fbb);
  b.add_policy_version(f.policy_version);
  b.add_effective_from_date(f.effective_from);
  b.add_format(schema::PolicyFormat::Json);
  b.add_document(document);
  b.add_document_digest(&digest);
  b.add_summary(summary);
  b.add_approval_reference(approval);
  return b.Finish();
}

// The schema table a fact type is recorded as: what its Table() overload builds. A Fact
// alternative without an overload fails to compile here.
template <typename Offset>
struct OffsetTarget;
template <typename T>
struct OffsetTarget<fb::Offset<T>> {
  using type = T;
};
template <typename F>
using TableOf = typename OffsetTarget<decltype(Table(std::declval<fb::FlatBufferBuilder&>(),
                                                     std::declval<const F&>()))>::type;

template <typename F>
constexpr schema::Event kEventOf = schema::EventTraits<TableOf<F>>::enum_value;

schema::Posting ToSchema(const Posting& posting) {
  return schema::Posting(static_cast<uint32_t>(posting.gl_account),
                         static_cast<schema::Side>(posting.side),
                         static_cast<schema::EntityKind>(posting.subledger), 0,
                         posting.subledger_id, posting.amount.value);
}

// --- reading back the facts a reversal can negate ---

std::string_view Text(const fb::String* text) {
  return text == nullptr ? std::string_view() : text->string_view();
}

Result<RemittanceKind> KindOf(schema::BusinessType type) {
  switch (type) {
    case schema::BusinessType::Remittance:
      return RemittanceKind::kRegular;
    case schema::BusinessType::BackPayment:
      return RemittanceKind::kBackPayment;
    default:
      return CorruptionError(
          fmt::format("business type {} is not a remittance's", static_cast<int>(type)));
  }
}

Result<Date> DateOf(uint32_t yyyymmdd, std::string_view field) {
  auto date = Date::FromYyyymmdd(yyyymmdd);
  if (!date.has_value()) {
    return CorruptionError(fmt::format("{}: {}", field, date.error().message()));
  }
  return *date;
}

ReversibleFact Read(const schema::BankReceiptRecorded& t) {
  return BankReceiptRecorded{
      RecordBankReceipt{.employer = EmployerId{t.employer_id()},
                        .bank_code = std::string(Text(t.bank_code())),
                        .bank_reference = std::string(Text(t.bank_reference())),
                        .amount = Fen{t.amount_fen()},
                        .deposit_id = t.deposit_id()}};
}

Result<ReversibleFact> Read(const schema::ContributionAllocated& t) {
  HPF_ASSIGN_OR_RETURN(const RemittanceKind kind, KindOf(t.business_type()));
  return ReversibleFact(ContributionAllocated{.remittance_id = t.remittance_id(),
                                              .employer = EmployerId{t.employer_id()},
                                              .account = AccountId{t.account_id()},
                                              .kind = kind,
                                              .month = t.contribution_month(),
                                              .contribution_base = Fen{t.contribution_base_fen()},
                                              .employer_rate = RatePpm{t.employer_rate_ppm()},
                                              .employee_rate = RatePpm{t.employee_rate_ppm()},
                                              .employer_amount = Fen{t.employer_amount_fen()},
                                              .employee_amount = Fen{t.employee_amount_fen()}});
}

Result<ReversibleFact> Read(const schema::YearEndInterestCredited& t) {
  HPF_ASSIGN_OR_RETURN(const Date from, DateOf(t.from_date(), "from_date"));
  auto year = InterestYear::Containing(from);
  if (!year.has_value() || year->FirstDay() != from) {
    return CorruptionError(
        fmt::format("from_date {} is not the first day of an interest year", t.from_date()));
  }
  if (t.until_date() != year->CreditValueDate().yyyymmdd()) {
    return CorruptionError(fmt::format("until_date {} is not the credit value date {} of its year",
                                       t.until_date(), year->CreditValueDate().yyyymmdd()));
  }
  auto basis = DayBasisFromDays(t.day_basis());
  if (!basis.has_value()) {
    return CorruptionError(fmt::format("day_basis: {}", basis.error().message()));
  }
  YearEndInterestCredited fact{.account = AccountId{t.account_id()},
                               .interest_year = year->starting_year(),
                               .settlement_id = t.settlement_id(),
                               .segments = {},
                               .day_basis = *basis,
                               .interest = Fen{t.interest_fen()}};
  if (t.segments() != nullptr) {
    for (const schema::InterestSegment* segment : *t.segments()) {
      HPF_ASSIGN_OR_RETURN(const Date segment_from, DateOf(segment->from_date(), "segment"));
      fact.segments.push_back(
          InterestSegment{.from = segment_from,
                          .rate = RatePpm{segment->rate_ppm()},
                          .fen_days = FenDays{segment->accumulator_fen_days()}});
    }
  }
  return ReversibleFact(std::move(fact));
}

}  // namespace

StreamRef StreamOf(const Fact& fact) {
  using K = schema::EntityKind;
  return std::visit(
      [](const auto& f) -> StreamRef {
        using F = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<F, EmployerRegistered> ||
                      std::is_same_v<F, EmployerRateReductionGranted> ||
                      std::is_same_v<F, EmployerDeferralGranted> ||
                      std::is_same_v<F, BankReceiptRecorded> ||
                      std::is_same_v<F, RemittanceOpened>) {
          return {K::Employer, f.terms.employer.value};
        } else if constexpr (std::is_same_v<F, EmployerRatesChanged> ||
                             std::is_same_v<F, EmployerSealed> ||
                             std::is_same_v<F, EmployerClosed> ||
                             std::is_same_v<F, EmployerReopened> ||
                             std::is_same_v<F, RemittanceCompleted>) {
          return {K::Employer, f.employer.value};
        } else if constexpr (std::is_same_v<F, AccountOpened>) {
          return {K::Account, f.terms.account.value};
        } else if constexpr (std::is_same_v<F, AccountBaseChanged> ||
                             std::is_same_v<F, AccountSealed> ||
                             std::is_same_v<F, AccountUnsealed> ||
                             std::is_same_v<F, AccountFrozen> ||
                             std::is_same_v<F, AccountUnfrozen> ||
                             std::is_same_v<F, AccountClosed> ||
                             std::is_same_v<F, ContributionAllocated> ||
                             std::is_same_v<F, YearEndInterestCredited> ||
                             std::is_same_v<F, InterestToDateCredited>) {
          return {K::Account, f.account.value};
        } else if constexpr (std::is_same_v<F, WithdrawalApplied>) {
          return {K::Withdrawal, f.terms.withdrawal_id};
        } else if constexpr (std::is_same_v<F, WithdrawalApproved> ||
                             std::is_same_v<F, WithdrawalRejected> ||
                             std::is_same_v<F, WithdrawalPaid> ||
                             std::is_same_v<F, WithdrawalCancelled>) {
          return {K::Withdrawal, f.withdrawal_id};
        } else if constexpr (std::is_same_v<F, YearEndSettlementStarted> ||
                             std::is_same_v<F, YearEndSettlementCompleted>) {
          return {K::Fund, kFundStreamId};
        } else if constexpr (std::is_same_v<F, RecordReversed>) {
          // The reversed record's stream (schemas/events.fbs).
          HPF_ASSERT(f.terms.target != nullptr);
          HPF_ASSERT(f.terms.target->original.has_value());
          return std::visit([](const auto& original) { return StreamOf(Fact(original)); },
                            *f.terms.target->original);
        } else if constexpr (std::is_same_v<F, PolicyChanged>) {
          return {K::Policy, kPolicyStreamId};
        } else {
          static_assert(sizeof(F) == 0, "name the stream of the new fact");
        }
      },
      fact);
}

schema::Event EventTypeOf(const Fact& fact) {
  return std::visit([](const auto& f) { return kEventOf<std::decay_t<decltype(f)>>; }, fact);
}

std::span<const uint8_t> EncodeFact(events::RecordBuilder& builder, const CommandHeader& header,
                                    const Fact& fact, const FactEnvelope& envelope) {
  HPF_ASSERT(envelope.command_part < envelope.command_parts);
  HPF_ASSERT(envelope.stream_version >= 1);
  fb::FlatBufferBuilder& fbb = builder.fbb();
  const fb::Offset<void> payload =
      std::visit([&fbb](const auto& f) { return Table(fbb, f).Union(); }, fact);
  const std::vector<Posting> postings = PostingsOf(fact);
  std::vector<schema::Posting> lines;
  lines.reserve(postings.size());
  for (const Posting& posting : postings) lines.push_back(ToSchema(posting));
  const StreamRef stream = StreamOf(fact);
  // A reversal takes the reversed record's value date (schemas/events.fbs RecordReversed).
  const auto* reversal = std::get_if<RecordReversed>(&fact);
  const uint32_t effective_date =
      reversal != nullptr ? reversal->terms.target->effective_date : header.effective_date;
  return builder.Finish({.effective_date = effective_date,
                         .stream_kind = stream.kind,
                         .stream_id = stream.id,
                         .stream_version = envelope.stream_version,
                         .idempotency_key = header.idempotency_key,
                         .command_hash = envelope.command_hash,
                         .command_part = envelope.command_part,
                         .command_parts = envelope.command_parts,
                         .actor = header.actor,
                         .channel = header.channel},
                        EventTypeOf(fact), payload, lines);
}

Result<ReversalTarget> ReadReversalTarget(const schema::Record& record,
                                          const events::Digest& record_hash) {
  ReversalTarget target;
  target.event_type = std::string(events::EventTypeName(record.payload_type()));
  target.effective_date = record.envelope()->effective_date();
  target.record_hash = record_hash;
  target.moves_money = record.postings() != nullptr && record.postings()->size() > 0;
  Result<ReversibleFact> original = CorruptionError("not read");
  switch (record.payload_type()) {
    case schema::Event::BankReceiptRecorded:
      original = Read(*record.payload_as_BankReceiptRecorded());
      break;
    case schema::Event::ContributionAllocated:
      original = Read(*record.payload_as_ContributionAllocated());
      break;
    case schema::Event::YearEndInterestCredited:
      original = Read(*record.payload_as_YearEndInterestCredited());
      break;
    default:
      return target;  // nothing a reversal negates
  }
  if (!original.has_value()) {
    return CorruptionError(fmt::format("record at position {} ({}): {}",
                                       events::RecordPosition(record).value, target.event_type,
                                       original.error().message()));
  }
  target.original = std::move(original).value();
  return target;
}

Result<PolicyChanged> ReadPolicyChanged(const schema::Record& record) {
  if (record.payload_type() != schema::Event::PolicyChanged) {
    return InvalidArgumentError(fmt::format("record at position {} is a {}, not a PolicyChanged",
                                            events::RecordPosition(record).value,
                                            events::EventTypeName(record.payload_type())));
  }
  const schema::PolicyChanged& t = *record.payload_as_PolicyChanged();
  const schema::Envelope& envelope = *record.envelope();
  const auto bad = [&record](std::string_view what) {
    return CorruptionError(fmt::format("record at position {} (PolicyChanged): {}",
                                       events::RecordPosition(record).value, what));
  };
  if (envelope.stream_kind() != schema::EntityKind::Policy ||
      envelope.stream_id() != kPolicyStreamId) {
    return bad("not on the policy's stream");
  }
  if (t.policy_version() == 0 || envelope.stream_version() != t.policy_version()) {
    return bad(fmt::format("policy version {} on stream version {}", t.policy_version(),
                           envelope.stream_version()));
  }
  if (t.format() != schema::PolicyFormat::Json) {
    return bad(fmt::format("document format {} is not JSON", static_cast<int>(t.format())));
  }
  if (t.document() == nullptr || t.document_digest() == nullptr) {
    return bad("no document or no digest");
  }
  if (auto from = DateOf(t.effective_from_date(), "effective_from_date"); !from.has_value()) {
    return bad(from.error().message());
  }
  PolicyChanged fact{.policy_version = t.policy_version(),
                     .effective_from = t.effective_from_date(),
                     .document = std::string(reinterpret_cast<const char*>(t.document()->data()),
                                             t.document()->size()),
                     .document_digest = {},
                     .summary = std::string(Text(t.summary())),
                     .approval_reference = std::string(Text(t.approval_reference())),
                     .book = nullptr};
  std::memcpy(fact.document_digest.data(), t.document_digest()->bytes()->data(),
              fact.document_digest.size());
  auto sha256 = events::ChainHasher::Create(events::HashAlgorithm::kSha256);
  if (!sha256.has_value()) return sha256.error();
  const events::Digest digest = (*sha256)->Plain(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(fact.document.data()), fact.document.size()));
  if (digest != fact.document_digest) return bad("the document does not match its digest");
  auto book = ParsePolicy(fact.document);
  if (!book.has_value()) {
    return bad(fmt::format("the document does not parse: {}", book.error().message()));
  }
  fact.book = std::make_shared<const PolicyBook>(std::move(book).value());
  return fact;
}

}  // namespace hpf::ledger
