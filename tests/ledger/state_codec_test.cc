// tests/ledger/state_codec_test.cc — the write model's stored form: every field round-trips,
// damaged bytes are Corruption with a message that says what is wrong, and LoadState reads
// the stored state (and checks what ties it together) without reading records.
#include "ledger/internal/state_codec.h"

#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "events/append_batch.h"
#include "events/event_log.h"
#include "tests/support/records.h"

namespace hpf::ledger::internal {
namespace {

Date Day(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }

EmployerState FullEmployer() {
  return EmployerState{
      .status = EmployerStatus::kSealed,
      .employer_rate = RatePpm{120'000},
      .employee_rate = RatePpm{100'000},
      .paid_up_to_month = 202208,
      .suspense = Fen{123'456},
      .normal_accounts = 0,
      .remittance = OpenRemittanceState{.remittance_id = 77,
                                        .kind = RemittanceKind::kBackPayment,
                                        .from_month = 202201,
                                        .to_month = 202203,
                                        .total = Fen{900'000},
                                        .allocated = Fen{300'000},
                                        .allocations = 3},
      .reductions = {RateReduction{{202209, 202212}, RatePpm{50'000}, RatePpm{50'000}}},
      .deferrals = {MonthRange{202301, 202306}, MonthRange{202308, 202308}},
      .rate_changes = {RateChange{202207, RatePpm{100'000}, RatePpm{100'000}},
                       RateChange{202301, RatePpm{120'000}, RatePpm{100'000}}},
      .last_remittance_id = 77,
      .version = 42};
}

AccountState FullAccount() {
  InterestAccumulator interest(InterestYear::FromStartingYear(2022).value(),
                               DefaultPolicy().personal_rate_table(), Fen{0});
  interest.Apply(Day(20220815), Fen{192'000});
  return AccountState{
      .status = AccountStatus::kNormal,
      .frozen = true,
      .employer = EmployerId{7},
      .contribution_base = Fen{800'000},
      .balance = Fen{192'000},
      .paid_up_to_month = 202208,
      .interest = interest,
      .base_changes = {BaseChange{202207, Fen{700'000}}, BaseChange{202208, Fen{800'000}}},
      .paid_runs = {PaidRun{202203, 202203, Fen{100}}, PaidRun{202207, 202207, Fen{700'000}},
                    PaidRun{202208, 202208, Fen{800'000}}},
      .version = 5};
}

// A stored policy: the shipped default with 1.75 % from `rate_from` (hypothetical), version 4.
PolicyInForce PolicyWithRate(uint32_t rate_from) {
  const PolicyBook shipped = DefaultPolicy();
  std::vector<RateSegment> rates(shipped.personal_rate_table().begin(),
                                 shipped.personal_rate_table().end());
  rates.push_back({.from = Day(rate_from), .rate = RatePpm{17'500}});
  auto book = std::make_shared<const PolicyBook>(
      std::vector<Policy>(shipped.versions().begin(), shipped.versions().end()), rates);
  return PolicyInForce{.version = 4, .book = book, .document = PolicyToJson(*book)};
}

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int value : values) out.push_back(static_cast<char>(value));
  return out;
}

TEST_SUITE("ledger") {
  TEST_CASE("StateCodec: an employer round-trips with every field") {
    // The smallest employer: just registered (its registration is its first rate change).
    const EmployerState minimal{
        .rate_changes = {RateChange{202207, RatePpm{50'000}, RatePpm{50'000}}}, .version = 1};
    for (const EmployerState& employer : {FullEmployer(), minimal}) {
      const std::string value = EncodeEmployerState(employer);
      CHECK(value[0] == static_cast<char>(kStateFormat));
      auto decoded = DecodeEmployerState(value);
      REQUIRE_MESSAGE(decoded.has_value(), decoded.status().ToString());
      CHECK(decoded->status == employer.status);
      CHECK(decoded->employer_rate == employer.employer_rate);
      CHECK(decoded->employee_rate == employer.employee_rate);
      CHECK(decoded->paid_up_to_month == employer.paid_up_to_month);
      CHECK(decoded->suspense == employer.suspense);
      CHECK(decoded->normal_accounts == employer.normal_accounts);
      REQUIRE(decoded->remittance.has_value() == employer.remittance.has_value());
      if (employer.remittance.has_value()) {
        CHECK(decoded->remittance->remittance_id == employer.remittance->remittance_id);
        CHECK(decoded->remittance->kind == employer.remittance->kind);
        CHECK(decoded->remittance->from_month == employer.remittance->from_month);
        CHECK(decoded->remittance->to_month == employer.remittance->to_month);
        CHECK(decoded->remittance->total == employer.remittance->total);
        CHECK(decoded->remittance->allocated == employer.remittance->allocated);
        CHECK(decoded->remittance->allocations == employer.remittance->allocations);
      }
      CHECK(decoded->reductions == employer.reductions);
      CHECK(decoded->deferrals == employer.deferrals);
      CHECK(decoded->rate_changes == employer.rate_changes);
      CHECK(decoded->last_remittance_id == employer.last_remittance_id);
      CHECK(decoded->version == employer.version);
      // The encoding names every field (state_codec.cc static_asserts it), so equal bytes
      // mean nothing was lost.
      CHECK(EncodeEmployerState(*decoded) == value);
    }
  }

  TEST_CASE("StateCodec: an account round-trips with its interest accumulator") {
    AccountState without_interest = FullAccount();
    without_interest.interest.reset();
    without_interest.status = AccountStatus::kClosed;
    without_interest.frozen = false;
    for (const AccountState& account : {FullAccount(), without_interest}) {
      const std::string value = EncodeAccountState(account);
      auto decoded = DecodeAccountState(value);
      REQUIRE_MESSAGE(decoded.has_value(), decoded.status().ToString());
      CHECK(decoded->status == account.status);
      CHECK(decoded->frozen == account.frozen);
      CHECK(decoded->employer == account.employer);
      CHECK(decoded->contribution_base == account.contribution_base);
      CHECK(decoded->balance == account.balance);
      CHECK(decoded->paid_up_to_month == account.paid_up_to_month);
      REQUIRE(decoded->interest.has_value() == account.interest.has_value());
      if (account.interest.has_value()) {
        const InterestAccumulatorParts got = decoded->interest->parts();
        const InterestAccumulatorParts want = account.interest->parts();
        CHECK(got.year == want.year);
        CHECK(got.segments == want.segments);
        CHECK(got.balance == want.balance);
        CHECK(got.latest_value_date == want.latest_value_date);
      }
      CHECK(decoded->base_changes == account.base_changes);
      CHECK(decoded->paid_runs == account.paid_runs);
      CHECK(decoded->version == account.version);
      CHECK(EncodeAccountState(*decoded) == value);
    }
  }

  TEST_CASE("StateCodec: a withdrawal round-trips; an account names its withdrawal in flight") {
    AccountState flying = FullAccount();
    flying.withdrawal_in_flight = 77;
    CHECK(DecodeAccountState(EncodeAccountState(flying)).value().withdrawal_in_flight == 77);
    const WithdrawalState approved{.status = WithdrawalStatus::kApproved,
                                   .account = AccountId{1001},
                                   .reason = WithdrawalReason::kDeath,
                                   .applicant = "op:li",
                                   .held = Fen{384'000},
                                   .version = 2};
    WithdrawalState paid = approved;
    paid.status = WithdrawalStatus::kPaid;
    paid.held = Fen{0};
    paid.version = 3;
    for (const WithdrawalState& withdrawal : {approved, paid}) {
      const std::string bytes = EncodeWithdrawalState(withdrawal);
      auto decoded = DecodeWithdrawalState(bytes);
      REQUIRE_MESSAGE(decoded.has_value(), decoded.status().ToString());
      CHECK(*decoded == withdrawal);
      for (size_t size = 0; size < bytes.size(); ++size) {
        CHECK(DecodeWithdrawalState(std::string_view(bytes.data(), size)).status().code() ==
              StatusCode::kCorruption);
      }
    }
    WithdrawalState wrong = paid;
    wrong.held = Fen{1};
    CHECK(DecodeWithdrawalState(EncodeWithdrawalState(wrong)).status().message() ==
          "withdrawal state: a hold on a withdrawal that is not approved");
    std::string bytes = EncodeWithdrawalState(approved);
    bytes[1] = 6;  // status
    CHECK(DecodeWithdrawalState(bytes).status().message() ==
          "withdrawal state: status 6 is not 1 to 5");
    bytes = EncodeWithdrawalState(approved);
    bytes[10] = 10;  // reason, after status and the account id
    CHECK(DecodeWithdrawalState(bytes).status().message() ==
          "withdrawal state: reason 10 is not a withdrawal reason");
    CHECK(WithdrawalStateKey(77) == "withdrawal/77");
    CHECK(ParseWithdrawalStateKey("withdrawal/77").value() == 77);
    CHECK(ParseWithdrawalStateKey("withdrawal/077").status().code() == StatusCode::kCorruption);
  }

  TEST_CASE("StateCodec: the fund round-trips with its open years and settlement runs") {
    const FundState fund{.accounts_by_open_year = {{2022, 17}, {2023, 1'999'999}},
                         .runs = {{2021, SettlementRun{.accounts_count = 5,
                                                       .credited_count = 5,
                                                       .interest_total = Fen{123},
                                                       .completed = true}},
                                  {2022, SettlementRun{.accounts_count = 2'000'000,
                                                       .credited_count = 1'999'983,
                                                       .interest_total = Fen{9'876'543'210}}}},
                         .version = 3};
    for (const FundState& value : {fund, FundState{}}) {
      const std::string bytes = EncodeFundState(value);
      auto decoded = DecodeFundState(bytes);
      REQUIRE_MESSAGE(decoded.has_value(), decoded.status().ToString());
      CHECK(*decoded == value);
    }
    FundState zero = fund;
    zero.accounts_by_open_year[2024] = 0;
    CHECK(DecodeFundState(EncodeFundState(zero)).status().message() ==
          "fund state: open year 2024 counts no account");
    const std::string bytes = EncodeFundState(fund);
    for (size_t size = 0; size < bytes.size(); ++size) {
      CHECK(DecodeFundState(std::string_view(bytes.data(), size)).status().code() ==
            StatusCode::kCorruption);
    }
  }

  TEST_CASE("StateCodec: every truncation of a value is Corruption") {
    for (const std::string& value :
         {EncodeEmployerState(FullEmployer()), EncodeAccountState(FullAccount())}) {
      const bool is_employer = value == EncodeEmployerState(FullEmployer());
      for (size_t size = 0; size < value.size(); ++size) {
        CAPTURE(size);
        const std::string_view prefix(value.data(), size);
        const Status status = is_employer ? DecodeEmployerState(prefix).status()
                                          : DecodeAccountState(prefix).status();
        CHECK(status.code() == StatusCode::kCorruption);
        CHECK(!status.message().empty());
      }
    }
    const Status empty = DecodeEmployerState("").status();
    CHECK(empty.message() == "employer state is empty");
    const Status truncated = DecodeAccountState(Bytes({kStateFormat, 1, 0})).status();
    CHECK(truncated.message() == "account state of 3 bytes is truncated");
  }

  TEST_CASE(
      "StateCodec: an older format is Unimplemented; damage or an impossible field Corruption") {
    std::string employer = EncodeEmployerState(FullEmployer());
    std::string account = EncodeAccountState(FullAccount());
    SUBCASE("a newer format") {
      employer[0] = static_cast<char>(kStateFormat + 1);
      const Status status = DecodeEmployerState(employer).status();
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message() == fmt::format("employer state has format {}; this build reads "
                                            "format {}",
                                            kStateFormat + 1, kStateFormat));
      account[0] = 0;
      CHECK(DecodeAccountState(account).status().code() == StatusCode::kCorruption);
    }
    SUBCASE("an older format: refused with what to do, never misread") {
      // Format 1 (no base history): an account as an earlier build stored it.
      std::string old = Bytes({1, 1, 0}) + std::string(8 + 8 + 8 + 4, '\0') + Bytes({0}) +
                        Bytes({1, 0, 0, 0, 0, 0, 0, 0});
      for (const Status& status :
           {DecodeAccountState(old).status(), DecodeEmployerState(old).status(),
            DecodeReversedMark(Bytes({1}))}) {
        CHECK(status.code() == StatusCode::kUnimplemented);
        CHECK(status.message().find("has format 1, written by an older build") !=
              std::string::npos);
        CHECK(status.message().find("rebuild") != std::string::npos);
      }
    }
    SUBCASE("paid runs out of order, or two that touch on the same base") {
      AccountState wrong = FullAccount();
      std::swap(wrong.paid_runs[0], wrong.paid_runs[1]);
      CHECK(DecodeAccountState(EncodeAccountState(wrong)).status().message() ==
            "account state: paid runs overlap or are not in order");
      wrong = FullAccount();
      wrong.paid_runs[2].base = Fen{700'000};
      CHECK(DecodeAccountState(EncodeAccountState(wrong)).status().message() ==
            "account state: two paid runs that touch have the same base");
      wrong = FullAccount();
      wrong.paid_runs[0].to_month = 202113;
      CHECK(DecodeAccountState(EncodeAccountState(wrong)).status().message() ==
            "account state: paid run months 202203..202113 are not a period");
    }
    SUBCASE("base changes out of order, or not ending at the account's base") {
      AccountState wrong = FullAccount();
      std::swap(wrong.base_changes[0], wrong.base_changes[1]);
      CHECK(DecodeAccountState(EncodeAccountState(wrong)).status().message() ==
            "account state: base changes are not in month order");
      wrong = FullAccount();
      wrong.contribution_base = Fen{700'000};
      CHECK(DecodeAccountState(EncodeAccountState(wrong)).status().message() ==
            "account state: the contribution base is not the latest base change's");
    }
    SUBCASE("a byte after the last field") {
      employer.push_back('\0');
      CHECK(DecodeEmployerState(employer).status().message() ==
            "employer state has 1 bytes after its last field");
    }
    SUBCASE("a status that does not exist") {
      employer[1] = 9;
      CHECK(DecodeEmployerState(employer).status().message() ==
            "employer state: status 9 is not 1, 2 or 3");
      account[1] = 0;
      CHECK(DecodeAccountState(account).status().code() == StatusCode::kCorruption);
    }
    SUBCASE("a flag that is neither 0 nor 1") {
      account[2] = 2;  // frozen
      CHECK(DecodeAccountState(account).status().message() ==
            "account state: frozen flag is 2, not 0 or 1");
    }
    SUBCASE("an accumulator whose balance is not the account's") {
      AccountState wrong = FullAccount();
      wrong.balance = Fen{1};
      const Status status = DecodeAccountState(EncodeAccountState(wrong)).status();
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message().find("interest balance 192000 differs") != std::string::npos);
    }
    SUBCASE("a version 0") {
      EmployerState zero = FullEmployer();
      zero.version = 0;
      CHECK(DecodeEmployerState(EncodeEmployerState(zero)).status().code() ==
            StatusCode::kCorruption);
    }
    SUBCASE("a grant whose months run backwards") {
      EmployerState backwards = FullEmployer();
      backwards.deferrals = {MonthRange{202306, 202301}};
      CHECK(DecodeEmployerState(EncodeEmployerState(backwards)).status().message() ==
            "employer state: deferral months 202306..202301 are not a period");
    }
    SUBCASE("a reversed-position mark") {
      CHECK(DecodeReversedMark(EncodeReversedMark()).ok());
      CHECK(DecodeReversedMark(Bytes({kStateFormat, 0})).code() == StatusCode::kCorruption);
      CHECK(DecodeReversedMark(Bytes({0})).code() == StatusCode::kCorruption);
    }
  }

  TEST_CASE("StateCodec: keys are the prefix and a canonical decimal id") {
    CHECK(EmployerStateKey(EmployerId{17}) == "employer/17");
    CHECK(AccountStateKey(AccountId{18446744073709551615u}) == "account/18446744073709551615");
    CHECK(ReversedStateKey(5) == "reversed/5");
    CHECK(ParseEmployerStateKey("employer/17").value() == EmployerId{17});
    CHECK(ParseAccountStateKey("account/0").value() == AccountId{0});
    CHECK(ParseReversedStateKey("reversed/5").value() == 5);
    for (const char* bad : {"employer/", "employer/017", "employer/1x", "employer/-1", "account/17",
                            "employer/18446744073709551616"}) {
      CAPTURE(bad);
      const Status status = ParseEmployerStateKey(bad).status();
      CHECK(status.code() == StatusCode::kCorruption);
    }
  }

  TEST_CASE("StateCodec: LoadState reads the stored state and checks what ties it together") {
    testing::TempDir dir;
    auto log = events::EventLog::Open(
        {.data_dir = dir.Sub("log"), .durability = events::Durability::kNoSync});
    REQUIRE(log.has_value());
    // A stored state as a sequencer writes it, beside a record (a batch needs a command).
    EmployerState employer{.status = EmployerStatus::kNormal,
                           .employer_rate = RatePpm{120'000},
                           .employee_rate = RatePpm{120'000},
                           .paid_up_to_month = 202206,
                           .normal_accounts = 1,
                           .rate_changes = {RateChange{202207, RatePpm{120'000}, RatePpm{120'000}}},
                           .version = 2};
    AccountState account = FullAccount();
    account.employer = EmployerId{7};
    account.frozen = false;
    const auto append = [&](std::vector<std::pair<std::string, std::string>> delta,
                            std::string key) {
      events::AppendBatch batch;
      REQUIRE(batch.AddRecord(testing::MakeReceipt({.key = std::move(key)})).ok());
      for (const auto& [k, v] : delta) REQUIRE(batch.PutState(k, v).ok());
      REQUIRE((*log)->Append(std::move(batch)).has_value());
    };
    FundState fund{.accounts_by_open_year = {{2022, 1}}, .version = 0};
    append({{EmployerStateKey(EmployerId{7}), EncodeEmployerState(employer)},
            {AccountStateKey(AccountId{1001}), EncodeAccountState(account)},
            {ReversedStateKey(1), EncodeReversedMark()},
            {FundStateKey(), EncodeFundState(fund)},
            {"unrelated/1", "ignored"}},
           "k1");

    auto state = LoadState(**log);
    REQUIRE_MESSAGE(state.has_value(), state.status().ToString());
    REQUIRE(state->employers.size() == 1);
    REQUIRE(state->accounts.size() == 1);
    CHECK(EncodeEmployerState(state->employers.at(EmployerId{7})) == EncodeEmployerState(employer));
    CHECK(EncodeAccountState(state->accounts.at(AccountId{1001})) == EncodeAccountState(account));
    CHECK(state->reversed_positions == std::set<uint64_t>{1});
    CHECK(state->fund == fund);

    SUBCASE("a damaged value names its key") {
      append({{AccountStateKey(AccountId{1002}), Bytes({kStateFormat, 1})}}, "k2");
      const Status status = LoadState(**log).status();
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message() ==
            "stored state 'account/1002': account state of 2 bytes is "
            "truncated");
    }
    SUBCASE("an employer whose count of normal accounts is off") {
      employer.normal_accounts = 2;
      append({{EmployerStateKey(EmployerId{7}), EncodeEmployerState(employer)}}, "k2");
      const Status status = LoadState(**log).status();
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message() ==
            "stored state 'employer/7': normal_accounts is 2 but 1 normal "
            "accounts are stored");
    }
    SUBCASE("an account whose employer is not stored") {
      account.employer = EmployerId{8};
      append({{AccountStateKey(AccountId{1001}), EncodeAccountState(account)}}, "k2");
      CHECK(LoadState(**log).status().message() ==
            "stored state 'account/1001': its employer 8 is not stored");
    }
    SUBCASE("a withdrawal in flight is its account's, and the account names only a stored one") {
      const WithdrawalState applied{.status = WithdrawalStatus::kApplied,
                                    .account = AccountId{1001},
                                    .reason = WithdrawalReason::kRetirement,
                                    .applicant = "op:li",
                                    .version = 1};
      append({{WithdrawalStateKey(5), EncodeWithdrawalState(applied)}}, "k2");
      CHECK(LoadState(**log).status().message() ==
            "stored state 'withdrawal/5': status 1 but its account 1001 has withdrawal 0 in "
            "flight");
      account.withdrawal_in_flight = 5;
      append({{AccountStateKey(AccountId{1001}), EncodeAccountState(account)}}, "k3");
      auto loaded = LoadState(**log);
      REQUIRE_MESSAGE(loaded.has_value(), loaded.status().ToString());
      CHECK(loaded->withdrawals.at(5) == applied);
      account.withdrawal_in_flight = 6;
      append({{AccountStateKey(AccountId{1001}), EncodeAccountState(account)},
              {WithdrawalStateKey(5),
               EncodeWithdrawalState(WithdrawalState{.status = WithdrawalStatus::kCancelled,
                                                     .account = AccountId{1001},
                                                     .reason = WithdrawalReason::kRetirement,
                                                     .applicant = "op:li",
                                                     .version = 2})}},
             "k4");
      CHECK(LoadState(**log).status().message() ==
            "stored state 'account/1001': withdrawal 6 in flight is not stored");
    }
    SUBCASE("a value of an older format is Unimplemented, naming its key") {
      append({{ReversedStateKey(2), Bytes({1})}}, "k2");
      const Status status = LoadState(**log).status();
      CHECK(status.code() == StatusCode::kUnimplemented);
      CHECK(
          status.message().starts_with("stored state 'reversed/2': reversed position state has "
                                       "format 1, written by an older build"));
    }
    SUBCASE("a fund whose open years do not count the accounts stored") {
      fund.accounts_by_open_year[2022] = 2;
      append({{FundStateKey(), EncodeFundState(fund)}}, "k2");
      CHECK(LoadState(**log).status().message() ==
            "stored state 'fund/1': its accounts by open interest year are not the 1 accounts "
            "stored");
    }
    SUBCASE("a key that is not canonical") {
      append({{"employer/07", EncodeEmployerState(employer)}}, "k2");
      CHECK(LoadState(**log).status().code() == StatusCode::kCorruption);
    }
    SUBCASE("no policy stored: version 0") { CHECK(state->policy.version == 0); }
    SUBCASE("the stored policy, whose rate table re-rates an account stored before it") {
      // The account holds 1 920.00 yuan value-dated 2022-08-15 under 1.50 % all year; the
      // policy stored since brings 1.75 % from 2022-09-01 (Evolve re-rated the account in
      // memory; its stored value was not rewritten).
      const PolicyInForce policy = PolicyWithRate(20220901);
      append({{std::string(kPolicyStateKey), EncodePolicyState(policy)}}, "k2");
      auto loaded = LoadState(**log);
      REQUIRE_MESSAGE(loaded.has_value(), loaded.status().ToString());
      CHECK(loaded->policy.version == 4);
      CHECK(loaded->policy.document == policy.document);
      REQUIRE(loaded->policy.book != nullptr);
      CHECK(*loaded->policy.book == *policy.book);
      const auto segments = loaded->accounts.at(AccountId{1001}).interest->segments();
      REQUIRE(segments.size() == 2);
      // 192 000 fen × 17 days (15 .. 31 August), then × 303 days (September .. June).
      CHECK(segments[0].fen_days == FenDays{192'000 * 17});
      CHECK(segments[1].from == Day(20220901));
      CHECK(segments[1].fen_days == FenDays{192'000 * 303});
    }
    SUBCASE("a stored rate table the stored accounts cannot follow is Corruption") {
      append({{std::string(kPolicyStateKey), EncodePolicyState(PolicyWithRate(20220801))}}, "k2");
      const Status status = LoadState(**log).status();
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(status.message() ==
            "stored state 'account/1001': the stored policy (version 4) cannot apply to it: "
            "interest year 2022: the rate table changes from 2022-08-01, but money is value-dated "
            "2022-08-15");
    }
    SUBCASE("a stored policy document this build no longer parses is Corruption") {
      PolicyInForce policy = PolicyWithRate(20220901);
      std::string value = EncodePolicyState(policy);
      const size_t at = value.find("\"day_basis\":360");
      REQUIRE(at != std::string::npos);
      value.replace(at, 15, "\"day_basis\":366");
      append({{std::string(kPolicyStateKey), value}}, "k2");
      const Status status = LoadState(**log).status();
      CHECK(status.code() == StatusCode::kCorruption);
      CHECK(
          status.message().starts_with("stored state 'policy': policy state: the stored "
                                       "document (version 4) does not parse: "));
    }
  }

  TEST_CASE("StateCodec: the policy round-trips; damaged values are Corruption") {
    const PolicyInForce policy = PolicyWithRate(20220901);
    const std::string value = EncodePolicyState(policy);
    auto decoded = DecodePolicyState(value);
    REQUIRE_MESSAGE(decoded.has_value(), decoded.status().ToString());
    CHECK(decoded->version == policy.version);
    CHECK(decoded->document == policy.document);
    CHECK(*decoded->book == *policy.book);
    for (size_t size = 0; size < value.size(); ++size) {
      CAPTURE(size);
      CHECK(DecodePolicyState(value.substr(0, size)).status().code() == StatusCode::kCorruption);
    }
    CHECK(DecodePolicyState(value + "x").status().message() ==
          "policy state has 1 bytes after its last field");
    std::string zero = value;
    zero[1] = 0;  // version 0 (little-endian u32 after the format byte)
    CHECK(DecodePolicyState(zero).status().message() ==
          "policy state: version is 0 (a stored policy was recorded)");
  }
}

}  // namespace
}  // namespace hpf::ledger::internal
