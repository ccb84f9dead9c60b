// tests/golden/golden_test.cc — committed records still decode to what was written (STYLE 6.1).
//
// tests/golden/v1/ holds one Record per member of the `Event` union, written once by
// hpf-golden-writer with schema_version 1 and never rewritten. These tests read them with the
// CURRENT generated code and compare against literals written here, not recomputed by the
// writer: renumbering, retyping or reusing a field, reordering the union or an enum, or
// rewriting a committed file makes them fail. Files are found under $HPF_SOURCE_DIR (set by
// CTest), else under the source directory the binary was built from.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include "schemas/record_generated.h"

namespace {

namespace v1 = hpf::schema::v1;
using v1::EntityKind;
using v1::Event;
using v1::Record;
using v1::Side;

// ---------------------------------------------------------------------------------------------
// Reading the committed files
// ---------------------------------------------------------------------------------------------

std::filesystem::path GoldenDir() {
  const char* source_dir = std::getenv("HPF_SOURCE_DIR");
  const std::filesystem::path root =
      (source_dir != nullptr && *source_dir != '\0') ? source_dir : HPF_SOURCE_DIR_FALLBACK;
  return root / "tests" / "golden" / "v1";
}

std::filesystem::path GoldenPath(Event type) {
  return GoldenDir() / (std::string(v1::EnumNameEvent(type)) + ".hpfr");
}

// The file's bytes; empty if it is missing or unreadable.
std::vector<uint8_t> ReadGolden(Event type) {
  std::vector<uint8_t> bytes;
  std::FILE* file = std::fopen(GoldenPath(type).c_str(), "rb");
  if (file == nullptr) {
    return bytes;
  }
  uint8_t chunk[4096];
  size_t read_bytes = 0;
  while ((read_bytes = std::fread(chunk, 1, sizeof(chunk), file)) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + read_bytes);
  }
  std::fclose(file);
  return bytes;
}

std::vector<Event> EventTypes() {
  std::vector<Event> types;
  for (const Event type : v1::EnumValuesEvent()) {
    if (type != Event::NONE) {
      types.push_back(type);
    }
  }
  return types;
}

// The record of a verified golden file. The bytes must outlive the returned pointer.
const Record& VerifiedRecord(const std::vector<uint8_t>& bytes) {
  REQUIRE_FALSE(bytes.empty());
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  REQUIRE(v1::VerifyRecordBuffer(verifier));
  return *v1::GetRecord(bytes.data());
}

template <typename T>
const T& Payload(const Record& record) {
  const T* payload = record.payload_as<T>();
  REQUIRE(payload != nullptr);
  return *payload;
}

std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

// 64-bit FNV-1a: enough to notice any changed byte of a committed file.
uint64_t Fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t hash = 14695981039346656037ULL;
  for (const uint8_t byte : bytes) {
    hash = (hash ^ byte) * 1099511628211ULL;
  }
  return hash;
}

// ---------------------------------------------------------------------------------------------
// What each golden record holds, as literals
// ---------------------------------------------------------------------------------------------

struct Line {
  uint32_t gl_account;
  Side side;
  EntityKind subledger_kind;
  uint64_t subledger_id;
  int64_t amount_fen;
};
Line Dr(uint32_t gl, EntityKind kind, uint64_t id, int64_t amount) {
  return {gl, Side::Debit, kind, id, amount};
}
Line Cr(uint32_t gl, EntityKind kind, uint64_t id, int64_t amount) {
  return {gl, Side::Credit, kind, id, amount};
}
Line Dr(uint32_t gl, int64_t amount) { return Dr(gl, EntityKind::None, 0, amount); }
Line Cr(uint32_t gl, int64_t amount) { return Cr(gl, EntityKind::None, 0, amount); }

struct Expected {
  Event type;
  EntityKind stream_kind;
  uint64_t stream_id;
  uint32_t effective_date;
  std::vector<Line> postings;
  std::function<void(const Record&)> check_payload;
};

constexpr EntityKind kAccount = EntityKind::Account;
constexpr EntityKind kDeposit = EntityKind::Deposit;
constexpr EntityKind kEmployer = EntityKind::Employer;
constexpr EntityKind kLoan = EntityKind::Loan;

std::vector<Expected> ExpectedRecords() {
  return {
      {.type = Event::BankReceiptRecorded,
       .stream_kind = kEmployer,
       .stream_id = 20001,
       .effective_date = 20220620,
       .postings = {Dr(101, kDeposit, 9001, 30684520), Cr(219, kEmployer, 20001, 30684520)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::BankReceiptRecorded>(r);
             CHECK(p.employer_id() == 20001);
             CHECK(Str(p.bank_code()) == "105");
             CHECK(Str(p.bank_reference()) == "CCB-QD-20220620-00018842");
             CHECK(p.amount_fen() == 30684520);
             CHECK(p.deposit_id() == 9001);
             CHECK(Str(r.envelope()->idempotency_key()) == "CCB-QD-20220620-00018842");
           }},
      {.type = Event::EmployerRegistered,
       .stream_kind = kEmployer,
       .stream_id = 20001,
       .effective_date = 20190301,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::EmployerRegistered>(r);
             CHECK(p.employer_id() == 20001);
             CHECK(Str(p.unified_social_credit_code()) == "91370211MA3C8QXK2T");
             CHECK(Str(p.name()) == "青岛海湾精密机械有限公司");
             CHECK(p.employer_rate_ppm() == 120000);
             CHECK(p.employee_rate_ppm() == 120000);
             CHECK(p.first_contribution_month() == 201903);
           }},
      {.type = Event::EmployerRatesChanged,
       .stream_kind = kEmployer,
       .stream_id = 20001,
       .effective_date = 20220701,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::EmployerRatesChanged>(r);
             CHECK(p.employer_rate_ppm() == 100000);
             CHECK(p.employee_rate_ppm() == 100000);
             CHECK(p.from_month() == 202207);
           }},
      {.type = Event::EmployerRateReductionGranted,
       .stream_kind = kEmployer,
       .stream_id = 20002,
       .effective_date = 20220510,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::EmployerRateReductionGranted>(r);
             CHECK(p.employer_rate_ppm() == 50000);
             CHECK(p.from_month() == 202205);
             CHECK(p.to_month() == 202212);
             CHECK(Str(p.approval_reference()) == "QDGJJ-JB-2022-0137");
           }},
      {.type = Event::EmployerDeferralGranted,
       .stream_kind = kEmployer,
       .stream_id = 20002,
       .effective_date = 20220512,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::EmployerDeferralGranted>(r);
             CHECK(p.from_month() == 202205);
             CHECK(p.to_month() == 202212);
             CHECK(Str(p.approval_reference()) == "QDGJJ-HJ-2022-0262");
           }},
      {.type = Event::EmployerSealed,
       .stream_kind = kEmployer,
       .stream_id = 20002,
       .effective_date = 20220830,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::EmployerSealed>(r);
             CHECK(p.employer_id() == 20002);
             CHECK(p.reason() == v1::EmployerExitReason::SuspendedBusiness);
             CHECK(Str(p.approval_reference()) == "QDGJJ-FC-2022-0042");
           }},
      {.type = Event::EmployerReopened,
       .stream_kind = kEmployer,
       .stream_id = 20002,
       .effective_date = 20230105,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::EmployerReopened>(r);
             CHECK(p.employer_id() == 20002);
             CHECK(p.first_contribution_month() == 202301);
           }},
      {.type = Event::EmployerClosed,
       .stream_kind = kEmployer,
       .stream_id = 20002,
       .effective_date = 20231130,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::EmployerClosed>(r);
             CHECK(p.reason() == v1::EmployerExitReason::Dissolved);
             CHECK(Str(p.approval_reference()) == "QDGJJ-XH-2023-0009");
           }},
      {.type = Event::AccountOpened,
       .stream_kind = kAccount,
       .stream_id = 100000999,
       .effective_date = 20220711,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::AccountOpened>(r);
             CHECK(p.account_id() == 100000999);
             CHECK(p.employer_id() == 20001);
             CHECK(p.contributor_kind() == v1::ContributorKind::Employee);
             CHECK(p.person_id() == 5000999);
             REQUIRE(p.identity_digest() != nullptr);
             CHECK(p.identity_digest()->bytes()->Get(0) == 0x1c);
             CHECK(p.identity_digest()->bytes()->Get(31) == 0xf5);
             CHECK(p.contribution_base_fen() == 650000);
             CHECK(p.first_contribution_month() == 202207);
           }},
      {.type = Event::AccountBaseChanged,
       .stream_kind = kAccount,
       .stream_id = 100000123,
       .effective_date = 20220701,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::AccountBaseChanged>(r);
             CHECK(p.employer_id() == 20001);
             CHECK(p.contribution_base_fen() == 920000);
             CHECK(p.from_month() == 202207);
           }},
      {.type = Event::AccountSealed,
       .stream_kind = kAccount,
       .stream_id = 100000321,
       .effective_date = 20220815,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::AccountSealed>(r);
             CHECK(p.employer_id() == 20001);
             CHECK(p.reason() == v1::AccountSealReason::LeftEmployer);
           }},
      {.type = Event::AccountUnsealed,
       .stream_kind = kAccount,
       .stream_id = 100000321,
       .effective_date = 20220905,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::AccountUnsealed>(r);
             CHECK(p.employer_id() == 20002);
             CHECK(p.previous_employer_id() == 20001);
             CHECK(p.contribution_base_fen() == 780000);
             CHECK(p.first_contribution_month() == 202209);
           }},
      {.type = Event::AccountFrozen,
       .stream_kind = kAccount,
       .stream_id = 100000123,
       .effective_date = 20220712,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::AccountFrozen>(r);
             CHECK(Str(p.court_order_reference()) == "(2022)鲁0202执1234号");
             CHECK(Str(p.authority()) == "青岛市市南区人民法院");
           }},
      {.type = Event::AccountUnfrozen,
       .stream_kind = kAccount,
       .stream_id = 100000123,
       .effective_date = 20220919,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::AccountUnfrozen>(r);
             CHECK(p.account_id() == 100000123);
             CHECK(Str(p.court_order_reference()) == "(2022)鲁0202执1234号");
           }},
      {.type = Event::AccountClosed,
       .stream_kind = kAccount,
       .stream_id = 100000789,
       .effective_date = 20221020,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::AccountClosed>(r);
             CHECK(p.reason() == v1::AccountCloseReason::ClosingWithdrawal);
             CHECK(p.cause_kind() == EntityKind::Withdrawal);
             CHECK(p.cause_id() == 70000010);
           }},
      {.type = Event::SuspenseRefunded,
       .stream_kind = kEmployer,
       .stream_id = 20001,
       .effective_date = 20220624,
       .postings = {Dr(219, kEmployer, 20001, 120000), Cr(101, kDeposit, 9001, 120000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::SuspenseRefunded>(r);
             CHECK(p.amount_fen() == 120000);
             CHECK(p.deposit_id() == 9001);
             CHECK(Str(p.reason()) == "paid twice for 202206");
           }},
      {.type = Event::RemittanceOpened,
       .stream_kind = kEmployer,
       .stream_id = 20001,
       .effective_date = 20220621,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::RemittanceOpened>(r);
             CHECK(p.remittance_id() == 80000011);
             CHECK(p.business_type() == v1::BusinessType::Remittance);
             CHECK(p.from_month() == 202206);
             CHECK(p.to_month() == 202206);
             CHECK(p.accounts_count() == 148);
             CHECK(p.total_fen() == 30684520);
             CHECK(Str(p.list_reference()) == "QD-HJ-202206-20001");
           }},
      {.type = Event::ContributionAllocated,
       .stream_kind = kAccount,
       .stream_id = 100000123,
       .effective_date = 20220621,
       .postings = {Dr(219, kEmployer, 20001, 204000), Cr(201, kAccount, 100000123, 204000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::ContributionAllocated>(r);
             CHECK(p.remittance_id() == 80000011);
             CHECK(p.employer_id() == 20001);
             CHECK(p.account_id() == 100000123);
             CHECK(p.business_type() == v1::BusinessType::Remittance);
             CHECK(p.contribution_month() == 202206);
             CHECK(p.contribution_base_fen() == 850000);
             CHECK(p.employer_rate_ppm() == 120000);
             CHECK(p.employee_rate_ppm() == 120000);
             CHECK(p.employer_amount_fen() == 102000);
             CHECK(p.employee_amount_fen() == 102000);
           }},
      {.type = Event::RemittanceCompleted,
       .stream_kind = kEmployer,
       .stream_id = 20001,
       .effective_date = 20220621,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::RemittanceCompleted>(r);
             CHECK(p.allocations_count() == 148);
             CHECK(p.total_fen() == 30684520);
             CHECK(p.paid_up_to_month() == 202206);
           }},
      {.type = Event::RemittanceCancelled,
       .stream_kind = kEmployer,
       .stream_id = 20001,
       .effective_date = 20220622,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::RemittanceCancelled>(r);
             CHECK(p.remittance_id() == 80000012);
             CHECK(Str(p.reason()) == "list uploaded twice");
           }},
      {.type = Event::FlexibleContributionReceived,
       .stream_kind = kAccount,
       .stream_id = 100000456,
       .effective_date = 20220615,
       .postings = {Dr(101, kDeposit, 9001, 96000), Cr(201, kAccount, 100000456, 96000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::FlexibleContributionReceived>(r);
             CHECK(p.contribution_month() == 202206);
             CHECK(p.contribution_base_fen() == 400000);
             CHECK(p.rate_ppm() == 240000);
             CHECK(p.amount_fen() == 96000);
             CHECK(Str(p.bank_reference()) == "CCB-QD-20220615-00007731");
           }},
      {.type = Event::WithdrawalApplied,
       .stream_kind = EntityKind::Withdrawal,
       .stream_id = 70000007,
       .effective_date = 20220621,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::WithdrawalApplied>(r);
             CHECK(p.account_id() == 100000123);
             CHECK(p.reason() == v1::WithdrawalReason::Rent);
             CHECK(p.local_reason() == v1::LocalWithdrawalReason::None);
             CHECK(p.amount_fen() == 150000);
             CHECK(p.payee() == v1::WithdrawalPayee::AccountHolder);
             CHECK(p.payee_loan_id() == 0);
             CHECK(Str(p.evidence_reference()) == "QD-ZL-2022-0031876");
             CHECK(Str(p.applicant()) == "operator:wang.li");
             CHECK(p.decide_by_date() == 20220624);
           }},
      {.type = Event::WithdrawalApproved,
       .stream_kind = EntityKind::Withdrawal,
       .stream_id = 70000007,
       .effective_date = 20220622,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::WithdrawalApproved>(r);
             CHECK(Str(p.reviewer()) == "reviewer:zhao.min");
             CHECK(p.amount_fen() == 150000);
           }},
      {.type = Event::WithdrawalRejected,
       .stream_kind = EntityKind::Withdrawal,
       .stream_id = 70000008,
       .effective_date = 20220622,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::WithdrawalRejected>(r);
             CHECK(p.account_id() == 100000321);
             CHECK(Str(p.reason()) == "purchase contract not filed with the housing bureau");
           }},
      {.type = Event::WithdrawalPaid,
       .stream_kind = EntityKind::Withdrawal,
       .stream_id = 70000007,
       .effective_date = 20220623,
       .postings = {Dr(201, kAccount, 100000123, 150000), Cr(101, kDeposit, 9001, 150000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::WithdrawalPaid>(r);
             CHECK(p.reason() == v1::WithdrawalReason::Rent);
             CHECK(p.amount_fen() == 150000);
             CHECK(p.deposit_id() == 9001);
             CHECK(Str(p.bank_reference()) == "CCB-QD-20220623-00031190");
           }},
      {.type = Event::WithdrawalCancelled,
       .stream_kind = EntityKind::Withdrawal,
       .stream_id = 70000009,
       .effective_date = 20220705,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::WithdrawalCancelled>(r);
             CHECK(p.account_id() == 100000456);
             CHECK(Str(p.reason()) == "withdrawn by the applicant");
           }},
      {.type = Event::InterestToDateCredited,
       .stream_kind = kAccount,
       .stream_id = 100000789,
       .effective_date = 20221020,
       .postings = {Dr(41101, 24210), Cr(201, kAccount, 100000789, 24210)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::InterestToDateCredited>(r);
             CHECK(p.from_date() == 20220701);
             CHECK(p.until_date() == 20221020);
             CHECK(p.day_basis() == 360);
             REQUIRE(p.segments() != nullptr);
             REQUIRE(p.segments()->size() == 1);
             CHECK(p.segments()->Get(0)->from_date() == 20220701);
             CHECK(p.segments()->Get(0)->rate_ppm() == 15000);
             CHECK(p.segments()->Get(0)->accumulator_fen_days() == 581036937);
             CHECK(p.interest_fen() == 24210);
             CHECK(p.cause_kind() == EntityKind::Withdrawal);
             CHECK(p.cause_id() == 70000010);
           }},
      {.type = Event::HeirlessBalanceTransferred,
       .stream_kind = kAccount,
       .stream_id = 100000555,
       .effective_date = 20220916,
       .postings = {Dr(201, kAccount, 100000555, 3456789), Cr(40105, 3456789)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::HeirlessBalanceTransferred>(r);
             CHECK(p.amount_fen() == 3456789);
             CHECK(Str(p.approval_reference()) == "(2022)鲁0203民特123号");
           }},
      {.type = Event::LoanApproved,
       .stream_kind = kLoan,
       .stream_id = 50000042,
       .effective_date = 20221012,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanApproved>(r);
             CHECK(p.account_id() == 100000123);
             CHECK(p.co_borrower_account_id() == 100000124);
             CHECK(p.principal_fen() == 100000000);
             CHECK(p.term_months() == 360);
             CHECK(p.annual_rate_ppm() == 31000);
             CHECK(p.repayment_method() == v1::RepaymentMethod::EqualInstalments);
             CHECK(p.home_kind() == v1::HomeKind::FirstHome);
             CHECK(p.property_price_fen() == 180000000);
             CHECK(Str(p.contract_reference()) == "QDGJJ-DK-2022-004217");
           }},
      {.type = Event::LoanDisbursed,
       .stream_kind = kLoan,
       .stream_id = 50000042,
       .effective_date = 20221020,
       .postings = {Dr(121, kLoan, 50000042, 100000000), Cr(101, kDeposit, 9001, 100000000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanDisbursed>(r);
             CHECK(p.principal_fen() == 100000000);
             CHECK(p.first_due_date() == 20221120);
             CHECK(p.instalment_fen() == 427016);  // DOMAIN §5: 4 270.16 yuan a month
             CHECK(Str(p.payee_reference()) == "tok:3702-****-7715");
           }},
      {.type = Event::LoanInstalmentRepaid,
       .stream_kind = kLoan,
       .stream_id = 50000042,
       .effective_date = 20221120,
       .postings = {Dr(101, kDeposit, 9001, 427016), Cr(121, kLoan, 50000042, 168683),
                    Cr(40103, 258333)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanInstalmentRepaid>(r);
             CHECK(p.instalment_number() == 1);
             CHECK(p.due_date() == 20221120);
             CHECK(p.principal_fen() == 168683);
             CHECK(p.interest_fen() == 258333);
             CHECK(p.penalty_interest_fen() == 0);
             CHECK_FALSE(p.was_overdue());
             CHECK(p.remaining_principal_fen() == 99831317);
             CHECK(p.withdrawal_id() == 0);
           }},
      {.type = Event::LoanPrepaid,
       .stream_kind = kLoan,
       .stream_id = 50000042,
       .effective_date = 20230306,
       .postings = {Dr(101, kDeposit, 9001, 20024111), Cr(121, kLoan, 50000042, 20000000),
                    Cr(40103, 24111)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanPrepaid>(r);
             CHECK(p.principal_fen() == 20000000);
             CHECK(p.interest_fen() == 24111);
             CHECK(p.choice() == v1::PrepaymentChoice::LowerInstalment);
             CHECK(p.remaining_principal_fen() == 79322651);
             CHECK(p.remaining_term_months() == 356);
             CHECK(p.instalment_fen() == 341031);
           }},
      {.type = Event::LoanInstalmentOverdue,
       .stream_kind = kLoan,
       .stream_id = 50000043,
       .effective_date = 20230621,
       .postings = {Dr(122, kLoan, 50000043, 120810), Cr(121, kLoan, 50000043, 120810),
                    Dr(111, kLoan, 50000043, 106068), Cr(40103, 106068)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanInstalmentOverdue>(r);
             CHECK(p.instalment_number() == 8);
             CHECK(p.due_date() == 20230620);
             CHECK(p.principal_fen() == 120810);
             CHECK(p.interest_fen() == 106068);
             CHECK(p.overdue_instalments_count() == 1);
           }},
      {.type = Event::PenaltyInterestAccrued,
       .stream_kind = kLoan,
       .stream_id = 50000043,
       .effective_date = 20230720,
       .postings = {Dr(111, kLoan, 50000043, 922), Cr(40103, 922)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::PenaltyInterestAccrued>(r);
             CHECK(p.from_date() == 20230620);
             CHECK(p.until_date() == 20230720);
             CHECK(p.days_count() == 30);
             CHECK(p.overdue_base_fen() == 226878);
             CHECK(p.penalty_rate_ppm() == 48750);
             CHECK(p.penalty_fen() == 922);
           }},
      {.type = Event::LoanRepriced,
       .stream_kind = kLoan,
       .stream_id = 50000017,
       .effective_date = 20230101,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanRepriced>(r);
             CHECK(p.previous_rate_ppm() == 32500);
             CHECK(p.annual_rate_ppm() == 31000);
             CHECK(p.remaining_principal_fen() == 61234500);
             CHECK(p.remaining_term_months() == 300);
             CHECK(p.instalment_fen() == 293576);
           }},
      {.type = Event::LoanRiskClassChanged,
       .stream_kind = kLoan,
       .stream_id = 50000043,
       .effective_date = 20230921,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanRiskClassChanged>(r);
             CHECK(p.previous_risk_class() == v1::LoanRiskClass::SpecialMention);
             CHECK(p.risk_class() == v1::LoanRiskClass::Substandard);
           }},
      {.type = Event::LoanSettled,
       .stream_kind = kLoan,
       .stream_id = 50000009,
       .effective_date = 20220815,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanSettled>(r);
             CHECK(p.loan_id() == 50000009);
             CHECK(p.account_id() == 100000321);
           }},
      {.type = Event::LoanWrittenOff,
       .stream_kind = kLoan,
       .stream_id = 50000043,
       .effective_date = 20241231,
       .postings = {Dr(301, 39486166), Cr(121, kLoan, 50000043, 38800000),
                    Cr(122, kLoan, 50000043, 363414), Cr(111, kLoan, 50000043, 322752)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::LoanWrittenOff>(r);
             CHECK(p.current_principal_fen() == 38800000);
             CHECK(p.overdue_principal_fen() == 363414);
             CHECK(p.receivable_interest_fen() == 322752);
             CHECK(Str(p.approval_reference()) == "QDGJJ-HX-2024-0003");
           }},
      {.type = Event::DepositPlaced,
       .stream_kind = kDeposit,
       .stream_id = 9101,
       .effective_date = 20220701,
       .postings = {Dr(101, kDeposit, 9101, 5000000000), Cr(101, kDeposit, 9001, 5000000000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::DepositPlaced>(r);
             CHECK(p.kind() == v1::DepositKind::Term);
             CHECK(Str(p.bank_code()) == "102");
             CHECK(p.principal_fen() == 5000000000);
             CHECK(p.annual_rate_ppm() == 17500);
             CHECK(p.term_months() == 12);
             CHECK(p.notice_days() == 0);
             CHECK(p.maturity_date() == 20230701);
             CHECK(p.source_deposit_id() == 9001);
           }},
      {.type = Event::DepositInterestReceived,
       .stream_kind = kDeposit,
       .stream_id = 9001,
       .effective_date = 20220621,
       .postings = {Dr(101, kDeposit, 9001, 19166667), Cr(40101, 19166667)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::DepositInterestReceived>(r);
             CHECK(p.interest_fen() == 19166667);
             CHECK(p.from_date() == 20220321);
             CHECK(p.until_date() == 20220621);
             CHECK(p.into_deposit_id() == 9001);
           }},
      {.type = Event::DepositMatured,
       .stream_kind = kDeposit,
       .stream_id = 9102,
       .effective_date = 20220901,
       .postings = {Dr(101, kDeposit, 9001, 2016000000), Cr(101, kDeposit, 9102, 2000000000),
                    Cr(40101, 16000000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::DepositMatured>(r);
             CHECK(p.principal_fen() == 2000000000);
             CHECK(p.interest_fen() == 16000000);
             CHECK(p.into_deposit_id() == 9001);
           }},
      {.type = Event::DepositWithdrawn,
       .stream_kind = kDeposit,
       .stream_id = 9201,
       .effective_date = 20220905,
       .postings = {Dr(101, kDeposit, 9001, 300393750), Cr(101, kDeposit, 9201, 300000000),
                    Cr(40101, 393750)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::DepositWithdrawn>(r);
             CHECK(p.principal_fen() == 300000000);
             CHECK(p.interest_fen() == 393750);
             CHECK(p.remaining_principal_fen() == 200000000);
           }},
      {.type = Event::YearEndSettlementStarted,
       .stream_kind = EntityKind::Fund,
       .stream_id = 1,
       .effective_date = 20160630,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::YearEndSettlementStarted>(r);
             CHECK(p.settlement_id() == 2016);
             CHECK(p.from_date() == 20150701);
             CHECK(p.until_date() == 20160701);
             CHECK(p.day_basis() == 360);
             CHECK(p.accounts_count() == 1523417);
           }},
      {.type = Event::YearEndInterestCredited,
       .stream_kind = kAccount,
       .stream_id = 100000321,
       .effective_date = 20160701,
       .postings = {Dr(41101, 126389), Cr(201, kAccount, 100000321, 126389)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::YearEndInterestCredited>(r);
             CHECK(p.settlement_id() == 2016);
             CHECK(p.account_id() == 100000321);
             CHECK(p.from_date() == 20150701);
             CHECK(p.until_date() == 20160701);
             REQUIRE(p.segments() != nullptr);
             REQUIRE(p.segments()->size() == 2);
             CHECK(p.segments()->Get(0)->rate_ppm() == 11000);
             CHECK(p.segments()->Get(0)->accumulator_fen_days() == 2350000000);
             CHECK(p.segments()->Get(1)->from_date() == 20160221);
             CHECK(p.segments()->Get(1)->rate_ppm() == 15000);
             CHECK(p.segments()->Get(1)->accumulator_fen_days() == 1310000000);
             CHECK(p.interest_fen() == 126389);
           }},
      {.type = Event::YearEndSettlementCompleted,
       .stream_kind = EntityKind::Fund,
       .stream_id = 1,
       .effective_date = 20160630,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::YearEndSettlementCompleted>(r);
             CHECK(p.accounts_credited_count() == 1523405);
             CHECK(p.accounts_deferred_count() == 12);
             CHECK(p.interest_total_fen() == 91234567812);
           }},
      {.type = Event::ValueAddedIncomeDetermined,
       .stream_kind = EntityKind::Fund,
       .stream_id = 1,
       .effective_date = 20211231,
       .postings = {Dr(40101, 61234567890), Dr(40103, 351234567890), Dr(40105, 123456700),
                    Cr(41101, 239876543210), Cr(41102, 4567890123), Cr(41103, 9876543210),
                    Cr(311, 158271615937), Dr(102, kDeposit, 9501, 158271615937),
                    Cr(101, kDeposit, 9001, 158271615937)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::ValueAddedIncomeDetermined>(r);
             CHECK(p.from_date() == 20210101);
             CHECK(p.until_date() == 20220101);
             CHECK(p.loan_interest_fen() == 351234567890);
             CHECK(p.account_interest_fen() == 239876543210);
             CHECK(p.loan_fees_fen() == 9876543210);
             CHECK(p.value_added_income_fen() == 158271615937);
             CHECK(p.value_added_deposit_id() == 9501);
           }},
      {.type = Event::ValueAddedIncomeDistributed,
       .stream_kind = EntityKind::Fund,
       .stream_id = 1,
       .effective_date = 20211231,
       .postings = {Dr(311, 158271615937), Cr(301, 79135807969), Cr(21401, 56977781737),
                    Cr(21402, 22158026231)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::ValueAddedIncomeDistributed>(r);
             CHECK(p.risk_reserve_ppm() == 500000);
             CHECK(p.management_expenses_ppm() == 360000);
             CHECK(p.affordable_housing_ppm() == 140000);
             CHECK(p.risk_reserve_fen() == 79135807969);
             CHECK(p.affordable_housing_fen() == 22158026231);
           }},
      {.type = Event::ValueAddedIncomeRemitted,
       .stream_kind = EntityKind::Fund,
       .stream_id = 1,
       .effective_date = 20220331,
       .postings = {Dr(21402, 22158026231), Cr(102, kDeposit, 9501, 22158026231)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::ValueAddedIncomeRemitted>(r);
             CHECK(p.share() == v1::ValueAddedIncomeShare::AffordableHousing);
             CHECK(p.amount_fen() == 22158026231);
             CHECK(Str(p.recipient()) == "青岛市财政局");
           }},
      {.type = Event::BankFeePaid,
       .stream_kind = EntityKind::Fund,
       .stream_id = 1,
       .effective_date = 20220705,
       .postings = {Dr(41102, 386512), Cr(101, kDeposit, 9001, 386512)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::BankFeePaid>(r);
             CHECK(p.fee_kind() == v1::BankFeeKind::Collection);
             CHECK(p.period_month() == 202206);
             CHECK(p.amount_fen() == 386512);
           }},
      {.type = Event::PolicyChanged,
       .stream_kind = EntityKind::Policy,
       .stream_id = 1,
       .effective_date = 20220930,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::PolicyChanged>(r);
             CHECK(p.policy_version() == 7);
             CHECK(p.effective_from_date() == 20221001);
             CHECK(p.format() == v1::PolicyFormat::Json);
             REQUIRE(p.document() != nullptr);
             CHECK(p.document()->size() == 114);
             CHECK(std::string_view(reinterpret_cast<const char*>(p.document()->data()), 14) ==
                   R"({"loan_rates":)");
             REQUIRE(p.document_digest() != nullptr);
             CHECK(p.document_digest()->bytes()->Get(0) == 0x85);
             CHECK(p.document_digest()->bytes()->Get(31) == 0xc7);
             CHECK(Str(p.approval_reference()) == "QDGJJ-JY-2022-0019");
           }},
      {.type = Event::TransferInRequested,
       .stream_kind = EntityKind::Transfer,
       .stream_id = 3702002022000981,
       .effective_date = 20220810,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::TransferInRequested>(r);
             CHECK(Str(p.sending_city_code()) == "370600");
             CHECK(p.account_id() == 100000999);
             REQUIRE(p.identity_digest() != nullptr);
             CHECK(p.identity_digest()->bytes()->Get(0) == 0x3b);
             CHECK(Str(p.sending_account_reference()) == "YT-0012345678");
           }},
      {.type = Event::TransferOutRequested,
       .stream_kind = EntityKind::Transfer,
       .stream_id = 3701002022000457,
       .effective_date = 20221018,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::TransferOutRequested>(r);
             CHECK(Str(p.receiving_city_code()) == "370100");
             CHECK(p.account_id() == 100000789);
             CHECK(Str(p.receiving_account_reference()) == "JN-0087654321");
           }},
      {.type = Event::TransferOutConfirmed,
       .stream_kind = EntityKind::Transfer,
       .stream_id = 3701002022000457,
       .effective_date = 20221019,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::TransferOutConfirmed>(r);
             CHECK(p.account_id() == 100000789);
             CHECK(p.principal_fen() == 5234567);
           }},
      {.type = Event::TransferOutRejected,
       .stream_kind = EntityKind::Transfer,
       .stream_id = 3702002022000777,
       .effective_date = 20221019,
       .postings = {},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::TransferOutRejected>(r);
             CHECK(p.transfer_id() == 3702002022000777);
             CHECK(Str(p.reason()) == "account is frozen");
           }},
      {.type = Event::TransferOutSent,
       .stream_kind = EntityKind::Transfer,
       .stream_id = 3701002022000457,
       .effective_date = 20221020,
       .postings = {Dr(201, kAccount, 100000789, 5258777), Cr(101, kDeposit, 9001, 5258777)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::TransferOutSent>(r);
             CHECK(p.amount_fen() == 5258777);
             CHECK(p.interest_fen() == 24210);
             REQUIRE(p.history() != nullptr);
             CHECK(p.history()->opened_date() == 20150312);
             CHECK(p.history()->paid_up_to_month() == 202209);
             CHECK(p.history()->contribution_months_count() == 91);
             CHECK(p.history()->loans_count() == 0);
           }},
      {.type = Event::TransferInCredited,
       .stream_kind = EntityKind::Transfer,
       .stream_id = 3702002022000981,
       .effective_date = 20220826,
       .postings = {Dr(101, kDeposit, 9001, 8765432), Cr(201, kAccount, 100000999, 8765432)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::TransferInCredited>(r);
             CHECK(p.amount_fen() == 8765432);
             CHECK(p.interest_fen() == 35678);
             REQUIRE(p.history() != nullptr);
             CHECK(p.history()->first_contribution_month() == 201207);
             CHECK(p.history()->continuous_months_count() == 64);
             CHECK(p.history()->loans_count() == 1);
             CHECK(p.history()->loans_outstanding_count() == 0);
           }},
      {.type = Event::RecordReversed,
       .stream_kind = kAccount,
       .stream_id = 100000123,
       .effective_date = 20220621,
       .postings = {Dr(201, kAccount, 100000123, 204000), Cr(219, kEmployer, 20001, 204000)},
       .check_payload =
           [](const Record& r) {
             const auto& p = Payload<v1::RecordReversed>(r);
             CHECK(p.reversed_position() == 12345618);
             REQUIRE(p.reversed_record_hash() != nullptr);
             CHECK(p.reversed_record_hash()->bytes()->Get(0) == 0x2f);
             CHECK(p.reason() == v1::ReversalReason::WrongAccount);
             CHECK(Str(p.approval_reference()) == "QDGJJ-HC-2022-0815");
           }},

  };
}

// ---------------------------------------------------------------------------------------------
// The v1 wire layout, as literals
// ---------------------------------------------------------------------------------------------
// Values alone cannot see every incompatible change (int64 -> int32 reads the same small
// amount), so the layout of every v1 type is pinned too, from the generated mini-reflection
// tables: per field in id order its name and wire type. A table may only gain fields after
// these; a struct must match exactly; an enum or the union must keep every v1 value.

// The wire shape of a type as the generated mini-reflection tables describe it.
std::string ElementaryName(flatbuffers::ElementaryType type) {
  switch (type) {
    case flatbuffers::ET_UTYPE:
      return "utype";
    case flatbuffers::ET_BOOL:
      return "bool";
    case flatbuffers::ET_CHAR:
      return "byte";
    case flatbuffers::ET_UCHAR:
      return "ubyte";
    case flatbuffers::ET_SHORT:
      return "short";
    case flatbuffers::ET_USHORT:
      return "ushort";
    case flatbuffers::ET_INT:
      return "int";
    case flatbuffers::ET_UINT:
      return "uint";
    case flatbuffers::ET_LONG:
      return "long";
    case flatbuffers::ET_ULONG:
      return "ulong";
    case flatbuffers::ET_FLOAT:
      return "float";
    case flatbuffers::ET_DOUBLE:
      return "double";
    case flatbuffers::ET_STRING:
      return "string";
    case flatbuffers::ET_SEQUENCE:
      return "sequence";
  }
  return "?";
}

std::vector<std::string> Fields(const flatbuffers::TypeTable& table);

// A struct is described whole, offsets and size included: structs never change.
// A nested table is only "table": it is checked on its own, so it may gain fields.
std::string FieldType(const flatbuffers::TypeTable& parent, size_t index, size_t* array_index) {
  const flatbuffers::TypeCode code = parent.type_codes[index];
  const auto elementary = static_cast<flatbuffers::ElementaryType>(code.base_type);
  const flatbuffers::TypeTable* ref =
      code.sequence_ref >= 0 ? parent.type_refs[code.sequence_ref]() : nullptr;
  std::string type;
  if (elementary == flatbuffers::ET_SEQUENCE && ref != nullptr) {
    if (ref->st == flatbuffers::ST_STRUCT) {
      type = "struct{";
      for (const std::string& field : Fields(*ref)) {
        type += field + ";";
      }
      type += "}";
    } else {
      type = ref->st == flatbuffers::ST_UNION ? "union" : "table";
    }
  } else {
    type = ElementaryName(elementary);
    if (ref != nullptr) {
      type += ref->st == flatbuffers::ST_UNION ? " union-type" : " enum";
    }
  }
  if (code.is_repeating != 0) {
    if (parent.st == flatbuffers::ST_STRUCT) {
      type = "[" + type + ":" + std::to_string(parent.array_sizes[(*array_index)++]) + "]";
    } else {
      type = "[" + type + "]";
    }
  }
  return type;
}

// "name:type" per field in id order (deprecated fields stay listed); for a struct, each field
// with "@offset" and then "size:N".
std::vector<std::string> Fields(const flatbuffers::TypeTable& table) {
  std::vector<std::string> fields;
  size_t array_index = 0;
  for (size_t i = 0; i < table.num_elems; ++i) {
    std::string field = table.names[i];
    if (table.st == flatbuffers::ST_STRUCT) {
      field += "@" + std::to_string(table.values[i]);
    }
    fields.push_back(field + ":" + FieldType(table, i, &array_index));
  }
  if (table.st == flatbuffers::ST_STRUCT) {
    fields.push_back("size:" + std::to_string(table.values[table.num_elems]));
  }
  return fields;
}

// "value=Name" for every value of an enum or union.
std::vector<std::string> EnumValues(const flatbuffers::TypeTable& table) {
  std::vector<std::string> values;
  for (size_t i = 0; i < table.num_elems; ++i) {
    const int64_t value = table.values != nullptr ? table.values[i] : static_cast<int64_t>(i);
    values.push_back(std::to_string(value) + "=" + table.names[i]);
  }
  return values;
}

struct Layout {
  const char* name;
  const flatbuffers::TypeTable* (*type_table)();
  std::vector<std::string_view> items;
};

std::vector<Layout> TypeLayoutsV1() {
  return {
      {"ContributionHistory",
       v1::ContributionHistoryTypeTable,
       {"opened_date:uint", "first_contribution_month:uint", "paid_up_to_month:uint",
        "contribution_months_count:uint", "continuous_months_count:uint", "loans_count:ushort",
        "loans_outstanding_count:ushort"}},
      {"BankReceiptRecorded",
       v1::BankReceiptRecordedTypeTable,
       {"employer_id:ulong", "bank_code:string", "bank_reference:string", "amount_fen:long",
        "deposit_id:ulong"}},
      {"EmployerRegistered",
       v1::EmployerRegisteredTypeTable,
       {"employer_id:ulong", "unified_social_credit_code:string", "name:string", "bank_code:string",
        "employer_rate_ppm:uint", "employee_rate_ppm:uint", "first_contribution_month:uint"}},
      {"EmployerRatesChanged",
       v1::EmployerRatesChangedTypeTable,
       {"employer_id:ulong", "employer_rate_ppm:uint", "employee_rate_ppm:uint",
        "from_month:uint"}},
      {"EmployerRateReductionGranted",
       v1::EmployerRateReductionGrantedTypeTable,
       {"employer_id:ulong", "employer_rate_ppm:uint", "employee_rate_ppm:uint", "from_month:uint",
        "to_month:uint", "approval_reference:string"}},
      {"EmployerDeferralGranted",
       v1::EmployerDeferralGrantedTypeTable,
       {"employer_id:ulong", "from_month:uint", "to_month:uint", "approval_reference:string"}},
      {"EmployerSealed",
       v1::EmployerSealedTypeTable,
       {"employer_id:ulong", "reason:ubyte enum", "approval_reference:string"}},
      {"EmployerReopened",
       v1::EmployerReopenedTypeTable,
       {"employer_id:ulong", "first_contribution_month:uint"}},
      {"EmployerClosed",
       v1::EmployerClosedTypeTable,
       {"employer_id:ulong", "reason:ubyte enum", "approval_reference:string"}},
      {"AccountOpened",
       v1::AccountOpenedTypeTable,
       {"account_id:ulong", "employer_id:ulong", "contributor_kind:ubyte enum", "person_id:ulong",
        "identity_digest:struct{bytes@0:[ubyte:32];size:32;}", "contribution_base_fen:long",
        "first_contribution_month:uint"}},
      {"AccountBaseChanged",
       v1::AccountBaseChangedTypeTable,
       {"account_id:ulong", "employer_id:ulong", "contribution_base_fen:long", "from_month:uint"}},
      {"AccountSealed",
       v1::AccountSealedTypeTable,
       {"account_id:ulong", "employer_id:ulong", "reason:ubyte enum"}},
      {"AccountUnsealed",
       v1::AccountUnsealedTypeTable,
       {"account_id:ulong", "employer_id:ulong", "previous_employer_id:ulong",
        "contribution_base_fen:long", "first_contribution_month:uint"}},
      {"AccountFrozen",
       v1::AccountFrozenTypeTable,
       {"account_id:ulong", "court_order_reference:string", "authority:string"}},
      {"AccountUnfrozen",
       v1::AccountUnfrozenTypeTable,
       {"account_id:ulong", "court_order_reference:string", "authority:string"}},
      {"AccountClosed",
       v1::AccountClosedTypeTable,
       {"account_id:ulong", "employer_id:ulong", "reason:ubyte enum", "cause_kind:ubyte enum",
        "cause_id:ulong"}},
      {"SuspenseRefunded",
       v1::SuspenseRefundedTypeTable,
       {"employer_id:ulong", "amount_fen:long", "deposit_id:ulong", "bank_code:string",
        "bank_reference:string", "reason:string"}},
      {"RemittanceOpened",
       v1::RemittanceOpenedTypeTable,
       {"remittance_id:ulong", "employer_id:ulong", "business_type:ubyte enum", "from_month:uint",
        "to_month:uint", "accounts_count:uint", "total_fen:long", "list_reference:string"}},
      {"ContributionAllocated",
       v1::ContributionAllocatedTypeTable,
       {"remittance_id:ulong", "employer_id:ulong", "account_id:ulong", "business_type:ubyte enum",
        "contribution_month:uint", "contribution_base_fen:long", "employer_rate_ppm:uint",
        "employee_rate_ppm:uint", "employer_amount_fen:long", "employee_amount_fen:long"}},
      {"RemittanceCompleted",
       v1::RemittanceCompletedTypeTable,
       {"remittance_id:ulong", "employer_id:ulong", "business_type:ubyte enum",
        "allocations_count:uint", "total_fen:long", "paid_up_to_month:uint"}},
      {"RemittanceCancelled",
       v1::RemittanceCancelledTypeTable,
       {"remittance_id:ulong", "employer_id:ulong", "reason:string"}},
      {"FlexibleContributionReceived",
       v1::FlexibleContributionReceivedTypeTable,
       {"account_id:ulong", "contribution_month:uint", "contribution_base_fen:long",
        "rate_ppm:uint", "amount_fen:long", "deposit_id:ulong", "bank_code:string",
        "bank_reference:string"}},
      {"WithdrawalApplied",
       v1::WithdrawalAppliedTypeTable,
       {"withdrawal_id:ulong", "account_id:ulong", "reason:ubyte enum", "local_reason:ubyte enum",
        "amount_fen:long", "payee:ubyte enum", "payee_loan_id:ulong", "payee_reference:string",
        "evidence_reference:string", "property_price_fen:long", "applicant:string",
        "decide_by_date:uint"}},
      {"WithdrawalApproved",
       v1::WithdrawalApprovedTypeTable,
       {"withdrawal_id:ulong", "account_id:ulong", "reviewer:string", "amount_fen:long"}},
      {"WithdrawalRejected",
       v1::WithdrawalRejectedTypeTable,
       {"withdrawal_id:ulong", "account_id:ulong", "reviewer:string", "reason:string"}},
      {"WithdrawalPaid",
       v1::WithdrawalPaidTypeTable,
       {"withdrawal_id:ulong", "account_id:ulong", "reason:ubyte enum", "amount_fen:long",
        "deposit_id:ulong", "bank_code:string", "bank_reference:string"}},
      {"WithdrawalCancelled",
       v1::WithdrawalCancelledTypeTable,
       {"withdrawal_id:ulong", "account_id:ulong", "reason:string"}},
      {"InterestToDateCredited",
       v1::InterestToDateCreditedTypeTable,
       {"account_id:ulong", "from_date:uint", "until_date:uint", "day_basis:ushort",
        "segments:[struct{from_date@0:uint;rate_ppm@4:uint;accumulator_fen_days@8:long;size:16;}]",
        "interest_fen:long", "cause_kind:ubyte enum", "cause_id:ulong"}},
      {"HeirlessBalanceTransferred",
       v1::HeirlessBalanceTransferredTypeTable,
       {"account_id:ulong", "amount_fen:long", "approval_reference:string"}},
      {"LoanApproved",
       v1::LoanApprovedTypeTable,
       {"loan_id:ulong", "account_id:ulong", "co_borrower_account_id:ulong", "principal_fen:long",
        "term_months:ushort", "annual_rate_ppm:uint", "repayment_method:ubyte enum",
        "home_kind:ubyte enum", "property_price_fen:long", "bank_code:string",
        "contract_reference:string"}},
      {"LoanDisbursed",
       v1::LoanDisbursedTypeTable,
       {"loan_id:ulong", "account_id:ulong", "principal_fen:long", "deposit_id:ulong",
        "bank_reference:string", "first_due_date:uint", "instalment_fen:long",
        "payee_reference:string"}},
      {"LoanInstalmentRepaid",
       v1::LoanInstalmentRepaidTypeTable,
       {"loan_id:ulong", "instalment_number:ushort", "due_date:uint", "principal_fen:long",
        "interest_fen:long", "penalty_interest_fen:long", "was_overdue:bool",
        "remaining_principal_fen:long", "deposit_id:ulong", "bank_reference:string",
        "withdrawal_id:ulong"}},
      {"LoanPrepaid",
       v1::LoanPrepaidTypeTable,
       {"loan_id:ulong", "principal_fen:long", "interest_fen:long", "choice:ubyte enum",
        "remaining_principal_fen:long", "remaining_term_months:ushort", "instalment_fen:long",
        "deposit_id:ulong", "bank_reference:string", "withdrawal_id:ulong"}},
      {"LoanInstalmentOverdue",
       v1::LoanInstalmentOverdueTypeTable,
       {"loan_id:ulong", "instalment_number:ushort", "due_date:uint", "principal_fen:long",
        "interest_fen:long", "overdue_instalments_count:ushort"}},
      {"PenaltyInterestAccrued",
       v1::PenaltyInterestAccruedTypeTable,
       {"loan_id:ulong", "from_date:uint", "until_date:uint", "days_count:ushort",
        "overdue_base_fen:long", "penalty_rate_ppm:uint", "penalty_fen:long"}},
      {"LoanRepriced",
       v1::LoanRepricedTypeTable,
       {"loan_id:ulong", "previous_rate_ppm:uint", "annual_rate_ppm:uint",
        "remaining_principal_fen:long", "remaining_term_months:ushort", "instalment_fen:long"}},
      {"LoanRiskClassChanged",
       v1::LoanRiskClassChangedTypeTable,
       {"loan_id:ulong", "previous_risk_class:ubyte enum", "risk_class:ubyte enum"}},
      {"LoanSettled", v1::LoanSettledTypeTable, {"loan_id:ulong", "account_id:ulong"}},
      {"LoanWrittenOff",
       v1::LoanWrittenOffTypeTable,
       {"loan_id:ulong", "current_principal_fen:long", "overdue_principal_fen:long",
        "receivable_interest_fen:long", "approval_reference:string"}},
      {"DepositPlaced",
       v1::DepositPlacedTypeTable,
       {"deposit_id:ulong", "kind:ubyte enum", "bank_code:string", "principal_fen:long",
        "annual_rate_ppm:uint", "term_months:ushort", "notice_days:ushort", "maturity_date:uint",
        "source_deposit_id:ulong", "contract_reference:string"}},
      {"DepositInterestReceived",
       v1::DepositInterestReceivedTypeTable,
       {"deposit_id:ulong", "interest_fen:long", "from_date:uint", "until_date:uint",
        "into_deposit_id:ulong", "bank_reference:string"}},
      {"DepositMatured",
       v1::DepositMaturedTypeTable,
       {"deposit_id:ulong", "principal_fen:long", "interest_fen:long", "into_deposit_id:ulong",
        "bank_reference:string"}},
      {"DepositWithdrawn",
       v1::DepositWithdrawnTypeTable,
       {"deposit_id:ulong", "principal_fen:long", "interest_fen:long",
        "remaining_principal_fen:long", "into_deposit_id:ulong", "bank_reference:string"}},
      {"YearEndSettlementStarted",
       v1::YearEndSettlementStartedTypeTable,
       {"settlement_id:ulong", "from_date:uint", "until_date:uint", "day_basis:ushort",
        "accounts_count:uint"}},
      {"YearEndInterestCredited",
       v1::YearEndInterestCreditedTypeTable,
       {"settlement_id:ulong", "account_id:ulong", "from_date:uint", "until_date:uint",
        "day_basis:ushort",
        "segments:[struct{from_date@0:uint;rate_ppm@4:uint;accumulator_fen_days@8:long;size:16;}]",
        "interest_fen:long"}},
      {"YearEndSettlementCompleted",
       v1::YearEndSettlementCompletedTypeTable,
       {"settlement_id:ulong", "accounts_credited_count:uint", "accounts_deferred_count:uint",
        "interest_total_fen:long"}},
      {"ValueAddedIncomeDetermined",
       v1::ValueAddedIncomeDeterminedTypeTable,
       {"from_date:uint", "until_date:uint", "deposit_interest_fen:long", "loan_interest_fen:long",
        "other_income_fen:long", "account_interest_fen:long", "collection_fees_fen:long",
        "loan_fees_fen:long", "value_added_income_fen:long", "deposit_id:ulong",
        "value_added_deposit_id:ulong"}},
      {"ValueAddedIncomeDistributed",
       v1::ValueAddedIncomeDistributedTypeTable,
       {"from_date:uint", "until_date:uint", "value_added_income_fen:long", "risk_reserve_ppm:uint",
        "management_expenses_ppm:uint", "affordable_housing_ppm:uint", "risk_reserve_fen:long",
        "management_expenses_fen:long", "affordable_housing_fen:long",
        "approval_reference:string"}},
      {"ValueAddedIncomeRemitted",
       v1::ValueAddedIncomeRemittedTypeTable,
       {"share:ubyte enum", "amount_fen:long", "value_added_deposit_id:ulong", "recipient:string",
        "bank_reference:string"}},
      {"BankFeePaid",
       v1::BankFeePaidTypeTable,
       {"fee_kind:ubyte enum", "bank_code:string", "period_month:uint", "amount_fen:long",
        "deposit_id:ulong", "bank_reference:string"}},
      {"PolicyChanged",
       v1::PolicyChangedTypeTable,
       {"policy_version:uint", "effective_from_date:uint", "format:ubyte enum", "document:[ubyte]",
        "document_digest:struct{bytes@0:[ubyte:32];size:32;}", "summary:string",
        "approval_reference:string"}},
      {"TransferInRequested",
       v1::TransferInRequestedTypeTable,
       {"transfer_id:ulong", "sending_city_code:string", "account_id:ulong",
        "identity_digest:struct{bytes@0:[ubyte:32];size:32;}", "sending_account_reference:string"}},
      {"TransferOutRequested",
       v1::TransferOutRequestedTypeTable,
       {"transfer_id:ulong", "receiving_city_code:string", "account_id:ulong",
        "receiving_account_reference:string"}},
      {"TransferOutConfirmed",
       v1::TransferOutConfirmedTypeTable,
       {"transfer_id:ulong", "receiving_city_code:string", "account_id:ulong",
        "principal_fen:long"}},
      {"TransferOutRejected",
       v1::TransferOutRejectedTypeTable,
       {"transfer_id:ulong", "receiving_city_code:string", "account_id:ulong", "reason:string"}},
      {"TransferOutSent",
       v1::TransferOutSentTypeTable,
       {"transfer_id:ulong", "receiving_city_code:string", "account_id:ulong", "amount_fen:long",
        "interest_fen:long", "deposit_id:ulong", "bank_reference:string", "history:table"}},
      {"TransferInCredited",
       v1::TransferInCreditedTypeTable,
       {"transfer_id:ulong", "sending_city_code:string", "account_id:ulong", "amount_fen:long",
        "interest_fen:long", "deposit_id:ulong", "bank_reference:string", "history:table"}},
      {"RecordReversed",
       v1::RecordReversedTypeTable,
       {"reversed_position:ulong", "reversed_record_hash:struct{bytes@0:[ubyte:32];size:32;}",
        "reason:ubyte enum", "note:string", "approval_reference:string"}},
      {"Envelope",
       v1::EnvelopeTypeTable,
       {"link:struct{position@0:ulong;recorded_at_us@8:long;prev_hash@16:struct{bytes@0:[ubyte:32];"
        "size:32;};size:48;}",
        "effective_date:uint", "stream_kind:ubyte enum", "stream_id:ulong", "stream_version:ulong",
        "idempotency_key:string", "command_hash:struct{bytes@0:[ubyte:32];size:32;}",
        "command_part:ushort", "command_parts:ushort", "actor:string", "channel:string",
        "schema_version:ushort"}},
      {"Record",
       v1::RecordTypeTable,
       {"envelope:table", "payload_type:utype union-type", "payload:union",
        "postings:[struct{gl_account@0:uint;side@4:ubyte enum;subledger_kind@5:ubyte "
        "enum;reserved@6:ushort;subledger_id@8:ulong;amount_fen@16:long;size:24;}]"}},
      {"InterestSegment",
       v1::InterestSegmentTypeTable,
       {"from_date@0:uint", "rate_ppm@4:uint", "accumulator_fen_days@8:long", "size:16"}},
      {"Digest", v1::DigestTypeTable, {"bytes@0:[ubyte:32]", "size:32"}},
      {"Posting",
       v1::PostingTypeTable,
       {"gl_account@0:uint", "side@4:ubyte enum", "subledger_kind@5:ubyte enum",
        "reserved@6:ushort", "subledger_id@8:ulong", "amount_fen@16:long", "size:24"}},
      {"ChainLink",
       v1::ChainLinkTypeTable,
       {"position@0:ulong", "recorded_at_us@8:long",
        "prev_hash@16:struct{bytes@0:[ubyte:32];size:32;}", "size:48"}},
  };
}

std::vector<Layout> EnumLayoutsV1() {
  return {
      {"BusinessType",
       v1::BusinessTypeTypeTable,
       {"0=None", "1=Remittance", "2=BackPayment", "3=Opening", "4=Unsealing", "5=Sealing",
        "6=InternalTransfer", "7=TransferOut", "8=TransferIn", "9=YearEndInterest",
        "10=BaseAdjustment", "11=PartialWithdrawal", "12=ClosingWithdrawal", "13=Deferral",
        "14=Freeze", "15=Unfreeze", "99=Other"}},
      {"WithdrawalReason",
       v1::WithdrawalReasonTypeTable,
       {"0=None", "1=Purchase", "2=BuildOrOverhaul", "3=Retirement", "4=LossOfWorkingCapacity",
        "5=LeavingCity", "6=LoanRepayment", "7=Rent", "8=Death", "9=SeriousIllness", "99=Other"}},
      {"LocalWithdrawalReason",
       v1::LocalWithdrawalReasonTypeTable,
       {"0=None", "1=OldNeighbourhoodRenovation", "2=AffordableRentalDirect"}},
      {"WithdrawalPayee",
       v1::WithdrawalPayeeTypeTable,
       {"0=None", "1=AccountHolder", "2=HousingLoan", "3=CommercialLender", "4=RentalOperator",
        "5=Heirs"}},
      {"ContributorKind",
       v1::ContributorKindTypeTable,
       {"0=None", "1=Employee", "2=FlexibleEmployment"}},
      {"AccountSealReason",
       v1::AccountSealReasonTypeTable,
       {"0=None", "1=LeftEmployer", "2=EmployerSealed", "99=Other"}},
      {"AccountCloseReason",
       v1::AccountCloseReasonTypeTable,
       {"0=None", "1=ClosingWithdrawal", "2=TransferredOut", "3=HeirlessBalance", "99=Other"}},
      {"EmployerExitReason",
       v1::EmployerExitReasonTypeTable,
       {"0=None", "1=Dissolved", "2=SuspendedBusiness", "3=NoEmployees", "99=Other"}},
      {"RepaymentMethod",
       v1::RepaymentMethodTypeTable,
       {"0=None", "1=EqualInstalments", "2=EqualPrincipal"}},
      {"PrepaymentChoice",
       v1::PrepaymentChoiceTypeTable,
       {"0=None", "1=ShortenTerm", "2=LowerInstalment"}},
      {"HomeKind", v1::HomeKindTypeTable, {"0=None", "1=FirstHome", "2=SecondHome"}},
      {"LoanRiskClass",
       v1::LoanRiskClassTypeTable,
       {"0=None", "1=Normal", "2=SpecialMention", "3=Substandard", "4=Doubtful", "5=Loss"}},
      {"DepositKind", v1::DepositKindTypeTable, {"0=None", "1=Demand", "2=Call", "3=Term"}},
      {"BankFeeKind", v1::BankFeeKindTypeTable, {"0=None", "1=Collection", "2=EntrustedLoan"}},
      {"ValueAddedIncomeShare",
       v1::ValueAddedIncomeShareTypeTable,
       {"0=None", "1=RiskReserve", "2=ManagementExpenses", "3=AffordableHousing"}},
      {"PolicyFormat", v1::PolicyFormatTypeTable, {"0=None", "1=Json"}},
      {"ReversalReason",
       v1::ReversalReasonTypeTable,
       {"0=None", "1=WrongAmount", "2=WrongAccount", "3=WrongDate", "4=Duplicate", "5=BankReturned",
        "99=Other"}},
      {"EntityKind",
       v1::EntityKindTypeTable,
       {"0=None", "1=Account", "2=Employer", "3=Loan", "4=Deposit", "5=Fund", "6=Withdrawal",
        "7=Transfer", "8=Policy", "9=Bank"}},
      {"Side", v1::SideTypeTable, {"0=Debit", "1=Credit"}},
      {"Event",
       v1::EventTypeTable,
       {"0=NONE",
        "1=BankReceiptRecorded",
        "2=EmployerRegistered",
        "3=EmployerRatesChanged",
        "4=EmployerRateReductionGranted",
        "5=EmployerDeferralGranted",
        "6=EmployerSealed",
        "7=EmployerReopened",
        "8=EmployerClosed",
        "9=AccountOpened",
        "10=AccountBaseChanged",
        "11=AccountSealed",
        "12=AccountUnsealed",
        "13=AccountFrozen",
        "14=AccountUnfrozen",
        "15=AccountClosed",
        "16=SuspenseRefunded",
        "17=RemittanceOpened",
        "18=ContributionAllocated",
        "19=RemittanceCompleted",
        "20=RemittanceCancelled",
        "21=FlexibleContributionReceived",
        "22=WithdrawalApplied",
        "23=WithdrawalApproved",
        "24=WithdrawalRejected",
        "25=WithdrawalPaid",
        "26=WithdrawalCancelled",
        "27=InterestToDateCredited",
        "28=HeirlessBalanceTransferred",
        "29=LoanApproved",
        "30=LoanDisbursed",
        "31=LoanInstalmentRepaid",
        "32=LoanPrepaid",
        "33=LoanInstalmentOverdue",
        "34=PenaltyInterestAccrued",
        "35=LoanRepriced",
        "36=LoanRiskClassChanged",
        "37=LoanSettled",
        "38=LoanWrittenOff",
        "39=DepositPlaced",
        "40=DepositInterestReceived",
        "41=DepositMatured",
        "42=DepositWithdrawn",
        "43=YearEndSettlementStarted",
        "44=YearEndInterestCredited",
        "45=YearEndSettlementCompleted",
        "46=ValueAddedIncomeDetermined",
        "47=ValueAddedIncomeDistributed",
        "48=ValueAddedIncomeRemitted",
        "49=BankFeePaid",
        "50=PolicyChanged",
        "51=TransferInRequested",
        "52=TransferOutRequested",
        "53=TransferOutConfirmed",
        "54=TransferOutRejected",
        "55=TransferOutSent",
        "56=TransferInCredited",
        "57=RecordReversed"}},
  };
}

const Expected* FindExpected(const std::vector<Expected>& all, Event type) {
  for (const Expected& expected : all) {
    if (expected.type == type) {
      return &expected;
    }
  }
  return nullptr;
}

// Size and FNV-1a of every committed file, as committed. A golden file is never rewritten:
// a new event type or schema version adds files (and lines here), it does not change these.
struct Fingerprint {
  Event type;
  size_t size_bytes;
  uint64_t fnv1a64;
};
// clang-format off
constexpr Fingerprint kFingerprints[] = {
    {Event::BankReceiptRecorded, 400, 0x669d3d55132a1735ULL},
    {Event::EmployerRegistered, 400, 0xf84eaa5bf4de5ad3ULL},
    {Event::EmployerRatesChanged, 296, 0xdfae76dd9c181d16ULL},
    {Event::EmployerRateReductionGranted, 344, 0x92fe856d54b1c3faULL},
    {Event::EmployerDeferralGranted, 328, 0x63e271fc3c9a65faULL},
    {Event::EmployerSealed, 320, 0x6a510d9331713489ULL},
    {Event::EmployerReopened, 296, 0x1ff66271944a5bb1ULL},
    {Event::EmployerClosed, 320, 0xa83607b591f89b4fULL},
    {Event::AccountOpened, 352, 0x11897f030edadf12ULL},
    {Event::AccountBaseChanged, 304, 0xcb41961473cfc122ULL},
    {Event::AccountSealed, 296, 0xede58115bc5ffe99ULL},
    {Event::AccountUnsealed, 312, 0x7b00245058f766f7ULL},
    {Event::AccountFrozen, 360, 0x2c660b1a5ff5c9bfULL},
    {Event::AccountUnfrozen, 360, 0x69de5561414c1227ULL},
    {Event::AccountClosed, 312, 0xbfb31e240408594cULL},
    {Event::SuspenseRefunded, 440, 0x592f16216c22ba97ULL},
    {Event::RemittanceOpened, 352, 0xebadeee94514b477ULL},
    {Event::ContributionAllocated, 400, 0xb1e5044a9d1d514eULL},
    {Event::RemittanceCompleted, 320, 0x92cb896f772ebe47ULL},
    {Event::RemittanceCancelled, 328, 0x71839cfae3083350ULL},
    {Event::FlexibleContributionReceived, 424, 0x74ea5f6fabe34d02ULL},
    {Event::WithdrawalApplied, 416, 0x60f0aa62556b7823ULL},
    {Event::WithdrawalApproved, 336, 0xa68d9c403b3517acULL},
    {Event::WithdrawalRejected, 392, 0xce8756debc5eea6bULL},
    {Event::WithdrawalPaid, 416, 0x476ca25b84db7951ULL},
    {Event::WithdrawalCancelled, 328, 0x9065f3390cebbb34ULL},
    {Event::InterestToDateCredited, 408, 0x8a0575f03eb29eb6ULL},
    {Event::HeirlessBalanceTransferred, 384, 0x3cf6b3fcc8be7f22ULL},
    {Event::LoanApproved, 400, 0x14df61c91c3a90afULL},
    {Event::LoanDisbursed, 448, 0x6ace1f70941e885eULL},
    {Event::LoanInstalmentRepaid, 448, 0xc17279ed13abafeeULL},
    {Event::LoanPrepaid, 448, 0x25302550b36de28fULL},
    {Event::LoanInstalmentOverdue, 416, 0xa5ebddd08f3cf425ULL},
    {Event::PenaltyInterestAccrued, 376, 0xaafe376bb96d090aULL},
    {Event::LoanRepriced, 320, 0xc1b70164a34a2be2ULL},
    {Event::LoanRiskClassChanged, 296, 0x160e2c3b3b10606bULL},
    {Event::LoanSettled, 296, 0x89cee1a840f36688ULL},
    {Event::LoanWrittenOff, 448, 0x0605c648dfc5d45eULL},
    {Event::DepositPlaced, 432, 0xaa5e4811056e59feULL},
    {Event::DepositInterestReceived, 400, 0xbbdc7ff22209b60bULL},
    {Event::DepositMatured, 424, 0x7e3a0a485dba0a7aULL},
    {Event::DepositWithdrawn, 432, 0xd7c77c9acfef4b6dULL},
    {Event::YearEndSettlementStarted, 296, 0x4898dad53c42a75aULL},
    {Event::YearEndInterestCredited, 408, 0x1a3b5897fb6e7ac8ULL},
    {Event::YearEndSettlementCompleted, 296, 0x4095eb4d8096e557ULL},
    {Event::ValueAddedIncomeDetermined, 592, 0x22002e50fe570669ULL},
    {Event::ValueAddedIncomeDistributed, 472, 0x5b5ec40451b26ac3ULL},
    {Event::ValueAddedIncomeRemitted, 424, 0x8099c8a54076b5c1ULL},
    {Event::BankFeePaid, 416, 0x36e51f12846e381bULL},
    {Event::PolicyChanged, 536, 0x4cb935ffdadabd98ULL},
    {Event::TransferInRequested, 376, 0x5178f445b41f7941ULL},
    {Event::TransferOutRequested, 336, 0x4c1b429f49334273ULL},
    {Event::TransferOutConfirmed, 328, 0x6d94786ad83225b4ULL},
    {Event::TransferOutRejected, 352, 0xec07c05afaf3228cULL},
    {Event::TransferOutSent, 480, 0xf17f245917c1bf4eULL},
    {Event::TransferInCredited, 480, 0xb3dc42eab1ed2faaULL},
    {Event::RecordReversed, 472, 0xac40ce8240f1dcc6ULL},
};
// clang-format on

}  // namespace

TEST_SUITE("golden") {
  TEST_CASE("Golden: every event type has a committed buffer") {
    for (const Event type : EventTypes()) {
      CAPTURE(v1::EnumNameEvent(type));
      CHECK(std::filesystem::is_regular_file(GoldenPath(type)));
    }
  }

  TEST_CASE("Golden: every committed buffer names an event type") {
    std::set<std::string> names;
    for (const Event type : EventTypes()) {
      names.insert(std::string(v1::EnumNameEvent(type)) + ".hpfr");
    }
    for (const auto& entry : std::filesystem::directory_iterator(GoldenDir())) {
      CAPTURE(entry.path().string());
      CHECK(names.count(entry.path().filename().string()) == 1);
    }
  }

  TEST_CASE("Golden: every event type has expectations and a fingerprint in this test") {
    const std::vector<Expected> all = ExpectedRecords();
    for (const Event type : EventTypes()) {
      CAPTURE(v1::EnumNameEvent(type));
      CHECK(FindExpected(all, type) != nullptr);
      size_t fingerprints_count = 0;
      for (const Fingerprint& fingerprint : kFingerprints) {
        fingerprints_count += fingerprint.type == type ? 1 : 0;
      }
      CHECK(fingerprints_count == 1);
    }
  }

  TEST_CASE("Golden: committed buffers are byte-for-byte unchanged") {
    for (const Fingerprint& fingerprint : kFingerprints) {
      CAPTURE(v1::EnumNameEvent(fingerprint.type));
      const std::vector<uint8_t> bytes = ReadGolden(fingerprint.type);
      CHECK(bytes.size() == fingerprint.size_bytes);
      CHECK(Fnv1a64(bytes) == fingerprint.fnv1a64);
    }
  }

  TEST_CASE("Golden: every buffer verifies and carries its own event type") {
    for (const Event type : EventTypes()) {
      CAPTURE(v1::EnumNameEvent(type));
      const std::vector<uint8_t> bytes = ReadGolden(type);
      const Record& record = VerifiedRecord(bytes);
      CHECK(v1::RecordBufferHasIdentifier(bytes.data()));
      CHECK(record.payload_type() == type);
      CHECK(record.payload() != nullptr);
    }
  }

  TEST_CASE("Golden: postings balance and every amount is positive") {
    for (const Event type : EventTypes()) {
      CAPTURE(v1::EnumNameEvent(type));
      const std::vector<uint8_t> bytes = ReadGolden(type);
      const Record& record = VerifiedRecord(bytes);
      int64_t debit_fen = 0;
      int64_t credit_fen = 0;
      if (record.postings() != nullptr) {
        for (const v1::Posting* posting : *record.postings()) {
          CHECK(posting->amount_fen() > 0);
          CHECK(posting->reserved() == 0);
          (posting->side() == Side::Debit ? debit_fen : credit_fen) += posting->amount_fen();
        }
      }
      CHECK(debit_fen == credit_fen);
    }
  }

  TEST_CASE("Golden: envelopes decode to the values written") {
    const std::vector<Expected> all = ExpectedRecords();
    for (const Event type : EventTypes()) {
      CAPTURE(v1::EnumNameEvent(type));
      const Expected* expected = FindExpected(all, type);
      REQUIRE(expected != nullptr);
      const std::vector<uint8_t> bytes = ReadGolden(type);
      const v1::Envelope* envelope = VerifiedRecord(bytes).envelope();
      REQUIRE(envelope != nullptr);
      const auto code = static_cast<uint32_t>(type);
      REQUIRE(envelope->link() != nullptr);
      CHECK(envelope->link()->position() == 12'345'600 + code);
      CHECK(envelope->link()->recorded_at_us() ==
            1'666'224'000'000'000 + int64_t{code} * 1'000'003);
      // prev_hash and command_hash were filled with (seed × 31 + i × 7 + 1) mod 256.
      for (uint32_t i = 0; i < 32; ++i) {
        CHECK(envelope->link()->prev_hash().bytes()->Get(i) ==
              static_cast<uint8_t>(((1000U + code) * 31U + i * 7U + 1U) & 0xFFU));
        REQUIRE(envelope->command_hash() != nullptr);
        CHECK(envelope->command_hash()->bytes()->Get(i) ==
              static_cast<uint8_t>(((2000U + code) * 31U + i * 7U + 1U) & 0xFFU));
      }
      CHECK(envelope->effective_date() == expected->effective_date);
      CHECK(envelope->stream_kind() == expected->stream_kind);
      CHECK(envelope->stream_id() == expected->stream_id);
      CHECK(envelope->stream_version() > 0);
      CHECK_FALSE(Str(envelope->idempotency_key()).empty());
      CHECK(envelope->command_part() == 0);
      CHECK(envelope->command_parts() == 1);
      CHECK_FALSE(Str(envelope->actor()).empty());
      CHECK_FALSE(Str(envelope->channel()).empty());
      CHECK(envelope->schema_version() == 1);
    }
  }

  TEST_CASE("Golden: postings decode to the lines written") {
    const std::vector<Expected> all = ExpectedRecords();
    for (const Event type : EventTypes()) {
      CAPTURE(v1::EnumNameEvent(type));
      const Expected* expected = FindExpected(all, type);
      REQUIRE(expected != nullptr);
      const std::vector<uint8_t> bytes = ReadGolden(type);
      const Record& record = VerifiedRecord(bytes);
      const size_t lines_count = record.postings() == nullptr ? 0 : record.postings()->size();
      REQUIRE(lines_count == expected->postings.size());
      for (size_t i = 0; i < lines_count; ++i) {
        CAPTURE(i);
        const v1::Posting* posting = record.postings()->Get(static_cast<flatbuffers::uoffset_t>(i));
        const Line& line = expected->postings[i];
        CHECK(posting->gl_account() == line.gl_account);
        CHECK(posting->side() == line.side);
        CHECK(posting->subledger_kind() == line.subledger_kind);
        CHECK(posting->subledger_id() == line.subledger_id);
        CHECK(posting->amount_fen() == line.amount_fen);
      }
    }
  }

  TEST_CASE("Golden: payload fields decode to the values written") {
    const std::vector<Expected> all = ExpectedRecords();
    for (const Event type : EventTypes()) {
      CAPTURE(v1::EnumNameEvent(type));
      const Expected* expected = FindExpected(all, type);
      REQUIRE(expected != nullptr);
      const std::vector<uint8_t> bytes = ReadGolden(type);
      expected->check_payload(VerifiedRecord(bytes));
    }
  }

  TEST_CASE("Golden: v1 layouts are unchanged; tables only gained fields at the end") {
    for (const Layout& layout : TypeLayoutsV1()) {
      CAPTURE(layout.name);
      const flatbuffers::TypeTable& table = *layout.type_table();
      const std::vector<std::string> fields = Fields(table);
      if (table.st == flatbuffers::ST_STRUCT) {
        CHECK(fields.size() == layout.items.size());
      } else {
        CHECK(fields.size() >= layout.items.size());
      }
      for (size_t i = 0; i < layout.items.size() && i < fields.size(); ++i) {
        CAPTURE(i);
        CHECK(fields[i] == layout.items[i]);
      }
    }
  }

  TEST_CASE("Golden: the union and every enum keep their v1 values") {
    for (const Layout& layout : EnumLayoutsV1()) {
      CAPTURE(layout.name);
      const std::vector<std::string> values = EnumValues(*layout.type_table());
      for (const std::string_view item : layout.items) {
        CAPTURE(item);
        CHECK(std::find(values.begin(), values.end(), item) != values.end());
      }
    }
  }

  TEST_CASE("Golden: code lists keep their stored values") {
    // Union members: the type code stored in every record.
    CHECK(static_cast<int>(Event::BankReceiptRecorded) == 1);
    CHECK(static_cast<int>(Event::ContributionAllocated) == 18);
    CHECK(static_cast<int>(Event::WithdrawalPaid) == 25);
    CHECK(static_cast<int>(Event::LoanInstalmentRepaid) == 31);
    CHECK(static_cast<int>(Event::YearEndInterestCredited) == 44);
    CHECK(static_cast<int>(Event::RecordReversed) == 57);
    // Data-standard codes (DOMAIN §2, §4, §5).
    CHECK(static_cast<int>(v1::BusinessType::Remittance) == 1);
    CHECK(static_cast<int>(v1::BusinessType::BackPayment) == 2);
    CHECK(static_cast<int>(v1::BusinessType::YearEndInterest) == 9);
    CHECK(static_cast<int>(v1::BusinessType::Unfreeze) == 15);
    CHECK(static_cast<int>(v1::BusinessType::Other) == 99);
    CHECK(static_cast<int>(v1::WithdrawalReason::Purchase) == 1);
    CHECK(static_cast<int>(v1::WithdrawalReason::LoanRepayment) == 6);
    CHECK(static_cast<int>(v1::WithdrawalReason::Death) == 8);
    CHECK(static_cast<int>(v1::WithdrawalReason::SeriousIllness) == 9);
    CHECK(static_cast<int>(v1::WithdrawalReason::Other) == 99);
    CHECK(static_cast<int>(v1::RepaymentMethod::EqualInstalments) == 1);
    CHECK(static_cast<int>(v1::RepaymentMethod::EqualPrincipal) == 2);
    CHECK(static_cast<int>(v1::LoanRiskClass::Loss) == 5);
    CHECK(static_cast<int>(v1::DepositKind::Term) == 3);
  }
}
