// tests/ledger/record_encoding_test.cc — every Fact alternative becomes a valid record of the
// schema table with the same name, carrying every field the fact has, its postings and the
// command's envelope; the facts a reversal negates read back from their records unchanged.
//
// The test walks every alternative of Fact: a new fact without a Sample() and a Check() here
// (or without an encoder in record_encoding.cc) does not compile.
//
// Schema fields no fact carries yet (left at their defaults, so they decode as None / 0):
//   AccountClosed.cause_kind, .cause_id (the closing withdrawal and the transfer out of part 2
//   name them). Optional fields a fact leaves empty are left out: an approval reference of
//   EmployerSealed / EmployerClosed, AccountOpened.identity_digest of zeros.
#include "ledger/record_encoding.h"

#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "events/hash_chain.h"
#include "ledger/internal/command_hash.h"

namespace hpf::ledger {
namespace {

using events::Digest;

// The unqualified name of T, from the compiler's function signature (GCC and clang).
template <typename T>
std::string_view TypeName() {
  std::string_view name = __PRETTY_FUNCTION__;
  name.remove_prefix(name.find("T = ") + 4);
  name = name.substr(0, name.find_first_of(";]"));
  return name.substr(name.rfind("::") + 2);
}

Date Day(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }

std::string_view Text(const flatbuffers::String* text) {
  return text == nullptr ? std::string_view() : text->string_view();
}

// --- one sample per fact, every field set to something other than its default ---
EmployerRegistered Sample(std::type_identity<EmployerRegistered> /*unused*/) {
  return {RegisterEmployer{.employer = EmployerId{11},
                           .unified_social_credit_code = "91370200MA3C5X0F2K",
                           .name = "Acme",
                           .bank_code = "ICBC",
                           .employer_rate = RatePpm{120'000},
                           .employee_rate = RatePpm{110'000},
                           .first_contribution_month = 202207}};
}
EmployerRatesChanged Sample(std::type_identity<EmployerRatesChanged> /*unused*/) {
  return {EmployerId{11}, RatePpm{80'000}, RatePpm{70'000}, 202301};
}
EmployerRateReductionGranted Sample(std::type_identity<EmployerRateReductionGranted> /*unused*/) {
  return {GrantRateReduction{EmployerId{11}, RatePpm{50'000}, RatePpm{60'000}, 202301, 202306,
                             "QD-2023-7"}};
}
EmployerDeferralGranted Sample(std::type_identity<EmployerDeferralGranted> /*unused*/) {
  return {GrantDeferral{EmployerId{11}, 202301, 202312, "QD-2023-8"}};
}
EmployerSealed Sample(std::type_identity<EmployerSealed> /*unused*/) {
  return {EmployerId{11}, EmployerExitReason::kSuspendedBusiness, "FC-2023-1"};
}
EmployerClosed Sample(std::type_identity<EmployerClosed> /*unused*/) {
  return {EmployerId{11}, EmployerExitReason::kDissolved, "XH-2023-2"};
}
EmployerReopened Sample(std::type_identity<EmployerReopened> /*unused*/) {
  return {EmployerId{11}, 202403};
}
AccountOpened Sample(std::type_identity<AccountOpened> /*unused*/) {
  OpenAccount terms{AccountId{1001}, EmployerId{11}, 555, Fen{800'000}, 202207};
  for (size_t i = 0; i < terms.identity_digest.size(); ++i) {
    terms.identity_digest[i] = static_cast<uint8_t>(0xA0 + i);
  }
  return {terms};
}
AccountBaseChanged Sample(std::type_identity<AccountBaseChanged> /*unused*/) {
  return {AccountId{1001}, EmployerId{11}, Fen{900'000}, 202307};
}
AccountSealed Sample(std::type_identity<AccountSealed> /*unused*/) {
  return {AccountId{1001}, EmployerId{11}, AccountSealReason::kEmployerSealed};
}
AccountUnsealed Sample(std::type_identity<AccountUnsealed> /*unused*/) {
  return {AccountId{1001}, EmployerId{12}, EmployerId{11}, Fen{700'000}, 202309};
}
AccountFrozen Sample(std::type_identity<AccountFrozen> /*unused*/) {
  return {AccountId{1001}, "(2023)鲁02执1号", "Qingdao Intermediate Court"};
}
AccountUnfrozen Sample(std::type_identity<AccountUnfrozen> /*unused*/) {
  return {AccountId{1001}, "(2023)鲁02执1号", "Qingdao Intermediate Court"};
}
AccountClosed Sample(std::type_identity<AccountClosed> /*unused*/) {
  return {AccountId{1001}, EmployerId{11}, AccountCloseReason::kClosingWithdrawal, 77};
}
WithdrawalApplied Sample(std::type_identity<WithdrawalApplied> /*unused*/) {
  return {.terms = ApplyWithdrawal{.withdrawal_id = 77,
                                   .account = AccountId{1001},
                                   .reason = WithdrawalReason::kDeath,
                                   .payee_reference = "heirs-account-token",
                                   .evidence_reference = "death certificate 2022-114"},
          .amount = Fen{1'234'567},
          .applicant = "operator:li",
          .decide_by_date = 20220804};
}
WithdrawalApproved Sample(std::type_identity<WithdrawalApproved> /*unused*/) {
  return {.withdrawal_id = 77,
          .account = AccountId{1001},
          .reviewer = "operator:wang",
          .amount = Fen{1'234'567}};
}
WithdrawalRejected Sample(std::type_identity<WithdrawalRejected> /*unused*/) {
  return {.withdrawal_id = 77,
          .account = AccountId{1001},
          .reviewer = "operator:wang",
          .reason = "the certificate does not match the holder"};
}
InterestToDateCredited Sample(std::type_identity<InterestToDateCredited> /*unused*/) {
  return {.account = AccountId{1001},
          .from_date = Day(20220701),
          .until_date = Day(20220915),
          .day_basis = DayBasis::k365,
          .segments = {InterestSegment{Day(20220701), RatePpm{15'000}, FenDays{9'000'000}}},
          .interest = Fen{370},
          .withdrawal_id = 77};
}
WithdrawalPaid Sample(std::type_identity<WithdrawalPaid> /*unused*/) {
  return {.withdrawal_id = 77,
          .account = AccountId{1001},
          .reason = WithdrawalReason::kDeath,
          .amount = Fen{1'234'937},
          .deposit_id = 3,
          .bank_code = "ICBC",
          .bank_reference = "ICBC2022091500042"};
}
WithdrawalCancelled Sample(std::type_identity<WithdrawalCancelled> /*unused*/) {
  return {.withdrawal_id = 77, .account = AccountId{1001}, .reason = "the heirs withdrew it"};
}
BankReceiptRecorded Sample(std::type_identity<BankReceiptRecorded> /*unused*/) {
  return {RecordBankReceipt{EmployerId{11}, "ICBC", "ICBC2022071500011", Fen{192'000}, 3}};
}
RemittanceOpened Sample(std::type_identity<RemittanceOpened> /*unused*/) {
  return {OpenRemittance{.remittance_id = 9,
                         .employer = EmployerId{11},
                         .kind = RemittanceKind::kBackPayment,
                         .from_month = 202201,
                         .to_month = 202203,
                         .accounts_count = 4,
                         .total = Fen{768'000},
                         .list_reference = "L-9"}};
}
ContributionAllocated Sample(std::type_identity<ContributionAllocated> /*unused*/) {
  return {.remittance_id = 9,
          .employer = EmployerId{11},
          .account = AccountId{1001},
          .kind = RemittanceKind::kRegular,
          .month = 202207,
          .contribution_base = Fen{800'000},
          .employer_rate = RatePpm{120'000},
          .employee_rate = RatePpm{110'000},
          .employer_amount = Fen{96'000},
          .employee_amount = Fen{88'000}};
}
RemittanceCompleted Sample(std::type_identity<RemittanceCompleted> /*unused*/) {
  return {.remittance_id = 9,
          .employer = EmployerId{11},
          .kind = RemittanceKind::kRegular,
          .allocations_count = 4,
          .total = Fen{768'000},
          .paid_up_to_month = 202207};
}
YearEndInterestCredited Sample(std::type_identity<YearEndInterestCredited> /*unused*/) {
  return {.account = AccountId{1001},
          .interest_year = 2022,
          .settlement_id = 2022,
          .segments = {InterestSegment{Day(20220701), RatePpm{15'000}, FenDays{1'000'000}},
                       InterestSegment{Day(20230101), RatePpm{14'000}, FenDays{2'000'000}}},
          .day_basis = DayBasis::k365,
          .interest = Fen{123}};
}
YearEndSettlementStarted Sample(std::type_identity<YearEndSettlementStarted> /*unused*/) {
  return {.settlement_id = 2022,
          .interest_year = 2022,
          .day_basis = DayBasis::k365,
          .accounts_count = 1'234};
}
YearEndSettlementCompleted Sample(std::type_identity<YearEndSettlementCompleted> /*unused*/) {
  return {.settlement_id = 2022,
          .accounts_credited_count = 1'233,
          .accounts_deferred_count = 1,
          .interest_total = Fen{987'654}};
}
RecordReversed Sample(std::type_identity<RecordReversed> /*unused*/) {
  auto target = std::make_shared<ReversalTarget>();
  target->event_type = "BankReceiptRecorded";
  target->original = Sample(std::type_identity<BankReceiptRecorded>{});
  target->effective_date = 20220715;
  for (size_t i = 0; i < target->record_hash.size(); ++i) {
    target->record_hash[i] = static_cast<uint8_t>(i + 1);
  }
  return {ReverseRecord{.position = 42,
                        .reason = ReversalReason::kBankReturned,
                        .note = "returned by the bank",
                        .approval_reference = "R-1",
                        .target = target}};
}
PolicyChanged Sample(std::type_identity<PolicyChanged> /*unused*/) {
  PolicyBook book = DefaultPolicy();
  PolicyChanged f{.policy_version = 3,
                  .effective_from = 20230701,
                  .document = PolicyToJson(book),
                  .document_digest = {},
                  .summary = "缴存基数上限调整",
                  .approval_reference = "QD-2023-12",
                  .book = std::make_shared<const PolicyBook>(std::move(book))};
  auto sha256 = events::ChainHasher::Create(events::HashAlgorithm::kSha256).value();
  f.document_digest = sha256->Plain(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(f.document.data()), f.document.size()));
  return f;
}

// --- every field of each fact, as the table carries it ---
void Check(const EmployerRegistered& f, const schema::Record& r) {
  const auto* t = r.payload_as_EmployerRegistered();
  CHECK(t->employer_id() == f.terms.employer.value);
  CHECK(Text(t->unified_social_credit_code()) == f.terms.unified_social_credit_code);
  CHECK(Text(t->name()) == f.terms.name);
  CHECK(Text(t->bank_code()) == f.terms.bank_code);
  CHECK(t->employer_rate_ppm() == f.terms.employer_rate.value);
  CHECK(t->employee_rate_ppm() == f.terms.employee_rate.value);
  CHECK(t->first_contribution_month() == f.terms.first_contribution_month);
}
void Check(const EmployerRatesChanged& f, const schema::Record& r) {
  const auto* t = r.payload_as_EmployerRatesChanged();
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->employer_rate_ppm() == f.employer_rate.value);
  CHECK(t->employee_rate_ppm() == f.employee_rate.value);
  CHECK(t->from_month() == f.from_month);
}
void Check(const EmployerRateReductionGranted& f, const schema::Record& r) {
  const auto* t = r.payload_as_EmployerRateReductionGranted();
  CHECK(t->employer_id() == f.terms.employer.value);
  CHECK(t->employer_rate_ppm() == f.terms.employer_rate.value);
  CHECK(t->employee_rate_ppm() == f.terms.employee_rate.value);
  CHECK(t->from_month() == f.terms.from_month);
  CHECK(t->to_month() == f.terms.to_month);
  CHECK(Text(t->approval_reference()) == f.terms.approval_reference);
}
void Check(const EmployerDeferralGranted& f, const schema::Record& r) {
  const auto* t = r.payload_as_EmployerDeferralGranted();
  CHECK(t->employer_id() == f.terms.employer.value);
  CHECK(t->from_month() == f.terms.from_month);
  CHECK(t->to_month() == f.terms.to_month);
  CHECK(Text(t->approval_reference()) == f.terms.approval_reference);
}
void Check(const EmployerSealed& f, const schema::Record& r) {
  const auto* t = r.payload_as_EmployerSealed();
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->reason() == schema::EmployerExitReason::SuspendedBusiness);
  CHECK(Text(t->approval_reference()) == f.approval_reference);
}
void Check(const EmployerClosed& f, const schema::Record& r) {
  const auto* t = r.payload_as_EmployerClosed();
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->reason() == schema::EmployerExitReason::Dissolved);
  CHECK(Text(t->approval_reference()) == f.approval_reference);
}
void Check(const EmployerReopened& f, const schema::Record& r) {
  const auto* t = r.payload_as_EmployerReopened();
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->first_contribution_month() == f.first_contribution_month);
}
void Check(const AccountOpened& f, const schema::Record& r) {
  const auto* t = r.payload_as_AccountOpened();
  CHECK(t->account_id() == f.terms.account.value);
  CHECK(t->employer_id() == f.terms.employer.value);
  CHECK(t->contributor_kind() == schema::ContributorKind::Employee);
  CHECK(t->person_id() == f.terms.person_id);
  REQUIRE(t->identity_digest() != nullptr);
  CHECK(std::memcmp(t->identity_digest()->bytes()->data(), f.terms.identity_digest.data(), 32) ==
        0);
  CHECK(t->contribution_base_fen() == f.terms.contribution_base.value);
  CHECK(t->first_contribution_month() == f.terms.first_contribution_month);
}
void Check(const AccountBaseChanged& f, const schema::Record& r) {
  const auto* t = r.payload_as_AccountBaseChanged();
  CHECK(t->account_id() == f.account.value);
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->contribution_base_fen() == f.contribution_base.value);
  CHECK(t->from_month() == f.from_month);
}
void Check(const AccountSealed& f, const schema::Record& r) {
  const auto* t = r.payload_as_AccountSealed();
  CHECK(t->account_id() == f.account.value);
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->reason() == schema::AccountSealReason::EmployerSealed);
}
void Check(const AccountUnsealed& f, const schema::Record& r) {
  const auto* t = r.payload_as_AccountUnsealed();
  CHECK(t->account_id() == f.account.value);
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->previous_employer_id() == f.previous_employer.value);
  CHECK(t->contribution_base_fen() == f.contribution_base.value);
  CHECK(t->first_contribution_month() == f.first_contribution_month);
}
void Check(const AccountFrozen& f, const schema::Record& r) {
  const auto* t = r.payload_as_AccountFrozen();
  CHECK(t->account_id() == f.account.value);
  CHECK(Text(t->court_order_reference()) == f.court_order_reference);
  CHECK(Text(t->authority()) == f.authority);
}
void Check(const AccountUnfrozen& f, const schema::Record& r) {
  const auto* t = r.payload_as_AccountUnfrozen();
  CHECK(t->account_id() == f.account.value);
  CHECK(Text(t->court_order_reference()) == f.court_order_reference);
  CHECK(Text(t->authority()) == f.authority);
}
void Check(const AccountClosed& f, const schema::Record& r) {
  const auto* t = r.payload_as_AccountClosed();
  CHECK(t->account_id() == f.account.value);
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->reason() == schema::AccountCloseReason::ClosingWithdrawal);
  CHECK(t->cause_kind() == schema::EntityKind::Withdrawal);
  CHECK(t->cause_id() == f.withdrawal_id);
}
void Check(const WithdrawalApplied& f, const schema::Record& r) {
  const auto* t = r.payload_as_WithdrawalApplied();
  CHECK(t->withdrawal_id() == f.terms.withdrawal_id);
  CHECK(t->account_id() == f.terms.account.value);
  CHECK(t->reason() == schema::WithdrawalReason::Death);
  CHECK(t->local_reason() == schema::LocalWithdrawalReason::None);
  CHECK(t->amount_fen() == f.amount.value);
  CHECK(t->payee() == schema::WithdrawalPayee::Heirs);  // a death pays the heirs
  CHECK(t->payee_loan_id() == 0);
  CHECK(Text(t->payee_reference()) == f.terms.payee_reference);
  CHECK(Text(t->evidence_reference()) == f.terms.evidence_reference);
  CHECK(t->property_price_fen() == 0);
  CHECK(Text(t->applicant()) == f.applicant);
  CHECK(t->decide_by_date() == f.decide_by_date);
  CHECK(r.envelope()->stream_kind() == schema::EntityKind::Withdrawal);
  CHECK(r.envelope()->stream_id() == f.terms.withdrawal_id);
}
void Check(const WithdrawalApproved& f, const schema::Record& r) {
  const auto* t = r.payload_as_WithdrawalApproved();
  CHECK(t->withdrawal_id() == f.withdrawal_id);
  CHECK(t->account_id() == f.account.value);
  CHECK(Text(t->reviewer()) == f.reviewer);
  CHECK(t->amount_fen() == f.amount.value);
}
void Check(const WithdrawalRejected& f, const schema::Record& r) {
  const auto* t = r.payload_as_WithdrawalRejected();
  CHECK(t->withdrawal_id() == f.withdrawal_id);
  CHECK(t->account_id() == f.account.value);
  CHECK(Text(t->reviewer()) == f.reviewer);
  CHECK(Text(t->reason()) == f.reason);
}
void Check(const InterestToDateCredited& f, const schema::Record& r) {
  const auto* t = r.payload_as_InterestToDateCredited();
  CHECK(t->account_id() == f.account.value);
  CHECK(t->from_date() == 20220701);
  CHECK(t->until_date() == 20220915);
  CHECK(t->day_basis() == 365);
  REQUIRE(t->segments() != nullptr);
  REQUIRE(t->segments()->size() == 1);
  CHECK(t->segments()->Get(0)->from_date() == 20220701);
  CHECK(t->segments()->Get(0)->rate_ppm() == 15'000);
  CHECK(t->segments()->Get(0)->accumulator_fen_days() == 9'000'000);
  CHECK(t->interest_fen() == f.interest.value);
  CHECK(t->cause_kind() == schema::EntityKind::Withdrawal);
  CHECK(t->cause_id() == f.withdrawal_id);
  CHECK(r.envelope()->stream_kind() == schema::EntityKind::Account);
  // Dr 41101 / Cr 201(account).
  REQUIRE(r.postings() != nullptr);
  CHECK(r.postings()->size() == 2);
}
void Check(const WithdrawalPaid& f, const schema::Record& r) {
  const auto* t = r.payload_as_WithdrawalPaid();
  CHECK(t->withdrawal_id() == f.withdrawal_id);
  CHECK(t->account_id() == f.account.value);
  CHECK(t->reason() == schema::WithdrawalReason::Death);
  CHECK(t->amount_fen() == f.amount.value);
  CHECK(t->deposit_id() == f.deposit_id);
  CHECK(Text(t->bank_code()) == f.bank_code);
  CHECK(Text(t->bank_reference()) == f.bank_reference);
  CHECK(r.envelope()->stream_kind() == schema::EntityKind::Withdrawal);
  // Dr 201(account) / Cr 101(deposit).
  REQUIRE(r.postings() != nullptr);
  REQUIRE(r.postings()->size() == 2);
  CHECK(r.postings()->Get(0)->gl_account() == 201);
  CHECK(r.postings()->Get(0)->side() == schema::Side::Debit);
  CHECK(r.postings()->Get(1)->gl_account() == 101);
  CHECK(r.postings()->Get(1)->subledger_id() == f.deposit_id);
}
void Check(const WithdrawalCancelled& f, const schema::Record& r) {
  const auto* t = r.payload_as_WithdrawalCancelled();
  CHECK(t->withdrawal_id() == f.withdrawal_id);
  CHECK(t->account_id() == f.account.value);
  CHECK(Text(t->reason()) == f.reason);
}
void Check(const BankReceiptRecorded& f, const schema::Record& r) {
  const auto* t = r.payload_as_BankReceiptRecorded();
  CHECK(t->employer_id() == f.terms.employer.value);
  CHECK(Text(t->bank_code()) == f.terms.bank_code);
  CHECK(Text(t->bank_reference()) == f.terms.bank_reference);
  CHECK(t->amount_fen() == f.terms.amount.value);
  CHECK(t->deposit_id() == f.terms.deposit_id);
}
void Check(const RemittanceOpened& f, const schema::Record& r) {
  const auto* t = r.payload_as_RemittanceOpened();
  CHECK(t->remittance_id() == f.terms.remittance_id);
  CHECK(t->employer_id() == f.terms.employer.value);
  CHECK(t->business_type() == schema::BusinessType::BackPayment);
  CHECK(t->from_month() == f.terms.from_month);
  CHECK(t->to_month() == f.terms.to_month);
  CHECK(t->accounts_count() == f.terms.accounts_count);
  CHECK(t->total_fen() == f.terms.total.value);
  CHECK(Text(t->list_reference()) == f.terms.list_reference);
}
void Check(const ContributionAllocated& f, const schema::Record& r) {
  const auto* t = r.payload_as_ContributionAllocated();
  CHECK(t->remittance_id() == f.remittance_id);
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->account_id() == f.account.value);
  CHECK(t->business_type() == schema::BusinessType::Remittance);
  CHECK(t->contribution_month() == f.month);
  CHECK(t->contribution_base_fen() == f.contribution_base.value);
  CHECK(t->employer_rate_ppm() == f.employer_rate.value);
  CHECK(t->employee_rate_ppm() == f.employee_rate.value);
  CHECK(t->employer_amount_fen() == f.employer_amount.value);
  CHECK(t->employee_amount_fen() == f.employee_amount.value);
}
void Check(const RemittanceCompleted& f, const schema::Record& r) {
  const auto* t = r.payload_as_RemittanceCompleted();
  CHECK(t->remittance_id() == f.remittance_id);
  CHECK(t->employer_id() == f.employer.value);
  CHECK(t->business_type() == schema::BusinessType::Remittance);
  CHECK(t->allocations_count() == f.allocations_count);
  CHECK(t->total_fen() == f.total.value);
  CHECK(t->paid_up_to_month() == f.paid_up_to_month);
}
void Check(const YearEndInterestCredited& f, const schema::Record& r) {
  const auto* t = r.payload_as_YearEndInterestCredited();
  CHECK(t->settlement_id() == f.settlement_id);
  CHECK(t->account_id() == f.account.value);
  CHECK(t->from_date() == 20220701);   // the interest year 2022 ...
  CHECK(t->until_date() == 20230701);  // ... and its credit value date
  CHECK(t->day_basis() == static_cast<uint16_t>(f.day_basis));
  REQUIRE(t->segments() != nullptr);
  REQUIRE(t->segments()->size() == f.segments.size());
  for (size_t i = 0; i < f.segments.size(); ++i) {
    const auto* segment = t->segments()->Get(static_cast<flatbuffers::uoffset_t>(i));
    CHECK(segment->from_date() == f.segments[i].from.yyyymmdd());
    CHECK(segment->rate_ppm() == f.segments[i].rate.value);
    CHECK(segment->accumulator_fen_days() == f.segments[i].fen_days.value);
  }
  CHECK(t->interest_fen() == f.interest.value);
}
void Check(const YearEndSettlementStarted& f, const schema::Record& r) {
  const auto* t = r.payload_as_YearEndSettlementStarted();
  CHECK(t->settlement_id() == f.settlement_id);
  CHECK(t->from_date() == 20220701);   // the interest year 2022 ...
  CHECK(t->until_date() == 20230701);  // ... and its credit value date
  CHECK(t->day_basis() == static_cast<uint16_t>(f.day_basis));
  CHECK(t->accounts_count() == f.accounts_count);
  CHECK(r.envelope()->stream_kind() == schema::EntityKind::Fund);
  CHECK(r.envelope()->stream_id() == kFundStreamId);
}
void Check(const YearEndSettlementCompleted& f, const schema::Record& r) {
  const auto* t = r.payload_as_YearEndSettlementCompleted();
  CHECK(t->settlement_id() == f.settlement_id);
  CHECK(t->accounts_credited_count() == f.accounts_credited_count);
  CHECK(t->accounts_deferred_count() == f.accounts_deferred_count);
  CHECK(t->interest_total_fen() == f.interest_total.value);
  CHECK(r.envelope()->stream_kind() == schema::EntityKind::Fund);
}
void Check(const RecordReversed& f, const schema::Record& r) {
  const auto* t = r.payload_as_RecordReversed();
  CHECK(t->reversed_position() == f.terms.position);
  REQUIRE(t->reversed_record_hash() != nullptr);
  CHECK(std::memcmp(t->reversed_record_hash()->bytes()->data(), f.terms.target->record_hash.data(),
                    32) == 0);
  CHECK(t->reason() == schema::ReversalReason::BankReturned);
  CHECK(Text(t->note()) == f.terms.note);
  CHECK(Text(t->approval_reference()) == f.terms.approval_reference);
  // A reversal is recorded on the reversed record's stream and value date.
  CHECK(r.envelope()->effective_date() == f.terms.target->effective_date);
  CHECK(r.envelope()->stream_kind() == schema::EntityKind::Employer);
}
void Check(const PolicyChanged& f, const schema::Record& r) {
  const auto* t = r.payload_as_PolicyChanged();
  CHECK(t->policy_version() == f.policy_version);
  CHECK(t->effective_from_date() == f.effective_from);
  CHECK(t->format() == schema::PolicyFormat::Json);
  REQUIRE(t->document() != nullptr);
  CHECK(std::string_view(reinterpret_cast<const char*>(t->document()->data()),
                         t->document()->size()) == f.document);
  REQUIRE(t->document_digest() != nullptr);
  CHECK(std::memcmp(t->document_digest()->bytes()->data(), f.document_digest.data(), 32) == 0);
  CHECK(Text(t->summary()) == f.summary);
  CHECK(Text(t->approval_reference()) == f.approval_reference);
  CHECK(r.envelope()->stream_kind() == schema::EntityKind::Policy);
  CHECK(r.envelope()->stream_id() == kPolicyStreamId);
}

template <typename F>
F SampleOf() {
  return Sample(std::type_identity<F>{});
}

// A command, for the hash tests: the receipt fact's terms.
RecordBankReceipt SampleReceipt() { return SampleOf<BankReceiptRecorded>().terms; }

CommandHeader Header() {
  return {.idempotency_key = "bank:ICBC:2022071500011",
          .actor = "bank:ICBC",
          .channel = "ICBC",
          .effective_date = 20220801};
}

Digest SomeHash() {
  Digest hash{};
  hash[0] = 0xAB;
  hash[31] = 0xCD;
  return hash;
}

// Copies the record so that it starts 8-byte aligned, as VerifyRecord requires.
struct AlignedRecord {
  explicit AlignedRecord(std::span<const uint8_t> bytes)
      : words((bytes.size() + 7) / 8), size(bytes.size()) {
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(words.data()), size};
  }
  std::vector<uint64_t> words;
  size_t size;
};

template <typename Visit>
void ForEachFactType(Visit&& visit) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    (visit(std::type_identity<std::variant_alternative_t<I, Fact>>{}), ...);
  }
  (std::make_index_sequence<std::variant_size_v<Fact>>{});
}

TEST_SUITE("ledger") {
  TEST_CASE("RecordEncoding: every fact becomes its table with every field and the envelope") {
    events::RecordBuilder builder;
    std::set<schema::Event> tables;
    ForEachFactType([&]<typename F>(std::type_identity<F>) {
      const F sample = SampleOf<F>();
      const Fact fact = sample;
      CAPTURE(TypeName<F>());
      const AlignedRecord record(EncodeFact(builder, Header(), fact,
                                            {.command_hash = SomeHash(),
                                             .command_part = 1,
                                             .command_parts = 3,
                                             .stream_version = 7}));
      auto verified = events::VerifyRecord(record.bytes());
      REQUIRE_MESSAGE(verified.has_value(), verified.status().ToString());
      const schema::Record& r = **verified;
      // The table of the same name, a different one for each fact.
      CHECK(r.payload_type() == EventTypeOf(fact));
      CHECK(events::EventTypeName(r.payload_type()) == TypeName<F>());
      CHECK(tables.insert(r.payload_type()).second);
      Check(sample, r);
      // The envelope: the stream after the fact and the command that produced it.
      const schema::Envelope& e = *r.envelope();
      const StreamRef stream = StreamOf(fact);
      CHECK(e.stream_kind() == stream.kind);
      CHECK(e.stream_id() == stream.id);
      CHECK(e.stream_version() == 7);
      if (!std::is_same_v<F, RecordReversed>) CHECK(e.effective_date() == 20220801);
      CHECK(events::RecordIdempotencyKey(r) == Header().idempotency_key);
      CHECK(events::RecordCommandHash(r) == SomeHash());
      CHECK(e.command_part() == 1);
      CHECK(e.command_parts() == 3);
      CHECK(Text(e.actor()) == Header().actor);
      CHECK(Text(e.channel()) == Header().channel);
      CHECK(e.schema_version() == events::kSchemaVersion);
      CHECK(events::RecordPosition(r).value == 0);  // the log fills the link
      // Postings: PostingsOf(fact), line by line, balanced; none for lifecycle facts.
      const std::vector<Posting> postings = PostingsOf(fact);
      const size_t lines = r.postings() == nullptr ? 0 : r.postings()->size();
      REQUIRE(lines == postings.size());
      for (size_t i = 0; i < lines; ++i) {
        const schema::Posting* line = r.postings()->Get(static_cast<flatbuffers::uoffset_t>(i));
        CHECK(line->gl_account() == static_cast<uint32_t>(postings[i].gl_account));
        CHECK(static_cast<uint8_t>(line->side()) == static_cast<uint8_t>(postings[i].side));
        CHECK(static_cast<uint8_t>(line->subledger_kind()) ==
              static_cast<uint8_t>(postings[i].subledger));
        CHECK(line->subledger_id() == postings[i].subledger_id);
        CHECK(line->amount_fen() == postings[i].amount.value);
      }
      CHECK(events::CheckPostingsBalance(r).ok());
    });
    CHECK(tables.size() == std::variant_size_v<Fact>);
  }

  TEST_CASE("RecordEncoding: optional fields left empty are left out of the record") {
    events::RecordBuilder builder;
    const auto table = [&](const Fact& fact) {
      return AlignedRecord(EncodeFact(builder, Header(), fact, {.stream_version = 1}));
    };
    AccountOpened opened = SampleOf<AccountOpened>();
    opened.terms.identity_digest = {};
    const AlignedRecord account = table(opened);
    CHECK(events::VerifyRecord(account.bytes())
              .value()
              ->payload_as_AccountOpened()
              ->identity_digest() == nullptr);
    EmployerSealed sealed = SampleOf<EmployerSealed>();
    sealed.approval_reference.clear();
    const AlignedRecord employer = table(sealed);
    CHECK(events::VerifyRecord(employer.bytes())
              .value()
              ->payload_as_EmployerSealed()
              ->approval_reference() == nullptr);
  }

  TEST_CASE("RecordEncoding: money facts carry postings, lifecycle facts none") {
    CHECK(PostingsOf(Fact(SampleOf<BankReceiptRecorded>())).size() == 2);
    CHECK(PostingsOf(Fact(SampleOf<ContributionAllocated>())).size() == 2);
    CHECK(PostingsOf(Fact(SampleOf<AccountOpened>())).empty());
    CHECK(PostingsOf(Fact(SampleOf<EmployerRegistered>())).empty());
  }

  TEST_CASE("RecordEncoding: the facts a reversal negates read back from their records") {
    events::RecordBuilder builder;
    const Digest chain_hash = SomeHash();
    const auto round_trip = [&](const Fact& fact) {
      const FactEnvelope envelope{.command_hash = SomeHash(), .stream_version = 1};
      const AlignedRecord record(EncodeFact(builder, Header(), fact, envelope));
      auto verified = events::VerifyRecord(record.bytes());
      REQUIRE(verified.has_value());
      auto target = ReadReversalTarget(**verified, chain_hash);
      REQUIRE_MESSAGE(target.has_value(), target.status().ToString());
      CHECK(target->event_type == events::EventTypeName(EventTypeOf(fact)));
      CHECK(target->effective_date == Header().effective_date);
      CHECK(target->record_hash == chain_hash);
      REQUIRE(target->original.has_value());
      // Encoding what was read gives the same bytes: nothing was lost.
      const Fact read = std::visit([](const auto& f) { return Fact(f); }, *target->original);
      const AlignedRecord again(EncodeFact(builder, Header(), read, envelope));
      CHECK(again.words == record.words);
    };
    round_trip(SampleOf<BankReceiptRecorded>());
    round_trip(SampleOf<ContributionAllocated>());
    round_trip(SampleOf<YearEndInterestCredited>());

    SUBCASE("a lifecycle record is read without a fact") {
      const AlignedRecord record(
          EncodeFact(builder, Header(), SampleOf<AccountOpened>(), {.stream_version = 1}));
      auto target = ReadReversalTarget(*events::VerifyRecord(record.bytes()).value(), chain_hash);
      REQUIRE(target.has_value());
      CHECK(target->event_type == "AccountOpened");
      CHECK(!target->original.has_value());
      CHECK(!target->moves_money);
    }
    SUBCASE("a closing withdrawal's payment moves money but is read without a fact") {
      const AlignedRecord record(
          EncodeFact(builder, Header(), SampleOf<WithdrawalPaid>(), {.stream_version = 3}));
      auto target = ReadReversalTarget(*events::VerifyRecord(record.bytes()).value(), chain_hash);
      REQUIRE(target.has_value());
      CHECK(target->event_type == "WithdrawalPaid");
      CHECK(!target->original.has_value());
      CHECK(target->moves_money);
    }
    SUBCASE("an allocation whose business type is not a remittance's is Corruption") {
      auto& fbb = builder.fbb();
      schema::ContributionAllocatedBuilder table(fbb);
      table.add_account_id(1001);
      const auto payload = table.Finish().Union();
      const AlignedRecord record(builder.Finish(
          {.stream_kind = schema::EntityKind::Account, .stream_id = 1001, .stream_version = 1},
          schema::Event::ContributionAllocated, payload, {}));
      const Status status =
          ReadReversalTarget(*events::VerifyRecord(record.bytes()).value(), chain_hash).status();
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message().find("business type 0 is not a remittance's") != std::string::npos);
    }
  }

  TEST_CASE("RecordEncoding: a policy change reads back with its book, checked by its digest") {
    events::RecordBuilder builder;
    const PolicyChanged sample = SampleOf<PolicyChanged>();
    const auto encode = [&](const PolicyChanged& fact, uint64_t stream_version) {
      return AlignedRecord(EncodeFact(builder, Header(), fact, {.stream_version = stream_version}));
    };
    const AlignedRecord record = encode(sample, sample.policy_version);
    auto read = ReadPolicyChanged(*events::VerifyRecord(record.bytes()).value());
    REQUIRE_MESSAGE(read.has_value(), read.status().ToString());
    CHECK(read->policy_version == 3);
    CHECK(read->effective_from == 20230701);
    CHECK(read->document == sample.document);
    CHECK(read->document_digest == sample.document_digest);
    CHECK(read->summary == sample.summary);
    CHECK(read->approval_reference == sample.approval_reference);
    REQUIRE(read->book != nullptr);
    CHECK(*read->book == DefaultPolicy());
    // Encoding what was read gives the same bytes.
    CHECK(encode(*read, 3).words == record.words);

    const auto problem = [&](const PolicyChanged& fact, uint64_t stream_version) {
      const AlignedRecord bad = encode(fact, stream_version);
      return ReadPolicyChanged(*events::VerifyRecord(bad.bytes()).value()).status();
    };
    SUBCASE("a document that does not match its digest") {
      PolicyChanged tampered = sample;
      tampered.document.replace(tampered.document.find("2871600"), 7, "9871600");
      const Status status = problem(tampered, 3);
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message().find("does not match its digest") != std::string::npos);
    }
    SUBCASE("a document that does not parse (its digest matching)") {
      PolicyChanged garbled = sample;
      garbled.document = R"({"versions":[]})";
      auto sha256 = events::ChainHasher::Create(events::HashAlgorithm::kSha256).value();
      garbled.document_digest = sha256->Plain(std::span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(garbled.document.data()), garbled.document.size()));
      const Status status = problem(garbled, 3);
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message().find("does not parse") != std::string::npos);
    }
    SUBCASE("a version that is not its stream's") {
      CHECK(problem(sample, 4).code() == StatusCode::kCorruption);
    }
    SUBCASE("another table") {
      const AlignedRecord other = AlignedRecord(
          EncodeFact(builder, Header(), SampleOf<AccountOpened>(), {.stream_version = 1}));
      CHECK(ReadPolicyChanged(*events::VerifyRecord(other.bytes()).value()).status().code() ==
            StatusCode::kInvalidArgument);
    }
  }

  TEST_CASE("CommandHash: same content same hash; any field, type or date changes it") {
    auto sha256 = events::ChainHasher::Create(events::HashAlgorithm::kSha256).value();
    const Command command{.header = Header(), .body = SampleReceipt()};
    const Digest hash = internal::CommandHash(command, *sha256);
    SUBCASE("the actor, the channel and the key are not content") {
      Command other = command;
      other.header.actor = "bank:ABC";
      other.header.channel = "online";
      other.header.idempotency_key = "another";
      CHECK(internal::CommandHash(other, *sha256) == hash);
    }
    SUBCASE("every field of the body and the effective date are") {
      std::vector<Command> changed(6, command);
      changed[0].header.effective_date = 20220802;
      std::get<RecordBankReceipt>(changed[1].body).employer = EmployerId{12};
      std::get<RecordBankReceipt>(changed[2].body).bank_code = "ABC";
      std::get<RecordBankReceipt>(changed[3].body).bank_reference += "0";
      std::get<RecordBankReceipt>(changed[4].body).amount = Fen{192'001};
      std::get<RecordBankReceipt>(changed[5].body).deposit_id = 4;
      for (const Command& other : changed) CHECK(internal::CommandHash(other, *sha256) != hash);
    }
    SUBCASE("strings are length-prefixed: moving a byte between fields changes the hash") {
      Command a = command;
      Command b = command;
      std::get<RecordBankReceipt>(a.body).bank_code = "IC";
      std::get<RecordBankReceipt>(a.body).bank_reference = "BC1";
      std::get<RecordBankReceipt>(b.body).bank_code = "ICB";
      std::get<RecordBankReceipt>(b.body).bank_reference = "C1";
      CHECK(internal::CanonicalCommandBytes(a) != internal::CanonicalCommandBytes(b));
    }
    SUBCASE("two command types with the same field values differ by their tag") {
      const Command seal{.header = Header(), .body = SealEmployer{EmployerId{11}}};
      const Command close{.header = Header(), .body = CloseEmployer{EmployerId{11}}};
      CHECK(internal::CommandHash(seal, *sha256) != internal::CommandHash(close, *sha256));
    }
    SUBCASE("a policy change's every field is content") {
      const Command base{.header = Header(),
                         .body = ChangePolicy{.document = PolicyToJson(DefaultPolicy()),
                                              .effective_from = 20230701,
                                              .summary = "s",
                                              .approval_reference = "a"}};
      const Digest policy_hash = internal::CommandHash(base, *sha256);
      std::vector<Command> changed(4, base);
      std::get<ChangePolicy>(changed[0].body).document += " ";
      std::get<ChangePolicy>(changed[1].body).effective_from = 20230702;
      std::get<ChangePolicy>(changed[2].body).summary = "t";
      std::get<ChangePolicy>(changed[3].body).approval_reference = "b";
      for (const Command& other : changed) {
        CHECK(internal::CommandHash(other, *sha256) != policy_hash);
      }
      CHECK(internal::CommandTag(ChangePolicy{}) == 21);
    }
    SUBCASE("a reversal's resolved target is not content") {
      Command reversal{.header = Header(), .body = SampleOf<RecordReversed>().terms};
      const Digest before = internal::CommandHash(reversal, *sha256);
      std::get<ReverseRecord>(reversal.body).target = nullptr;
      CHECK(internal::CommandHash(reversal, *sha256) == before);
    }
    SUBCASE("the tags are distinct and stable") {
      std::set<uint16_t> tags;
      [&]<size_t... I>(std::index_sequence<I...>) {
        (tags.insert(internal::CommandTag(
             CommandBody(std::in_place_index<I>, std::variant_alternative_t<I, CommandBody>{}))),
         ...);
      }
      (std::make_index_sequence<std::variant_size_v<CommandBody>>{});
      CHECK(tags.size() == std::variant_size_v<CommandBody>);
      CHECK(internal::CommandTag(RegisterEmployer{}) == 1);
      CHECK(internal::CommandTag(ReverseRecord{}) == 18);
    }
  }
}

}  // namespace
}  // namespace hpf::ledger
