// tests/ledger/decide_test.cc — given (past facts), when (a command), then (facts or exactly
// one rejection), for employers and personal accounts. Every Rejection value has a case here
// that breaks its rule; a test at the end checks that none is missing.
#include "ledger/decide.h"

#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "events/hash_chain.h"
#include "tests/support/ledger_commands.h"

namespace hpf::ledger {
namespace {

constexpr EmployerId kAcme{1};
constexpr EmployerId kBeta{2};
constexpr AccountId kAlice{1001};
constexpr AccountId kBob{1002};

const PolicyBook& Policy() {
  static const PolicyBook policy = DefaultPolicy();
  return policy;
}

Date Day(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }

Command At(uint32_t date, CommandBody body) {
  return Command{.header = {.idempotency_key = "key-1",
                            .actor = "op:1",
                            .channel = "counter",
                            .effective_date = date},
                 .body = std::move(body)};
}

RegisterEmployer Register(EmployerId id) { return testing::SampleEmployer(id); }

OpenAccount Open(AccountId account, EmployerId employer) {
  return testing::SampleAccount(account, employer);
}

// The state after deciding and applying each command in turn; every one must be accepted.
State StateAfter(std::initializer_list<CommandBody> given) {
  State state;
  for (const CommandBody& body : given) {
    const Decision decision = Decide(state, At(20220701, body), Policy());
    REQUIRE_MESSAGE(decision.accepted(), decision.rejection->message);
    for (const Fact& fact : decision.facts) Evolve(state, fact, Day(20220701), Policy());
  }
  return state;
}

Rejection Rejected(const State& given, const Command& when) {
  const Decision then = Decide(given, when, Policy());
  REQUIRE(!then.accepted());
  CHECK(then.facts.empty());
  CHECK(!then.rejection->message.empty());
  return then.rejection->rejection;
}

Rejection Rejected(const State& given, CommandBody when) {
  return Rejected(given, At(20220701, std::move(when)));
}

// Records which rejections the cases below triggered, for the completeness check.
std::set<Rejection>& Seen() {
  static std::set<Rejection> seen;
  return seen;
}

#define HPF_CHECK_REJECTS(expected, ...)         \
  do {                                           \
    const Rejection got = Rejected(__VA_ARGS__); \
    CHECK(got == expected);                      \
    Seen().insert(got);                          \
  } while (false)

TEST_SUITE("ledger") {
  TEST_CASE("Decide: every command needs a key and a real effective date") {
    Command command = At(20220701, Register(kAcme));
    command.header.idempotency_key.clear();
    HPF_CHECK_REJECTS(Rejection::kIdempotencyKeyMissing, State{}, command);
    HPF_CHECK_REJECTS(Rejection::kEffectiveDateInvalid, State{}, At(20220230, Register(kAcme)));
    HPF_CHECK_REJECTS(Rejection::kEffectiveDateInvalid, State{}, At(0, Register(kAcme)));
  }

  TEST_CASE("RegisterEmployer: registers a new employer with its rates") {
    State state;
    const Decision then = Decide(state, At(20220701, Register(kAcme)), Policy());
    REQUIRE(then.accepted());
    REQUIRE(then.facts.size() == 1);
    Evolve(state, then.facts[0], Day(20220701), Policy());
    const EmployerState* acme = state.employer(kAcme);
    REQUIRE(acme != nullptr);
    CHECK(acme->status == EmployerStatus::kNormal);
    CHECK(acme->employer_rate == RatePpm{120'000});
    CHECK(acme->paid_up_to_month == 202206);  // nothing paid yet: the month before the first
  }

  TEST_CASE("RegisterEmployer: rejections") {
    const State given = StateAfter({Register(kAcme)});
    HPF_CHECK_REJECTS(Rejection::kEmployerAlreadyRegistered, given, Register(kAcme));
    RegisterEmployer bad = Register(kBeta);
    SUBCASE("month 13 is not a month") {
      bad.first_contribution_month = 202213;
      HPF_CHECK_REJECTS(Rejection::kMonthInvalid, given, bad);
    }
    SUBCASE("a credit code of 17 characters") {
      bad.unified_social_credit_code = "91370200MA3C5X0F2";
      HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, given, bad);
    }
    SUBCASE("a credit code with a lower-case letter") {
      bad.unified_social_credit_code = "91370200ma3C5X0F2K";
      HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, given, bad);
    }
    SUBCASE("an empty name") {
      bad.name.clear();
      HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, given, bad);
    }
    SUBCASE("employer rate 4.99 % is below 5 %") {
      bad.employer_rate = RatePpm{49'900};
      HPF_CHECK_REJECTS(Rejection::kEmployerRateOutOfBounds, given, bad);
    }
    SUBCASE("employee rate 12.01 % is above 12 %") {
      bad.employee_rate = RatePpm{120'100};
      HPF_CHECK_REJECTS(Rejection::kEmployerRateOutOfBounds, given, bad);
    }
    SUBCASE("the bounds themselves are allowed") {
      bad.employer_rate = RatePpm{50'000};
      bad.employee_rate = RatePpm{120'000};
      CHECK(Decide(given, At(20220701, bad), Policy()).accepted());
    }
  }

  TEST_CASE("ChangeEmployerRates: rejections and acceptance") {
    const State given = StateAfter({Register(kAcme)});
    const ChangeEmployerRates change{kAcme, RatePpm{80'000}, RatePpm{80'000}, 202301};
    CHECK(Decide(given, At(20221215, change), Policy()).accepted());
    HPF_CHECK_REJECTS(Rejection::kEmployerNotFound, given,
                      ChangeEmployerRates{kBeta, RatePpm{80'000}, RatePpm{80'000}, 202301});
    HPF_CHECK_REJECTS(Rejection::kMonthInvalid, given,
                      ChangeEmployerRates{kAcme, RatePpm{80'000}, RatePpm{80'000}, 202300});
    HPF_CHECK_REJECTS(Rejection::kEmployerRateOutOfBounds, given,
                      ChangeEmployerRates{kAcme, RatePpm{130'000}, RatePpm{80'000}, 202301});
    const State sealed = StateAfter({Register(kAcme), SealEmployer{kAcme}});
    HPF_CHECK_REJECTS(Rejection::kEmployerNotNormal, sealed, change);
    State closed = given;
    closed.employers[kAcme].status = EmployerStatus::kClosed;  // closing arrives with part 2
    HPF_CHECK_REJECTS(Rejection::kEmployerClosed, closed, change);
  }

  TEST_CASE("SealEmployer: only without normal accounts and without suspense") {
    const State with_account = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    HPF_CHECK_REJECTS(Rejection::kEmployerHasNormalAccounts, with_account, SealEmployer{kAcme});
    State with_suspense = StateAfter({Register(kAcme)});
    with_suspense.employers[kAcme].suspense = Fen{1};  // receipts arrive with contributions
    HPF_CHECK_REJECTS(Rejection::kEmployerHasSuspense, with_suspense, SealEmployer{kAcme});
    // Sealing the last account makes the employer sealable.
    const State emptied = StateAfter({Register(kAcme), Open(kAlice, kAcme), SealAccount{kAlice}});
    CHECK(emptied.employer(kAcme)->normal_accounts == 0);
    CHECK(Decide(emptied, At(20220701, SealEmployer{kAcme}), Policy()).accepted());
  }

  TEST_CASE("OpenAccount: rejections in precedence order") {
    const State given = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    HPF_CHECK_REJECTS(Rejection::kAccountAlreadyOpen, given, Open(kAlice, kAcme));
    HPF_CHECK_REJECTS(Rejection::kEmployerNotFound, given, Open(kBob, kBeta));
    OpenAccount low = Open(kBob, kAcme);
    low.contribution_base = Fen{209'999};  // floor 2 100.00 yuan
    HPF_CHECK_REJECTS(Rejection::kBaseBelowFloor, given, low);
    OpenAccount high = Open(kBob, kAcme);
    high.contribution_base = Fen{2'871'601};  // cap 28 716.00 yuan
    HPF_CHECK_REJECTS(Rejection::kBaseAboveCap, given, high);
    OpenAccount at_floor = Open(kBob, kAcme);
    at_floor.contribution_base = Fen{210'000};
    CHECK(Decide(given, At(20220701, at_floor), Policy()).accepted());
    OpenAccount at_cap = Open(kBob, kAcme);
    at_cap.contribution_base = Fen{2'871'600};
    CHECK(Decide(given, At(20220701, at_cap), Policy()).accepted());
    OpenAccount bad_month = Open(kBob, kBeta);  // the month is checked before the employer
    bad_month.first_contribution_month = 190001;
    HPF_CHECK_REJECTS(Rejection::kMonthInvalid, given, bad_month);
    const State sealed = StateAfter({Register(kAcme), SealEmployer{kAcme}});
    HPF_CHECK_REJECTS(Rejection::kEmployerNotNormal, sealed, Open(kBob, kAcme));
  }

  TEST_CASE("ChangeAccountBase, SealAccount, UnsealAccount: lifecycle rules") {
    const State given = StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme)});
    HPF_CHECK_REJECTS(Rejection::kAccountNotFound, given,
                      ChangeAccountBase{kBob, Fen{900'000}, 202301});
    HPF_CHECK_REJECTS(Rejection::kBaseAboveCap, given,
                      ChangeAccountBase{kAlice, Fen{9'000'000}, 202301});
    HPF_CHECK_REJECTS(Rejection::kAccountNotSealed, given,
                      UnsealAccount{kAlice, kBeta, Fen{900'000}, 202301});

    const State sealed =
        StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme), SealAccount{kAlice}});
    HPF_CHECK_REJECTS(Rejection::kAccountNotNormal, sealed, SealAccount{kAlice});
    HPF_CHECK_REJECTS(Rejection::kAccountNotNormal, sealed,
                      ChangeAccountBase{kAlice, Fen{900'000}, 202301});
    // Unsealed into another employer: attached there, counted there.
    State moved = sealed;
    const Decision unseal =
        Decide(moved, At(20230101, UnsealAccount{kAlice, kBeta, Fen{900'000}, 202301}), Policy());
    REQUIRE(unseal.accepted());
    Evolve(moved, unseal.facts[0], Day(20230101), Policy());
    CHECK(moved.account(kAlice)->employer == kBeta);
    CHECK(moved.account(kAlice)->status == AccountStatus::kNormal);
    CHECK(moved.employer(kBeta)->normal_accounts == 1);
    CHECK(moved.employer(kAcme)->normal_accounts == 0);
  }

  TEST_CASE("FreezeAccount, UnfreezeAccount, CloseAccount: court orders and closing") {
    const State given = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    const FreezeAccount freeze{kAlice, "(2022)鲁0202执123号", "Shinan District Court"};
    const UnfreezeAccount unfreeze{kAlice, "(2022)鲁0202执123号", "Shinan District Court"};
    HPF_CHECK_REJECTS(Rejection::kAccountNotFrozen, given, unfreeze);
    HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, given, FreezeAccount{kAlice, "", "court"});
    const State frozen = StateAfter({Register(kAcme), Open(kAlice, kAcme), freeze});
    HPF_CHECK_REJECTS(Rejection::kAccountAlreadyFrozen, frozen, freeze);
    HPF_CHECK_REJECTS(Rejection::kAccountFrozen, frozen, CloseAccount{kAlice});
    CHECK(Decide(frozen, At(20220701, unfreeze), Policy()).accepted());

    State with_balance = given;
    with_balance.accounts[kAlice].balance = Fen{1};  // money arrives with contributions
    HPF_CHECK_REJECTS(Rejection::kAccountHasBalance, with_balance, CloseAccount{kAlice});

    const State closed = StateAfter({Register(kAcme), Open(kAlice, kAcme), CloseAccount{kAlice}});
    CHECK(closed.employer(kAcme)->normal_accounts == 0);
    HPF_CHECK_REJECTS(Rejection::kAccountClosed, closed, CloseAccount{kAlice});
    HPF_CHECK_REJECTS(Rejection::kAccountClosed, closed, freeze);
    HPF_CHECK_REJECTS(Rejection::kAccountClosed, closed, SealAccount{kAlice});
  }

  TEST_CASE("Decide: the same state and command always give the same decision") {
    const State given = StateAfter({Register(kAcme)});
    const Decision a = Decide(given, At(20220701, Open(kAlice, kAcme)), Policy());
    const Decision b = Decide(given, At(20220701, Open(kAlice, kAcme)), Policy());
    REQUIRE(a.accepted());
    REQUIRE(b.accepted());
    CHECK(std::get<AccountOpened>(a.facts[0]).terms.contribution_base ==
          std::get<AccountOpened>(b.facts[0]).terms.contribution_base);
  }

  // Alice's base 8 000.00 yuan at 12 % / 12 %: 960.00 yuan a side, 1 920.00 yuan a month.
  AllocateContribution Line(uint64_t remittance, AccountId account, uint32_t month) {
    return AllocateContribution{.remittance_id = remittance,
                                .employer = kAcme,
                                .account = account,
                                .month = month,
                                .contribution_base = Fen{800'000},
                                .employer_amount = Fen{96'000},
                                .employee_amount = Fen{96'000}};
  }

  OpenRemittance Regular(uint64_t id, uint32_t from, uint32_t to, Fen total) {
    return OpenRemittance{.remittance_id = id,
                          .employer = kAcme,
                          .kind = RemittanceKind::kRegular,
                          .from_month = from,
                          .to_month = to,
                          .accounts_count = 1,
                          .total = total,
                          .list_reference = "HJ-2022-07"};
  }

  RecordBankReceipt Receipt(Fen amount) {
    return RecordBankReceipt{.employer = kAcme,
                             .bank_code = "ICBC",
                             .bank_reference = "ICBC20220715000001",
                             .amount = amount};
  }

  TEST_CASE("Contributions: a month from bank receipt to allocation, with balanced postings") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    TrialBalance book;
    for (const CommandBody& body :
         {CommandBody{Receipt(Fen{192'000})}, CommandBody{Regular(1, 202207, 202207, Fen{192'000})},
          CommandBody{Line(1, kAlice, 202207)}, CommandBody{CompleteRemittance{1, kAcme}}}) {
      const Decision decision = Decide(state, At(20220715, body), Policy());
      REQUIRE_MESSAGE(decision.accepted(), decision.rejection->message);
      for (const Fact& fact : decision.facts) {
        const std::vector<Posting> postings = PostingsOf(fact);
        CHECK(Balanced(postings));
        book.Post(postings);
        Evolve(state, fact, Day(20220715), Policy());
      }
    }
    CHECK(state.account(kAlice)->balance == Fen{192'000});
    CHECK(state.account(kAlice)->paid_up_to_month == 202207);
    CHECK(state.employer(kAcme)->paid_up_to_month == 202207);
    CHECK(state.employer(kAcme)->suspense == Fen{0});
    CHECK(!state.employer(kAcme)->remittance.has_value());
    // Dr 101 192 000 / Cr 219 192 000, then Dr 219 / Cr 201(Alice): debit-positive balances.
    CHECK(book.Total(GlAccount::kFundDeposits) == Fen{192'000});
    CHECK(book.Total(GlAccount::kSuspense) == Fen{0});
    CHECK(book.Balance(GlAccount::kPersonalAccounts, kAlice.value) == Fen{-192'000});
    CHECK(book.Sum() == Fen{0});
  }

  TEST_CASE("Contributions: rejections") {
    const State received = StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme),
                                       Open(kBob, kBeta), Receipt(Fen{192'000})});
    SUBCASE("receipts: positive and bounded amounts") {
      HPF_CHECK_REJECTS(Rejection::kAmountMustBePositive, received, Receipt(Fen{0}));
      HPF_CHECK_REJECTS(Rejection::kAmountExceedsLimit, received, Receipt(Fen{1'000'000'000'001}));
    }
    SUBCASE("opening a list") {
      HPF_CHECK_REJECTS(Rejection::kPeriodInvalid, received,
                        Regular(1, 202208, 202207, Fen{192'000}));
      // Paid up to 2022-06: the next regular month is 2022-07.
      HPF_CHECK_REJECTS(Rejection::kPeriodOutOfSequence, received,
                        Regular(1, 202208, 202208, Fen{192'000}));
      OpenRemittance back = Regular(1, 202206, 202207, Fen{192'000});
      back.kind = RemittanceKind::kBackPayment;
      HPF_CHECK_REJECTS(Rejection::kBackPaymentNotInPast, received, back);
      const State open = StateAfter({Register(kAcme), Open(kAlice, kAcme), Receipt(Fen{192'000}),
                                     Regular(1, 202207, 202207, Fen{192'000})});
      HPF_CHECK_REJECTS(Rejection::kRemittanceAlreadyOpen, open,
                        Regular(2, 202207, 202207, Fen{192'000}));
      State done = open;
      for (const CommandBody& body :
           {CommandBody{Line(1, kAlice, 202207)}, CommandBody{CompleteRemittance{1, kAcme}}}) {
        const Decision decision = Decide(done, At(20220715, body), Policy());
        REQUIRE(decision.accepted());
        for (const Fact& fact : decision.facts) Evolve(done, fact, Day(20220715), Policy());
      }
      HPF_CHECK_REJECTS(Rejection::kRemittanceIdNotIncreasing, done,
                        Regular(1, 202208, 202208, Fen{192'000}));
    }
    const State open =
        StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme), Open(kBob, kBeta),
                    Receipt(Fen{192'000}), Regular(1, 202207, 202208, Fen{384'000})});
    SUBCASE("allocating a line") {
      HPF_CHECK_REJECTS(Rejection::kRemittanceNotOpen, open, Line(9, kAlice, 202207));
      AllocateContribution bob = Line(1, kBob, 202207);
      HPF_CHECK_REJECTS(Rejection::kAccountNotAttachedToEmployer, open, bob);
      HPF_CHECK_REJECTS(Rejection::kMonthOutsideRemittance, open, Line(1, kAlice, 202209));
      HPF_CHECK_REJECTS(Rejection::kPeriodOutOfSequence, open, Line(1, kAlice, 202208));
      AllocateContribution wrong = Line(1, kAlice, 202207);
      wrong.employee_amount = Fen{95'999};  // one fen short of 8 000.00 × 12 %
      HPF_CHECK_REJECTS(Rejection::kContributionAmountMismatch, open, wrong);
      // A back-payment line's base may be a shortfall, but never zero or negative.
      State back_open = StateAfter({Register(kAcme), Open(kAlice, kAcme), Receipt(Fen{192'000})});
      back_open.employers[kAcme].paid_up_to_month = 202208;
      OpenRemittance back_list = Regular(7, 202207, 202207, Fen{192'000});
      back_list.kind = RemittanceKind::kBackPayment;
      const Decision opened = Decide(back_open, At(20220820, back_list), Policy());
      REQUIRE(opened.accepted());
      Evolve(back_open, opened.facts[0], Day(20220820), Policy());
      AllocateContribution zero_base = Line(7, kAlice, 202207);
      zero_base.contribution_base = Fen{0};
      HPF_CHECK_REJECTS(Rejection::kAmountMustBePositive, back_open, At(20220820, zero_base));
      AllocateContribution negative = Line(1, kAlice, 202207);
      negative.employer_amount = Fen{-1};
      HPF_CHECK_REJECTS(Rejection::kAmountMustBePositive, open, negative);
      // 192 000 received; July takes it all, so August finds the suspense empty.
      State after_july = open;
      const Decision july = Decide(after_july, At(20220715, Line(1, kAlice, 202207)), Policy());
      REQUIRE(july.accepted());
      Evolve(after_july, july.facts[0], Day(20220715), Policy());
      HPF_CHECK_REJECTS(Rejection::kAllocationExceedsSuspense, after_july, Line(1, kAlice, 202208));
      HPF_CHECK_REJECTS(Rejection::kRemittanceIncomplete, after_july, CompleteRemittance{1, kAcme});
    }
    SUBCASE("never more than the list's total") {
      const State small_list =
          StateAfter({Register(kAcme), Open(kAlice, kAcme), Receipt(Fen{384'000}),
                      Regular(1, 202207, 202208, Fen{200'000})});
      State after_july = small_list;
      const Decision july = Decide(after_july, At(20220715, Line(1, kAlice, 202207)), Policy());
      REQUIRE(july.accepted());
      Evolve(after_july, july.facts[0], Day(20220715), Policy());
      HPF_CHECK_REJECTS(Rejection::kAllocationExceedsRemittance, after_july,
                        Line(1, kAlice, 202208));
    }
  }

  TEST_CASE("Contributions: amounts are rounded per side by the policy's rule") {
    // Base 3 333.33 yuan at 12 %: 399.9996 yuan a side. Half-up to the fen: 400.00 each
    // (39 999.96 fen -> 40 000 fen), so the line must say 400.00 / 400.00.
    OpenAccount alice = Open(kAlice, kAcme);
    alice.contribution_base = Fen{333'333};
    const State given = StateAfter(
        {Register(kAcme), alice, Receipt(Fen{80'000}), Regular(1, 202207, 202207, Fen{80'000})});
    AllocateContribution line = Line(1, kAlice, 202207);
    line.contribution_base = Fen{333'333};
    line.employer_amount = Fen{40'000};
    line.employee_amount = Fen{40'000};
    CHECK(Decide(given, At(20220715, line), Policy()).accepted());
    line.employee_amount = Fen{39'999};  // truncation is not the rule
    CHECK(!Decide(given, At(20220715, line), Policy()).accepted());
  }

  // Decides and applies `body` on `state` with effective date `date`; REQUIREs acceptance.
  std::vector<Fact> Apply(State & state, uint32_t date, CommandBody body,
                          const PolicyBook& policy = Policy()) {
    const Decision decision = Decide(state, At(date, std::move(body)), policy);
    REQUIRE_MESSAGE(decision.accepted(), decision.rejection->message);
    for (const Fact& fact : decision.facts) Evolve(state, fact, Day(date), policy);
    return decision.facts;
  }

  // One month for Alice at `base`: receipt, regular list, line, completion, value-dated `date`.
  void PayMonth(State & state, uint64_t id, uint32_t month, uint32_t date, Fen base,
                RemittanceKind kind, const PolicyBook& policy) {
    const Fen side = ApplyRate(base, RatePpm{120'000}, RoundingRule::kHalfUpToFen);
    Apply(state, date, Receipt(side + side), policy);
    OpenRemittance list = Regular(id, month, month, side + side);
    list.kind = kind;
    Apply(state, date, list, policy);
    AllocateContribution line = Line(id, kAlice, month);
    line.contribution_base = base;
    line.employer_amount = side;
    line.employee_amount = side;
    Apply(state, date, line, policy);
    Apply(state, date, CompleteRemittance{id, kAcme}, policy);
  }

  TEST_CASE("Interest: one employee's year with a base change, a back-payment and 30 June") {
    // Interest year 2022 (2022-07-01 .. 2023-06-30). Alice's base is 8 000.00 yuan (12 % +
    // 12 %: 1 920.00 a month), 10 000.00 from September (2 400.00). On 1 September her
    // opening base is corrected to 8 500.00 (July and August are each 500.00 short); in
    // October the employer back-pays July's shortfall (60.00 + 60.00). Each amount counts on
    // every end-of-day balance from its value date through 30 June (days to 2023-07-01):
    //   value date   amount (fen)   days   积数 (fen·days)
    //   2022-07-15      192 000      351       67 392 000
    //   2022-08-15      192 000      320       61 440 000
    //   2022-09-15      240 000      289       69 360 000
    //   2022-10-20       12 000      254        3 048 000
    //                                   total  201 240 000
    // At 1.50 %: 201 240 000 × 0.015 / 360 = 8 385.00 fen -> 83.85 yuan;
    //            201 240 000 × 0.015 / 365 = 8 270.137 fen -> 82.70 yuan.
    for (const auto& [basis, expected] :
         {std::pair{DayBasis::k360, Fen{8'385}}, std::pair{DayBasis::k365, Fen{8'270}}}) {
      CAPTURE(static_cast<int>(basis));
      ::hpf::ledger::Policy policy_version;
      policy_version.effective_from = Day(19900101);
      policy_version.deferral_last_month = Month::FromYyyymm(202212).value();
      policy_version.day_basis = basis;
      const PolicyBook policy({policy_version});
      State state;
      Apply(state, 20220701, Register(kAcme), policy);
      Apply(state, 20220701, Open(kAlice, kAcme), policy);
      PayMonth(state, 1, 202207, 20220715, Fen{800'000}, RemittanceKind::kRegular, policy);
      PayMonth(state, 2, 202208, 20220815, Fen{800'000}, RemittanceKind::kRegular, policy);
      Apply(state, 20220901, ChangeAccountBase{kAlice, Fen{850'000}, 202207}, policy);
      Apply(state, 20220901, ChangeAccountBase{kAlice, Fen{1'000'000}, 202209}, policy);
      PayMonth(state, 3, 202209, 20220915, Fen{1'000'000}, RemittanceKind::kRegular, policy);
      PayMonth(state, 4, 202207, 20221020, Fen{50'000}, RemittanceKind::kBackPayment, policy);
      REQUIRE(state.account(kAlice)->balance == Fen{636'000});
      REQUIRE(state.account(kAlice)->interest->TotalFenDays() == FenDays{201'240'000});

      const std::vector<Fact> facts =
          Apply(state, 20230630, SettleInterest{2022, {kAlice}}, policy);
      // Alice is the year's only account: her chunk starts the run and completes it.
      REQUIRE(facts.size() == 3);
      CHECK(std::get<YearEndSettlementStarted>(facts[0]).accounts_count == 1);
      const auto& credited = std::get<YearEndInterestCredited>(facts[1]);
      CHECK(std::get<YearEndSettlementCompleted>(facts[2]).interest_total == expected);
      CHECK(credited.interest == expected);
      CHECK(credited.day_basis == basis);
      const std::vector<Posting> postings = PostingsOf(facts[1]);
      REQUIRE(postings.size() == 2);
      CHECK(postings[0].gl_account == GlAccount::kInterestToPersonal);
      CHECK(postings[0].subledger == Subledger::kNone);  // 41101 has no sub-ledger (DOMAIN §7)
      CHECK(postings[0].subledger_id == 0);
      CHECK(postings[1].gl_account == GlAccount::kPersonalAccounts);
      CHECK(postings[1].subledger == Subledger::kAccount);
      CHECK(postings[1].subledger_id == kAlice.value);
      CHECK(postings[1].amount == expected);
      CHECK(state.account(kAlice)->balance == Fen{636'000} + expected);
      // The next year opens with the balance and the interest counted on all its 366 days
      // (2023-07-01 .. 2024-06-30 holds 29 February 2024).
      CHECK(state.account(kAlice)->interest->year().starting_year() == 2023);
      CHECK(state.account(kAlice)->interest->TotalFenDays() ==
            FenDays{(636'000 + expected.value) * 366});
    }
  }

  TEST_CASE("Interest: settlement rules") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme), Open(kBob, kAcme)});
    HPF_CHECK_REJECTS(Rejection::kInterestYearInvalid, state,
                      At(20230630, SettleInterest{1989, {kAlice}}));
    HPF_CHECK_REJECTS(Rejection::kSettlementBeforeYearEnd, state,
                      At(20230629, SettleInterest{2022, {kAlice}}));
    HPF_CHECK_REJECTS(Rejection::kSettlementChunkInvalid, state,
                      At(20230630, SettleInterest{2022, {}}));
    HPF_CHECK_REJECTS(Rejection::kSettlementChunkInvalid, state,
                      At(20230630, SettleInterest{2022, {kAlice, kAlice}}));
    // The 2023 year cannot be settled before 2022.
    HPF_CHECK_REJECTS(Rejection::kInterestYearNotSettled, state,
                      At(20240630, SettleInterest{2023, {kAlice}}));
    // Money value-dated in July 2023 waits for the 2022 settlement.
    State received = state;
    Apply(received, 20230715, Receipt(Fen{192'000}));
    Apply(received, 20230715, Regular(1, 202207, 202207, Fen{192'000}));
    HPF_CHECK_REJECTS(Rejection::kInterestYearNotSettled, received,
                      At(20230715, Line(1, kAlice, 202207)));
    Apply(state, 20230630, SettleInterest{2022, {kAlice}});
    HPF_CHECK_REJECTS(Rejection::kInterestAlreadySettled, state,
                      At(20230630, SettleInterest{2022, {kAlice, kBob}}));
    CHECK(Decide(state, At(20230630, SettleInterest{2022, {kBob}}), Policy()).accepted());
  }

  TEST_CASE("Grants: a rate reduction (降比) sets the rates due for its months") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    Apply(
        state, 20220701,
        GrantRateReduction{kAcme, RatePpm{50'000}, RatePpm{50'000}, 202207, 202212, "QD-2022-17"});
    // July at 5 % + 5 % on 8 000.00: 400.00 + 400.00; the 12 % line no longer matches.
    Apply(state, 20220715, Receipt(Fen{80'000}));
    Apply(state, 20220715, Regular(1, 202207, 202207, Fen{80'000}));
    HPF_CHECK_REJECTS(Rejection::kContributionAmountMismatch, state,
                      At(20220715, Line(1, kAlice, 202207)));
    AllocateContribution reduced = Line(1, kAlice, 202207);
    reduced.employer_amount = Fen{40'000};
    reduced.employee_amount = Fen{40'000};
    const std::vector<Fact> facts = Apply(state, 20220715, reduced);
    CHECK(std::get<ContributionAllocated>(facts[0]).employer_rate == RatePpm{50'000});
  }

  TEST_CASE("Grants: rejections") {
    const State given = StateAfter({Register(kAcme)});
    HPF_CHECK_REJECTS(
        Rejection::kReducedRateBelowMinimum, given,
        GrantRateReduction{kAcme, RatePpm{49'999}, RatePpm{50'000}, 202207, 202212, "QD-1"});
    HPF_CHECK_REJECTS(
        Rejection::kReducedRateNotLower, given,
        GrantRateReduction{kAcme, RatePpm{50'000}, RatePpm{120'001}, 202207, 202212, "QD-1"});
    HPF_CHECK_REJECTS(Rejection::kPeriodInvalid, given,
                      GrantDeferral{kAcme, 202212, 202207, "QD-2"});
    // The 2022 support policy allowed deferrals up to 2022-12.
    HPF_CHECK_REJECTS(Rejection::kDeferralBeyondPolicy, given,
                      GrantDeferral{kAcme, 202207, 202301, "QD-2"});
    const State granted = StateAfter(
        {Register(kAcme), GrantDeferral{kAcme, 202207, 202209, "A"},
         GrantRateReduction{kAcme, RatePpm{50'000}, RatePpm{50'000}, 202210, 202212, "B"}});
    HPF_CHECK_REJECTS(Rejection::kPeriodOverlapsGrant, granted,
                      GrantDeferral{kAcme, 202209, 202210, "C"});
    HPF_CHECK_REJECTS(
        Rejection::kPeriodOverlapsGrant, granted,
        GrantRateReduction{kAcme, RatePpm{60'000}, RatePpm{60'000}, 202212, 202212, "D"});
  }

  TEST_CASE("Grants: a deferral (缓缴) lets regular lists skip its months, back-paid later") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    Apply(state, 20220701, GrantDeferral{kAcme, 202207, 202209, "QD-2022-3"});
    // Paid up to 2022-06; July-September deferred: October is the next regular month.
    Apply(state, 20221015, Receipt(Fen{192'000 * 4}));
    Apply(state, 20221015, Regular(1, 202210, 202210, Fen{192'000}));
    Apply(state, 20221015, Line(1, kAlice, 202210));
    Apply(state, 20221015, CompleteRemittance{1, kAcme});
    CHECK(state.employer(kAcme)->paid_up_to_month == 202210);
    // The deferred months are now in the past: a back-payment covers them.
    OpenRemittance back = Regular(2, 202207, 202209, Fen{192'000 * 3});
    back.kind = RemittanceKind::kBackPayment;
    Apply(state, 20221020, back);
    for (uint32_t month : {202207u, 202208u, 202209u})
      Apply(state, 20221020, Line(2, kAlice, month));
    Apply(state, 20221020, CompleteRemittance{2, kAcme});
    CHECK(state.account(kAlice)->balance == Fen{192'000 * 4});
    CHECK(state.employer(kAcme)->suspense == Fen{0});
  }

  // What the sequencer reads from the log for a reversal of `original` at some position.
  std::shared_ptr<const ReversalTarget> TargetOf(const Fact& original, uint32_t date) {
    auto target = std::make_shared<ReversalTarget>();
    target->effective_date = date;
    std::visit(
        [&](const auto& f) {
          using F = std::decay_t<decltype(f)>;
          if constexpr (std::is_same_v<F, BankReceiptRecorded> ||
                        std::is_same_v<F, ContributionAllocated> ||
                        std::is_same_v<F, YearEndInterestCredited>) {
            target->original = f;
          }
          target->event_type = "AccountOpened";
        },
        original);
    return target;
  }

  TEST_CASE("Reversal: a wrong allocation is negated and the corrected one follows") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    TrialBalance book;
    auto post = [&book](const std::vector<Fact>& facts) {
      for (const Fact& fact : facts) {
        CHECK(Balanced(PostingsOf(fact)));
        book.Post(PostingsOf(fact));
      }
    };
    post(Apply(state, 20220715, Receipt(Fen{192'000})));
    post(Apply(state, 20220715, Regular(1, 202207, 202207, Fen{192'000})));
    const FenDays before = state.account(kAlice)->interest->TotalFenDays();
    const std::vector<Fact> wrong = Apply(state, 20220715, Line(1, kAlice, 202207));
    post(wrong);
    REQUIRE(state.account(kAlice)->balance == Fen{192'000});

    const std::vector<Fact> reversal = Apply(state, 20220720,
                                             ReverseRecord{.position = 7,
                                                           .reason = ReversalReason::kWrongAccount,
                                                           .note = "posted to Alice instead of Bob",
                                                           .approval_reference = "HC-1",
                                                           .target = TargetOf(wrong[0], 20220715)});
    post(reversal);
    const std::vector<Posting> postings = PostingsOf(reversal[0]);
    CHECK(postings[0].gl_account == GlAccount::kSuspense);
    CHECK(postings[0].side == PostingSide::kCredit);  // the original debited 219
    CHECK(state.account(kAlice)->balance == Fen{0});
    CHECK(state.account(kAlice)->interest->TotalFenDays() == before);  // 积数 back as it was
    CHECK(state.employer(kAcme)->suspense == Fen{192'000});
    CHECK(state.employer(kAcme)->remittance->allocated == Fen{0});
    CHECK(book.Balance(GlAccount::kPersonalAccounts, kAlice.value) == Fen{0});
    CHECK(book.Sum() == Fen{0});
    HPF_CHECK_REJECTS(
        Rejection::kAlreadyReversed, state,
        At(20220720, ReverseRecord{.position = 7, .target = TargetOf(wrong[0], 20220715)}));
    // The list is open again for the corrected line.
    post(Apply(state, 20220720, Line(1, kAlice, 202207)));
    CHECK(state.account(kAlice)->balance == Fen{192'000});
  }

  TEST_CASE("Reversal: rejections") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    const std::vector<Fact> receipt = Apply(state, 20220715, Receipt(Fen{192'000}));
    HPF_CHECK_REJECTS(Rejection::kReversalTargetNotFound, state,
                      At(20220720, ReverseRecord{.position = 99}));
    const Fact opened = EmployerSealed{kAcme};
    HPF_CHECK_REJECTS(
        Rejection::kNotReversible, state,
        At(20220720, ReverseRecord{.position = 1, .target = TargetOf(opened, 20220701)}));
    // A closing withdrawal's payment moves money, but is not negated: its account is closed.
    auto payment = std::make_shared<ReversalTarget>();
    payment->event_type = "WithdrawalPaid";
    payment->effective_date = 20220715;
    payment->moves_money = true;
    const Decision refused =
        Decide(state, At(20220720, ReverseRecord{.position = 2, .target = payment}), Policy());
    REQUIRE(!refused.accepted());
    CHECK(refused.rejection->rejection == Rejection::kNotReversible);
    CHECK(refused.rejection->message ==
          "record 2 is a WithdrawalPaid: a closing withdrawal's money is not reversed by 红冲 "
          "(the account is closed)");
    Apply(state, 20220715, Regular(1, 202207, 202207, Fen{192'000}));
    const std::vector<Fact> line = Apply(state, 20220715, Line(1, kAlice, 202207));
    // The receipt's money is allocated: reverse the allocation first.
    HPF_CHECK_REJECTS(
        Rejection::kReversalExceedsSuspense, state,
        At(20220720, ReverseRecord{.position = 3, .target = TargetOf(receipt[0], 20220715)}));
    State frozen = state;
    Apply(frozen, 20220716, FreezeAccount{kAlice, "(2022)鲁0202执1号", "court"});
    HPF_CHECK_REJECTS(
        Rejection::kAccountFrozen, frozen,
        At(20220720, ReverseRecord{.position = 5, .target = TargetOf(line[0], 20220715)}));
    State drained = state;
    drained.accounts[kAlice].balance = Fen{100};  // withdrawals arrive with part 2
    HPF_CHECK_REJECTS(
        Rejection::kReversalWouldOverdraw, drained,
        At(20220720, ReverseRecord{.position = 5, .target = TargetOf(line[0], 20220715)}));
  }

  TEST_CASE("Reversal: a year-end interest credit is negated from its value date") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    PayMonth(state, 1, 202207, 20220715, Fen{800'000}, RemittanceKind::kRegular, Policy());
    const std::vector<Fact> credit = Apply(state, 20230630, SettleInterest{2022, {kAlice}});
    const Fen interest = std::get<YearEndInterestCredited>(credit[1]).interest;
    REQUIRE(interest > Fen{0});
    Apply(state, 20230705, ReverseRecord{.position = 9, .target = TargetOf(credit[1], 20230630)});
    CHECK(state.account(kAlice)->balance == Fen{192'000});
    // The 2023 year counted balance + interest on all 366 days; now the balance alone.
    CHECK(state.account(kAlice)->interest->TotalFenDays() == FenDays{192'000 * 366});
  }

  TEST_CASE("CloseEmployer and ReopenEmployer: leaving and coming back") {
    const State with_account = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    HPF_CHECK_REJECTS(Rejection::kEmployerHasNormalAccounts, with_account, CloseEmployer{kAcme});
    State listed =
        StateAfter({Register(kAcme), Receipt(Fen{100}), Regular(1, 202207, 202207, Fen{100})});
    HPF_CHECK_REJECTS(Rejection::kEmployerHasOpenRemittance, listed, CloseEmployer{kAcme});
    const State with_money = StateAfter({Register(kAcme), Receipt(Fen{100})});
    HPF_CHECK_REJECTS(Rejection::kEmployerHasSuspense, with_money, CloseEmployer{kAcme});
    HPF_CHECK_REJECTS(Rejection::kEmployerNotSealed, with_money, ReopenEmployer{kAcme, 202301});

    State sealed = StateAfter({Register(kAcme), SealEmployer{kAcme}});
    HPF_CHECK_REJECTS(Rejection::kPeriodOutOfSequence, sealed, ReopenEmployer{kAcme, 202206});
    Apply(sealed, 20230101, ReopenEmployer{kAcme, 202301});
    CHECK(sealed.employer(kAcme)->status == EmployerStatus::kNormal);
    CHECK(sealed.employer(kAcme)->paid_up_to_month == 202212);

    State closed = StateAfter({Register(kAcme)});
    Apply(closed, 20230101, CloseEmployer{kAcme});
    HPF_CHECK_REJECTS(Rejection::kEmployerClosed, closed, CloseEmployer{kAcme});
    HPF_CHECK_REJECTS(Rejection::kEmployerClosed, closed, Open(kAlice, kAcme));
  }

  TEST_CASE("regression: single bad commands that aborted the ledger (found by simulation)") {
    SUBCASE("a first contribution month of 1990-01 has no month before it") {
      RegisterEmployer first = Register(kAcme);
      first.first_contribution_month = 199001;
      HPF_CHECK_REJECTS(Rejection::kMonthInvalid, State{}, first);
      const State given = StateAfter({Register(kAcme)});
      OpenAccount open = Open(kAlice, kAcme);
      open.first_contribution_month = 199001;
      HPF_CHECK_REJECTS(Rejection::kMonthInvalid, given, open);
    }
    SUBCASE("amounts whose sum overflows int64 are refused before they are added") {
      const State open = StateAfter({Register(kAcme), Open(kAlice, kAcme), Receipt(Fen{192'000}),
                                     Regular(1, 202207, 202207, Fen{192'000})});
      AllocateContribution line = Line(1, kAlice, 202207);
      line.employer_amount = Fen{INT64_MAX};
      line.employee_amount = Fen{1};
      HPF_CHECK_REJECTS(Rejection::kAmountExceedsLimit, open, line);
    }
    SUBCASE("an employer paid up to the calendar's last month owes nothing after it") {
      State state = StateAfter({Register(kAcme)});
      state.employers[kAcme].paid_up_to_month = 219912;
      HPF_CHECK_REJECTS(Rejection::kPeriodOutOfSequence, state,
                        At(20220715, Regular(1, 219912, 219912, Fen{100})));
      state.employers[kAcme].deferrals.push_back(MonthRange{219901, 219912});
      state.employers[kAcme].paid_up_to_month = 219812;
      HPF_CHECK_REJECTS(Rejection::kPeriodOutOfSequence, state,
                        At(20220715, Regular(1, 219811, 219811, Fen{100})));
    }
  }

  TEST_CASE("ChangeEmployerRates: a change applies from its month, earlier months keep theirs") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    Apply(state, 20220801, ChangeEmployerRates{kAcme, RatePpm{50'000}, RatePpm{50'000}, 202208});
    HPF_CHECK_REJECTS(Rejection::kPeriodOutOfSequence, state,
                      ChangeEmployerRates{kAcme, RatePpm{60'000}, RatePpm{60'000}, 202208});
    // July still owes 12 % + 12 % (1 920.00 on 8 000.00), August 5 % + 5 % (800.00).
    CHECK(RatesFor(*state.employer(kAcme), 202207) ==
          std::pair{RatePpm{120'000}, RatePpm{120'000}});
    CHECK(RatesFor(*state.employer(kAcme), 202208) == std::pair{RatePpm{50'000}, RatePpm{50'000}});
    Apply(state, 20220815, Receipt(Fen{192'000 + 80'000}));
    Apply(state, 20220815, Regular(1, 202207, 202208, Fen{192'000 + 80'000}));
    Apply(state, 20220815, Line(1, kAlice, 202207));
    AllocateContribution august = Line(1, kAlice, 202208);
    HPF_CHECK_REJECTS(Rejection::kContributionAmountMismatch, state, At(20220815, august));
    august.employer_amount = Fen{40'000};
    august.employee_amount = Fen{40'000};
    Apply(state, 20220815, august);
    CHECK(state.account(kAlice)->balance == Fen{272'000});
  }

  TEST_CASE("ChangeAccountBase: the base by month; a regular line carries the one in force") {
    // Given Alice on 8 000.00 from 2022-07, 9 000.00 from 2022-08.
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    Apply(state, 20220801, ChangeAccountBase{kAlice, Fen{900'000}, 202208});
    CHECK(BaseFor(*state.account(kAlice), 202206) == Fen{800'000});  // before: the opening's
    CHECK(BaseFor(*state.account(kAlice), 202207) == Fen{800'000});
    CHECK(BaseFor(*state.account(kAlice), 202208) == Fen{900'000});
    // A change takes effect from the latest change's month or later; from that month it
    // corrects the change.
    HPF_CHECK_REJECTS(Rejection::kPeriodOutOfSequence, state,
                      At(20220805, ChangeAccountBase{kAlice, Fen{950'000}, 202207}));
    Apply(state, 20220805, ChangeAccountBase{kAlice, Fen{950'000}, 202208});
    CHECK(state.account(kAlice)->base_changes ==
          std::vector<BaseChange>{{202207, Fen{800'000}}, {202208, Fen{950'000}}});
    CHECK(state.account(kAlice)->contribution_base == Fen{950'000});

    // When July and August are paid regularly, each line carries its month's base.
    Apply(state, 20220815, Receipt(Fen{192'000 + 228'000}));
    Apply(state, 20220815, Regular(1, 202207, 202208, Fen{192'000 + 228'000}));
    AllocateContribution july_at_new_base = Line(1, kAlice, 202207);
    july_at_new_base.contribution_base = Fen{950'000};
    july_at_new_base.employer_amount = july_at_new_base.employee_amount = Fen{114'000};
    HPF_CHECK_REJECTS(Rejection::kContributionBaseMismatch, state, At(20220815, july_at_new_base));
    Apply(state, 20220815, Line(1, kAlice, 202207));  // 8 000.00: amounts consistent, accepted
    AllocateContribution august = Line(1, kAlice, 202208);
    august.contribution_base = Fen{900'000};  // the base before the correction
    august.employer_amount = august.employee_amount = Fen{108'000};
    HPF_CHECK_REJECTS(Rejection::kContributionBaseMismatch, state, At(20220815, august));
    august.contribution_base = Fen{950'000};
    august.employer_amount = august.employee_amount = Fen{114'000};
    Apply(state, 20220815, august);
    CHECK(state.account(kAlice)->balance == Fen{192'000 + 228'000});
  }

  TEST_CASE("UnsealAccount: the new employment's base replaces the months from its first on") {
    State state = StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme)});
    Apply(state, 20220901, ChangeAccountBase{kAlice, Fen{900'000}, 202301});  // planned
    Apply(state, 20220902, SealAccount{kAlice});
    Apply(state, 20220903, UnsealAccount{kAlice, kBeta, Fen{500'000}, 202210});
    CHECK(state.account(kAlice)->base_changes ==
          std::vector<BaseChange>{{202207, Fen{800'000}}, {202210, Fen{500'000}}});
    CHECK(BaseFor(*state.account(kAlice), 202301) == Fen{500'000});
    CHECK(state.account(kAlice)->contribution_base == Fen{500'000});
  }

  // A line for Alice on `base` at 12 % / 12 %, amounts consistent.
  AllocateContribution LineOn(uint64_t remittance, uint32_t month, Fen base) {
    AllocateContribution line = Line(remittance, kAlice, month);
    line.contribution_base = base;
    line.employer_amount = line.employee_amount =
        ApplyRate(base, RatePpm{120'000}, RoundingRule::kHalfUpToFen);
    return line;
  }

  TEST_CASE("Back-payment (补缴): an unpaid or under-paid month, never more than is due") {
    // Given July and August deferred and September paid regularly on Alice's 8 000.00 base.
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    Apply(state, 20220701, GrantDeferral{kAcme, 202207, 202208, "QD-9"});
    Apply(state, 20220915, Receipt(Fen{192'000 * 3}));
    Apply(state, 20220915, Regular(1, 202209, 202209, Fen{192'000}));
    Apply(state, 20220915, Line(1, kAlice, 202209));
    Apply(state, 20220915, CompleteRemittance{1, kAcme});
    OpenRemittance back = Regular(2, 202207, 202209, Fen{192'000 * 2});
    back.kind = RemittanceKind::kBackPayment;
    Apply(state, 20220920, back);
    // September is paid in full: there is nothing to back-pay.
    HPF_CHECK_REJECTS(Rejection::kMonthAlreadyPaid, state, At(20220920, Line(2, kAlice, 202209)));
    // July in full, once.
    Apply(state, 20220920, Line(2, kAlice, 202207));
    CHECK(PaidBaseFor(*state.account(kAlice), 202207) == Fen{800'000});
    HPF_CHECK_REJECTS(Rejection::kMonthAlreadyPaid, state,
                      At(20220920, LineOn(2, 202207, Fen{100})));
    // August in two parts: 5 000.00, then at most the 3 000.00 still due.
    Apply(state, 20220920, LineOn(2, 202208, Fen{500'000}));
    CHECK(PaidBaseFor(*state.account(kAlice), 202208) == Fen{500'000});
    HPF_CHECK_REJECTS(Rejection::kMonthAlreadyPaid, state,
                      At(20220920, LineOn(2, 202208, Fen{300'001})));
    Apply(state, 20220920, LineOn(2, 202208, Fen{300'000}));
    Apply(state, 20220920, CompleteRemittance{2, kAcme});
    // Three months paid on one base: one run.
    CHECK(state.account(kAlice)->paid_runs == std::vector<PaidRun>{{202207, 202209, Fen{800'000}}});
    CHECK(state.account(kAlice)->balance == Fen{192'000 * 3});
    CHECK(state.employer(kAcme)->suspense == Fen{0});
  }

  TEST_CASE("Back-payment: a base raised for a month already paid leaves the difference due") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    PayMonth(state, 1, 202207, 20220715, Fen{800'000}, RemittanceKind::kRegular, Policy());
    // A month before the first contribution month owes the opening base: June is unpaid.
    CHECK(BaseFor(*state.account(kAlice), 202206) == Fen{800'000});
    CHECK(PaidBaseFor(*state.account(kAlice), 202206) == Fen{0});
    Apply(state, 20220801, ChangeAccountBase{kAlice, Fen{900'000}, 202207});  // a correction
    Apply(state, 20220805, Receipt(Fen{24'000}));
    OpenRemittance back = Regular(2, 202207, 202207, Fen{24'000});
    back.kind = RemittanceKind::kBackPayment;
    Apply(state, 20220805, back);
    HPF_CHECK_REJECTS(Rejection::kMonthAlreadyPaid, state,
                      At(20220805, LineOn(2, 202207, Fen{100'001})));
    Apply(state, 20220805, LineOn(2, 202207, Fen{100'000}));  // 12.00 + 12.00 yuan
    CHECK(PaidBaseFor(*state.account(kAlice), 202207) == Fen{900'000});
  }

  TEST_CASE("Regular line: a month with anything paid is not paid again") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme), Receipt(Fen{192'000}),
                              Regular(1, 202207, 202207, Fen{192'000})});
    // Regular lists start after the employer's paid-up-to month and back-payments end at it,
    // so commands cannot reach this today; the rule guards the state all the same.
    state.accounts[kAlice].paid_runs = {PaidRun{202207, 202207, Fen{100}}};
    HPF_CHECK_REJECTS(Rejection::kMonthAlreadyPaid, state, At(20220715, Line(1, kAlice, 202207)));
  }

  TEST_CASE("Reversal: a completed list's last month is unpaid again, and paid again") {
    // Given July paid for Alice and Bob by one list, completed: both are paid up to 2022-07.
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme), Open(kBob, kAcme)});
    Apply(state, 20220715, Receipt(Fen{192'000 * 2}));
    Apply(state, 20220715, Regular(1, 202207, 202207, Fen{192'000 * 2}));
    const std::vector<Fact> alice_july = Apply(state, 20220715, Line(1, kAlice, 202207));
    Apply(state, 20220715, Line(1, kBob, 202207));
    Apply(state, 20220715, CompleteRemittance{1, kAcme});
    // When Alice's July is reversed (红冲).
    Apply(state, 20220720,
          ReverseRecord{.position = 9, .target = TargetOf(alice_july[0], 20220715)});
    // Then the money is back in suspense and July is unpaid for Alice; neither she nor the
    // employer steps back, so the August list still takes both of them.
    const AccountState& alice = *state.account(kAlice);
    CHECK(alice.balance == Fen{0});
    CHECK(PaidBaseFor(alice, 202207) == Fen{0});
    CHECK(alice.paid_up_to_month == 202207);
    CHECK(state.employer(kAcme)->paid_up_to_month == 202207);
    CHECK(state.employer(kAcme)->suspense == Fen{192'000});
    CHECK(NextDueMonth(*state.employer(kAcme), alice) == 202208);
    Apply(state, 20220815, Receipt(Fen{192'000 * 2}));
    Apply(state, 20220815, Regular(2, 202208, 202208, Fen{192'000 * 2}));
    Apply(state, 20220815, Line(2, kAlice, 202208));
    Apply(state, 20220815, Line(2, kBob, 202208));
    Apply(state, 20220815, CompleteRemittance{2, kAcme});
    // July is made good by a back-payment, once.
    OpenRemittance back = Regular(3, 202207, 202207, Fen{192'000});
    back.kind = RemittanceKind::kBackPayment;
    Apply(state, 20220820, back);
    Apply(state, 20220820, Line(3, kAlice, 202207));
    HPF_CHECK_REJECTS(Rejection::kMonthAlreadyPaid, state, At(20220820, Line(3, kAlice, 202207)));
    Apply(state, 20220820, CompleteRemittance{3, kAcme});
    CHECK(state.account(kAlice)->balance == Fen{192'000 * 2});
    CHECK(state.account(kAlice)->paid_runs == std::vector<PaidRun>{{202207, 202208, Fen{800'000}}});
    CHECK(state.employer(kAcme)->suspense == Fen{0});
  }

  TEST_CASE("Reversal: a month in the middle of a run splits it, and paying it joins it again") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    Apply(state, 20220915, Receipt(Fen{192'000 * 3}));
    Apply(state, 20220915, Regular(1, 202207, 202209, Fen{192'000 * 3}));
    Apply(state, 20220915, Line(1, kAlice, 202207));
    const std::vector<Fact> august = Apply(state, 20220915, Line(1, kAlice, 202208));
    Apply(state, 20220915, Line(1, kAlice, 202209));
    Apply(state, 20220915, CompleteRemittance{1, kAcme});
    CHECK(state.account(kAlice)->paid_runs == std::vector<PaidRun>{{202207, 202209, Fen{800'000}}});
    Apply(state, 20220920, ReverseRecord{.position = 8, .target = TargetOf(august[0], 20220915)});
    CHECK(state.account(kAlice)->paid_runs ==
          std::vector<PaidRun>{{202207, 202207, Fen{800'000}}, {202209, 202209, Fen{800'000}}});
    OpenRemittance back = Regular(2, 202208, 202208, Fen{192'000});
    back.kind = RemittanceKind::kBackPayment;
    Apply(state, 20220921, back);
    Apply(state, 20220921, LineOn(2, 202208, Fen{300'000}));  // a part first
    CHECK(state.account(kAlice)->paid_runs == std::vector<PaidRun>{{202207, 202207, Fen{800'000}},
                                                                   {202208, 202208, Fen{300'000}},
                                                                   {202209, 202209, Fen{800'000}}});
    Apply(state, 20220921, LineOn(2, 202208, Fen{500'000}));
    CHECK(state.account(kAlice)->paid_runs == std::vector<PaidRun>{{202207, 202209, Fen{800'000}}});
  }

  TEST_CASE("OpenAccount, UnsealAccount: an account joins its employer's sequence") {
    // Given the employer paid up to 2022-07.
    State state = StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme)});
    PayMonth(state, 1, 202207, 20220715, Fen{800'000}, RemittanceKind::kRegular, Policy());
    REQUIRE(state.employer(kAcme)->paid_up_to_month == 202207);
    // When Bob is opened from 2022-06 (registered late), he joins the employer's sequence:
    // the August list takes him, and June and July are his to back-pay.
    OpenAccount late = Open(kBob, kAcme);
    late.first_contribution_month = 202206;
    Apply(state, 20220801, late);
    CHECK(state.account(kBob)->paid_up_to_month == 202207);
    CHECK(NextDueMonth(*state.employer(kAcme), *state.account(kBob)) == 202208);
    Apply(state, 20220815, Receipt(Fen{192'000 * 4}));
    Apply(state, 20220815, Regular(2, 202208, 202208, Fen{192'000 * 2}));
    for (const AccountId account : {kAlice, kBob}) {
      Apply(state, 20220815, Line(2, account, 202208));
    }
    Apply(state, 20220815, CompleteRemittance{2, kAcme});
    OpenRemittance back = Regular(3, 202206, 202207, Fen{192'000 * 2});
    back.kind = RemittanceKind::kBackPayment;
    Apply(state, 20220820, back);
    Apply(state, 20220820, Line(3, kBob, 202206));
    Apply(state, 20220820, Line(3, kBob, 202207));
    Apply(state, 20220820, CompleteRemittance{3, kAcme});
    CHECK(state.account(kBob)->paid_runs == std::vector<PaidRun>{{202206, 202208, Fen{800'000}}});
    // A first month after the employer's is kept: the account waits for it.
    OpenAccount ahead = Open(AccountId{1003}, kAcme);
    ahead.first_contribution_month = 202211;
    Apply(state, 20220901, ahead);
    CHECK(state.account(AccountId{1003})->paid_up_to_month == 202210);
    // Unsealed into an employer paid further than its first month: the same.
    Apply(state, 20220902, SealAccount{kAlice});
    State moved = state;
    moved.employers[kBeta].paid_up_to_month = 202209;  // Beta's lists are not this test's
    Apply(moved, 20220903, UnsealAccount{kAlice, kBeta, Fen{800'000}, 202208});
    CHECK(moved.account(kAlice)->paid_up_to_month == 202209);
  }

  TEST_CASE("UnsealAccount: the new sequence starts at its first month, wherever the old stood") {
    // Given Alice paid up to 2022-08 by Acme, sealed, unsealed into Beta from 2022-11 (so her
    // sequence stands at 2022-10, September and October unpaid) and sealed again.
    State state = StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme)});
    PayMonth(state, 1, 202207, 20220715, Fen{800'000}, RemittanceKind::kRegular, Policy());
    PayMonth(state, 2, 202208, 20220815, Fen{800'000}, RemittanceKind::kRegular, Policy());
    Apply(state, 20220901, SealAccount{kAlice});
    Apply(state, 20221001, UnsealAccount{kAlice, kBeta, Fen{800'000}, 202211});
    CHECK(state.account(kAlice)->paid_up_to_month == 202210);
    Apply(state, 20221002, SealAccount{kAlice});
    // When she goes back to Acme from September, September is hers to pay regularly: it was
    // passed over, never paid.
    Apply(state, 20221003, UnsealAccount{kAlice, kAcme, Fen{800'000}, 202209});
    CHECK(state.account(kAlice)->paid_up_to_month == 202208);
    CHECK(NextDueMonth(*state.employer(kAcme), *state.account(kAlice)) == 202209);
    PayMonth(state, 3, 202209, 20221015, Fen{800'000}, RemittanceKind::kRegular, Policy());
    CHECK(state.account(kAlice)->paid_runs == std::vector<PaidRun>{{202207, 202209, Fen{800'000}}});
  }

  TEST_CASE("Decide: every entity id is 1 or more, and checked before anything else") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme), Receipt(Fen{192'000}),
                              Regular(1, 202207, 202207, Fen{192'000})});
    const EmployerId no_employer{0};
    const AccountId no_account{0};
    RegisterEmployer register_zero = Register(no_employer);
    register_zero.first_contribution_month = 0;  // a bad month too: the id is named first
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, register_zero);
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, SealEmployer{no_employer});
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, Open(no_account, kAcme));
    OpenAccount no_person = Open(kBob, kAcme);
    no_person.person_id = 0;
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, no_person);
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state,
                      UnsealAccount{kAlice, no_employer, Fen{800'000}, 202208});
    RecordBankReceipt no_deposit = Receipt(Fen{100});
    no_deposit.deposit_id = 0;
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, no_deposit);
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, Line(0, kAlice, 202207));
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, Line(1, no_account, 202207));
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state, CompleteRemittance{0, kAcme});
    HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state,
                      At(20230630, SettleInterest{2022, {kAlice, no_account}}));
  }

  TEST_CASE("Decide: a coded field holds one of its codes; a note and approval are bounded") {
    State state = StateAfter({Register(kAcme), Open(kAlice, kAcme)});
    OpenRemittance list = Regular(1, 202207, 202207, Fen{192'000});
    list.kind = static_cast<RemittanceKind>(3);
    HPF_CHECK_REJECTS(Rejection::kCodeInvalid, state, list);
    const std::vector<Fact> receipt = Apply(state, 20220715, Receipt(Fen{192'000}));
    ReverseRecord reversal{.position = 5, .target = TargetOf(receipt[0], 20220715)};
    reversal.reason = static_cast<ReversalReason>(0);
    HPF_CHECK_REJECTS(Rejection::kCodeInvalid, state, At(20220720, reversal));
    reversal.reason = ReversalReason::kDuplicate;
    reversal.note.assign(1001, 'n');
    HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, state, At(20220720, reversal));
    reversal.note.assign(1000, 'n');
    reversal.approval_reference.assign(201, 'a');
    HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, state, At(20220720, reversal));
    reversal.approval_reference.assign(200, 'a');
    CHECK(Decide(state, At(20220720, reversal), Policy()).accepted());
  }

  TEST_CASE("Facts carry the reasons, approvals, digest and settlement their commands give") {
    State state = StateAfter({Register(kAcme), Register(kBeta), Open(kAlice, kAcme)});
    OpenAccount bob = Open(kBob, kAcme);
    bob.identity_digest.fill(0x5A);
    const std::vector<Fact> opened = Apply(state, 20220701, bob);
    CHECK(std::get<AccountOpened>(opened[0]).terms.identity_digest == bob.identity_digest);
    // A seal reason among its codes.
    HPF_CHECK_REJECTS(Rejection::kCodeInvalid, state,
                      SealAccount{kAlice, static_cast<AccountSealReason>(0)});
    const std::vector<Fact> sealed =
        Apply(state, 20220801, SealAccount{kAlice, AccountSealReason::kEmployerSealed});
    CHECK(std::get<AccountSealed>(sealed[0]).reason == AccountSealReason::kEmployerSealed);
    // An employer's exit: a reason among its codes, an approval of at most 200 bytes.
    HPF_CHECK_REJECTS(Rejection::kCodeInvalid, state,
                      SealEmployer{kBeta, static_cast<EmployerExitReason>(4), ""});
    HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, state,
                      CloseEmployer{kBeta, EmployerExitReason::kDissolved, std::string(201, 'a')});
    const std::vector<Fact> closed =
        Apply(state, 20220802, CloseEmployer{kBeta, EmployerExitReason::kDissolved, "XH-7"});
    CHECK(std::get<EmployerClosed>(closed[0]).reason == EmployerExitReason::kDissolved);
    CHECK(std::get<EmployerClosed>(closed[0]).approval_reference == "XH-7");
    const std::vector<Fact> closed_account = Apply(state, 20220803, CloseAccount{kBob});
    CHECK(std::get<AccountClosed>(closed_account[0]).reason == AccountCloseReason::kOther);
    // Every credit of a year names the year's one settlement run.
    const std::vector<Fact> credits = Apply(state, 20230630, SettleInterest{2022, {kAlice}});
    CHECK(std::get<YearEndInterestCredited>(credits[1]).settlement_id == 2022);
  }

  TEST_CASE("Settlement run: the first chunk starts it, the one that leaves no account ends it") {
    // Given three accounts in interest year 2022, Alice paid for July.
    const AccountId carol{1003};
    State state =
        StateAfter({Register(kAcme), Open(kAlice, kAcme), Open(kBob, kAcme), Open(carol, kAcme)});
    PayMonth(state, 1, 202207, 20220715, Fen{800'000}, RemittanceKind::kRegular, Policy());
    CHECK(state.fund.accounts_by_open_year == std::map<int32_t, uint32_t>{{2022, 3}});
    // The first chunk starts the run for the three.
    const std::vector<Fact> first = Apply(state, 20230630, SettleInterest{2022, {kAlice}});
    REQUIRE(first.size() == 2);
    const auto& started = std::get<YearEndSettlementStarted>(first[0]);
    CHECK(started.settlement_id == 2022);
    CHECK(started.accounts_count == 3);
    CHECK(started.day_basis == DayBasis::k360);
    const Fen alice_interest = std::get<YearEndInterestCredited>(first[1]).interest;
    CHECK(alice_interest > Fen{0});
    CHECK(state.fund.runs.at(2022) == SettlementRun{.accounts_count = 3,
                                                    .credited_count = 1,
                                                    .interest_total = alice_interest});
    CHECK(state.fund.accounts_by_open_year == std::map<int32_t, uint32_t>{{2022, 2}, {2023, 1}});
    // The chunk that settles the last two completes it, with the run's figures.
    const std::vector<Fact> last = Apply(state, 20230630, SettleInterest{2022, {kBob, carol}});
    REQUIRE(last.size() == 3);
    const auto& completed = std::get<YearEndSettlementCompleted>(last[2]);
    CHECK(completed.settlement_id == 2022);
    CHECK(completed.accounts_credited_count == 3);
    CHECK(completed.accounts_deferred_count == 0);
    CHECK(completed.interest_total == alice_interest);  // Bob and Carol hold nothing
    CHECK(state.fund.runs.at(2022).completed);
    CHECK(state.fund.version == 2);
    // An account opened later, back-dated into 2022, is credited by the same run: no restart.
    Apply(state, 20230630, Open(AccountId{1004}, kAcme));
    const std::vector<Fact> late = Apply(state, 20230701, SettleInterest{2022, {AccountId{1004}}});
    REQUIRE(late.size() == 1);
    CHECK(std::get<YearEndInterestCredited>(late[0]).settlement_id == 2022);
    // A closed account no longer counts.
    Apply(state, 20230702, Open(AccountId{1005}, kAcme));
    CHECK(state.fund.accounts_by_open_year.at(2023) == 5);
    Apply(state, 20230703, CloseAccount{AccountId{1005}});
    CHECK(state.fund.accounts_by_open_year.at(2023) == 4);
  }

  // --- the policy (700s) ---

  ChangePolicy Change(const PolicyBook& book, uint32_t effective_from) {
    return ChangePolicy{.document = PolicyToJson(book),
                        .effective_from = effective_from,
                        .summary = "2023 contribution base cap",
                        .approval_reference = "QD-HPF-2023-12"};
  }

  // Decides and applies under the book the state recorded, as the sequencer does (the shipped
  // default before any).
  std::vector<Fact> ApplyRecorded(State & state, uint32_t date, CommandBody body) {
    const std::shared_ptr<const PolicyBook> book =
        state.policy.book != nullptr ? state.policy.book
                                     : std::make_shared<const PolicyBook>(Policy());
    return Apply(state, date, std::move(body), *book);
  }

  // The sequencer's genesis: the shipped default, recorded from its first day.
  State Genesis() {
    State state;
    ApplyRecorded(state, 19900101, Change(Policy(), 19900101));
    return state;
  }

  // `book` with one more version (the last one's figures, changed by `change`) from `from`.
  template <typename Edit>
  PolicyBook WithVersion(const PolicyBook& book, uint32_t from, Edit change) {
    std::vector<::hpf::ledger::Policy> versions(book.versions().begin(), book.versions().end());
    ::hpf::ledger::Policy version = versions.back();
    version.effective_from = Day(from);
    change(version);
    versions.push_back(version);
    const auto rates = book.personal_rate_table();
    return PolicyBook(std::move(versions), {rates.begin(), rates.end()});
  }

  PolicyBook WithRate(const PolicyBook& book, uint32_t from, RatePpm rate) {
    std::vector<RateSegment> rates(book.personal_rate_table().begin(),
                                   book.personal_rate_table().end());
    rates.push_back({.from = Day(from), .rate = rate});
    return PolicyBook({book.versions().begin(), book.versions().end()}, std::move(rates));
  }

  TEST_CASE("ChangePolicy: the policy is recorded, canonical and digested, version by version") {
    State state;
    // Another spelling of the shipped default (whitespace, key order) is recorded canonical.
    ChangePolicy first = Change(Policy(), 19900101);
    first.document = "\n  " + first.document + "  ";
    const std::vector<Fact> genesis = ApplyRecorded(state, 19900101, first);
    REQUIRE(genesis.size() == 1);
    const auto& recorded = std::get<PolicyChanged>(genesis[0]);
    CHECK(recorded.policy_version == 1);
    CHECK(recorded.effective_from == 19900101);
    CHECK(recorded.document == PolicyToJson(Policy()));
    auto sha256 = events::ChainHasher::Create(events::HashAlgorithm::kSha256).value();
    CHECK(
        recorded.document_digest ==
        sha256->Plain(std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(recorded.document.data()), recorded.document.size())));
    CHECK(recorded.summary == "2023 contribution base cap");
    CHECK(recorded.approval_reference == "QD-HPF-2023-12");
    CHECK(PostingsOf(genesis[0]).empty());
    REQUIRE(state.policy.book != nullptr);
    CHECK(*state.policy.book == Policy());
    CHECK(state.policy.version == 1);
    CHECK(state.policy.document == recorded.document);
    // The next change is version 2, and what it says is in force.
    const PolicyBook raised =
        WithVersion(Policy(), 20230701, [](auto& v) { v.base_cap = Fen{3'000'000}; });
    const std::vector<Fact> second = ApplyRecorded(state, 20230620, Change(raised, 20230701));
    CHECK(std::get<PolicyChanged>(second[0]).policy_version == 2);
    CHECK(state.policy.version == 2);
    CHECK(*state.policy.book == raised);
    // The same book again is a change of nothing, recorded all the same.
    ApplyRecorded(state, 20230621, Change(raised, 20230701));
    CHECK(state.policy.version == 3);
  }

  TEST_CASE("ChangePolicy: the base cap raised from 2023-07-01 applies from that day only") {
    // Given the genesis and a change, decided on 20 June, raising the cap from 28 716.00 to
    // 30 000.00 yuan from 1 July 2023: an account opened on 30 June keeps the old cap, one
    // opened on 1 July gets the new one.
    State state = Genesis();
    ApplyRecorded(state, 20230601, Register(kAcme));
    const PolicyBook raised =
        WithVersion(Policy(), 20230701, [](auto& v) { v.base_cap = Fen{3'000'000}; });
    ApplyRecorded(state, 20230620, Change(raised, 20230701));
    OpenAccount alice = Open(kAlice, kAcme);
    alice.contribution_base = Fen{2'900'000};
    alice.first_contribution_month = 202307;
    const PolicyBook& book = *state.policy.book;
    const Decision before = Decide(state, At(20230630, alice), book);
    REQUIRE(!before.accepted());
    CHECK(before.rejection->rejection == Rejection::kBaseAboveCap);
    CHECK(before.rejection->message ==
          "contribution base 29000.00 yuan is above the cap 28716.00 yuan in force on 2023-06-30");
    CHECK(Decide(state, At(20230701, alice), book).accepted());
    alice.contribution_base = Fen{3'000'001};
    CHECK(Decide(state, At(20230701, alice), book).rejection->rejection ==
          Rejection::kBaseAboveCap);
    alice.contribution_base = Fen{2'871'600};  // the old cap itself, before the change
    CHECK(Decide(state, At(20230630, alice), book).accepted());
  }

  TEST_CASE("ChangePolicy: a new rate splits every account's 积数 on its first day") {
    // Alice's 1 920.00 yuan value-dated 2022-07-15; on 20 October the centre raises the rate
    // to 1.75 % from 1 November (hypothetical). Her interest year 2022 splits there:
    //   2022-07-01 .. 2022-10-31 at 1.50 %: 192 000 × 109 days = 20 928 000 fen·days
    //   2022-11-01 .. 2023-06-30 at 1.75 %: 192 000 × 242 days = 46 464 000 fen·days
    //   (20 928 000 × 15 000 + 46 464 000 × 17 500) / (10^6 × 360) = 3 130.67 -> 31.31 yuan
    State state = Genesis();
    for (const CommandBody& body :
         {CommandBody{Register(kAcme)}, CommandBody{Open(kAlice, kAcme)}}) {
      ApplyRecorded(state, 20220701, body);
    }
    for (const CommandBody& body :
         {CommandBody{Receipt(Fen{192'000})}, CommandBody{Regular(1, 202207, 202207, Fen{192'000})},
          CommandBody{Line(1, kAlice, 202207)}, CommandBody{CompleteRemittance{1, kAcme}}}) {
      ApplyRecorded(state, 20220715, body);
    }
    const PolicyBook faster = WithRate(Policy(), 20221101, RatePpm{17'500});
    ApplyRecorded(state, 20221020, Change(faster, 20221101));
    const std::vector<InterestSegment> segments(state.account(kAlice)->interest->segments().begin(),
                                                state.account(kAlice)->interest->segments().end());
    CHECK(segments ==
          std::vector<InterestSegment>{
              {.from = Day(20220701), .rate = RatePpm{15'000}, .fen_days = FenDays{20'928'000}},
              {.from = Day(20221101), .rate = RatePpm{17'500}, .fen_days = FenDays{46'464'000}},
          });
    const std::vector<Fact> credit = ApplyRecorded(state, 20230630, SettleInterest{2022, {kAlice}});
    CHECK(std::get<YearEndInterestCredited>(credit[1]).interest ==
          Fen{3'131});  // [0]: the run starts
    // The next year opens under the new table: one segment at 1.75 %.
    REQUIRE(state.account(kAlice)->interest->segments().size() == 1);
    CHECK(state.account(kAlice)->interest->segments()[0].rate == RatePpm{17'500});
  }

  TEST_CASE("ChangePolicy: rejections") {
    const State given = Genesis();
    SUBCASE("a document that is not a policy names the parser's complaint") {
      ChangePolicy change = Change(Policy(), 20230701);
      change.document = R"({"versions":[],"personal_rates":[]})";
      const Decision then = Decide(given, At(20230620, change), Policy());
      REQUIRE(!then.accepted());
      CHECK(then.rejection->message.find("policy.versions: must be a non-empty array") !=
            std::string::npos);
      HPF_CHECK_REJECTS(Rejection::kPolicyDocumentInvalid, given, At(20230620, change));
      change.document = "{";
      HPF_CHECK_REJECTS(Rejection::kPolicyDocumentInvalid, given, At(20230620, change));
    }
    SUBCASE("a book too large for one record") {
      // 250 versions, ~230 bytes each in canonical form: beyond 48 KiB.
      std::vector<::hpf::ledger::Policy> versions;
      for (int32_t i = 0; i < 250; ++i) {
        ::hpf::ledger::Policy version = Policy().versions().front();
        version.effective_from = AddDays(Day(19900101), i);
        versions.push_back(version);
      }
      const PolicyBook huge(std::move(versions));
      const Decision then = Decide(given, At(19900101, Change(huge, 19900101)), Policy());
      REQUIRE(!then.accepted());
      CHECK(then.rejection->message.find("a policy record holds at most 49152") !=
            std::string::npos);
      HPF_CHECK_REJECTS(Rejection::kPolicyDocumentInvalid, given,
                        At(19900101, Change(huge, 19900101)));
    }
    SUBCASE("summary and approval reference: 1 .. 1 000 and 1 .. 200 bytes") {
      ChangePolicy change = Change(Policy(), 20230701);
      change.summary.clear();
      HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, given, At(20230620, change));
      change.summary.assign(1000, 's');
      change.approval_reference.assign(201, 'a');
      HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, given, At(20230620, change));
      change.approval_reference.assign(200, 'a');
      CHECK(Decide(given, At(20230620, change), Policy()).accepted());
    }
    SUBCASE("effective from a day that does not exist") {
      HPF_CHECK_REJECTS(Rejection::kEffectiveDateInvalid, given,
                        At(20230620, Change(Policy(), 20230230)));
    }
    SUBCASE("effective before the command's own date") {
      const Decision then = Decide(given, At(20230701, Change(Policy(), 20230630)), Policy());
      REQUIRE(!then.accepted());
      CHECK(then.rejection->message ==
            "the new policy would take effect on 2023-06-30, before the command's effective "
            "date 2023-07-01: a policy change applies from a day not yet past");
      HPF_CHECK_REJECTS(Rejection::kPolicyTakesEffectInPast, given,
                        At(20230701, Change(Policy(), 20230630)));
    }
    SUBCASE("a book that differs before it takes effect names the first differing day") {
      // A version from 1 July, declared effective from 1 August: July would change.
      const PolicyBook july =
          WithVersion(Policy(), 20230701, [](auto& v) { v.base_floor = Fen{220'000}; });
      const Decision then = Decide(given, At(20230620, Change(july, 20230801)), Policy());
      REQUIRE(!then.accepted());
      CHECK(then.rejection->message ==
            "the new policy differs on 2023-07-01 from the policy in force (version 1), before "
            "it takes effect on 2023-08-01: restate every version and rate in force before "
            "2023-08-01 as it is");
      HPF_CHECK_REJECTS(Rejection::kPolicyChangeRetroactive, given,
                        At(20230620, Change(july, 20230801)));
      // The loan rates of 2022-10-01 rewritten: part 2's parameters are not retroactive either.
      std::vector<LoanRates> loans = PolicyBook::DefaultLoanRates();
      loans.back().first_home_long = RatePpm{30'000};
      const PolicyBook lower(std::vector<::hpf::ledger::Policy>(Policy().versions().begin(),
                                                                Policy().versions().end()),
                             PolicyBook::DefaultPersonalRates(), loans);
      const Decision loaned = Decide(given, At(20230620, Change(lower, 20230801)), Policy());
      REQUIRE(!loaned.accepted());
      CHECK(loaned.rejection->message.find("differs on 2022-10-01") != std::string::npos);
      // From a day not yet past, the same table change is a change, not a rewrite.
      loans.push_back(loans.back());
      loans.back().from = Day(20230801);
      loans[loans.size() - 2].first_home_long = RatePpm{31'000};
      const PolicyBook later(std::vector<::hpf::ledger::Policy>(Policy().versions().begin(),
                                                                Policy().versions().end()),
                             PolicyBook::DefaultPersonalRates(), loans);
      CHECK(Decide(given, At(20230620, Change(later, 20230801)), Policy()).accepted());
      // A rate from 1 July, declared effective from 1 August.
      const PolicyBook rate = WithRate(Policy(), 20230701, RatePpm{16'000});
      const Decision rated = Decide(given, At(20230620, Change(rate, 20230801)), Policy());
      REQUIRE(!rated.accepted());
      CHECK(rated.rejection->message.find("differs on 2023-07-01") != std::string::npos);
      // The shipped figures changed from the beginning.
      std::vector<::hpf::ledger::Policy> versions(Policy().versions().begin(),
                                                  Policy().versions().end());
      versions[0].rounding = RoundingRule::kHalfUpToYuan;
      const PolicyBook rewritten(std::move(versions));
      const Decision then_again =
          Decide(given, At(20230620, Change(rewritten, 20230701)), Policy());
      REQUIRE(!then_again.accepted());
      CHECK(then_again.rejection->message.find("differs on 1990-01-01") != std::string::npos);
      // Effective from the day the change starts, it is accepted.
      CHECK(Decide(given, At(20230620, Change(july, 20230701)), Policy()).accepted());
      CHECK(Decide(given, At(20230620, Change(rate, 20230701)), Policy()).accepted());
    }
    SUBCASE("a rate change behind money already value-dated after it") {
      // Alice holds money value-dated 2022-07-15; a rate from 2022-07-10, decided on
      // 2022-07-05 (after the money was recorded, with its later value date), would need her
      // postings to split her 积数.
      State state = given;
      for (const CommandBody& body :
           {CommandBody{Register(kAcme)}, CommandBody{Open(kAlice, kAcme)}}) {
        ApplyRecorded(state, 20220701, body);
      }
      for (const CommandBody& body : {CommandBody{Receipt(Fen{192'000})},
                                      CommandBody{Regular(1, 202207, 202207, Fen{192'000})},
                                      CommandBody{Line(1, kAlice, 202207)}}) {
        ApplyRecorded(state, 20220715, body);
      }
      const PolicyBook early = WithRate(Policy(), 20220710, RatePpm{17'500});
      const Decision then = Decide(state, At(20220705, Change(early, 20220710)), Policy());
      REQUIRE(!then.accepted());
      CHECK(then.rejection->message ==
            "the new rate table changes account 1001's rates from 2022-07-10, but the account "
            "holds money value-dated 2022-07-15: let the rate change take effect after the "
            "latest value date, or reverse the money dated ahead");
      HPF_CHECK_REJECTS(Rejection::kRateChangeBeforeValueDatedMoney, state,
                        At(20220705, Change(early, 20220710)));
      // From the latest value date on it is exact, and accepted.
      const PolicyBook later = WithRate(Policy(), 20220715, RatePpm{17'500});
      CHECK(Decide(state, At(20220705, Change(later, 20220715)), Policy()).accepted());
    }
  }

  // --- closing withdrawals (销户提取) and interest to date ---

  Command By(std::string actor, uint32_t date, CommandBody body) {
    Command command = At(date, std::move(body));
    command.header.actor = std::move(actor);
    return command;
  }

  std::vector<Fact> ApplyBy(State & state, std::string actor, uint32_t date, CommandBody body,
                            const PolicyBook& policy = Policy()) {
    const Decision decision = Decide(state, By(std::move(actor), date, std::move(body)), policy);
    REQUIRE_MESSAGE(decision.accepted(), decision.rejection->message);
    for (const Fact& fact : decision.facts) Evolve(state, fact, Day(date), policy);
    return decision.facts;
  }

  ApplyWithdrawal Retirement(uint64_t id, AccountId account) {
    return ApplyWithdrawal{.withdrawal_id = id,
                           .account = account,
                           .reason = WithdrawalReason::kRetirement,
                           .payee_reference = "alice-bank-token",
                           .evidence_reference = "retirement certificate 2022-77"};
  }

  PayWithdrawal Payment(uint64_t id) {
    return PayWithdrawal{.withdrawal_id = id,
                         .deposit_id = 1,
                         .bank_code = "ICBC",
                         .bank_reference = "ICBC20220910000042"};
  }

  // Alice (and Bob, with nothing paid) at Acme; Alice paid July (value 2022-07-15) and
  // August (2022-08-15), 1 920.00 yuan each.
  State TwoMonthsPaid(const PolicyBook& policy = Policy()) {
    State state;
    Apply(state, 20220701, Register(kAcme), policy);
    Apply(state, 20220701, Open(kAlice, kAcme), policy);
    Apply(state, 20220701, Open(kBob, kAcme), policy);
    PayMonth(state, 1, 202207, 20220715, Fen{800'000}, RemittanceKind::kRegular, policy);
    PayMonth(state, 2, 202208, 20220815, Fen{800'000}, RemittanceKind::kRegular, policy);
    return state;
  }

  TEST_CASE(
      "Closing withdrawal: interest to date is credited, the balance paid, the account "
      "closed") {
    // Alice retires; her closing withdrawal is paid on 2022-09-10. Interest to date counts the
    // end-of-day balances of [2022-07-01, 2022-09-10) (the payment day holds nothing):
    //   value date   amount (fen)   days to 09-10   积数 (fen·days)
    //   2022-07-15      192 000          57             10 944 000
    //   2022-08-15      192 000          26              4 992 000
    //                                         total     15 936 000
    // 360-day basis: 15 936 000 × 1.5 % / 360 = 664.00 fen      → 664
    // 365-day basis: 15 936 000 × 1.5 % / 365 = 654.904... fen  → 655
    for (const auto& [basis, expected] :
         {std::pair{DayBasis::k360, Fen{664}}, std::pair{DayBasis::k365, Fen{655}}}) {
      CAPTURE(static_cast<int>(basis));
      ::hpf::ledger::Policy version;
      version.effective_from = Day(19900101);
      version.deferral_last_month = Month::FromYyyymm(202212).value();
      version.day_basis = basis;
      const PolicyBook policy({version});
      State state = TwoMonthsPaid(policy);
      const auto applied = ApplyBy(state, "op:li", 20220901, Retirement(7, kAlice), policy);
      REQUIRE(applied.size() == 1);
      const auto& application = std::get<WithdrawalApplied>(applied[0]);
      CHECK(application.amount == Fen{384'000});
      CHECK(application.applicant == "op:li");
      CHECK(application.decide_by_date == 20220904);  // the policy's 3 review days
      CHECK(state.account(kAlice)->withdrawal_in_flight == 7);
      const auto approved = ApplyBy(state, "op:wang", 20220902, ApproveWithdrawal{7}, policy);
      CHECK(std::get<WithdrawalApproved>(approved[0]).amount == Fen{384'000});
      CHECK(state.withdrawal(7)->held == Fen{384'000});

      const std::vector<Fact> paid = ApplyBy(state, "bank:ICBC", 20220910, Payment(7), policy);
      REQUIRE(paid.size() == 3);
      const auto& interest = std::get<InterestToDateCredited>(paid[0]);
      CHECK(interest.from_date == Day(20220701));
      CHECK(interest.until_date == Day(20220910));
      CHECK(interest.day_basis == basis);
      REQUIRE(interest.segments.size() == 1);
      CHECK(interest.segments[0].fen_days == FenDays{15'936'000});
      CHECK(interest.interest == expected);
      CHECK(interest.withdrawal_id == 7);
      const auto& payment = std::get<WithdrawalPaid>(paid[1]);
      CHECK(payment.amount == Fen{384'000} + expected);
      const auto& closed = std::get<AccountClosed>(paid[2]);
      CHECK(closed.reason == AccountCloseReason::kClosingWithdrawal);
      CHECK(closed.withdrawal_id == 7);

      // The double entry: Dr 41101 / Cr 201 for the interest, Dr 201 / Cr 101 for the payment.
      TrialBalance book;
      for (const Fact& fact : paid) {
        const std::vector<Posting> postings = PostingsOf(fact);
        CHECK(Balanced(postings));
        book.Post(postings);
      }
      CHECK(book.Total(GlAccount::kInterestToPersonal) == expected);
      CHECK(book.Total(GlAccount::kFundDeposits) == -(Fen{384'000} + expected));
      CHECK(book.Total(GlAccount::kPersonalAccounts) == Fen{384'000});  // what it held before

      const AccountState& alice = *state.account(kAlice);
      CHECK(alice.status == AccountStatus::kClosed);
      CHECK(alice.balance == Fen{0});
      CHECK(alice.interest->balance() == Fen{0});
      CHECK(alice.withdrawal_in_flight == 0);
      CHECK(state.withdrawal(7)->status == WithdrawalStatus::kPaid);
      CHECK(state.withdrawal(7)->held == Fen{0});
      CHECK(state.employer(kAcme)->normal_accounts == 1);  // Bob
      CHECK(state.fund.accounts_by_open_year.at(2022) == 1);
    }
  }

  TEST_CASE("Closing withdrawal: paid after 30 June, interest runs on from the unsettled year") {
    // Alice applies on 2023-06-20; the settlement of 2022 refuses her while the withdrawal is
    // in flight (DOMAIN §3) and settles Bob, so the run waits for her. Paid 2023-07-10, the
    // interest to date covers the whole year 2022 and 2023-07-01 .. 07-09, rounded once:
    //   2022-07-15  192 000 × 351 days (to 2023-07-01) =  67 392 000
    //   2022-08-15  192 000 × 320 days                  =  61 440 000
    //   2023-07-01  384 000 ×   9 days (to 07-10)       =   3 456 000
    //                                           total     132 288 000 fen·days
    // 360: 132 288 000 × 1.5 % / 360 = 5 512.00 → 5 512 fen; paid 3 840.00 + 55.12 yuan.
    State state = TwoMonthsPaid();
    ApplyBy(state, "op:li", 20230620, Retirement(7, kAlice));
    ApplyBy(state, "op:wang", 20230621, ApproveWithdrawal{7});
    HPF_CHECK_REJECTS(Rejection::kSettlementWithdrawalInFlight, state,
                      At(20230630, SettleInterest{2022, {kBob, kAlice}}));
    const std::vector<Fact> bob = Apply(state, 20230630, SettleInterest{2022, {kBob}});
    CHECK(std::holds_alternative<YearEndSettlementStarted>(bob.front()));
    CHECK(!std::holds_alternative<YearEndSettlementCompleted>(bob.back()));  // Alice is left

    const std::vector<Fact> paid = ApplyBy(state, "bank:ICBC", 20230710, Payment(7));
    REQUIRE(paid.size() == 4);
    const auto& interest = std::get<InterestToDateCredited>(paid[0]);
    CHECK(interest.from_date == Day(20220701));
    CHECK(interest.until_date == Day(20230710));
    REQUIRE(interest.segments.size() == 2);
    CHECK(interest.segments[0].from == Day(20220701));
    CHECK(interest.segments[0].fen_days == FenDays{128'832'000});
    CHECK(interest.segments[1].from == Day(20230701));
    CHECK(interest.segments[1].fen_days == FenDays{3'456'000});
    CHECK(interest.interest == Fen{5'512});
    CHECK(std::get<WithdrawalPaid>(paid[1]).amount == Fen{389'512});
    // Alice was the last account the run had to settle: her closing completes it.
    const auto& completed = std::get<YearEndSettlementCompleted>(paid[3]);
    CHECK(completed.settlement_id == 2022);
    CHECK(completed.accounts_credited_count == 1);
    CHECK(state.fund.runs.at(2022).completed);
    CHECK(!state.fund.accounts_by_open_year.contains(2022));
    CHECK(state.fund.accounts_by_open_year.at(2023) == 1);  // Bob
    CHECK(state.account(kAlice)->balance == Fen{0});
  }

  TEST_CASE("Closing withdrawal: four eyes, one at a time, and the other rejections") {
    State state = TwoMonthsPaid();
    ApplyBy(state, "op:li", 20220901, Retirement(7, kAlice));
    SUBCASE("the applicant never approves or rejects their own") {
      HPF_CHECK_REJECTS(Rejection::kReviewerIsApplicant, state,
                        By("op:li", 20220902, ApproveWithdrawal{7}));
      HPF_CHECK_REJECTS(Rejection::kReviewerIsApplicant, state,
                        By("op:li", 20220902, RejectWithdrawal{7, "no"}));
      HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, state,
                        By("", 20220902, ApproveWithdrawal{7}));
    }
    SUBCASE("ids are never reused, and one withdrawal at a time per account") {
      HPF_CHECK_REJECTS(Rejection::kWithdrawalAlreadyExists, state,
                        By("op:li", 20220901, Retirement(7, kBob)));
      HPF_CHECK_REJECTS(Rejection::kWithdrawalInFlight, state,
                        By("op:li", 20220901, Retirement(8, kAlice)));
      HPF_CHECK_REJECTS(Rejection::kWithdrawalNotFound, state,
                        By("op:wang", 20220902, ApproveWithdrawal{99}));
      HPF_CHECK_REJECTS(Rejection::kIdMustNotBeZero, state,
                        By("op:li", 20220901, Retirement(0, kBob)));
    }
    SUBCASE("closing reasons only; a reason is a code") {
      ApplyWithdrawal rent = Retirement(8, kBob);
      rent.reason = WithdrawalReason::kRent;
      HPF_CHECK_REJECTS(Rejection::kPartialWithdrawalNotOffered, state,
                        By("op:li", 20220901, rent));
      rent.reason = static_cast<WithdrawalReason>(42);
      HPF_CHECK_REJECTS(Rejection::kCodeInvalid, state, By("op:li", 20220901, rent));
    }
    SUBCASE("the bank pays approved withdrawals only, and not twice") {
      HPF_CHECK_REJECTS(Rejection::kWithdrawalNotApproved, state,
                        By("bank:ICBC", 20220910, Payment(7)));
      ApplyBy(state, "op:wang", 20220902, ApproveWithdrawal{7});
      HPF_CHECK_REJECTS(Rejection::kWithdrawalNotPending, state,
                        By("op:zhao", 20220902, ApproveWithdrawal{7}));
      PayWithdrawal no_reference = Payment(7);
      no_reference.bank_reference.clear();
      HPF_CHECK_REJECTS(Rejection::kTextFieldInvalid, state,
                        By("bank:ICBC", 20220910, no_reference));
      ApplyBy(state, "bank:ICBC", 20220910, Payment(7));
      HPF_CHECK_REJECTS(Rejection::kWithdrawalFinished, state,
                        By("bank:ICBC", 20220910, Payment(7)));
      HPF_CHECK_REJECTS(Rejection::kWithdrawalFinished, state,
                        By("op:li", 20220911, CancelWithdrawal{7, "too late"}));
      HPF_CHECK_REJECTS(Rejection::kAccountClosed, state,
                        By("op:li", 20220911, Retirement(8, kAlice)));
      // The closed account's year no longer waits for it: settling Bob completes the run.
      const std::vector<Fact> bob = Apply(state, 20230630, SettleInterest{2022, {kBob}});
      CHECK(std::holds_alternative<YearEndSettlementCompleted>(bob.back()));
    }
    SUBCASE("a payment before money's value date would pay interest on days not held") {
      State late = TwoMonthsPaid();
      ApplyBy(late, "op:li", 20220801, Retirement(7, kAlice));
      ApplyBy(late, "op:wang", 20220802, ApproveWithdrawal{7});
      HPF_CHECK_REJECTS(Rejection::kPaymentBeforeValueDatedMoney, late,
                        By("bank:ICBC", 20220810, Payment(7)));
      CHECK(Decide(late, By("bank:ICBC", 20220815, Payment(7)), Policy()).accepted());
    }
    SUBCASE("nothing leaves a frozen account") {
      Apply(state, 20220902, FreezeAccount{kAlice, "(2022)鲁02执1号", "court"});
      HPF_CHECK_REJECTS(Rejection::kAccountFrozen, state,
                        By("op:wang", 20220902, ApproveWithdrawal{7}));
      Apply(state, 20220902, FreezeAccount{kBob, "(2022)鲁02执2号", "court"});
      HPF_CHECK_REJECTS(Rejection::kAccountFrozen, state,
                        By("op:li", 20220902, Retirement(8, kBob)));
    }
    SUBCASE("a rejected or cancelled application frees the account for a new one") {
      ApplyBy(state, "op:wang", 20220902, RejectWithdrawal{7, "certificate unreadable"});
      CHECK(state.account(kAlice)->withdrawal_in_flight == 0);
      CHECK(state.withdrawal(7)->status == WithdrawalStatus::kRejected);
      HPF_CHECK_REJECTS(Rejection::kWithdrawalFinished, state,
                        By("op:zhao", 20220903, ApproveWithdrawal{7}));
      ApplyBy(state, "op:li", 20220903, Retirement(8, kAlice));
      ApplyBy(state, "op:li", 20220904, CancelWithdrawal{8, "the person withdrew it"});
      CHECK(state.withdrawal(8)->status == WithdrawalStatus::kCancelled);
      CHECK(state.account(kAlice)->withdrawal_in_flight == 0);
      CHECK(state.account(kAlice)->balance == Fen{384'000});  // nothing moved
    }
  }

  // Must stay the last case of the suite (doctest runs cases in file order by default).
  TEST_CASE("Rejection: every value has a case above that triggers it") {
    if (Seen().empty()) {
      MESSAGE("run the whole ledger suite to check rejection coverage");
      return;
    }
    // Rules the sequencer applies before Decide(), tested in sequencer_test.cc.
    const std::set<Rejection> sequencer_rules = {Rejection::kIdempotencyConflict,
                                                 Rejection::kAtomicListAborted,
                                                 Rejection::kAtomicListTooLarge};
    for (uint16_t value = 0; value < 1000; ++value) {
      const auto rejection = static_cast<Rejection>(value);
      if (RejectionCode(rejection) == "unknown" || sequencer_rules.contains(rejection)) continue;
      CAPTURE(value);
      CHECK(Seen().contains(rejection));
    }
  }
}

}  // namespace
}  // namespace hpf::ledger
