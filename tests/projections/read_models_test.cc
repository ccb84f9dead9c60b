// tests/projections/read_models_test.cc — every read model folded from the log of one small
// fund run through the real Sequencer: registrations, accounts opened, sealed, unsealed,
// frozen and closed, receipts, regular and back-payment remittances, a duplicate receipt and a
// wrong allocation reversed (红冲), a deferral (缓缴), the 30 June settlement and a reversed
// interest credit. Every figure below is worked out by hand in the comments.
#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ledger/calendar.h"
#include "projections/read_models/accounts.h"
#include "projections/read_models/arrears_alerts.h"
#include "projections/read_models/audit_trail.h"
#include "projections/read_models/employers.h"
#include "projections/read_models/fund_summary.h"
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
using ledger::Month;
using testing::Fold;
using testing::Ledger;
using testing::LoggedRecords;
using testing::MemoryStore;

constexpr EmployerId kAcme{1};
constexpr EmployerId kBeta{2};
constexpr AccountId kAlice{1001};
constexpr AccountId kBob{1002};
constexpr AccountId kCarol{1003};
constexpr AccountId kDave{1004};
constexpr AccountId kErin{1005};
constexpr Fen kSide{96'000};  // 8 000.00 yuan × 12 %

Date D(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }
Month M(uint32_t yyyymm) { return Month::FromYyyymm(yyyymm).value(); }

// The positions of the records the checks cite.
struct Story {
  uint64_t acme = 0, beta = 0;                    // registrations
  uint64_t acme_deferral = 0, beta_deferral = 0;  // 缓缴 grants
  uint64_t alice_opened = 0, bob_opened = 0;
  uint64_t receipts[5] = {};              // the bank's five receipts
  uint64_t bob_july = 0, bob_august = 0;  // Bob's regular lines
  uint64_t list4_completed = 0;
  uint64_t duplicate = 0, duplicate_reversed = 0;
  uint64_t bob_august_reversed = 0, bob_back_payment = 0;
  uint64_t alice_back_payment = 0;
  uint64_t alice_october = 0, alice_october_reversed = 0, alice_october_again = 0;
  uint64_t before_settlement = 0;  // the last record before 30 June
  uint64_t settled = 0;            // Alice's credit; Bob +1, Carol +2, Dave +3
  uint64_t alice_interest_reversed = 0;
};

ledger::AllocateContribution Line(uint64_t list, AccountId account, uint32_t month) {
  return {.remittance_id = list,
          .employer = kAcme,
          .account = account,
          .month = month,
          .contribution_base = Fen{800'000},
          .employer_amount = kSide,
          .employee_amount = kSide};
}

ledger::OpenRemittance List(uint64_t id, ledger::RemittanceKind kind, uint32_t month,
                            uint32_t accounts) {
  return {.remittance_id = id,
          .employer = kAcme,
          .kind = kind,
          .from_month = month,
          .to_month = month,
          .accounts_count = accounts,
          .total = Fen{2 * kSide.value * accounts},
          .list_reference = "L" + std::to_string(id)};
}

Story Tell(Ledger& l) {
  using ledger::RemittanceKind;
  Story s;
  auto receipt = [&l](uint32_t date, int n, int64_t fen) {
    return l.Run(date,
                 ledger::RecordBankReceipt{kAcme, "ICBC", "ICBC-" + std::to_string(n), Fen{fen}},
                 "bank:ICBC", "ICBC");
  };
  s.acme = l.Run(20220701, hpf::testing::SampleEmployer(kAcme));
  s.beta = l.Run(20220701, hpf::testing::SampleEmployer(kBeta));
  s.alice_opened = l.Run(20220701, hpf::testing::SampleAccount(kAlice, kAcme));
  s.bob_opened = l.Run(20220701, hpf::testing::SampleAccount(kBob, kAcme));
  l.Run(20220701, hpf::testing::SampleAccount(kCarol, kBeta));
  l.Run(20220701, hpf::testing::SampleAccount(kDave, kAcme));
  s.acme_deferral = l.Run(20220701, ledger::GrantDeferral{kAcme, 202209, 202209, "QD-1"});
  s.beta_deferral = l.Run(20220701, ledger::GrantDeferral{kBeta, 202210, 202212, "QD-2"});
  // July and August: regular lists for Alice and Bob (192 000 fen each a month).
  s.receipts[0] = receipt(20220715, 1, 384'000);
  l.Run(20220715, List(1, RemittanceKind::kRegular, 202207, 2));
  l.Run(20220715, Line(1, kAlice, 202207));
  s.bob_july = l.Run(20220715, Line(1, kBob, 202207));
  l.Run(20220715, ledger::CompleteRemittance{1, kAcme});
  s.receipts[1] = receipt(20220815, 2, 384'000);
  l.Run(20220815, List(2, RemittanceKind::kRegular, 202208, 2));
  l.Run(20220815, Line(2, kAlice, 202208));
  s.bob_august = l.Run(20220815, Line(2, kBob, 202208));
  l.Run(20220815, ledger::CompleteRemittance{2, kAcme});
  // A receipt recorded twice, reversed the next day (value date: the receipt's).
  s.receipts[2] = s.duplicate = receipt(20220820, 3, 1'000);
  s.duplicate_reversed =
      l.Run(20220821, ledger::ReverseRecord{.position = s.duplicate,
                                            .reason = ledger::ReversalReason::kDuplicate,
                                            .note = "recorded twice",
                                            .approval_reference = "R-1"});
  // Dave leaves Acme (sealed), Erin is opened and closed with nothing in it.
  l.Run(20220831, ledger::SealAccount{kDave});
  l.Run(20220905, hpf::testing::SampleAccount(kErin, kAcme));
  l.Run(20220906, ledger::CloseAccount{kErin});
  // Bob's August line was wrong: reversed (value date 2022-08-15), then back-paid from the
  // suspense the reversal freed.
  s.bob_august_reversed =
      l.Run(20220912, ledger::ReverseRecord{.position = s.bob_august,
                                            .reason = ledger::ReversalReason::kWrongAmount,
                                            .note = "",
                                            .approval_reference = "R-2"});
  l.Run(20220912, List(3, RemittanceKind::kBackPayment, 202208, 1));
  s.bob_back_payment = l.Run(20220912, Line(3, kBob, 202208));
  l.Run(20220912, ledger::CompleteRemittance{3, kAcme});
  // Dave joins Beta.
  l.Run(20220920, ledger::UnsealAccount{kDave, kBeta, Fen{500'000}, 202209});
  // October: September is deferred, so the regular list is for October (Alice only: Bob is
  // paid up to July), and Alice back-pays September.
  // Alice's October line is reversed while its list is open and allocated again.
  s.receipts[3] = receipt(20221015, 4, 192'000);
  l.Run(20221015, List(4, RemittanceKind::kRegular, 202210, 1));
  s.alice_october = l.Run(20221015, Line(4, kAlice, 202210));
  s.alice_october_reversed =
      l.Run(20221015, ledger::ReverseRecord{.position = s.alice_october,
                                            .reason = ledger::ReversalReason::kWrongDate,
                                            .note = "",
                                            .approval_reference = "R-4"});
  s.alice_october_again = l.Run(20221015, Line(4, kAlice, 202210));
  s.list4_completed = l.Run(20221015, ledger::CompleteRemittance{4, kAcme});
  s.receipts[4] = receipt(20221020, 5, 192'000);
  l.Run(20221020, List(5, RemittanceKind::kBackPayment, 202209, 1));
  s.alice_back_payment = l.Run(20221020, Line(5, kAlice, 202209));
  l.Run(20221020, ledger::CompleteRemittance{5, kAcme});
  s.before_settlement = l.Run(20221101, ledger::FreezeAccount{kCarol, "(2022)鲁02执1号", "court"});
  // The run's first record is YearEndSettlementStarted on the fund's stream; Alice's credit
  // follows it.
  s.settled = l.Run(20230630, ledger::SettleInterest{2022, {kAlice, kBob, kCarol, kDave}}) + 1;
  s.alice_interest_reversed =
      l.Run(20230705, ledger::ReverseRecord{.position = s.settled,
                                            .reason = ledger::ReversalReason::kWrongAmount,
                                            .note = "",
                                            .approval_reference = "R-3"});
  return s;
}

// One projection folded from the whole log (in batches of 7 records, to cross batches).
struct Folded {
  MemoryStore store;
};

template <typename P>
void FoldInto(P& projection, MemoryStore& store, const std::vector<SourcedRecord>& records) {
  REQUIRE(projection.Load(store).ok());
  Fold(projection, store, records, 7);
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

MemoryStore AccountsStore(const std::vector<SourcedRecord>& records) {
  auto projection = AccountsProjection::Create({}).value();
  MemoryStore store;
  FoldInto(*projection, store, records);
  return store;
}

TEST_SUITE("projections") {
  TEST_CASE("Accounts: balances, states and paid-up months after the whole story") {
    World& w = TheWorld();
    const MemoryStore store = AccountsStore(w.log->records());
    // Alice: four lines of 192 000 (July, August, October, September back-paid) and 9 472 of
    // interest credited, then reversed: 768 000. Bob: July and August, August reversed and
    // back-paid, plus 5 144 of interest: 389 144.
    const auto alice = GetAccount(store, kAlice.value).value();
    REQUIRE(alice.has_value());
    CHECK(alice->balance == Fen{768'000});
    CHECK(alice->employer_id == kAcme.value);
    CHECK(alice->status == AccountStatus::kNormal);
    CHECK(alice->paid_up_to_month == M(202210));  // the back-payment does not move it
    CHECK(alice->contribution_base == Fen{800'000});
    CHECK(alice->interest_year.starting_year() == 2023);
    CHECK(alice->interest_credited == Fen{0});  // credited and reversed
    CHECK(alice->opened_on == D(20220701));
    CHECK(alice->last_position == w.story.alice_interest_reversed);
    const auto bob = GetAccount(store, kBob.value).value();
    REQUIRE(bob.has_value());
    CHECK(bob->balance == Fen{389'144});
    CHECK(bob->interest_credited == Fen{5'144});
    // August was reversed after its list was completed: the month stays (it is unpaid again
    // and back-paid), as the write model keeps it.
    CHECK(bob->paid_up_to_month == M(202208));
    const auto carol = GetAccount(store, kCarol.value).value();
    REQUIRE(carol.has_value());
    CHECK(carol->frozen);
    CHECK(carol->balance == Fen{0});
    CHECK(carol->paid_up_to_month == M(202206));
    const auto dave = GetAccount(store, kDave.value).value();
    REQUIRE(dave.has_value());
    CHECK(dave->status == AccountStatus::kNormal);
    CHECK(dave->employer_id == kBeta.value);
    CHECK(dave->contribution_base == Fen{500'000});
    CHECK(dave->paid_up_to_month == M(202208));  // unsealed from September on
    const auto erin = GetAccount(store, kErin.value).value();
    REQUIRE(erin.has_value());
    CHECK(erin->status == AccountStatus::kClosed);
    CHECK_FALSE(GetAccount(store, 999).value().has_value());
  }

  TEST_CASE("Accounts: the read model agrees with the write model's state, field by field") {
    World& w = TheWorld();
    const MemoryStore store = AccountsStore(w.log->records());
    const ledger::State state = w.ledger.Snapshot();
    REQUIRE(state.accounts.size() == 5);
    for (const auto& [id, account] : state.accounts) {
      CAPTURE(id.value);
      const auto row = GetAccount(store, id.value).value();
      REQUIRE(row.has_value());
      CHECK(row->balance == account.balance);
      CHECK(row->paid_up_to_month.yyyymm() == account.paid_up_to_month);
      CHECK(row->employer_id == account.employer.value);
      CHECK(row->frozen == account.frozen);
      CHECK(static_cast<int>(row->status) == static_cast<int>(account.status));
      CHECK(row->interest_year == account.interest->year());
    }
  }

  TEST_CASE("Accounts: reversing the latest month while its list is open steps it back") {
    World& w = TheWorld();
    const Story& s = w.story;
    // Alice was paid up to August (September deferred); October's line moved her to October.
    // Reversed while list 4 is open: back to September, the month before (MonthBefore), so
    // that the corrected line can follow — which it does.
    auto paid_up = [&](uint64_t through) {
      const MemoryStore store = AccountsStore(w.log->Through(through));
      return GetAccount(store, kAlice.value).value()->paid_up_to_month;
    };
    CHECK(paid_up(s.alice_october) == M(202210));
    CHECK(paid_up(s.alice_october_reversed) == M(202209));
    CHECK(paid_up(s.alice_october_again) == M(202210));
    CHECK(paid_up(s.list4_completed) == M(202210));
    // Bob's August was reversed after list 2's completion (stored as it came): no step back,
    // whether the completion is folded before the reversal or, from another source, after it.
    const MemoryStore at_reversal = AccountsStore(w.log->Through(s.bob_august_reversed));
    CHECK(GetAccount(at_reversal, kBob.value).value()->paid_up_to_month == M(202208));
    std::vector<SourcedRecord> late;  // the employer's records last
    for (const SourcedRecord& record : w.log->Through(s.bob_august_reversed)) {
      if (record.record->envelope()->stream_kind() != schema::EntityKind::Employer) {
        late.push_back(record);
      }
    }
    MemoryStore partial = AccountsStore(late);
    CHECK(GetAccount(partial, kBob.value).value()->paid_up_to_month == M(202207));
    for (const SourcedRecord& record : w.log->Through(s.bob_august_reversed)) {
      if (record.record->envelope()->stream_kind() == schema::EntityKind::Employer) {
        late.push_back(record);
      }
    }
    const MemoryStore complete = AccountsStore(late);
    CHECK(GetAccount(complete, kBob.value).value()->paid_up_to_month == M(202208));
    CHECK(complete.keys() == at_reversal.keys());
  }

  TEST_CASE("Accounts: lists by employer and status, paged") {
    World& w = TheWorld();
    const MemoryStore store = AccountsStore(w.log->records());
    auto ids = [](const Page<AccountSummary>& page) {
      std::vector<uint64_t> out;
      for (const auto& item : page.items) out.push_back(item.account_id);
      return out;
    };
    const auto acme = ListAccounts(store, {.employer_id = kAcme.value}, {}).value();
    // Acme: Alice and Bob normal, Erin closed (ordered by status, then id).
    CHECK(ids(acme) == std::vector<uint64_t>{kAlice.value, kBob.value, kErin.value});
    CHECK(acme.next.empty());
    const auto beta_normal =
        ListAccounts(store, {.employer_id = kBeta.value, .status = AccountStatus::kNormal}, {})
            .value();
    CHECK(ids(beta_normal) == std::vector<uint64_t>{kCarol.value, kDave.value});
    const auto closed = ListAccounts(store, {.status = AccountStatus::kClosed}, {}).value();
    CHECK(ids(closed) == std::vector<uint64_t>{kErin.value});
    // Every account, two at a time.
    std::vector<uint64_t> all;
    std::string after;
    for (int pages = 0; pages < 10; ++pages) {
      const auto page = ListAccounts(store, {}, {.after = after, .limit = 2}).value();
      const auto got = ids(page);
      all.insert(all.end(), got.begin(), got.end());
      if (page.next.empty()) break;
      after = page.next;
    }
    CHECK(all == std::vector<uint64_t>{1001, 1002, 1003, 1004, 1005});
    // Acme's, one at a time across the status boundary.
    const auto first = ListAccounts(store, {.employer_id = kAcme.value}, {.limit = 2}).value();
    CHECK(ids(first) == std::vector<uint64_t>{kAlice.value, kBob.value});
    CHECK(first.next == "1.1002");
    const auto second =
        ListAccounts(store, {.employer_id = kAcme.value}, {.after = first.next, .limit = 2})
            .value();
    CHECK(ids(second) == std::vector<uint64_t>{kErin.value});
    CHECK(second.next.empty());
    // Bad requests say why.
    CHECK(ListAccounts(store, {}, {.limit = 0}).status().code() == StatusCode::kInvalidArgument);
    CHECK(ListAccounts(store, {}, {.limit = kPageItemsMax + 1}).status().code() ==
          StatusCode::kInvalidArgument);
    const auto bad = ListAccounts(store, {}, {.after = "12x"});
    CHECK(bad.status().code() == StatusCode::kInvalidArgument);
    CHECK(bad.status().message().find("12x") != std::string::npos);
    CHECK(ParseAccountStatus("sealed").value() == AccountStatus::kSealed);
    CHECK(ParseAccountStatus("frozen").status().code() == StatusCode::kInvalidArgument);
  }

  TEST_CASE("Accounts: interest accrued to a date, from the 积数 accumulator") {
    World& w = TheWorld();
    // Mid-year, before the settlement. Alice's 积数 over [2022-07-01, 2022-11-01):
    //   192 000 × 109 (07-15) + 192 000 × 78 (08-15) + 192 000 × 17 (10-15)
    //   + 192 000 × 12 (10-20) = 192 000 × 216 = 41 472 000 fen·days;
    //   × 1.5 % / 360 = 41 472 000 / 24 000 = 1 728 fen exactly.
    // Bob: 192 000 × 109 + 192 000 × 78 − 192 000 × 78 (the reversal is value-dated 08-15)
    //   + 192 000 × 50 (09-12) = 192 000 × 159 = 30 528 000 → 1 272 fen.
    const MemoryStore mid = AccountsStore(w.log->Through(w.story.before_settlement));
    const auto alice = InterestAccrued(mid, kAlice.value, D(20221101), ledger::DayBasis::k360);
    REQUIRE_MESSAGE(alice.has_value(), alice.status().ToString());
    CHECK(alice->fen_days.value == 41'472'000);
    CHECK(alice->interest == Fen{1'728});
    CHECK(alice->from == D(20220701));
    CHECK(alice->interest_year.starting_year() == 2022);
    CHECK(alice->balance == Fen{768'000});
    const auto bob = InterestAccrued(mid, kBob.value, D(20221101), ledger::DayBasis::k360);
    REQUIRE(bob.has_value());
    CHECK(bob->fen_days.value == 30'528'000);
    CHECK(bob->interest == Fen{1'272});
    // On 365 days: 41 472 000 × 15 000 / 365 000 000 = 1 704.32… → 1 704 fen.
    CHECK(InterestAccrued(mid, kAlice.value, D(20221101), ledger::DayBasis::k365)->interest ==
          Fen{1'704});
    // Alice has money value-dated 2022-10-20: the accumulator cannot say what 10-16 was.
    CHECK(InterestAccrued(mid, kAlice.value, D(20221016), ledger::DayBasis::k360).status().code() ==
          StatusCode::kFailedPrecondition);
    CHECK(InterestAccrued(mid, 999, D(20221101), ledger::DayBasis::k360).status().code() ==
          StatusCode::kNotFound);
    CHECK(InterestAccrued(mid, kAlice.value, D(20230702), ledger::DayBasis::k360).status().code() ==
          StatusCode::kFailedPrecondition);

    // After the settlement and the reversal of Alice's credit, in interest year 2023 (366
    // days, it holds 2024-02-29): to 2023-08-01, 31 days of the balance carried forward.
    // Alice: 768 000 × 31 = 23 808 000 → 992 fen. Bob: 389 144 × 31 = 12 063 464
    // → 502.64… → 503 fen.
    const MemoryStore after = AccountsStore(w.log->records());
    const auto alice_2023 =
        InterestAccrued(after, kAlice.value, D(20230801), ledger::DayBasis::k360);
    REQUIRE(alice_2023.has_value());
    CHECK(alice_2023->interest_year.starting_year() == 2023);
    CHECK(alice_2023->fen_days.value == 23'808'000);
    CHECK(alice_2023->interest == Fen{992});
    const auto bob_2023 = InterestAccrued(after, kBob.value, D(20230801), ledger::DayBasis::k360);
    REQUIRE(bob_2023.has_value());
    CHECK(bob_2023->fen_days.value == 12'063'464);
    CHECK(bob_2023->interest == Fen{503});
    // A settled year is answered by its credit, not by the accumulator.
    CHECK(InterestAccrued(after, kBob.value, D(20230101), ledger::DayBasis::k360).status().code() ==
          StatusCode::kFailedPrecondition);
  }

  TEST_CASE("Statements: Bob's lines with running balances, by date and page") {
    World& w = TheWorld();
    const Story& s = w.story;
    StatementsProjection projection;
    MemoryStore store;
    FoldInto(projection, store, w.log->records());
    const auto all = Statement(store, {.account_id = kBob.value}).value();
    REQUIRE(all.items.size() == 5);
    CHECK(all.next.empty());
    struct Expected {
      uint64_t position;
      uint32_t date;
      std::string_view type;
      int64_t amount;
      int64_t balance;
    };
    const Expected expected[] = {
        {s.bob_july, 20220715, "ContributionAllocated", 192'000, 192'000},
        {s.bob_august, 20220815, "ContributionAllocated", 192'000, 384'000},
        {s.bob_august_reversed, 20220815, "RecordReversed", -192'000, 192'000},
        {s.bob_back_payment, 20220912, "ContributionAllocated", 192'000, 384'000},
        {s.settled + 1, 20230630, "YearEndInterestCredited", 5'144, 389'144},
    };
    for (size_t i = 0; i < 5; ++i) {
      CAPTURE(i);
      CHECK(all.items[i].position == expected[i].position);
      CHECK(all.items[i].effective_date == D(expected[i].date));
      CHECK(all.items[i].event_type == expected[i].type);
      CHECK(all.items[i].amount == Fen{expected[i].amount});
      CHECK(all.items[i].balance == Fen{expected[i].balance});
    }
    CHECK(all.items[0].business_type == 1);
    CHECK(all.items[0].contribution_month == M(202207));
    CHECK(all.items[2].reversed_position == s.bob_august);
    CHECK(all.items[3].business_type == 2);
    CHECK(all.items[3].contribution_month == M(202208));
    CHECK(all.items[4].business_type == 9);
    CHECK(all.items[4].recorded_at_us > 0);
    // August only: the line and its reversal.
    const auto august =
        Statement(store, {.account_id = kBob.value, .from = D(20220801), .to = D(20220831)})
            .value();
    REQUIRE(august.items.size() == 2);
    CHECK(august.items[0].position == s.bob_august);
    CHECK(august.items[1].position == s.bob_august_reversed);
    // Two lines a page.
    const auto first = Statement(store, {.account_id = kBob.value, .page = {.limit = 2}}).value();
    REQUIRE(first.items.size() == 2);
    CHECK(first.next == std::to_string(s.bob_august));
    const auto second =
        Statement(store, {.account_id = kBob.value, .page = {.after = first.next, .limit = 2}})
            .value();
    REQUIRE(second.items.size() == 2);
    CHECK(second.items[0].position == s.bob_august_reversed);
    const auto third =
        Statement(store, {.account_id = kBob.value, .page = {.after = second.next, .limit = 2}})
            .value();
    REQUIRE(third.items.size() == 1);
    CHECK(third.next.empty());
    // Carol has no lines; Alice has five allocations, one reversal, the credit and its
    // reversal.
    CHECK(Statement(store, {.account_id = kCarol.value}).value().items.empty());
    const auto alice = Statement(store, {.account_id = kAlice.value}).value();
    REQUIRE(alice.items.size() == 8);
    CHECK(alice.items.back().balance == Fen{768'000});
    CHECK(alice.items.back().reversed_position == s.settled);
    CHECK(Statement(store, {.account_id = kBob.value, .from = D(20220901), .to = D(20220801)})
              .status()
              .code() == StatusCode::kInvalidArgument);
  }

  TEST_CASE("Employers: paid-up months, suspense, accounts by state, arrears as of a date") {
    World& w = TheWorld();
    const Story& s = w.story;
    EmployersProjection projection;
    MemoryStore store;
    FoldInto(projection, store, w.log->records());
    const auto acme = GetEmployer(store, kAcme.value, D(20230201)).value();
    REQUIRE(acme.has_value());
    CHECK(acme->registered);
    CHECK(acme->name == "Acme Machinery Co.");
    CHECK(acme->status == EmployerStatus::kNormal);
    CHECK(acme->paid_up_to_month == M(202210));
    CHECK(acme->paid_up_position == s.list4_completed);
    CHECK(acme->suspense == Fen{0});
    CHECK(acme->accounts.normal == 2);  // Alice, Bob (Dave moved to Beta)
    CHECK(acme->accounts.sealed == 0);
    CHECK(acme->accounts.closed == 1);  // Erin
    CHECK(acme->accounts.frozen == 0);
    REQUIRE(acme->deferrals.size() == 1);
    CHECK(acme->deferrals[0].position == s.acme_deferral);
    // As of 2023-02-01 the months due end with January: November, December, January.
    CHECK(acme->arrears.months_count == 3);
    CHECK(acme->arrears.first_unpaid_month == M(202211));
    CHECK(acme->arrears.last_due_month == M(202301));
    const auto beta = GetEmployer(store, kBeta.value, D(20230201)).value();
    REQUIRE(beta.has_value());
    CHECK(beta->paid_up_to_month == M(202206));
    CHECK(beta->paid_up_position == s.beta);
    CHECK(beta->accounts.normal == 2);  // Carol, Dave
    CHECK(beta->accounts.frozen == 1);  // Carol
    // July, August, September and January; October to December are deferred.
    CHECK(beta->arrears.months_count == 4);
    CHECK(beta->arrears.deferral_positions == std::vector<uint64_t>{s.beta_deferral});
    // As of 2022-09-30 only July and August are due.
    CHECK(GetEmployer(store, kBeta.value, D(20220930)).value()->arrears.months_count == 2);
    // The lists: by status, and all of them one at a time.
    const auto normal = ListEmployers(store, EmployerStatus::kNormal, D(20230201), {}).value();
    REQUIRE(normal.items.size() == 2);
    CHECK(normal.items[0].employer_id == kAcme.value);
    const auto one = ListEmployers(store, std::nullopt, D(20230201), {.limit = 1}).value();
    REQUIRE(one.items.size() == 1);
    CHECK(one.next == "1");
    const auto rest =
        ListEmployers(store, std::nullopt, D(20230201), {.after = one.next, .limit = 1}).value();
    REQUIRE(rest.items.size() == 1);
    CHECK(rest.items[0].employer_id == kBeta.value);
    CHECK(rest.next.empty());
    CHECK(ListEmployers(store, EmployerStatus::kSealed, D(20230201), {}).value().items.empty());
    CHECK_FALSE(GetEmployer(store, 77, D(20230201)).value().has_value());
  }

  TEST_CASE("Employers: agree with the write model's employers") {
    World& w = TheWorld();
    EmployersProjection projection;
    MemoryStore store;
    FoldInto(projection, store, w.log->records());
    const ledger::State state = w.ledger.Snapshot();
    for (const auto& [id, employer] : state.employers) {
      CAPTURE(id.value);
      const auto row = GetEmployer(store, id.value, D(20230701)).value();
      REQUIRE(row.has_value());
      CHECK(row->paid_up_to_month->yyyymm() == employer.paid_up_to_month);
      CHECK(row->suspense == employer.suspense);
      CHECK(row->accounts.normal == static_cast<int64_t>(employer.normal_accounts));
      CHECK(static_cast<int>(row->status) == static_cast<int>(employer.status));
    }
  }

  TEST_CASE("Fund summary: paying counts, contributions, back-payments, 201 and 219 by date") {
    World& w = TheWorld();
    FundSummaryProjection projection;
    MemoryStore store;
    FoldInto(projection, store, w.log->records());
    // The second half of 2022: eight lines allocated (2 + 2 + 1 + 2 + 1) less Bob's August
    // and Alice's first October line, reversed = 6 lines, 1 152 000 fen; back-paid: Bob's
    // August and Alice's September.
    const auto half =
        ReadFundSummary(store, {.as_of = D(20221231), .from = D(20220701), .to = D(20221231)})
            .value();
    CHECK(half.contributions == Fen{1'152'000});
    CHECK(half.contributions_count == 6);
    CHECK(half.back_payments == Fen{384'000});
    CHECK(half.back_payments_count == 2);
    CHECK(half.receipts == Fen{1'152'000});  // five receipts, less the duplicate
    CHECK(half.interest_credited == Fen{0});
    CHECK(half.personal_accounts == Fen{1'152'000});
    CHECK(half.suspense == Fen{0});
    CHECK(half.paying_employers == 2);
    CHECK(half.paying_employees == 4);  // Alice, Bob, Carol, Dave; Erin closed
    // As of 2022-09-01 for July and August: Bob's August reversal is value-dated 08-15, so it
    // counts here although recorded on 09-12: 576 000 in 3 lines; the 192 000 it freed sits
    // in suspense; Dave was sealed on 08-31.
    const auto summer =
        ReadFundSummary(store, {.as_of = D(20220901), .from = D(20220701), .to = D(20220831)})
            .value();
    CHECK(summer.contributions == Fen{576'000});
    CHECK(summer.contributions_count == 3);
    CHECK(summer.back_payments == Fen{0});
    CHECK(summer.receipts == Fen{768'000});
    CHECK(summer.personal_accounts == Fen{576'000});
    CHECK(summer.suspense == Fen{192'000});
    CHECK(summer.paying_employees == 3);
    // The interest year: 14 616 credited on 2023-06-30, of which Alice's 9 472 was reversed
    // (the reversal keeps the credit's date): 5 144.
    const auto year =
        ReadFundSummary(store, {.as_of = D(20230630), .from = D(20220701), .to = D(20230630)})
            .value();
    CHECK(year.interest_credited == Fen{5'144});
    CHECK(year.personal_accounts == Fen{1'157'144});
    CHECK(ReadFundSummary(store, {.as_of = D(20230630), .from = D(20230101), .to = D(20220101)})
              .status()
              .code() == StatusCode::kInvalidArgument);
  }

  TEST_CASE("Trial balance: DOMAIN §7 totals net to zero and 201 equals Σ accounts") {
    World& w = TheWorld();
    TrialBalanceProjection projection;
    MemoryStore store;
    FoldInto(projection, store, w.log->records());
    const TrialBalance balance = ReadTrialBalance(store).value();
    // 101: receipts 1 153 000 debited, the duplicate's 1 000 credited back.
    // 219: credited by the five receipts (1 153 000) and two reversed lines (2 × 192 000),
    //      debited by the eight lines (1 536 000) and the duplicate's reversal (1 000).
    // 201: credited by the eight lines and the interest (9 472 + 5 144), debited by the two
    //      reversed lines and Alice's reversed interest: 393 472.
    // 41101: the interest debited, Alice's credited back.
    REQUIRE(balance.lines.size() == 4);
    const struct {
      uint32_t code;
      int64_t debit;
      int64_t credit;
      uint64_t postings;
    } expected[] = {{101, 1'153'000, 1'000, 6},
                    {201, 393'472, 1'550'616, 13},
                    {219, 1'537'000, 1'537'000, 16},
                    {41101, 14'616, 9'472, 3}};
    for (size_t i = 0; i < 4; ++i) {
      CAPTURE(expected[i].code);
      CHECK(balance.lines[i].gl_account == expected[i].code);
      CHECK(balance.lines[i].debit == Fen{expected[i].debit});
      CHECK(balance.lines[i].credit == Fen{expected[i].credit});
      CHECK(balance.lines[i].postings_count == expected[i].postings);
    }
    CHECK(balance.lines[1].name == "住房公积金 personal accounts");
    CHECK(balance.lines[1].normal_side == NormalSide::kCredit);
    CHECK(balance.debit_total == Fen{3'098'088});
    CHECK(balance.credit_total == balance.debit_total);
    // Σ personal accounts = 201 (credit-positive).
    const MemoryStore accounts = AccountsStore(w.log->records());
    Fen sum;
    const Page<AccountSummary> listed = ListAccounts(accounts, {}, {}).value();
    for (const auto& account : listed.items) sum += account.balance;
    CHECK(sum == Fen{1'157'144});
    CHECK(-balance.lines[1].balance == sum);
  }

  TEST_CASE("Audit trail: by actor, by account, by employer and by period, paged") {
    World& w = TheWorld();
    const Story& s = w.story;
    AuditTrailProjection projection;
    MemoryStore store;
    FoldInto(projection, store, w.log->records());
    auto positions = [](const Page<AuditEntry>& page) {
      std::vector<uint64_t> out;
      for (const auto& entry : page.items) out.push_back(entry.position);
      return out;
    };
    const auto bank = AuditTrail(store, {.actor = "bank:ICBC"}).value();
    CHECK(positions(bank) == std::vector<uint64_t>(std::begin(s.receipts), std::end(s.receipts)));
    REQUIRE(!bank.items.empty());
    CHECK(bank.items[0].channel == "ICBC");
    CHECK(bank.items[0].event_type == "BankReceiptRecorded");
    CHECK(bank.items[0].debits == Fen{384'000});
    CHECK(bank.items[0].stream_kind == schema::EntityKind::Employer);
    CHECK(bank.items[0].stream_id == kAcme.value);
    CHECK(bank.items[0].effective_date == D(20220715));
    CHECK(bank.items[0].idempotency_key.starts_with("t"));
    // Bob's stream: opened, July, August, its reversal, the back-payment, the interest.
    const auto bob =
        AuditTrail(store, {.entity = AuditEntity{schema::EntityKind::Account, kBob.value}}).value();
    CHECK(positions(bob) == std::vector<uint64_t>{s.bob_opened, s.bob_july, s.bob_august,
                                                  s.bob_august_reversed, s.bob_back_payment,
                                                  s.settled + 1});
    // Bob's records by the bank: none; by the operator in August (value dates):
    CHECK(AuditTrail(store, {.actor = "bank:ICBC",
                             .entity = AuditEntity{schema::EntityKind::Account, kBob.value}})
              .value()
              .items.empty());
    const auto bob_august =
        AuditTrail(store, {.actor = "op:1",
                           .entity = AuditEntity{schema::EntityKind::Account, kBob.value},
                           .from = D(20220801),
                           .to = D(20220831)})
            .value();
    CHECK(positions(bob_august) == std::vector<uint64_t>{s.bob_august, s.bob_august_reversed});
    // The period alone: the duplicate and its reversal share the receipt's value date.
    const auto day = AuditTrail(store, {.from = D(20220820), .to = D(20220821)}).value();
    CHECK(positions(day) == std::vector<uint64_t>{s.duplicate, s.duplicate_reversed});
    // Paged by period: the cursor carries the date.
    const auto july =
        AuditTrail(store, {.from = D(20220701), .to = D(20220731), .page = {.limit = 3}}).value();
    REQUIRE(july.items.size() == 3);
    // Position 1 is the ledger's policy genesis, value-dated 1990-01-01: not in July.
    CHECK(july.items[0].position == 2);
    CHECK(july.next == "20220701.4");
    const auto july_rest = AuditTrail(store, {.from = D(20220701),
                                              .to = D(20220731),
                                              .page = {.after = july.next, .limit = 100}})
                               .value();
    CHECK(july_rest.items.front().position == 5);
    CHECK(july.items.size() + july_rest.items.size() == 13);  // 8 on 07-01, 5 on 07-15
    // Acme as an entity: its stream and every line that debited its suspense.
    const auto acme =
        AuditTrail(store, {.entity = AuditEntity{schema::EntityKind::Employer, kAcme.value},
                           .page = {.limit = kPageItemsMax}})
            .value();
    const std::vector<uint64_t> acme_positions = positions(acme);
    CHECK(std::find(acme_positions.begin(), acme_positions.end(), s.bob_july) !=
          acme_positions.end());
    CHECK(std::find(acme_positions.begin(), acme_positions.end(), s.acme_deferral) !=
          acme_positions.end());
    // Everything, 10 at a time, is the whole log in order.
    std::vector<uint64_t> all;
    std::string after;
    for (int pages = 0; pages < 100; ++pages) {
      const auto page = AuditTrail(store, {.page = {.after = after, .limit = 10}}).value();
      for (const auto& entry : page.items) all.push_back(entry.position);
      if (page.next.empty()) break;
      after = page.next;
    }
    REQUIRE(all.size() == w.log->records().size());
    for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == i + 1);
    CHECK(AuditTrail(store, {.from = D(20220902), .to = D(20220901)}).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(AuditTrail(store, {.actor = "op:1", .page = {.after = "1.2"}}).status().code() ==
          StatusCode::kInvalidArgument);
  }

  TEST_CASE("Arrears alert: fires at 3 months and cites the positions behind it") {
    World& w = TheWorld();
    const Story& s = w.story;
    ArrearsAlertsProjection projection;
    MemoryStore store;
    FoldInto(projection, store, w.log->records());
    // 2022-09-30: Beta owes July and August (2): no alert.
    CHECK(ArrearsAlerts(store, {.as_of = D(20220930)}).value().items.empty());
    // 2022-10-31: July, August, September: 3 months, citing Beta's registration (its paid-up
    // month, 2022-06, comes from its first contribution month).
    const auto october = ArrearsAlerts(store, {.as_of = D(20221031)}).value();
    REQUIRE(october.items.size() == 1);
    CHECK(october.items[0].employer_id == kBeta.value);
    CHECK(october.items[0].arrears.months_count == 3);
    CHECK(october.items[0].arrears.first_unpaid_month == M(202207));
    CHECK(october.items[0].positions == std::vector<uint64_t>{s.beta});
    // 2023-02-01: Beta 4 (its deferral excused October to December and is cited), Acme 3
    // (November to January, citing the list that paid it up to October).
    const auto february = ArrearsAlerts(store, {.as_of = D(20230201)}).value();
    REQUIRE(february.items.size() == 2);
    CHECK(february.items[0].employer_id == kBeta.value);
    CHECK(february.items[0].arrears.months_count == 4);
    CHECK(february.items[0].positions == std::vector<uint64_t>{s.beta, s.beta_deferral});
    CHECK(february.items[1].employer_id == kAcme.value);
    CHECK(february.items[1].arrears.months_count == 3);
    CHECK(february.items[1].positions == std::vector<uint64_t>{s.list4_completed});
    CHECK(february.items[1].name == "Acme Machinery Co.");
    // One at a time; and a higher threshold.
    const auto first = ArrearsAlerts(store, {.as_of = D(20230201), .page = {.limit = 1}}).value();
    REQUIRE(first.items.size() == 1);
    CHECK(first.next == "202206.2");
    const auto second =
        ArrearsAlerts(store, {.as_of = D(20230201), .page = {.after = first.next, .limit = 1}})
            .value();
    REQUIRE(second.items.size() == 1);
    CHECK(second.items[0].employer_id == kAcme.value);
    CHECK(ArrearsAlerts(store, {.as_of = D(20230201), .months_min = 4}).value().items.size() == 1);
    CHECK(ArrearsAlerts(store, {.as_of = D(20230201), .months_min = 0}).status().code() ==
          StatusCode::kInvalidArgument);
    // 2022-11-30: Acme is paid up to October, the last month due: Beta alone.
    const auto november = ArrearsAlerts(store, {.as_of = D(20221130)}).value();
    REQUIRE(november.items.size() == 1);
    CHECK(november.items[0].employer_id == kBeta.value);
  }
}

}  // namespace
}  // namespace hpf::projections::read_models
