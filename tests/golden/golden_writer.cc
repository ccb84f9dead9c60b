// tests/golden/golden_writer.cc — hpf-golden-writer: writes one golden Record per event type.
//
// Usage: hpf-golden-writer OUT_DIR [--overwrite]
//
// For every member of the `Event` union it builds, with the FlatBuffers API directly, one
// complete Record (envelope, payload with realistic values, the postings the event implies on
// the chart of DOMAIN.md §7) and writes it as OUT_DIR/<EventTableName>.hpfr. Committed golden
// files are immutable: without --overwrite an existing file is kept, so adding an event type
// only adds its file. golden_test.cc checks the committed files against literals of its own;
// nothing in this program is shared with it, on purpose.
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "schemas/record_generated.h"

namespace {

namespace v1 = hpf::schema::v1;
using v1::EntityKind;
using v1::Event;
using v1::Posting;
using v1::Side;
using Fbb = flatbuffers::FlatBufferBuilder;
using PayloadFn = std::function<flatbuffers::Offset<void>(Fbb&)>;

constexpr uint16_t kSchemaVersion = 1;
constexpr uint64_t kPositionBase = 12'345'600;                // position = base + type code
constexpr int64_t kRecordedAtBaseUs = 1'666'224'000'000'000;  // 2022-10-20T00:00:00Z

// Entities the cases share, so the set reads as one city's history.
constexpr uint64_t kEmployer = 20001;
constexpr uint64_t kEmployer2 = 20002;
constexpr uint64_t kAccount = 100000123;
constexpr uint64_t kCoBorrower = 100000124;
constexpr uint64_t kSealedAccount = 100000321;
constexpr uint64_t kFlexibleAccount = 100000456;
constexpr uint64_t kClosingAccount = 100000789;
constexpr uint64_t kHeirlessAccount = 100000555;
constexpr uint64_t kNewAccount = 100000999;
constexpr uint64_t kDemandDeposit = 9001;  // CCB demand account, receives and pays
constexpr uint64_t kTermDeposit = 9101;
constexpr uint64_t kMaturedDeposit = 9102;
constexpr uint64_t kCallDeposit = 9201;
constexpr uint64_t kValueAddedDeposit = 9501;  // 增值收益存款 (102)
constexpr uint64_t kRemittance = 80000011;
constexpr uint64_t kLoan = 50000042;
constexpr uint64_t kDistressedLoan = 50000043;
constexpr uint64_t kRepricedLoan = 50000017;
constexpr uint64_t kSettledLoan = 50000009;
constexpr uint64_t kRentWithdrawal = 70000007;
constexpr uint64_t kClosingWithdrawal = 70000010;
constexpr uint64_t kTransferOut = 3701002022000457;  // assigned by Jinan (370100)
constexpr uint64_t kTransferIn = 3702002022000981;   // assigned by us, Qingdao (370200)
constexpr uint64_t kFund = 1;

Posting Line(Side side, uint32_t gl, EntityKind kind, uint64_t id, int64_t amount_fen) {
  return Posting(gl, side, kind, 0, id, amount_fen);
}
Posting Dr(uint32_t gl, EntityKind kind, uint64_t id, int64_t amount_fen) {
  return Line(Side::Debit, gl, kind, id, amount_fen);
}
Posting Cr(uint32_t gl, EntityKind kind, uint64_t id, int64_t amount_fen) {
  return Line(Side::Credit, gl, kind, id, amount_fen);
}
// Chart codes kept without a sub-ledger (see the header of schemas/events.fbs).
Posting Dr(uint32_t gl, int64_t amount_fen) { return Dr(gl, EntityKind::None, 0, amount_fen); }
Posting Cr(uint32_t gl, int64_t amount_fen) { return Cr(gl, EntityKind::None, 0, amount_fen); }

// A digest whose bytes follow a recognisable pattern; golden records are not a real chain.
v1::Digest PatternDigest(uint32_t seed) {
  std::array<uint8_t, 32> bytes{};
  for (uint32_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>((seed * 31U + i * 7U + 1U) & 0xFFU);
  }
  return v1::Digest(flatbuffers::make_span(bytes));
}

struct GoldenCase {
  Event type = Event::NONE;
  EntityKind stream_kind = EntityKind::None;
  uint64_t stream_id = 0;
  uint64_t stream_version = 0;
  uint32_t effective_date = 0;
  std::string idempotency_key;
  std::string actor;
  std::string channel;
  std::vector<Posting> postings;
  PayloadFn payload;
};

std::vector<GoldenCase> Cases() {
  using namespace hpf::schema::v1;  // NOLINT: the Create* helpers read better unqualified.
  std::vector<GoldenCase> cases;

  // --- Employers -------------------------------------------------------------------------
  cases.push_back({.type = Event::BankReceiptRecorded,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer,
                   .stream_version = 41,
                   .effective_date = 20220620,
                   .idempotency_key = "CCB-QD-20220620-00018842",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 30684520),
                                Cr(219, EntityKind::Employer, kEmployer, 30684520)},
                   .payload = [](Fbb& fbb) {
                     return CreateBankReceiptRecordedDirect(fbb, kEmployer, "105",
                                                            "CCB-QD-20220620-00018842", 30684520,
                                                            kDemandDeposit)
                         .Union();
                   }});
  cases.push_back({.type = Event::EmployerRegistered,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer,
                   .stream_version = 1,
                   .effective_date = 20190301,
                   .idempotency_key = "op-20190301-0007",
                   .actor = "operator:wang.li",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateEmployerRegisteredDirect(fbb, kEmployer, "91370211MA3C8QXK2T",
                                                           "青岛海湾精密机械有限公司", "105",
                                                           120000, 120000, 201903)
                         .Union();
                   }});
  cases.push_back(
      {.type = Event::EmployerRatesChanged,
       .stream_kind = EntityKind::Employer,
       .stream_id = kEmployer,
       .stream_version = 42,
       .effective_date = 20220701,
       .idempotency_key = "op-20220701-0113",
       .actor = "operator:wang.li",
       .channel = "online",
       .postings = {},
       .payload = [](Fbb& fbb) {
         return CreateEmployerRatesChanged(fbb, kEmployer, 100000, 100000, 202207).Union();
       }});
  cases.push_back({.type = Event::EmployerRateReductionGranted,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer2,
                   .stream_version = 17,
                   .effective_date = 20220510,
                   .idempotency_key = "op-20220510-0021",
                   .actor = "operator:liu.yang",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateEmployerRateReductionGrantedDirect(
                                fbb, kEmployer2, 50000, 50000, 202205, 202212, "QDGJJ-JB-2022-0137")
                         .Union();
                   }});
  cases.push_back({.type = Event::EmployerDeferralGranted,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer2,
                   .stream_version = 18,
                   .effective_date = 20220512,
                   .idempotency_key = "op-20220512-0044",
                   .actor = "operator:liu.yang",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateEmployerDeferralGrantedDirect(fbb, kEmployer2, 202205, 202212,
                                                                "QDGJJ-HJ-2022-0262")
                         .Union();
                   }});
  cases.push_back({.type = Event::EmployerSealed,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer2,
                   .stream_version = 19,
                   .effective_date = 20220830,
                   .idempotency_key = "op-20220830-0009",
                   .actor = "operator:liu.yang",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateEmployerSealedDirect(fbb, kEmployer2,
                                                       EmployerExitReason::SuspendedBusiness,
                                                       "QDGJJ-FC-2022-0042")
                         .Union();
                   }});
  cases.push_back({.type = Event::EmployerReopened,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer2,
                   .stream_version = 20,
                   .effective_date = 20230105,
                   .idempotency_key = "op-20230105-0003",
                   .actor = "operator:liu.yang",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateEmployerReopened(fbb, kEmployer2, 202301).Union();
                   }});
  cases.push_back({.type = Event::EmployerClosed,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer2,
                   .stream_version = 21,
                   .effective_date = 20231130,
                   .idempotency_key = "op-20231130-0015",
                   .actor = "operator:liu.yang",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateEmployerClosedDirect(fbb, kEmployer2,
                                                       EmployerExitReason::Dissolved,
                                                       "QDGJJ-XH-2023-0009")
                         .Union();
                   }});

  // --- Personal accounts -----------------------------------------------------------------
  cases.push_back({.type = Event::AccountOpened,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kNewAccount,
                   .stream_version = 1,
                   .effective_date = 20220711,
                   .idempotency_key = "op-20220711-0321",
                   .actor = "operator:wang.li",
                   .channel = "online",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     const Digest identity = PatternDigest(901);
                     return CreateAccountOpened(fbb, kNewAccount, kEmployer,
                                                ContributorKind::Employee, 5000999, &identity,
                                                650000, 202207)
                         .Union();
                   }});
  cases.push_back(
      {.type = Event::AccountBaseChanged,
       .stream_kind = EntityKind::Account,
       .stream_id = kAccount,
       .stream_version = 38,
       .effective_date = 20220701,
       .idempotency_key = "op-20220701-0456",
       .actor = "operator:wang.li",
       .channel = "online",
       .postings = {},
       .payload = [](Fbb& fbb) {
         return CreateAccountBaseChanged(fbb, kAccount, kEmployer, 920000, 202207).Union();
       }});
  cases.push_back({.type = Event::AccountSealed,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kSealedAccount,
                   .stream_version = 52,
                   .effective_date = 20220815,
                   .idempotency_key = "op-20220815-0101",
                   .actor = "operator:wang.li",
                   .channel = "online",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateAccountSealed(fbb, kSealedAccount, kEmployer,
                                                AccountSealReason::LeftEmployer)
                         .Union();
                   }});
  cases.push_back({.type = Event::AccountUnsealed,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kSealedAccount,
                   .stream_version = 53,
                   .effective_date = 20220905,
                   .idempotency_key = "op-20220905-0077",
                   .actor = "operator:zhang.hui",
                   .channel = "online",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateAccountUnsealed(fbb, kSealedAccount, kEmployer2, kEmployer,
                                                  780000, 202209)
                         .Union();
                   }});
  cases.push_back({.type = Event::AccountFrozen,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kAccount,
                   .stream_version = 39,
                   .effective_date = 20220712,
                   .idempotency_key = "op-20220712-0005",
                   .actor = "operator:sun.jie",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateAccountFrozenDirect(fbb, kAccount, "(2022)鲁0202执1234号",
                                                      "青岛市市南区人民法院")
                         .Union();
                   }});
  cases.push_back({.type = Event::AccountUnfrozen,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kAccount,
                   .stream_version = 40,
                   .effective_date = 20220919,
                   .idempotency_key = "op-20220919-0011",
                   .actor = "operator:sun.jie",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateAccountUnfrozenDirect(fbb, kAccount, "(2022)鲁0202执1234号",
                                                        "青岛市市南区人民法院")
                         .Union();
                   }});
  cases.push_back({.type = Event::AccountClosed,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kClosingAccount,
                   .stream_version = 96,
                   .effective_date = 20221020,
                   .idempotency_key = "op-20221020-0333",
                   .actor = "operator:zhang.hui",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateAccountClosed(fbb, kClosingAccount, kEmployer,
                                                AccountCloseReason::ClosingWithdrawal,
                                                EntityKind::Withdrawal, kClosingWithdrawal)
                         .Union();
                   }});

  // --- Remittances -----------------------------------------------------------------------
  cases.push_back({.type = Event::SuspenseRefunded,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer,
                   .stream_version = 45,
                   .effective_date = 20220624,
                   .idempotency_key = "CCB-QD-20220624-00020417",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(219, EntityKind::Employer, kEmployer, 120000),
                                Cr(101, EntityKind::Deposit, kDemandDeposit, 120000)},
                   .payload = [](Fbb& fbb) {
                     return CreateSuspenseRefundedDirect(fbb, kEmployer, 120000, kDemandDeposit,
                                                         "105", "CCB-QD-20220624-00020417",
                                                         "paid twice for 202206")
                         .Union();
                   }});
  cases.push_back({.type = Event::RemittanceOpened,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer,
                   .stream_version = 42,
                   .effective_date = 20220621,
                   .idempotency_key = "QD-HJ-202206-20001",
                   .actor = "bank:105",
                   .channel = "bank-file:105",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateRemittanceOpenedDirect(fbb, kRemittance, kEmployer,
                                                         BusinessType::Remittance, 202206, 202206,
                                                         148, 30684520, "QD-HJ-202206-20001")
                         .Union();
                   }});
  cases.push_back({.type = Event::ContributionAllocated,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kAccount,
                   .stream_version = 36,
                   .effective_date = 20220621,
                   .idempotency_key = "QD-HJ-202206-20001",
                   .actor = "bank:105",
                   .channel = "bank-file:105",
                   .postings = {Dr(219, EntityKind::Employer, kEmployer, 204000),
                                Cr(201, EntityKind::Account, kAccount, 204000)},
                   .payload = [](Fbb& fbb) {
                     return CreateContributionAllocated(fbb, kRemittance, kEmployer, kAccount,
                                                        BusinessType::Remittance, 202206, 850000,
                                                        120000, 120000, 102000, 102000)
                         .Union();
                   }});
  cases.push_back({.type = Event::RemittanceCompleted,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer,
                   .stream_version = 43,
                   .effective_date = 20220621,
                   .idempotency_key = "QD-HJ-202206-20001",
                   .actor = "bank:105",
                   .channel = "bank-file:105",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateRemittanceCompleted(fbb, kRemittance, kEmployer,
                                                      BusinessType::Remittance, 148, 30684520,
                                                      202206)
                         .Union();
                   }});
  cases.push_back({.type = Event::RemittanceCancelled,
                   .stream_kind = EntityKind::Employer,
                   .stream_id = kEmployer,
                   .stream_version = 44,
                   .effective_date = 20220622,
                   .idempotency_key = "op-20220622-0019",
                   .actor = "operator:wang.li",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateRemittanceCancelledDirect(fbb, 80000012, kEmployer,
                                                            "list uploaded twice")
                         .Union();
                   }});
  cases.push_back({.type = Event::FlexibleContributionReceived,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kFlexibleAccount,
                   .stream_version = 9,
                   .effective_date = 20220615,
                   .idempotency_key = "CCB-QD-20220615-00007731",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 96000),
                                Cr(201, EntityKind::Account, kFlexibleAccount, 96000)},
                   .payload = [](Fbb& fbb) {
                     return CreateFlexibleContributionReceivedDirect(
                                fbb, kFlexibleAccount, 202206, 400000, 240000, 96000,
                                kDemandDeposit, "105", "CCB-QD-20220615-00007731")
                         .Union();
                   }});

  // --- Withdrawals -----------------------------------------------------------------------
  cases.push_back({.type = Event::WithdrawalApplied,
                   .stream_kind = EntityKind::Withdrawal,
                   .stream_id = kRentWithdrawal,
                   .stream_version = 1,
                   .effective_date = 20220621,
                   .idempotency_key = "op-20220621-0542",
                   .actor = "operator:wang.li",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateWithdrawalAppliedDirect(
                                fbb, kRentWithdrawal, kAccount, WithdrawalReason::Rent,
                                LocalWithdrawalReason::None, 150000, WithdrawalPayee::AccountHolder,
                                0, "tok:6217-****-0421", "QD-ZL-2022-0031876", 0,
                                "operator:wang.li", 20220624)
                         .Union();
                   }});
  cases.push_back({.type = Event::WithdrawalApproved,
                   .stream_kind = EntityKind::Withdrawal,
                   .stream_id = kRentWithdrawal,
                   .stream_version = 2,
                   .effective_date = 20220622,
                   .idempotency_key = "op-20220622-0611",
                   .actor = "reviewer:zhao.min",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateWithdrawalApprovedDirect(fbb, kRentWithdrawal, kAccount,
                                                           "reviewer:zhao.min", 150000)
                         .Union();
                   }});
  cases.push_back({.type = Event::WithdrawalRejected,
                   .stream_kind = EntityKind::Withdrawal,
                   .stream_id = 70000008,
                   .stream_version = 2,
                   .effective_date = 20220622,
                   .idempotency_key = "op-20220622-0612",
                   .actor = "reviewer:zhao.min",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateWithdrawalRejectedDirect(
                                fbb, 70000008, kSealedAccount, "reviewer:zhao.min",
                                "purchase contract not filed with the housing bureau")
                         .Union();
                   }});
  cases.push_back({.type = Event::WithdrawalPaid,
                   .stream_kind = EntityKind::Withdrawal,
                   .stream_id = kRentWithdrawal,
                   .stream_version = 3,
                   .effective_date = 20220623,
                   .idempotency_key = "CCB-QD-20220623-00031190",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(201, EntityKind::Account, kAccount, 150000),
                                Cr(101, EntityKind::Deposit, kDemandDeposit, 150000)},
                   .payload = [](Fbb& fbb) {
                     return CreateWithdrawalPaidDirect(
                                fbb, kRentWithdrawal, kAccount, WithdrawalReason::Rent, 150000,
                                kDemandDeposit, "105", "CCB-QD-20220623-00031190")
                         .Union();
                   }});
  cases.push_back({.type = Event::WithdrawalCancelled,
                   .stream_kind = EntityKind::Withdrawal,
                   .stream_id = 70000009,
                   .stream_version = 2,
                   .effective_date = 20220705,
                   .idempotency_key = "online-20220705-8812",
                   .actor = "person:5000456",
                   .channel = "online",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateWithdrawalCancelledDirect(fbb, 70000009, kFlexibleAccount,
                                                            "withdrawn by the applicant")
                         .Union();
                   }});
  cases.push_back(
      {.type = Event::InterestToDateCredited,
       .stream_kind = EntityKind::Account,
       .stream_id = kClosingAccount,
       .stream_version = 94,
       .effective_date = 20221020,
       .idempotency_key = "op-20221020-0331",
       .actor = "operator:zhang.hui",
       .channel = "counter:shinan",
       .postings = {Dr(41101, 24210), Cr(201, EntityKind::Account, kClosingAccount, 24210)},
       .payload = [](Fbb& fbb) {
         // 5 234 567 fen for the 111 days from 1 July to 20 October at 1.5 %.
         const std::vector<InterestSegment> segments = {
             InterestSegment(20220701, 15000, 581036937)};
         return CreateInterestToDateCreditedDirect(fbb, kClosingAccount, 20220701, 20221020, 360,
                                                   &segments, 24210, EntityKind::Withdrawal,
                                                   kClosingWithdrawal)
             .Union();
       }});
  cases.push_back(
      {.type = Event::HeirlessBalanceTransferred,
       .stream_kind = EntityKind::Account,
       .stream_id = kHeirlessAccount,
       .stream_version = 71,
       .effective_date = 20220916,
       .idempotency_key = "op-20220916-0002",
       .actor = "operator:sun.jie",
       .channel = "counter:shinan",
       .postings = {Dr(201, EntityKind::Account, kHeirlessAccount, 3456789), Cr(40105, 3456789)},
       .payload = [](Fbb& fbb) {
         return CreateHeirlessBalanceTransferredDirect(fbb, kHeirlessAccount, 3456789,
                                                       "(2022)鲁0203民特123号")
             .Union();
       }});

  // --- Loans -----------------------------------------------------------------------------
  cases.push_back({.type = Event::LoanApproved,
                   .stream_kind = EntityKind::Loan,
                   .stream_id = kLoan,
                   .stream_version = 1,
                   .effective_date = 20221012,
                   .idempotency_key = "op-20221012-0088",
                   .actor = "reviewer:qian.lei",
                   .channel = "counter:loan-centre",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateLoanApprovedDirect(fbb, kLoan, kAccount, kCoBorrower, 100000000,
                                                     360, 31000, RepaymentMethod::EqualInstalments,
                                                     HomeKind::FirstHome, 180000000, "105",
                                                     "QDGJJ-DK-2022-004217")
                         .Union();
                   }});
  cases.push_back({.type = Event::LoanDisbursed,
                   .stream_kind = EntityKind::Loan,
                   .stream_id = kLoan,
                   .stream_version = 2,
                   .effective_date = 20221020,
                   .idempotency_key = "CCB-QD-20221020-00045521",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(121, EntityKind::Loan, kLoan, 100000000),
                                Cr(101, EntityKind::Deposit, kDemandDeposit, 100000000)},
                   .payload = [](Fbb& fbb) {
                     return CreateLoanDisbursedDirect(fbb, kLoan, kAccount, 100000000,
                                                      kDemandDeposit, "CCB-QD-20221020-00045521",
                                                      20221120, 427016, "tok:3702-****-7715")
                         .Union();
                   }});
  cases.push_back({.type = Event::LoanInstalmentRepaid,
                   .stream_kind = EntityKind::Loan,
                   .stream_id = kLoan,
                   .stream_version = 3,
                   .effective_date = 20221120,
                   .idempotency_key = "CCB-QD-20221120-00051002",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 427016),
                                Cr(121, EntityKind::Loan, kLoan, 168683), Cr(40103, 258333)},
                   .payload = [](Fbb& fbb) {
                     return CreateLoanInstalmentRepaidDirect(
                                fbb, kLoan, 1, 20221120, 168683, 258333, 0, false, 99831317,
                                kDemandDeposit, "CCB-QD-20221120-00051002", 0)
                         .Union();
                   }});
  cases.push_back({.type = Event::LoanPrepaid,
                   .stream_kind = EntityKind::Loan,
                   .stream_id = kLoan,
                   .stream_version = 7,
                   .effective_date = 20230306,
                   .idempotency_key = "CCB-QD-20230306-00009921",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 20024111),
                                Cr(121, EntityKind::Loan, kLoan, 20000000), Cr(40103, 24111)},
                   .payload = [](Fbb& fbb) {
                     return CreateLoanPrepaidDirect(fbb, kLoan, 20000000, 24111,
                                                    PrepaymentChoice::LowerInstalment, 79322651,
                                                    356, 341031, kDemandDeposit,
                                                    "CCB-QD-20230306-00009921", 0)
                         .Union();
                   }});
  cases.push_back(
      {.type = Event::LoanInstalmentOverdue,
       .stream_kind = EntityKind::Loan,
       .stream_id = kDistressedLoan,
       .stream_version = 12,
       .effective_date = 20230621,
       .idempotency_key = "sys-overdue-20230621-0001",
       .actor = "system:ledger",
       .channel = "batch",
       .postings = {Dr(122, EntityKind::Loan, kDistressedLoan, 120810),
                    Cr(121, EntityKind::Loan, kDistressedLoan, 120810),
                    Dr(111, EntityKind::Loan, kDistressedLoan, 106068), Cr(40103, 106068)},
       .payload = [](Fbb& fbb) {
         return CreateLoanInstalmentOverdue(fbb, kDistressedLoan, 8, 20230620, 120810, 106068, 1)
             .Union();
       }});
  cases.push_back({.type = Event::PenaltyInterestAccrued,
                   .stream_kind = EntityKind::Loan,
                   .stream_id = kDistressedLoan,
                   .stream_version = 13,
                   .effective_date = 20230720,
                   .idempotency_key = "sys-penalty-20230720-0001",
                   .actor = "system:ledger",
                   .channel = "batch",
                   .postings = {Dr(111, EntityKind::Loan, kDistressedLoan, 922), Cr(40103, 922)},
                   .payload = [](Fbb& fbb) {
                     // 226 878 fen overdue for 30 days at 3.25 % × 1.5.
                     return CreatePenaltyInterestAccrued(fbb, kDistressedLoan, 20230620, 20230720,
                                                         30, 226878, 48750, 922)
                         .Union();
                   }});
  cases.push_back(
      {.type = Event::LoanRepriced,
       .stream_kind = EntityKind::Loan,
       .stream_id = kRepricedLoan,
       .stream_version = 41,
       .effective_date = 20230101,
       .idempotency_key = "sys-reprice-20230101-0001",
       .actor = "system:ledger",
       .channel = "batch",
       .postings = {},
       .payload = [](Fbb& fbb) {
         return CreateLoanRepriced(fbb, kRepricedLoan, 32500, 31000, 61234500, 300, 293576).Union();
       }});
  cases.push_back({.type = Event::LoanRiskClassChanged,
                   .stream_kind = EntityKind::Loan,
                   .stream_id = kDistressedLoan,
                   .stream_version = 20,
                   .effective_date = 20230921,
                   .idempotency_key = "op-20230921-0031",
                   .actor = "reviewer:qian.lei",
                   .channel = "counter:loan-centre",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateLoanRiskClassChanged(fbb, kDistressedLoan,
                                                       LoanRiskClass::SpecialMention,
                                                       LoanRiskClass::Substandard)
                         .Union();
                   }});
  cases.push_back({.type = Event::LoanSettled,
                   .stream_kind = EntityKind::Loan,
                   .stream_id = kSettledLoan,
                   .stream_version = 121,
                   .effective_date = 20220815,
                   .idempotency_key = "CCB-QD-20220815-00039904",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateLoanSettled(fbb, kSettledLoan, kSealedAccount).Union();
                   }});
  cases.push_back(
      {.type = Event::LoanWrittenOff,
       .stream_kind = EntityKind::Loan,
       .stream_id = kDistressedLoan,
       .stream_version = 31,
       .effective_date = 20241231,
       .idempotency_key = "op-20241231-0004",
       .actor = "reviewer:qian.lei",
       .channel = "counter:loan-centre",
       .postings = {Dr(301, 39486166), Cr(121, EntityKind::Loan, kDistressedLoan, 38800000),
                    Cr(122, EntityKind::Loan, kDistressedLoan, 363414),
                    Cr(111, EntityKind::Loan, kDistressedLoan, 322752)},
       .payload = [](Fbb& fbb) {
         return CreateLoanWrittenOffDirect(fbb, kDistressedLoan, 38800000, 363414, 322752,
                                           "QDGJJ-HX-2024-0003")
             .Union();
       }});

  // --- Fund deposits ---------------------------------------------------------------------
  cases.push_back({.type = Event::DepositPlaced,
                   .stream_kind = EntityKind::Deposit,
                   .stream_id = kTermDeposit,
                   .stream_version = 1,
                   .effective_date = 20220701,
                   .idempotency_key = "op-20220701-0901",
                   .actor = "operator:fund.ma",
                   .channel = "counter:finance",
                   .postings = {Dr(101, EntityKind::Deposit, kTermDeposit, 5000000000),
                                Cr(101, EntityKind::Deposit, kDemandDeposit, 5000000000)},
                   .payload = [](Fbb& fbb) {
                     return CreateDepositPlacedDirect(fbb, kTermDeposit, DepositKind::Term, "102",
                                                      5000000000, 17500, 12, 0, 20230701,
                                                      kDemandDeposit, "ICBC-QD-TD-2022-0117")
                         .Union();
                   }});
  cases.push_back(
      {.type = Event::DepositInterestReceived,
       .stream_kind = EntityKind::Deposit,
       .stream_id = kDemandDeposit,
       .stream_version = 388,
       .effective_date = 20220621,
       .idempotency_key = "CCB-QD-20220621-00000001",
       .actor = "bank:105",
       .channel = "bank:105",
       .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 19166667), Cr(40101, 19166667)},
       .payload = [](Fbb& fbb) {
         return CreateDepositInterestReceivedDirect(fbb, kDemandDeposit, 19166667, 20220321,
                                                    20220621, kDemandDeposit,
                                                    "CCB-QD-20220621-00000001")
             .Union();
       }});
  cases.push_back(
      {.type = Event::DepositMatured,
       .stream_kind = EntityKind::Deposit,
       .stream_id = kMaturedDeposit,
       .stream_version = 2,
       .effective_date = 20220901,
       .idempotency_key = "BOC-QD-20220901-00000311",
       .actor = "bank:104",
       .channel = "bank:104",
       .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 2016000000),
                    Cr(101, EntityKind::Deposit, kMaturedDeposit, 2000000000), Cr(40101, 16000000)},
       .payload = [](Fbb& fbb) {
         return CreateDepositMaturedDirect(fbb, kMaturedDeposit, 2000000000, 16000000,
                                           kDemandDeposit, "BOC-QD-20220901-00000311")
             .Union();
       }});
  cases.push_back(
      {.type = Event::DepositWithdrawn,
       .stream_kind = EntityKind::Deposit,
       .stream_id = kCallDeposit,
       .stream_version = 4,
       .effective_date = 20220905,
       .idempotency_key = "ABC-QD-20220905-00000027",
       .actor = "bank:103",
       .channel = "bank:103",
       .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 300393750),
                    Cr(101, EntityKind::Deposit, kCallDeposit, 300000000), Cr(40101, 393750)},
       .payload = [](Fbb& fbb) {
         return CreateDepositWithdrawnDirect(fbb, kCallDeposit, 300000000, 393750, 200000000,
                                             kDemandDeposit, "ABC-QD-20220905-00000027")
             .Union();
       }});

  // --- Year-end interest (the 2016 settlement: the rate changed on 2016-02-21) -----------
  cases.push_back(
      {.type = Event::YearEndSettlementStarted,
       .stream_kind = EntityKind::Fund,
       .stream_id = kFund,
       .stream_version = 61,
       .effective_date = 20160630,
       .idempotency_key = "sys-settle-2016",
       .actor = "system:ledger",
       .channel = "batch",
       .postings = {},
       .payload = [](Fbb& fbb) {
         return CreateYearEndSettlementStarted(fbb, 2016, 20150701, 20160701, 360, 1523417).Union();
       }});
  cases.push_back(
      {.type = Event::YearEndInterestCredited,
       .stream_kind = EntityKind::Account,
       .stream_id = kSealedAccount,
       .stream_version = 14,
       .effective_date = 20160701,
       .idempotency_key = "sys-settle-2016",
       .actor = "system:ledger",
       .channel = "batch",
       .postings = {Dr(41101, 126389), Cr(201, EntityKind::Account, kSealedAccount, 126389)},
       .payload = [](Fbb& fbb) {
         // 10 000 000 fen all year: 235 days at 1.10 %, then 131 days at 1.50 %.
         const std::vector<InterestSegment> segments = {
             InterestSegment(20150701, 11000, 2350000000),
             InterestSegment(20160221, 15000, 1310000000)};
         return CreateYearEndInterestCreditedDirect(fbb, 2016, kSealedAccount, 20150701, 20160701,
                                                    360, &segments, 126389)
             .Union();
       }});
  cases.push_back(
      {.type = Event::YearEndSettlementCompleted,
       .stream_kind = EntityKind::Fund,
       .stream_id = kFund,
       .stream_version = 62,
       .effective_date = 20160630,
       .idempotency_key = "sys-settle-2016",
       .actor = "system:ledger",
       .channel = "batch",
       .postings = {},
       .payload = [](Fbb& fbb) {
         return CreateYearEndSettlementCompleted(fbb, 2016, 1523405, 12, 91234567812).Union();
       }});

  // --- Value-added income and fees (the 2021 accounts) ----------------------------------
  cases.push_back({.type = Event::ValueAddedIncomeDetermined,
                   .stream_kind = EntityKind::Fund,
                   .stream_id = kFund,
                   .stream_version = 70,
                   .effective_date = 20211231,
                   .idempotency_key = "op-20220115-0001",
                   .actor = "operator:fund.ma",
                   .channel = "counter:finance",
                   .postings = {Dr(40101, 61234567890), Dr(40103, 351234567890),
                                Dr(40105, 123456700), Cr(41101, 239876543210),
                                Cr(41102, 4567890123), Cr(41103, 9876543210), Cr(311, 158271615937),
                                Dr(102, EntityKind::Deposit, kValueAddedDeposit, 158271615937),
                                Cr(101, EntityKind::Deposit, kDemandDeposit, 158271615937)},
                   .payload = [](Fbb& fbb) {
                     return CreateValueAddedIncomeDetermined(fbb, 20210101, 20220101, 61234567890,
                                                             351234567890, 123456700, 239876543210,
                                                             4567890123, 9876543210, 158271615937,
                                                             kDemandDeposit, kValueAddedDeposit)
                         .Union();
                   }});
  cases.push_back({.type = Event::ValueAddedIncomeDistributed,
                   .stream_kind = EntityKind::Fund,
                   .stream_id = kFund,
                   .stream_version = 71,
                   .effective_date = 20211231,
                   .idempotency_key = "op-20220301-0002",
                   .actor = "operator:fund.ma",
                   .channel = "counter:finance",
                   .postings = {Dr(311, 158271615937), Cr(301, 79135807969), Cr(21401, 56977781737),
                                Cr(21402, 22158026231)},
                   .payload = [](Fbb& fbb) {
                     return CreateValueAddedIncomeDistributedDirect(
                                fbb, 20210101, 20220101, 158271615937, 500000, 360000, 140000,
                                79135807969, 56977781737, 22158026231, "QDGJJ-ZZ-2022-0001")
                         .Union();
                   }});
  cases.push_back({.type = Event::ValueAddedIncomeRemitted,
                   .stream_kind = EntityKind::Fund,
                   .stream_id = kFund,
                   .stream_version = 72,
                   .effective_date = 20220331,
                   .idempotency_key = "CCB-QD-20220331-00060001",
                   .actor = "operator:fund.ma",
                   .channel = "counter:finance",
                   .postings = {Dr(21402, 22158026231),
                                Cr(102, EntityKind::Deposit, kValueAddedDeposit, 22158026231)},
                   .payload = [](Fbb& fbb) {
                     return CreateValueAddedIncomeRemittedDirect(
                                fbb, ValueAddedIncomeShare::AffordableHousing, 22158026231,
                                kValueAddedDeposit, "青岛市财政局", "CCB-QD-20220331-00060001")
                         .Union();
                   }});
  cases.push_back(
      {.type = Event::BankFeePaid,
       .stream_kind = EntityKind::Fund,
       .stream_id = kFund,
       .stream_version = 90,
       .effective_date = 20220705,
       .idempotency_key = "CCB-QD-20220705-00000402",
       .actor = "operator:fund.ma",
       .channel = "counter:finance",
       .postings = {Dr(41102, 386512), Cr(101, EntityKind::Deposit, kDemandDeposit, 386512)},
       .payload = [](Fbb& fbb) {
         return CreateBankFeePaidDirect(fbb, BankFeeKind::Collection, "105", 202206, 386512,
                                        kDemandDeposit, "CCB-QD-20220705-00000402")
             .Union();
       }});

  // --- Policy ----------------------------------------------------------------------------
  cases.push_back({.type = Event::PolicyChanged,
                   .stream_kind = EntityKind::Policy,
                   .stream_id = kFund,
                   .stream_version = 7,
                   .effective_date = 20220930,
                   .idempotency_key = "op-20220930-0001",
                   .actor = "admin:chen.bo",
                   .channel = "console",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     constexpr std::string_view kDocument =
                         R"({"loan_rates":[{"first_home_over_5y_ppm":31000,)"
                         R"("first_home_up_to_5y_ppm":26000,"from_date":20221001}],"version":7})";
                     const std::vector<uint8_t> document(kDocument.begin(), kDocument.end());
                     // SHA-256 of kDocument.
                     const std::array<uint8_t, 32> sha256 = {
                         0x85, 0x78, 0xd0, 0x0a, 0x8b, 0x89, 0x1d, 0xfb, 0x5c, 0xed, 0x46,
                         0x42, 0xe7, 0xcc, 0xd0, 0x8a, 0xa3, 0x71, 0x79, 0xcc, 0x2c, 0xcd,
                         0xdf, 0x37, 0x47, 0xc5, 0x7d, 0xf6, 0x96, 0xfa, 0x65, 0xc7};
                     const Digest digest(flatbuffers::make_span(sha256));
                     return CreatePolicyChangedDirect(
                                fbb, 7, 20221001, PolicyFormat::Json, &document, &digest,
                                "first-home loan rates 2.60 % / 3.10 % from 2022-10-01",
                                "QDGJJ-JY-2022-0019")
                         .Union();
                   }});

  // --- Cross-city transfer ---------------------------------------------------------------
  cases.push_back({.type = Event::TransferInRequested,
                   .stream_kind = EntityKind::Transfer,
                   .stream_id = kTransferIn,
                   .stream_version = 1,
                   .effective_date = 20220810,
                   .idempotency_key = "op-20220810-0066",
                   .actor = "operator:zhang.hui",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     const Digest identity = PatternDigest(902);
                     return CreateTransferInRequestedDirect(fbb, kTransferIn, "370600", kNewAccount,
                                                            &identity, "YT-0012345678")
                         .Union();
                   }});
  cases.push_back({.type = Event::TransferOutRequested,
                   .stream_kind = EntityKind::Transfer,
                   .stream_id = kTransferOut,
                   .stream_version = 1,
                   .effective_date = 20221018,
                   .idempotency_key = "JN-ZY-2022-000457",
                   .actor = "peer:370100",
                   .channel = "kafka:transfer",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateTransferOutRequestedDirect(fbb, kTransferOut, "370100",
                                                             kClosingAccount, "JN-0087654321")
                         .Union();
                   }});
  cases.push_back({.type = Event::TransferOutConfirmed,
                   .stream_kind = EntityKind::Transfer,
                   .stream_id = kTransferOut,
                   .stream_version = 2,
                   .effective_date = 20221019,
                   .idempotency_key = "op-20221019-0140",
                   .actor = "operator:zhang.hui",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateTransferOutConfirmedDirect(fbb, kTransferOut, "370100",
                                                             kClosingAccount, 5234567)
                         .Union();
                   }});
  cases.push_back({.type = Event::TransferOutRejected,
                   .stream_kind = EntityKind::Transfer,
                   .stream_id = 3702002022000777,
                   .stream_version = 2,
                   .effective_date = 20221019,
                   .idempotency_key = "op-20221019-0141",
                   .actor = "operator:zhang.hui",
                   .channel = "counter:shinan",
                   .postings = {},
                   .payload = [](Fbb& fbb) {
                     return CreateTransferOutRejectedDirect(fbb, 3702002022000777, "370100",
                                                            kAccount, "account is frozen")
                         .Union();
                   }});
  cases.push_back({.type = Event::TransferOutSent,
                   .stream_kind = EntityKind::Transfer,
                   .stream_id = kTransferOut,
                   .stream_version = 3,
                   .effective_date = 20221020,
                   .idempotency_key = "CCB-QD-20221020-00045530",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(201, EntityKind::Account, kClosingAccount, 5258777),
                                Cr(101, EntityKind::Deposit, kDemandDeposit, 5258777)},
                   .payload = [](Fbb& fbb) {
                     const auto history =
                         CreateContributionHistory(fbb, 20150312, 201503, 202209, 91, 91, 0, 0);
                     return CreateTransferOutSentDirect(
                                fbb, kTransferOut, "370100", kClosingAccount, 5258777, 24210,
                                kDemandDeposit, "CCB-QD-20221020-00045530", history)
                         .Union();
                   }});
  cases.push_back({.type = Event::TransferInCredited,
                   .stream_kind = EntityKind::Transfer,
                   .stream_id = kTransferIn,
                   .stream_version = 2,
                   .effective_date = 20220826,
                   .idempotency_key = "CCB-QD-20220826-00041876",
                   .actor = "bank:105",
                   .channel = "bank:105",
                   .postings = {Dr(101, EntityKind::Deposit, kDemandDeposit, 8765432),
                                Cr(201, EntityKind::Account, kNewAccount, 8765432)},
                   .payload = [](Fbb& fbb) {
                     const auto history =
                         CreateContributionHistory(fbb, 20120701, 201207, 202208, 120, 64, 1, 0);
                     return CreateTransferInCreditedDirect(fbb, kTransferIn, "370600", kNewAccount,
                                                           8765432, 35678, kDemandDeposit,
                                                           "CCB-QD-20220826-00041876", history)
                         .Union();
                   }});

  // --- Corrections: reverses the ContributionAllocated golden (type code 18) ------------
  cases.push_back({.type = Event::RecordReversed,
                   .stream_kind = EntityKind::Account,
                   .stream_id = kAccount,
                   .stream_version = 37,
                   .effective_date = 20220621,
                   .idempotency_key = "op-20220625-0077",
                   .actor = "reviewer:zhao.min",
                   .channel = "counter:shinan",
                   .postings = {Dr(201, EntityKind::Account, kAccount, 204000),
                                Cr(219, EntityKind::Employer, kEmployer, 204000)},
                   .payload = [](Fbb& fbb) {
                     const Digest reversed = PatternDigest(18);
                     return CreateRecordReversedDirect(
                                fbb, kPositionBase + 18, &reversed, ReversalReason::WrongAccount,
                                "line 37 of QD-HJ-202206-20001 belongs to account 100000124",
                                "QDGJJ-HC-2022-0815")
                         .Union();
                   }});
  return cases;
}

// Debits equal credits and every amount is positive; what golden_test.cc checks again.
bool Balanced(const std::vector<Posting>& postings) {
  int64_t debit_fen = 0;
  int64_t credit_fen = 0;
  for (const Posting& posting : postings) {
    if (posting.amount_fen() <= 0) {
      return false;
    }
    (posting.side() == Side::Debit ? debit_fen : credit_fen) += posting.amount_fen();
  }
  return debit_fen == credit_fen;
}

std::vector<uint8_t> BuildRecord(const GoldenCase& c) {
  Fbb fbb(1024);
  const flatbuffers::Offset<void> payload = c.payload(fbb);
  const auto code = static_cast<uint32_t>(c.type);
  const v1::ChainLink link(kPositionBase + code, kRecordedAtBaseUs + int64_t{code} * 1'000'003,
                           PatternDigest(1000U + code));
  const v1::Digest command_hash = PatternDigest(2000U + code);
  const auto envelope = v1::CreateEnvelopeDirect(
      fbb, &link, c.effective_date, c.stream_kind, c.stream_id, c.stream_version,
      c.idempotency_key.c_str(), &command_hash, /*command_part=*/0, /*command_parts=*/1,
      c.actor.c_str(), c.channel.c_str(), kSchemaVersion);
  const auto postings = fbb.CreateVectorOfStructs(c.postings);
  v1::FinishRecordBuffer(fbb, v1::CreateRecord(fbb, envelope, c.type, payload, postings));
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

bool WriteFile(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return false;
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && written;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string_view(argv[2]) != "--overwrite")) {
    std::fprintf(stderr, "usage: %s OUT_DIR [--overwrite]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];
  const bool overwrite = argc == 3;

  std::map<Event, GoldenCase> by_type;
  for (GoldenCase& c : Cases()) {
    if (!by_type.emplace(c.type, std::move(c)).second) {
      std::fprintf(stderr, "two cases for %s\n", v1::EnumNameEvent(c.type));
      return 1;
    }
  }
  int written_count = 0;
  for (const Event type : v1::EnumValuesEvent()) {
    if (type == Event::NONE) {
      continue;
    }
    const char* name = v1::EnumNameEvent(type);
    const auto it = by_type.find(type);
    if (it == by_type.end()) {
      std::fprintf(stderr, "no golden case for event type %s\n", name);
      return 1;
    }
    if (!Balanced(it->second.postings)) {
      std::fprintf(stderr, "%s: postings do not balance\n", name);
      return 1;
    }
    const std::vector<uint8_t> bytes = BuildRecord(it->second);
    flatbuffers::Verifier verifier(bytes.data(), bytes.size());
    if (!v1::VerifyRecordBuffer(verifier)) {
      std::fprintf(stderr, "%s: built record does not verify\n", name);
      return 1;
    }
    const std::filesystem::path path = out_dir / (std::string(name) + ".hpfr");
    if (!overwrite && std::filesystem::exists(path)) {
      std::printf("kept    %s\n", path.c_str());
      continue;
    }
    if (!WriteFile(path, bytes)) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("wrote   %s (%zu bytes)\n", path.c_str(), bytes.size());
    ++written_count;
  }
  std::printf("%d file(s) written\n", written_count);
  return 0;
}
