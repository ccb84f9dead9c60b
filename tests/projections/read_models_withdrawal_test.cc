// tests/projections/read_models_withdrawal_test.cc — the read models over closing withdrawals
// (销户提取) and a rate change, folded from a log the real Sequencer wrote: three accounts of
// one employer with July's and August's contributions; Ann retires (applied, approved by
// another reviewer, paid with her interest to date, closed); Cid's applications are rejected
// and cancelled; the policy raises the rate to 1.75 % from 2023-04-01; Cid is settled for the
// 2022 interest year under it; Ben leaves the city, his withdrawal keeps the settlement away
// and he is paid after 30 June with the 2022 year and July 2023 rounded once. Every figure is
// worked out in the comments from the 积数 (fen·days × rate / 360, half-up once).
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "ledger/calendar.h"
#include "ledger/policy.h"
#include "projections/read_models/accounts.h"
#include "projections/read_models/audit_trail.h"
#include "projections/read_models/employers.h"
#include "projections/read_models/fund_summary.h"
#include "projections/read_models/read_models.h"
#include "projections/read_models/statements.h"
#include "projections/read_models/trial_balance.h"
#include "tests/projections/read_models_test_support.h"
#include "tests/support/ledger_commands.h"

namespace hpf::projections::read_models {
namespace {

using ledger::AccountId;
using ledger::Date;
using ledger::EmployerId;
using ledger::Fen;
using testing::Fold;
using testing::Ledger;
using testing::LoggedRecords;
using testing::MemoryStore;

constexpr EmployerId kAcme{1};
constexpr AccountId kAnn{2001};
constexpr AccountId kBen{2002};
constexpr AccountId kCid{2003};
constexpr Fen kSide{96'000};  // 8 000.00 yuan × 12 %

Date D(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }

struct Story {
  uint64_t ann_july = 0, ann_august = 0;
  uint64_t ann_applied = 0, ann_approved = 0;
  uint64_t ann_paid = 0;  // InterestToDateCredited; WithdrawalPaid +1, AccountClosed +2
  uint64_t cid_applied = 0, cid_rejected = 0, cid_reapplied = 0, cid_cancelled = 0;
  uint64_t policy_changed = 0;
  uint64_t ben_applied = 0, ben_approved = 0;
  uint64_t cid_credited = 0;  // Cid's YearEndInterestCredited
  uint64_t ben_paid = 0;      // InterestToDateCredited; WithdrawalPaid +1, AccountClosed +2
};

// The default book with 1.75 % from 2023-04-01 added to its rate table.
std::string RaisedRatePolicy() {
  const ledger::PolicyBook shipped = ledger::DefaultPolicy();
  std::vector<ledger::RateSegment> rates(shipped.personal_rate_table().begin(),
                                         shipped.personal_rate_table().end());
  rates.push_back({D(20230401), ledger::RatePpm{17'500}});
  return ledger::PolicyToJson(ledger::PolicyBook(
      std::vector<ledger::Policy>(shipped.versions().begin(), shipped.versions().end()), rates));
}

Story Tell(Ledger& l) {
  Story s;
  l.Run(20220701, hpf::testing::SampleEmployer(kAcme));
  for (const AccountId account : {kAnn, kBen, kCid}) {
    l.Run(20220701, hpf::testing::SampleAccount(account, kAcme));
  }
  // July and August: 192 000 fen a month for each of the three.
  for (const auto& [list, month, date] :
       {std::tuple{1u, 202207u, 20220715u}, std::tuple{2u, 202208u, 20220815u}}) {
    l.Run(date,
          ledger::RecordBankReceipt{kAcme, "ICBC", fmt::format("ICBC-{}", list), Fen{576'000}},
          "bank:ICBC", "ICBC");
    l.Run(date, ledger::OpenRemittance{.remittance_id = list,
                                       .employer = kAcme,
                                       .kind = ledger::RemittanceKind::kRegular,
                                       .from_month = month,
                                       .to_month = month,
                                       .accounts_count = 3,
                                       .total = Fen{576'000},
                                       .list_reference = fmt::format("L{}", list)});
    for (const AccountId account : {kAnn, kBen, kCid}) {
      const uint64_t line =
          l.Run(date, ledger::AllocateContribution{.remittance_id = list,
                                                   .employer = kAcme,
                                                   .account = account,
                                                   .month = month,
                                                   .contribution_base = Fen{800'000},
                                                   .employer_amount = kSide,
                                                   .employee_amount = kSide});
      if (account == kAnn) (list == 1 ? s.ann_july : s.ann_august) = line;
    }
    l.Run(date, ledger::CompleteRemittance{list, kAcme});
  }
  // Ann retires: applied by one operator, approved by another, paid by the bank.
  s.ann_applied = l.Run(20220901,
                        ledger::ApplyWithdrawal{.withdrawal_id = 7,
                                                .account = kAnn,
                                                .reason = ledger::WithdrawalReason::kRetirement,
                                                .payee_reference = "PAYEE-ANN",
                                                .evidence_reference = "RET-2022-7"},
                        "op:1");
  s.ann_approved = l.Run(20220902, ledger::ApproveWithdrawal{7}, "op:2");
  s.ann_paid = l.Run(20220910, ledger::PayWithdrawal{7, 1, "ICBC", "PAY-7"}, "bank:ICBC", "ICBC");
  // Cid: one application rejected, another cancelled.
  s.cid_applied = l.Run(20221001,
                        ledger::ApplyWithdrawal{.withdrawal_id = 9,
                                                .account = kCid,
                                                .reason = ledger::WithdrawalReason::kDeath,
                                                .payee_reference = "HEIRS",
                                                .evidence_reference = ""},
                        "op:1");
  s.cid_rejected = l.Run(20221002, ledger::RejectWithdrawal{9, "no death certificate"}, "op:2");
  s.cid_reapplied = l.Run(20221101,
                          ledger::ApplyWithdrawal{.withdrawal_id = 10,
                                                  .account = kCid,
                                                  .reason = ledger::WithdrawalReason::kLeavingCity,
                                                  .payee_reference = "PAYEE-CID",
                                                  .evidence_reference = "HK-2022"},
                          "op:1");
  s.cid_cancelled = l.Run(20221103, ledger::CancelWithdrawal{10, "stays in the city"}, "op:1");
  // The rate goes to 1.75 % from 2023-04-01, decided on 2023-03-20.
  s.policy_changed = l.Run(20230320,
                           ledger::ChangePolicy{.document = RaisedRatePolicy(),
                                                .effective_from = 20230401,
                                                .summary = "1.75 % from 2023-04-01",
                                                .approval_reference = "QD-2023-1"},
                           "admin:1");
  // Ben leaves the city; his withdrawal in flight keeps the 2022 settlement away from him.
  s.ben_applied = l.Run(20230620,
                        ledger::ApplyWithdrawal{.withdrawal_id = 11,
                                                .account = kBen,
                                                .reason = ledger::WithdrawalReason::kLeavingCity,
                                                .payee_reference = "PAYEE-BEN",
                                                .evidence_reference = "EXIT-2023"},
                        "op:1");
  s.ben_approved = l.Run(20230621, ledger::ApproveWithdrawal{11}, "op:3");
  s.cid_credited = l.Run(20230630, ledger::SettleInterest{2022, {kCid}}) + 1;
  s.ben_paid = l.Run(20230711, ledger::PayWithdrawal{11, 1, "ICBC", "PAY-11"}, "bank:ICBC", "ICBC");
  return s;
}

struct World {
  Ledger ledger;
  Story story;
  std::unique_ptr<LoggedRecords> log;
  World() {
    story = Tell(ledger);
    log = std::make_unique<LoggedRecords>(ledger.log());
  }
};

World& TheWorld() {
  static World world;
  return world;
}

template <typename P>
MemoryStore FoldOne(P& projection, const std::vector<SourcedRecord>& records) {
  MemoryStore store;
  REQUIRE(projection.Load(store).ok());
  Fold(projection, store, records, 5);
  return store;
}

MemoryStore AccountsStore(const std::vector<SourcedRecord>& records) {
  auto projection = AccountsProjection::Create({}).value();
  return FoldOne(*projection, records);
}

AccountSummary Account(const MemoryStore& store, AccountId id) {
  auto account = GetAccount(store, id.value);
  REQUIRE_MESSAGE(account.has_value(), account.status().ToString());
  REQUIRE(account->has_value());
  return **account;
}

// Ann's interest to date, [2022-07-01, 2022-09-10) at 1.5 %:
//   192 000 × 57 (07-15 .. 09-09) + 192 000 × 26 (08-15 .. 09-09) = 15 936 000 fen·days;
//   15 936 000 × 15 000 / 360 000 000 = 664 fen exactly. Paid: 384 000 + 664 = 384 664.
constexpr int64_t kAnnInterest = 664;
constexpr int64_t kAnnPaid = 384'664;
// The 2022 interest year of Ben and Cid, under 1.5 % then 1.75 % from 2023-04-01:
//   from 07-15: 351 days to 2023-06-30, of which 91 from 04-01; from 08-15: 320, 91 from 04-01.
//   segment 2022-07-01 at 1.5 %:  192 000 × (260 + 229) = 93 888 000 fen·days;
//   segment 2023-04-01 at 1.75 %: 384 000 × 91        = 34 944 000 fen·days.
// Cid's year-end credit: (93 888 000 × 15 000 + 34 944 000 × 17 500) / 360 000 000
//   = 2 019 840 000 000 / 360 000 000 = 5 610.67 → 5 611 fen.
constexpr int64_t kCidInterest = 5'611;
// Ben, paid 2023-07-11: the 2022 year's two segments and 2023-07-01 .. 07-10 at 1.75 %,
//   384 000 × 10 = 3 840 000 fen·days, rounded once over all three:
//   (1 408 320 000 000 + 611 520 000 000 + 67 200 000 000) / 360 000 000 = 5 797.33 → 5 797
//   (rounding each year apart would give 5 611 + 187 = 5 798). Paid: 384 000 + 5 797.
constexpr int64_t kBenInterest = 5'797;
constexpr int64_t kBenPaid = 389'797;

TEST_SUITE("projections") {
  TEST_CASE("Withdrawals: the ledger's own records carry the figures worked out here") {
    World& w = TheWorld();
    const Story& s = w.story;
    const auto& records = w.log->records();
    const auto* ann = records[s.ann_paid - 1].record->payload_as_InterestToDateCredited();
    REQUIRE(ann != nullptr);
    CHECK(ann->interest_fen() == kAnnInterest);
    CHECK(records[s.ann_paid].record->payload_as_WithdrawalPaid()->amount_fen() == kAnnPaid);
    const auto* cid = records[s.cid_credited - 1].record->payload_as_YearEndInterestCredited();
    REQUIRE(cid != nullptr);
    CHECK(cid->interest_fen() == kCidInterest);
    const auto* ben = records[s.ben_paid - 1].record->payload_as_InterestToDateCredited();
    REQUIRE(ben != nullptr);
    CHECK(ben->interest_fen() == kBenInterest);
    REQUIRE(ben->segments()->size() == 3);
    CHECK(ben->segments()->Get(0)->accumulator_fen_days() == 93'888'000);
    CHECK(ben->segments()->Get(1)->accumulator_fen_days() == 34'944'000);
    CHECK(ben->segments()->Get(2)->accumulator_fen_days() == 3'840'000);
    CHECK(records[s.ben_paid].record->payload_as_WithdrawalPaid()->amount_fen() == kBenPaid);
  }

  TEST_CASE("Accounts: the withdrawal in flight while applied and approved, then closed") {
    World& w = TheWorld();
    const Story& s = w.story;
    // Applied: nothing held yet; the amount asked is the balance then.
    const MemoryStore applied = AccountsStore(w.log->Through(s.ann_applied));
    const AccountSummary ann_applied = Account(applied, kAnn);
    REQUIRE(ann_applied.withdrawal_in_flight.has_value());
    CHECK(ann_applied.withdrawal_in_flight->withdrawal_id == 7);
    CHECK(ann_applied.withdrawal_in_flight->status == WithdrawalStatus::kApplied);
    CHECK(ann_applied.withdrawal_in_flight->reason == schema::WithdrawalReason::Retirement);
    CHECK(ann_applied.withdrawal_in_flight->amount == Fen{384'000});
    CHECK(ann_applied.withdrawal_in_flight->position == s.ann_applied);
    CHECK(ann_applied.held == Fen{0});
    CHECK(ann_applied.balance == Fen{384'000});
    // Approved: the balance is held.
    const MemoryStore approved = AccountsStore(w.log->Through(s.ann_approved));
    const AccountSummary ann_approved = Account(approved, kAnn);
    REQUIRE(ann_approved.withdrawal_in_flight.has_value());
    CHECK(ann_approved.withdrawal_in_flight->status == WithdrawalStatus::kApproved);
    CHECK(ann_approved.held == Fen{384'000});
    CHECK(WithdrawalStatusName(ann_approved.withdrawal_in_flight->status) == "approved");
    // Paid: the interest to date in, the payment out, closed by the withdrawal.
    const MemoryStore after = AccountsStore(w.log->records());
    const AccountSummary ann = Account(after, kAnn);
    CHECK(ann.balance == Fen{0});
    CHECK(ann.held == Fen{0});
    CHECK(!ann.withdrawal_in_flight.has_value());
    CHECK(ann.withdrawn == Fen{kAnnPaid});
    CHECK(ann.withdrawals_paid == 1);
    CHECK(ann.interest_credited == Fen{kAnnInterest});
    CHECK(ann.status == AccountStatus::kClosed);
    REQUIRE(ann.closure.has_value());
    CHECK(ann.closure->closed_on == D(20220910));
    CHECK(ann.closure->reason == schema::AccountCloseReason::ClosingWithdrawal);
    CHECK(ann.closure->cause_kind == schema::EntityKind::Withdrawal);
    CHECK(ann.closure->cause_id == 7);
    CHECK(ann.closure->position == s.ann_paid + 2);
    CHECK(ann.last_position == s.ann_paid + 2);
    // A closed account accrues nothing: it has no open year.
    CHECK(InterestAccrued(after, kAnn.value, D(20221001), ledger::DayBasis::k360).status().code() ==
          StatusCode::kFailedPrecondition);
    // Cid's rejected and cancelled applications leave nothing behind.
    const MemoryStore rejected = AccountsStore(w.log->Through(s.cid_rejected - 1));
    CHECK(Account(rejected, kCid).withdrawal_in_flight->withdrawal_id == 9);
    const AccountSummary cid = Account(after, kCid);
    CHECK(!cid.withdrawal_in_flight.has_value());
    CHECK(cid.withdrawn == Fen{0});
    CHECK(cid.closure == std::nullopt);
    // Cid: 384 000 and the 2022 credit; now in the 2023 interest year.
    CHECK(cid.balance == Fen{384'000 + kCidInterest});
    CHECK(cid.interest_year.starting_year() == 2023);
    // Ben: paid after 30 June with the 2022 year still open; the write model carried him
    // into 2023.
    const AccountSummary ben = Account(after, kBen);
    CHECK(ben.balance == Fen{0});
    CHECK(ben.withdrawn == Fen{kBenPaid});
    CHECK(ben.interest_credited == Fen{kBenInterest});
    CHECK(ben.interest_year.starting_year() == 2023);
    CHECK(ben.closure->cause_id == 11);
    // The closed ones by status.
    const auto closed = ListAccounts(after, {.status = AccountStatus::kClosed}, {}).value();
    REQUIRE(closed.items.size() == 2);
    CHECK(closed.items[0].account_id == kAnn.value);
    CHECK(closed.items[1].account_id == kBen.value);
    CHECK(closed.items[1].withdrawn == Fen{kBenPaid});
  }

  TEST_CASE("Accounts: agree with the write model's accounts after the withdrawals") {
    World& w = TheWorld();
    const MemoryStore store = AccountsStore(w.log->records());
    const ledger::State state = w.ledger.Snapshot();
    REQUIRE(state.accounts.size() == 3);
    for (const auto& [id, account] : state.accounts) {
      CAPTURE(id.value);
      const AccountSummary row = Account(store, id);
      CHECK(row.balance == account.balance);
      CHECK(static_cast<int>(row.status) == static_cast<int>(account.status));
      CHECK(row.interest_year == account.interest->year());
      CHECK(row.withdrawal_in_flight.has_value() == (account.withdrawal_in_flight != 0));
    }
  }

  TEST_CASE("Accounts: interest accrued follows the policy change, to the ledger's credit") {
    World& w = TheWorld();
    const Story& s = w.story;
    // Before the change the table is the genesis's, 1.5 % all year: Cid's 2022 积数
    //   128 832 000 fen·days / 24 000 = 5 368 fen.
    const MemoryStore before = AccountsStore(w.log->Through(s.policy_changed - 1));
    const auto old_rate = InterestAccrued(before, kCid.value, D(20230701), ledger::DayBasis::k360);
    REQUIRE_MESSAGE(old_rate.has_value(), old_rate.status().ToString());
    CHECK(old_rate->fen_days.value == 128'832'000);
    CHECK(old_rate->interest == Fen{5'368});
    // After it, just before the settlement: two segments, the ledger's credit to the fen.
    const MemoryStore changed = AccountsStore(w.log->Through(s.cid_credited - 1));
    const auto cid = InterestAccrued(changed, kCid.value, D(20230701), ledger::DayBasis::k360);
    REQUIRE_MESSAGE(cid.has_value(), cid.status().ToString());
    REQUIRE(cid->segments.size() == 2);
    CHECK(cid->segments[0].from == D(20220701));
    CHECK(cid->segments[0].rate == ledger::RatePpm{15'000});
    CHECK(cid->segments[0].fen_days.value == 93'888'000);
    CHECK(cid->segments[1].from == D(20230401));
    CHECK(cid->segments[1].rate == ledger::RatePpm{17'500});
    CHECK(cid->segments[1].fen_days.value == 34'944'000);
    CHECK(cid->interest == Fen{kCidInterest});
    const auto* credited =
        w.log->records()[s.cid_credited - 1].record->payload_as_YearEndInterestCredited();
    CHECK(cid->interest.value == credited->interest_fen());
    // Ben, approved and unpaid, has the same 积数; to a day in May it is partly at 1.75 %:
    //   [2022-07-01, 2023-05-01): 93 888 000 + 384 000 × 30 = 105 408 000 fen·days;
    //   (93 888 000 × 15 000 + 11 520 000 × 17 500) / 360 000 000 = 4 471.99… → 4 472.
    const auto ben = InterestAccrued(changed, kBen.value, D(20230501), ledger::DayBasis::k360);
    REQUIRE(ben.has_value());
    CHECK(ben->fen_days.value == 105'408'000);
    CHECK(ben->interest == Fen{4'472});
    // A rate change in the log reaches the queries of a projector restarted later (the tables
    // are stored), and one folded in any stream-preserving order.
    auto reloaded = AccountsProjection::Create({}).value();
    MemoryStore restarted = AccountsStore(w.log->Through(s.policy_changed));
    REQUIRE(reloaded->Load(restarted).ok());
    std::vector<SourcedRecord> rest;
    for (const SourcedRecord& record : w.log->Through(s.cid_credited - 1)) {
      if (record.position.value > s.policy_changed) rest.push_back(record);
    }
    Fold(*reloaded, restarted, rest, 3);
    CHECK(InterestAccrued(restarted, kCid.value, D(20230701), ledger::DayBasis::k360)->interest ==
          Fen{kCidInterest});
  }

  TEST_CASE("Statements: interest to date (09) and the closing payment (12), running balances") {
    World& w = TheWorld();
    const Story& s = w.story;
    StatementsProjection projection;
    const MemoryStore store = FoldOne(projection, w.log->records());
    const auto ann = Statement(store, {.account_id = kAnn.value}).value();
    REQUIRE(ann.items.size() == 4);
    struct Expected {
      uint64_t position;
      std::string_view type;
      uint8_t business_type;
      int64_t amount;
      int64_t balance;
      uint64_t withdrawal_id;
    };
    const Expected expected[] = {
        {s.ann_july, "ContributionAllocated", 1, 192'000, 192'000, 0},
        {s.ann_august, "ContributionAllocated", 1, 192'000, 384'000, 0},
        {s.ann_paid, "InterestToDateCredited", 9, kAnnInterest, kAnnPaid, 7},
        {s.ann_paid + 1, "WithdrawalPaid", 12, -kAnnPaid, 0, 7},
    };
    for (size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      CHECK(ann.items[i].position == expected[i].position);
      CHECK(ann.items[i].event_type == expected[i].type);
      CHECK(ann.items[i].business_type == expected[i].business_type);
      CHECK(ann.items[i].amount == Fen{expected[i].amount});
      CHECK(ann.items[i].balance == Fen{expected[i].balance});
      CHECK(ann.items[i].withdrawal_id == expected[i].withdrawal_id);
    }
    CHECK(ann.items[3].effective_date == D(20220910));
    CHECK(ann.items[3].off_stream);
    CHECK(!ann.items[2].off_stream);
    // Paged and by date, the payment's balance is still the one after it in the log.
    const auto first = Statement(store, {.account_id = kAnn.value, .page = {.limit = 3}}).value();
    REQUIRE(first.items.size() == 3);
    const auto last =
        Statement(store, {.account_id = kAnn.value, .page = {.after = first.next, .limit = 3}})
            .value();
    REQUIRE(last.items.size() == 1);
    CHECK(last.items[0].balance == Fen{0});
    const auto september =
        Statement(store, {.account_id = kAnn.value, .from = D(20220901), .to = D(20220930)})
            .value();
    REQUIRE(september.items.size() == 2);
    CHECK(september.items[0].balance == Fen{kAnnPaid});
    CHECK(september.items[1].balance == Fen{0});
    // Ben: the interest to date over two interest years, then the payment.
    const auto ben = Statement(store, {.account_id = kBen.value}).value();
    REQUIRE(ben.items.size() == 4);
    CHECK(ben.items[2].amount == Fen{kBenInterest});
    CHECK(ben.items[2].balance == Fen{kBenPaid});
    CHECK(ben.items[2].effective_date == D(20230711));
    CHECK(ben.items[3].amount == Fen{-kBenPaid});
    CHECK(ben.items[3].balance == Fen{0});
    CHECK(ben.items[3].business_type == 12);
  }

  TEST_CASE("Fund summary: withdrawals by reason, interest to date, closed accounts") {
    World& w = TheWorld();
    FundSummaryProjection projection;
    const MemoryStore store = FoldOne(projection, w.log->records());
    const FundSummary year =
        ReadFundSummary(store, {.as_of = D(20230731), .from = D(20220701), .to = D(20230731)})
            .value();
    CHECK(year.contributions == Fen{6 * 192'000});
    CHECK(year.withdrawals == Fen{kAnnPaid + kBenPaid});
    CHECK(year.withdrawals_count == 2);
    REQUIRE(year.withdrawals_by_reason.size() == 2);
    CHECK(year.withdrawals_by_reason[0].reason == schema::WithdrawalReason::Retirement);
    CHECK(year.withdrawals_by_reason[0].count == 1);
    CHECK(year.withdrawals_by_reason[0].amount == Fen{kAnnPaid});
    CHECK(year.withdrawals_by_reason[1].reason == schema::WithdrawalReason::LeavingCity);
    CHECK(year.withdrawals_by_reason[1].amount == Fen{kBenPaid});
    // Interest credited: Ann's and Ben's to date and Cid's year-end, 664 + 5 797 + 5 611.
    CHECK(year.interest_credited == Fen{12'072});
    CHECK(year.interest_to_date == Fen{kAnnInterest + kBenInterest});
    // What is left in 201 is Cid's: 1 152 000 + 12 072 − 774 461 = 389 611.
    CHECK(year.personal_accounts == Fen{384'000 + kCidInterest});
    CHECK(year.closed_accounts == 2);
    CHECK(year.paying_employees == 1);
    CHECK(year.suspense == Fen{0});
    // September 2022 alone: Ann's payment; one account closed by its end.
    const FundSummary september =
        ReadFundSummary(store, {.as_of = D(20220930), .from = D(20220901), .to = D(20220930)})
            .value();
    CHECK(september.withdrawals == Fen{kAnnPaid});
    CHECK(september.interest_to_date == Fen{kAnnInterest});
    CHECK(september.interest_credited == Fen{kAnnInterest});
    CHECK(september.closed_accounts == 1);
    CHECK(september.paying_employees == 2);
    CHECK(september.personal_accounts == Fen{768'000});
  }

  TEST_CASE("Trial balance: the payments and interest to date still net to zero") {
    World& w = TheWorld();
    TrialBalanceProjection projection;
    const MemoryStore store = FoldOne(projection, w.log->records());
    const TrialBalance balance = ReadTrialBalance(store).value();
    // 101: two receipts in (1 152 000), two payments out (774 461).
    // 201: six lines and three interest credits in (1 164 072), two payments out.
    // 219: the receipts in, the six lines out. 41101: 12 072 of interest.
    const struct {
      uint32_t code;
      int64_t debit;
      int64_t credit;
      uint64_t postings;
    } expected[] = {{101, 1'152'000, 774'461, 4},
                    {201, 774'461, 1'164'072, 11},
                    {219, 1'152'000, 1'152'000, 8},
                    {41101, 12'072, 0, 3}};
    REQUIRE(balance.lines.size() == 4);
    for (size_t i = 0; i < 4; ++i) {
      CAPTURE(expected[i].code);
      CHECK(balance.lines[i].gl_account == expected[i].code);
      CHECK(balance.lines[i].debit == Fen{expected[i].debit});
      CHECK(balance.lines[i].credit == Fen{expected[i].credit});
      CHECK(balance.lines[i].postings_count == expected[i].postings);
    }
    CHECK(balance.debit_total == Fen{3'090'533});
    CHECK(balance.credit_total == balance.debit_total);
  }

  TEST_CASE("Audit trail: a withdrawal's records under it and under its account") {
    World& w = TheWorld();
    const Story& s = w.story;
    AuditTrailProjection projection;
    const MemoryStore store = FoldOne(projection, w.log->records());
    auto positions = [](const Page<AuditEntry>& page) {
      std::vector<uint64_t> out;
      for (const auto& entry : page.items) out.push_back(entry.position);
      return out;
    };
    // Withdrawal 7: applied, approved, and the payment's three records (the interest to date
    // and the closing name it as their cause).
    const auto seven =
        AuditTrail(store, {.entity = AuditEntity{schema::EntityKind::Withdrawal, 7}}).value();
    CHECK(positions(seven) == std::vector<uint64_t>{s.ann_applied, s.ann_approved, s.ann_paid,
                                                    s.ann_paid + 1, s.ann_paid + 2});
    CHECK(seven.items[1].actor == "op:2");
    CHECK(seven.items[3].event_type == "WithdrawalPaid");
    CHECK(seven.items[3].debits == Fen{kAnnPaid});
    CHECK(seven.items[3].stream_kind == schema::EntityKind::Withdrawal);
    // Ann's trail: opened, two lines, and the withdrawal's five records.
    const auto ann =
        AuditTrail(store, {.entity = AuditEntity{schema::EntityKind::Account, kAnn.value}}).value();
    const std::vector<uint64_t> ann_positions = positions(ann);
    REQUIRE(ann_positions.size() == 8);
    CHECK(std::vector<uint64_t>(ann_positions.begin() + 1, ann_positions.end()) ==
          std::vector<uint64_t>{s.ann_july, s.ann_august, s.ann_applied, s.ann_approved, s.ann_paid,
                                s.ann_paid + 1, s.ann_paid + 2});
    // The reviewers' decisions.
    const auto reviewers = AuditTrail(store, {.actor = "op:2"}).value();
    CHECK(positions(reviewers) == std::vector<uint64_t>{s.ann_approved, s.cid_rejected});
  }

  TEST_CASE("Employers: the closed accounts counted on their employer") {
    World& w = TheWorld();
    EmployersProjection projection;
    const MemoryStore store = FoldOne(projection, w.log->records());
    const auto acme = GetEmployer(store, kAcme.value, D(20230731)).value();
    REQUIRE(acme.has_value());
    CHECK(acme->accounts.normal == 1);
    CHECK(acme->accounts.closed == 2);
  }

  TEST_CASE("Read models: withdrawals in any stream-preserving order store the same bytes") {
    World& w = TheWorld();
    const auto& records = w.log->records();
    auto fold = [](const std::vector<SourcedRecord>& order, size_t batch) {
      std::map<std::string, MemoryStore> stores;
      auto models = CreateReadModels({}).value();
      for (auto& model : models) {
        MemoryStore& store = stores[std::string(model->name())];
        REQUIRE(model->Load(store).ok());
        Fold(*model, store, order, batch);
      }
      return stores;
    };
    const auto in_order = fold(records, 1000);
    for (const uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
      CAPTURE(seed);
      const auto mixed = fold(testing::ShuffleStreams(records, seed), 1 + seed % 4);
      for (const auto& [name, store] : in_order) {
        CAPTURE(name);
        CHECK(mixed.at(name).keys() == store.keys());
      }
      // And the figures read from a mixed fold are the log's.
      const AccountSummary ann = Account(mixed.at("accounts"), kAnn);
      CHECK(ann.balance == Fen{0});
      CHECK(ann.withdrawn == Fen{kAnnPaid});
      const auto ben = Statement(mixed.at("statements"), {.account_id = kBen.value}).value();
      REQUIRE(ben.items.size() == 4);
      CHECK(ben.items[2].balance == Fen{kBenPaid});
      CHECK(ben.items[3].balance == Fen{0});
    }
  }
}

}  // namespace
}  // namespace hpf::projections::read_models
