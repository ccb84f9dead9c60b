// tests/ledger/sequencer_test.cc — the one writer against a real event log in a temp dir:
// positions, rejections, idempotency (also across a reopen), the records it writes, the state
// it stores beside them and reloads without reading records, and how it stops on a failure.
#include "ledger/sequencer.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "events/record.h"
#include "events/verify.h"
#include "ledger/internal/command_hash.h"
#include "ledger/internal/state_codec.h"
#include "ledger/record_encoding.h"
#include "tests/support/ledger_commands.h"
#include "tests/support/records.h"

namespace hpf::ledger {
namespace {

using events::GlobalPosition;

constexpr EmployerId kAcme{1};
constexpr EmployerId kBeta{2};
constexpr AccountId kAlice{1001};
constexpr AccountId kBob{1002};
constexpr AccountId kCarol{1003};
constexpr AccountId kDave{1004};

const PolicyBook& Policy() {
  static const PolicyBook policy = DefaultPolicy();
  return policy;
}

std::unique_ptr<events::EventLog> OpenLog(const testing::TempDir& dir) {
  auto log = events::EventLog::Open(
      {.data_dir = dir.Sub("log"), .durability = events::Durability::kNoSync});
  REQUIRE_MESSAGE(log.has_value(), log.status().ToString());
  return std::move(log).value();
}

std::unique_ptr<Sequencer> OpenSequencer(events::EventLog& log, size_t group_records_max = 0,
                                         size_t groups_in_flight_max = 0) {
  auto sequencer = Sequencer::Open({.log = &log,
                                    .policy = &Policy(),
                                    .groups_in_flight_max = groups_in_flight_max,
                                    .group_records_max = group_records_max});
  REQUIRE_MESSAGE(sequencer.has_value(), sequencer.status().ToString());
  return std::move(sequencer).value();
}

Command Cmd(std::string key, uint32_t date, CommandBody body) {
  return Command{.header = {.idempotency_key = std::move(key),
                            .actor = "op:1",
                            .channel = "counter",
                            .effective_date = date},
                 .body = std::move(body)};
}

RegisterEmployer Register(EmployerId id) { return testing::SampleEmployer(id); }

OpenAccount Open(AccountId account, EmployerId employer) {
  return testing::SampleAccount(account, employer);
}

std::vector<CommandResult> Run(Sequencer& sequencer, std::vector<Command> commands) {
  return sequencer.Submit(std::move(commands)).get();
}

std::vector<CommandResult> RunAllOrNone(Sequencer& sequencer, std::vector<Command> commands) {
  return sequencer.Submit(std::move(commands), {.atomicity = Atomicity::kAllOrNone}).get();
}

CommandResult Run1(Sequencer& sequencer, Command command) {
  std::vector<Command> one;
  one.push_back(std::move(command));
  return Run(sequencer, std::move(one)).at(0);
}

// What a result says, for failure messages.
std::string Describe(const CommandResult& result) {
  if (const auto* rejected = std::get_if<CommandRejected>(&result)) {
    return "rejected: " + rejected->detail.message;
  }
  if (const auto* failed = std::get_if<CommandFailed>(&result)) {
    return "failed: " + failed->status.ToString();
  }
  return std::holds_alternative<CommandDuplicate>(result) ? "duplicate" : "accepted";
}

uint64_t Accepted(const CommandResult& result) {
  const std::string what = Describe(result);
  REQUIRE_MESSAGE(std::holds_alternative<CommandAccepted>(result), what);
  return std::get<CommandAccepted>(result).position.value;
}

uint64_t Duplicate(const CommandResult& result) {
  REQUIRE(std::holds_alternative<CommandDuplicate>(result));
  return std::get<CommandDuplicate>(result).position.value;
}

RejectionDetail Rejected(const CommandResult& result) {
  REQUIRE(std::holds_alternative<CommandRejected>(result));
  return std::get<CommandRejected>(result).detail;
}

Status Failed(const CommandResult& result) {
  REQUIRE(std::holds_alternative<CommandFailed>(result));
  return std::get<CommandFailed>(result).status;
}

// The state as stored: every entity's key and encoded value. The encodings name every field
// (state_codec.cc static_asserts it), so equal maps mean equal states, field by field.
std::map<std::string, std::string> Stored(const State& state) {
  std::map<std::string, std::string> out;
  for (const auto& [id, employer] : state.employers) {
    out[internal::EmployerStateKey(id)] = internal::EncodeEmployerState(employer);
  }
  for (const auto& [id, account] : state.accounts) {
    out[internal::AccountStateKey(id)] = internal::EncodeAccountState(account);
  }
  for (const uint64_t position : state.reversed_positions) {
    out[internal::ReversedStateKey(position)] = internal::EncodeReversedMark();
  }
  if (state.policy.version != 0) {
    out[std::string(internal::kPolicyStateKey)] = internal::EncodePolicyState(state.policy);
  }
  return out;
}

// The shipped default with the base cap raised to 30 000.00 yuan from 2023-07-01, and
// (hypothetically) 1.75 % interest from 2023-01-01.
PolicyBook Raised() {
  const PolicyBook shipped = DefaultPolicy();
  std::vector<::hpf::ledger::Policy> versions(shipped.versions().begin(), shipped.versions().end());
  ::hpf::ledger::Policy raised = versions.back();
  raised.effective_from = Date::FromYyyymmdd(20230701).value();
  raised.base_cap = Fen{3'000'000};
  versions.push_back(raised);
  std::vector<RateSegment> rates(shipped.personal_rate_table().begin(),
                                 shipped.personal_rate_table().end());
  rates.push_back({.from = Date::FromYyyymmdd(20230101).value(), .rate = RatePpm{17'500}});
  return PolicyBook(std::move(versions), std::move(rates));
}

ChangePolicy ChangeTo(const PolicyBook& book, uint32_t effective_from) {
  return ChangePolicy{.document = PolicyToJson(book),
                      .effective_from = effective_from,
                      .summary = "2023: base cap 30 000.00 yuan, interest 1.75 %",
                      .approval_reference = "QD-HPF-2022-31"};
}

// Every record of the log, copied 8-byte aligned, with its chain hash.
struct StoredRecord {
  std::vector<uint64_t> words;
  size_t size = 0;
  events::Digest hash{};
  const schema::Record& record() const {
    return *events::VerifyRecord({reinterpret_cast<const uint8_t*>(words.data()), size}).value();
  }
};

std::vector<StoredRecord> ReadLog(const events::EventLog& log) {
  std::vector<StoredRecord> records;
  const Status scanned =
      log.Scan(GlobalPosition{1}, log.head().position, [&](const events::RecordRef& ref) {
        StoredRecord stored;
        stored.words.resize((ref.record.size() + 7) / 8);
        std::memcpy(stored.words.data(), ref.record.data(), ref.record.size());
        stored.size = ref.record.size();
        std::memcpy(stored.hash.data(), ref.hash.data(), 32);
        records.push_back(std::move(stored));
        return true;
      });
  REQUIRE(scanned.ok());
  return records;
}

// A city in miniature that produces every kind of fact; every command is accepted.
struct Workload {
  std::vector<Command> accepted;    // in order
  std::vector<uint64_t> positions;  // each one's first record
  uint64_t receipt_position = 0;    // the receipt that gets reversed
};

Workload RunWorkload(Sequencer& sequencer) {
  Workload w;
  int n = 0;
  auto step = [&](uint32_t date, CommandBody body, std::string actor = "op:1") {
    Command command = Cmd("w" + std::to_string(++n), date, std::move(body));
    command.header.actor = std::move(actor);
    const uint64_t position = Accepted(Run1(sequencer, command));
    w.accepted.push_back(std::move(command));
    w.positions.push_back(position);
    return position;
  };
  const Fen side{96'000};  // 800 000 × 12 %
  step(20220701, Register(kAcme));
  step(20220701, Register(kBeta));
  step(20220701, Open(kAlice, kAcme));
  step(20220701, Open(kBob, kAcme));
  step(20220701, Open(kCarol, kBeta));
  step(20220701, ChangeEmployerRates{kBeta, RatePpm{100'000}, RatePpm{100'000}, 202208});
  step(20220701,
       GrantRateReduction{kBeta, RatePpm{50'000}, RatePpm{50'000}, 202209, 202209, "QD-1"});
  step(20220701, GrantDeferral{kBeta, 202210, 202212, "QD-2"});
  step(20220715, RecordBankReceipt{kAcme, "ICBC", "ICBC-1", Fen{4 * 96'000}, 1});
  step(20220715, OpenRemittance{.remittance_id = 1,
                                .employer = kAcme,
                                .kind = RemittanceKind::kRegular,
                                .from_month = 202207,
                                .to_month = 202207,
                                .accounts_count = 2,
                                .total = Fen{4 * 96'000},
                                .list_reference = "L-1"});
  for (const AccountId account : {kAlice, kBob}) {
    step(20220715, AllocateContribution{.remittance_id = 1,
                                        .employer = kAcme,
                                        .account = account,
                                        .month = 202207,
                                        .contribution_base = Fen{800'000},
                                        .employer_amount = side,
                                        .employee_amount = side});
  }
  step(20220715, CompleteRemittance{1, kAcme});
  w.receipt_position = step(20220720, RecordBankReceipt{kAcme, "ICBC", "ICBC-2", Fen{1'000}, 1});
  step(20220721, ReverseRecord{.position = w.receipt_position,
                               .reason = ReversalReason::kDuplicate,
                               .note = "recorded twice",
                               .approval_reference = "R-1"});
  step(20220801, ChangeAccountBase{kAlice, Fen{900'000}, 202208});
  step(20220801, FreezeAccount{kBob, "(2022)鲁02执1号", "court"});
  step(20220802, UnfreezeAccount{kBob, "(2022)鲁02执1号", "court"});
  step(20220810, SealAccount{kCarol});
  step(20220811, UnsealAccount{kCarol, kAcme, Fen{800'000}, 202208});
  step(20220901, SealEmployer{kBeta});
  step(20220902, ReopenEmployer{kBeta, 202301});
  step(20220903, CloseEmployer{kBeta});
  step(20220905, Open(kDave, kAcme));
  step(20220906, CloseAccount{kDave});
  // Withdrawals: one rejected, one cancelled, Bob's retirement paid (four eyes: op:2 reviews).
  auto retirement = [](uint64_t id, AccountId account) {
    return ApplyWithdrawal{.withdrawal_id = id,
                           .account = account,
                           .reason = WithdrawalReason::kRetirement,
                           .payee_reference = "token",
                           .evidence_reference = "certificate"};
  };
  step(20220906, retirement(1, kAlice));
  step(20220906, RejectWithdrawal{1, "certificate unreadable"}, "op:2");
  step(20220906, retirement(2, kAlice));
  step(20220906, CancelWithdrawal{2, "the person withdrew it"});
  step(20220906, retirement(3, kBob));
  step(20220906, ApproveWithdrawal{3}, "op:2");
  step(20220910, PayWithdrawal{3, 1, "ICBC", "ICBC-PAY-3"}, "bank:ICBC");
  // Re-rates every account from 2023-01-01; closed Dave's stored value is not rewritten (the
  // load re-rates it, which the reopening test compares).
  step(20220907, ChangeTo(Raised(), 20230101));
  step(20230630, SettleInterest{2022, {kAlice, kCarol}});
  return w;
}

TEST_SUITE("ledger") {
  TEST_CASE("Sequencer: accepted commands get gapless positions; rejected ones append nothing") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    std::vector<Command> commands;
    commands.push_back(Cmd("k1", 20220701, Register(kAcme)));
    commands.push_back(Cmd("k2", 20220701, Register(kAcme)));  // already registered
    commands.push_back(Cmd("k3", 20220701, Open(kAlice, kAcme)));
    commands.push_back(Cmd("k4", 20220701, Open(kBob, kBeta)));  // no such employer
    const auto results = Run(*sequencer, std::move(commands));
    REQUIRE(results.size() == 4);
    CHECK(Accepted(results[0]) == 2);  // after the genesis policy
    CHECK(Rejected(results[1]).rejection == Rejection::kEmployerAlreadyRegistered);
    CHECK(Rejected(results[1]).message == "employer 1 is already registered");
    CHECK(Accepted(results[2]) == 3);
    CHECK(Rejected(results[3]).rejection == Rejection::kEmployerNotFound);
    CHECK(log->head().position.value == 3);
    CHECK(sequencer->health().ok());
    CHECK(sequencer->Close().ok());
  }

  TEST_CASE("Sequencer: commands from many threads, many groups, positions stay gapless") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    // One record per group and two groups in the log at once: many groups, always pipelined.
    auto sequencer = OpenSequencer(*log, /*group_records_max=*/1, /*groups_in_flight_max=*/2);
    REQUIRE(std::holds_alternative<CommandAccepted>(
        Run1(*sequencer, Cmd("acme", 20220701, Register(kAcme)))));
    constexpr int kThreads = 4;
    constexpr int kSubmissions = 25;
    std::vector<std::vector<CommandResult>> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int s = 0; s < kSubmissions; ++s) {
          const auto id = static_cast<uint64_t>(10'000 + t * 1'000 + s);
          std::vector<Command> commands;
          const std::string key = "open-" + std::to_string(id);
          commands.push_back(Cmd(key, 20220701, Open(AccountId{id}, kAcme)));
          commands.push_back(Cmd(key + "-again", 20220701, Open(AccountId{id}, kAcme)));
          auto answered = Run(*sequencer, std::move(commands));
          results[static_cast<size_t>(t)].insert(results[static_cast<size_t>(t)].end(),
                                                 answered.begin(), answered.end());
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    std::vector<uint64_t> positions{1, 2};  // the genesis policy, then acme
    for (const auto& answered : results) {
      for (size_t i = 0; i < answered.size(); ++i) {
        if (i % 2 == 0) {
          positions.push_back(Accepted(answered[i]));
        } else {
          CHECK(Rejected(answered[i]).rejection == Rejection::kAccountAlreadyOpen);
        }
      }
    }
    std::sort(positions.begin(), positions.end());
    REQUIRE(positions.size() == 2 + kThreads * kSubmissions);
    for (size_t i = 0; i < positions.size(); ++i) CHECK(positions[i] == i + 1);
    CHECK(log->head().position.value == positions.size());
    CHECK(log->stats().batches >= positions.size());  // one record per group (batch)
    CHECK(sequencer->Close().ok());
  }

  TEST_CASE("Sequencer: reopening restores exactly the stored state, without reading records") {
    testing::TempDir dir;
    State before;
    {
      auto log = OpenLog(dir);
      auto sequencer = OpenSequencer(*log, /*group_records_max=*/3);
      RunWorkload(*sequencer);
      before = sequencer->SnapshotForTesting();
      CHECK(sequencer->Close().ok());
      // The stored state equals the in-memory one.
      auto loaded = internal::LoadState(*log);
      REQUIRE(loaded.has_value());
      CHECK(Stored(*loaded) == Stored(before));
      REQUIRE(log->Close().ok());
    }
    {
      auto log = OpenLog(dir);
      auto sequencer = OpenSequencer(*log);
      const State after = sequencer->SnapshotForTesting();
      CHECK(after.employers.size() == 2);
      CHECK(after.accounts.size() == 4);
      CHECK(after.reversed_positions.size() == 1);
      CHECK(Stored(after) == Stored(before));
      CHECK(sequencer->Close().ok());
      REQUIRE(log->Close().ok());
    }
    {
      // Proof that opening reads the stored state and not the records: a state written
      // without any record that would explain it is what the sequencer starts from.
      auto log = OpenLog(dir);
      EmployerState marked = before.employers.at(kAcme);
      marked.version = 999;
      events::AppendBatch batch;
      REQUIRE(batch.AddRecord(testing::MakeReceipt({.key = "not-a-ledger-record"})).ok());
      REQUIRE(
          batch.PutState(internal::EmployerStateKey(kAcme), internal::EncodeEmployerState(marked))
              .ok());
      REQUIRE(log->Append(std::move(batch)).has_value());
      auto sequencer = OpenSequencer(*log);
      CHECK(sequencer->SnapshotForTesting().employer(kAcme)->version == 999);
      CHECK(sequencer->Close().ok());
    }
  }

  TEST_CASE("Sequencer: a stored state that does not decode is Corruption at Open") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    events::AppendBatch batch;
    REQUIRE(batch.AddRecord(testing::MakeReceipt({.key = "k"})).ok());
    REQUIRE(batch.PutState("employer/1", std::string("\x07", 1)).ok());
    REQUIRE(log->Append(std::move(batch)).has_value());
    auto sequencer = Sequencer::Open({.log = log.get(), .policy = &Policy()});
    REQUIRE(!sequencer.has_value());
    CHECK(sequencer.error().code() == StatusCode::kCorruption);
    CHECK(sequencer.error().message() ==
          "stored state 'employer/1': employer state has format 7; this build reads format " +
              std::to_string(internal::kStateFormat));
    CHECK(Sequencer::Open({.log = log.get()}).error().code() == StatusCode::kInvalidArgument);
  }

  TEST_CASE("Sequencer: a reused key is a duplicate or an idempotency conflict, also reopened") {
    testing::TempDir dir;
    const Command acme = Cmd("k1", 20220701, Register(kAcme));
    Command acme_renamed = acme;
    std::get<RegisterEmployer>(acme_renamed.body).name = "Acme Holdings";
    const Command alice = Cmd("k2", 20220701, Open(kAlice, kAcme));
    const Command bob_with_alices_key = Cmd("k2", 20220701, Open(kBob, kAcme));
    {
      auto log = OpenLog(dir);
      auto sequencer = OpenSequencer(*log);
      CHECK(Accepted(Run1(*sequencer, acme)) == 2);
      CHECK(Duplicate(Run1(*sequencer, acme)) == 2);
      // Another actor or channel retrying is still the same command.
      Command retried = acme;
      retried.header.actor = "op:2";
      retried.header.channel = "online";
      CHECK(Duplicate(Run1(*sequencer, retried)) == 2);
      const RejectionDetail conflict = Rejected(Run1(*sequencer, acme_renamed));
      CHECK(conflict.rejection == Rejection::kIdempotencyConflict);
      CHECK(RejectionCode(conflict.rejection) == "idempotency_conflict");
      CHECK(conflict.message ==
            "idempotency key 'k1' was used at position 2 by a different command; a new command "
            "needs a new key");
      // Inside one submission: the second is a duplicate of the first, still in flight.
      const auto results = Run(*sequencer, {alice, alice, bob_with_alices_key});
      CHECK(Accepted(results[0]) == 3);
      CHECK(Duplicate(results[1]) == 3);
      CHECK(Rejected(results[2]).rejection == Rejection::kIdempotencyConflict);
      CHECK(log->head().position.value == 3);
      // A rejected command used no key: the key is free for another command.
      CHECK(Rejected(Run1(*sequencer, Cmd("k3", 20220701, Open(kBob, kBeta)))).rejection ==
            Rejection::kEmployerNotFound);
      CHECK(Accepted(Run1(*sequencer, Cmd("k3", 20220701, Open(kBob, kAcme)))) == 4);
      CHECK(sequencer->Close().ok());
    }
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    CHECK(Duplicate(Run1(*sequencer, acme)) == 2);
    CHECK(Duplicate(Run1(*sequencer, alice)) == 3);
    CHECK(Rejected(Run1(*sequencer, bob_with_alices_key)).rejection ==
          Rejection::kIdempotencyConflict);
    CHECK(log->head().position.value == 4);
  }

  TEST_CASE("Sequencer: the records carry their fact, key, command hash, stream and version") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    const Workload w = RunWorkload(*sequencer);
    CHECK(sequencer->Close().ok());

    auto sha256 = events::ChainHasher::Create(events::HashAlgorithm::kSha256).value();
    const std::vector<StoredRecord> records = ReadLog(*log);
    REQUIRE(records.size() == log->head().position.value);
    std::set<schema::Event> types;
    std::map<std::pair<schema::EntityKind, uint64_t>, uint64_t> last_version;
    // Position 1: the genesis policy, the sequencer's own command.
    const schema::Record& genesis = records[0].record();
    types.insert(genesis.payload_type());
    CHECK(genesis.payload_type() == schema::Event::PolicyChanged);
    CHECK(events::RecordIdempotencyKey(genesis) == kGenesisIdempotencyKey);
    CHECK(genesis.envelope()->actor()->string_view() == kSystemActor);
    CHECK(genesis.envelope()->stream_kind() == schema::EntityKind::Policy);
    CHECK(genesis.envelope()->stream_version() == 1);
    last_version[{schema::EntityKind::Policy, kPolicyStreamId}] = 1;
    REQUIRE(w.positions.front() == 2);
    for (size_t c = 0; c < w.accepted.size(); ++c) {
      const Command& command = w.accepted[c];
      const uint64_t first = w.positions[c];
      const uint64_t end = c + 1 < w.positions.size() ? w.positions[c + 1] : records.size() + 1;
      for (uint64_t p = first; p < end; ++p) {
        CAPTURE(p);
        const schema::Record& r = records[p - 1].record();
        const schema::Envelope& e = *r.envelope();
        types.insert(r.payload_type());
        CHECK(events::RecordPosition(r).value == p);
        CHECK(events::RecordIdempotencyKey(r) == command.header.idempotency_key);
        CHECK(events::RecordCommandHash(r) == internal::CommandHash(command, *sha256));
        CHECK(e.command_part() == p - first);
        CHECK(e.command_parts() == end - first);
        CHECK(e.actor()->string_view() == command.header.actor);
        CHECK(e.channel()->string_view() == "counter");
        // Each stream's versions start at 1 and only grow.
        auto [it, inserted] = last_version.try_emplace({e.stream_kind(), e.stream_id()}, 0);
        if (inserted) CHECK(e.stream_version() == 1);
        CHECK(e.stream_version() > it->second);
        it->second = e.stream_version();
        if (r.payload_type() != schema::Event::RecordReversed) {
          CHECK(e.effective_date() == command.header.effective_date);
        }
      }
    }
    // The workload covers every fact, and so every table the sequencer writes.
    CHECK_MESSAGE(types.size() == std::variant_size_v<Fact>,
                  "add the new fact to RunWorkload so its records and state are tested");

    // The settlement is one command of four records: the run's start on the fund's stream,
    // one credit per account, and the run's completion (the two were the year's accounts not
    // closed: Bob's closing withdrawal paid him to date).
    const uint64_t settlement = w.positions.back();
    CHECK(records.size() == settlement + 3);
    CHECK(records[settlement - 1].record().payload_type() ==
          schema::Event::YearEndSettlementStarted);
    for (uint64_t p = settlement + 1; p <= settlement + 2; ++p) {
      CHECK(records[p - 1].record().payload_type() == schema::Event::YearEndInterestCredited);
    }
    CHECK(records[settlement + 2].record().payload_type() ==
          schema::Event::YearEndSettlementCompleted);
    CHECK(records[settlement + 2].record().envelope()->stream_version() == 2);
    // The reversal names the receipt by position and chain hash, on its stream and date.
    const schema::Record& reversal = records[w.receipt_position].record();
    REQUIRE(reversal.payload_type() == schema::Event::RecordReversed);
    const auto* reversed = reversal.payload_as_RecordReversed();
    CHECK(reversed->reversed_position() == w.receipt_position);
    CHECK(std::memcmp(reversed->reversed_record_hash()->bytes()->data(),
                      records[w.receipt_position - 1].hash.data(), 32) == 0);
    const schema::Record& receipt = records[w.receipt_position - 1].record();
    CHECK(reversal.envelope()->effective_date() == receipt.envelope()->effective_date());
    CHECK(reversal.envelope()->stream_id() == receipt.envelope()->stream_id());
    REQUIRE(reversal.postings()->size() == receipt.postings()->size());
    CHECK(reversal.postings()->Get(0)->side() != receipt.postings()->Get(0)->side());

    // The chain, the links and every posting verify, as ledger-replay verify checks them.
    auto report = events::VerifyLog(*log, {});
    REQUIRE(report.has_value());
    CHECK_MESSAGE(report->ok(), report->detail);
    CHECK(report->records_checked == records.size());
  }

  TEST_CASE("Sequencer: record versions are the stream's version after the fact") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    const uint64_t registered = Accepted(Run1(*sequencer, Cmd("a", 20220701, Register(kAcme))));
    const uint64_t opened = Accepted(Run1(*sequencer, Cmd("b", 20220701, Open(kAlice, kAcme))));
    const uint64_t frozen =
        Accepted(Run1(*sequencer, Cmd("c", 20220701, FreezeAccount{kAlice, "order-1", "court"})));
    const State state = sequencer->SnapshotForTesting();
    CHECK(sequencer->Close().ok());
    const std::vector<StoredRecord> records = ReadLog(*log);
    CHECK(records[registered - 1].record().envelope()->stream_version() == 1);
    CHECK(records[opened - 1].record().envelope()->stream_version() == 1);
    CHECK(records[frozen - 1].record().envelope()->stream_version() == 2);
    CHECK(state.account(kAlice)->version == 2);
    CHECK(records[frozen - 1].record().envelope()->stream_kind() == schema::EntityKind::Account);
    CHECK(records[frozen - 1].record().envelope()->stream_id() == kAlice.value);
  }

  TEST_CASE("Sequencer: reversals are decided on the record the log holds at the position") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    Accepted(Run1(*sequencer, Cmd("a", 20220701, Register(kAcme))));
    const uint64_t receipt = Accepted(
        Run1(*sequencer, Cmd("b", 20220715, RecordBankReceipt{kAcme, "ICBC", "R-1", Fen{500}, 1})));
    const auto reverse = [](std::string key, uint64_t position) {
      return Cmd(std::move(key), 20220716,
                 ReverseRecord{.position = position, .reason = ReversalReason::kWrongAmount});
    };
    CHECK(Rejected(Run1(*sequencer, reverse("c", 99))).rejection ==
          Rejection::kReversalTargetNotFound);
    CHECK(Rejected(Run1(*sequencer, reverse("d", 1))).rejection == Rejection::kNotReversible);
    SUBCASE("a reversal whose record the log refuses fails alone and changes nothing") {
      // Decide() does not bound the note (reported); a record over the log's limit results.
      Command huge = reverse("e", receipt);
      std::get<ReverseRecord>(huge.body).note.assign(70 * 1024, 'x');
      const CommandResult result = Run1(*sequencer, huge);
      if (std::holds_alternative<CommandFailed>(result)) {
        CHECK(Failed(result).code() == StatusCode::kInternal);
      } else {
        CHECK(Rejected(result).rejection == Rejection::kTextFieldInvalid);
      }
      const State state = sequencer->SnapshotForTesting();
      CHECK(state.reversed_positions.empty());
      CHECK(state.employer(kAcme)->suspense == Fen{500});
      CHECK(sequencer->health().ok());
    }
    const uint64_t reversal = Accepted(Run1(*sequencer, reverse("f", receipt)));
    CHECK(reversal == receipt + 1);
    CHECK(Rejected(Run1(*sequencer, reverse("g", receipt))).rejection ==
          Rejection::kAlreadyReversed);
    CHECK(sequencer->SnapshotForTesting().employer(kAcme)->suspense == Fen{0});
  }

  TEST_CASE("Sequencer: envelope text over the log's limits is rejected") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    Command long_key =
        Cmd(std::string(events::kIdempotencyKeyBytesMax + 1, 'k'), 20220701, Register(kAcme));
    CHECK(Rejected(Run1(*sequencer, long_key)).message ==
          "idempotency key is 129 bytes, at most 128");
    Command long_actor = Cmd("k", 20220701, Register(kAcme));
    long_actor.header.actor.assign(200, 'a');
    CHECK(Rejected(Run1(*sequencer, long_actor)).rejection == Rejection::kTextFieldInvalid);
    CHECK(Rejected(Run1(*sequencer, Cmd("", 20220701, Register(kAcme)))).rejection ==
          Rejection::kIdempotencyKeyMissing);
    CHECK(log->head().position.value == 1);  // the genesis policy only
  }

  TEST_CASE("Sequencer: a new store begins with the genesis policy; a reopened one does not") {
    testing::TempDir dir;
    {
      auto log = OpenLog(dir);
      auto sequencer = OpenSequencer(*log);
      // Durable before Open() returned.
      REQUIRE(log->head().position.value == 1);
      CHECK(sequencer->policy_version() == 1);
      REQUIRE(sequencer->policy() != nullptr);
      CHECK(*sequencer->policy() == Policy());
      const std::vector<StoredRecord> records = ReadLog(*log);
      const schema::Record& genesis = records[0].record();
      auto recorded = ReadPolicyChanged(genesis);
      REQUIRE_MESSAGE(recorded.has_value(), recorded.status().ToString());
      CHECK(recorded->policy_version == 1);
      CHECK(recorded->effective_from == 19900101);  // the book's first version
      CHECK(genesis.envelope()->effective_date() == 19900101);
      CHECK(recorded->document == PolicyToJson(Policy()));
      CHECK(*recorded->book == Policy());
      CHECK(events::RecordIdempotencyKey(genesis) == "policy/genesis");
      CHECK(genesis.envelope()->actor()->string_view() == "system");
      CHECK(genesis.envelope()->channel()->string_view() == "system");
      // Its state is stored beside it.
      auto loaded = internal::LoadState(*log);
      REQUIRE(loaded.has_value());
      CHECK(loaded->policy.version == 1);
      CHECK(Accepted(Run1(*sequencer, Cmd("a", 20220701, Register(kAcme)))) == 2);
      CHECK(sequencer->Close().ok());
    }
    // Reopened with another initial policy (a lower cap): the stored one wins, nothing is
    // appended, and decisions follow it.
    const PolicyBook lower = [] {
      std::vector<::hpf::ledger::Policy> versions(Policy().versions().begin(),
                                                  Policy().versions().end());
      versions[0].base_cap = Fen{1'000'000};
      return PolicyBook(std::move(versions));
    }();
    auto log = OpenLog(dir);
    auto sequencer = Sequencer::Open({.log = log.get(), .policy = &lower}).value();
    CHECK(log->head().position.value == 2);
    CHECK(sequencer->policy_version() == 1);
    CHECK(*sequencer->policy() == Policy());
    OpenAccount alice = Open(kAlice, kAcme);
    alice.contribution_base = Fen{2'000'000};  // above `lower`'s cap, below the stored one's
    CHECK(Accepted(Run1(*sequencer, Cmd("b", 20220701, alice))) == 3);
  }

  TEST_CASE("Sequencer: a policy change is durable, survives a reopen and decides after it") {
    testing::TempDir dir;
    OpenAccount alice = Open(kAlice, kAcme);
    alice.contribution_base = Fen{2'900'000};  // above 28 716.00, below 30 000.00 yuan
    alice.first_contribution_month = 202307;
    {
      auto log = OpenLog(dir);
      auto sequencer = OpenSequencer(*log);
      Accepted(Run1(*sequencer, Cmd("a", 20220701, Register(kAcme))));
      CHECK(Rejected(Run1(*sequencer, Cmd("b", 20230701, alice))).rejection ==
            Rejection::kBaseAboveCap);
      CHECK(Accepted(Run1(*sequencer, Cmd("c", 20220801, ChangeTo(Raised(), 20230101)))) == 3);
      CHECK(sequencer->policy_version() == 2);
      CHECK(*sequencer->policy() == Raised());
      // A change that would rewrite what is in force (the rate from 2023-01-01) before it
      // takes effect is refused, and changes nothing.
      CHECK(
          Rejected(Run1(*sequencer, Cmd("d", 20220801, ChangeTo(Policy(), 20230201)))).rejection ==
          Rejection::kPolicyChangeRetroactive);
      CHECK(sequencer->policy_version() == 2);
      CHECK(sequencer->Close().ok());
    }
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    CHECK(sequencer->policy_version() == 2);
    CHECK(*sequencer->policy() == Raised());
    CHECK(sequencer->SnapshotForTesting().policy.version == 2);
    CHECK(Rejected(Run1(*sequencer, Cmd("e", 20230630, alice))).rejection ==
          Rejection::kBaseAboveCap);
    CHECK(Accepted(Run1(*sequencer, Cmd("f", 20230701, alice))) == 4);
    // The record reads back as the change it was.
    const std::vector<StoredRecord> records = ReadLog(*log);
    auto change = ReadPolicyChanged(records[2].record());
    REQUIRE(change.has_value());
    CHECK(change->policy_version == 2);
    CHECK(change->effective_from == 20230101);
    CHECK(*change->book == Raised());
    auto report = events::VerifyLog(*log, {});
    REQUIRE(report.has_value());
    CHECK_MESSAGE(report->ok(), report->detail);
  }

  TEST_CASE("Sequencer: an initial policy the ledger refuses fails Open and appends nothing") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    std::vector<::hpf::ledger::Policy> versions;
    for (int32_t i = 0; i < 250; ++i) {  // ~57 KiB of canonical document: not one record
      ::hpf::ledger::Policy version = Policy().versions().front();
      version.effective_from = AddDays(Date(), i);
      versions.push_back(version);
    }
    const PolicyBook huge(std::move(versions));
    auto sequencer = Sequencer::Open({.log = log.get(), .policy = &huge});
    REQUIRE(!sequencer.has_value());
    CHECK(sequencer.error().code() == StatusCode::kInvalidArgument);
    CHECK(sequencer.error().message().starts_with(
        "the initial policy is refused (policy_document_invalid): the policy's canonical "
        "document is "));
    CHECK(log->head().position.value == 0);
    // The store is still new: a sequencer with a recordable policy begins it.
    CHECK(OpenSequencer(*log)->policy_version() == 1);
  }

  TEST_CASE("Sequencer: an all-or-none list with a rejection appends nothing, changes nothing") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log);
    Accepted(Run1(*sequencer, Cmd("a", 20220701, Register(kAcme))));
    Accepted(Run1(*sequencer, Cmd("b", 20220701, Open(kBob, kAcme))));
    const uint64_t head = log->head().position.value;
    const auto stored_before = Stored(sequencer->SnapshotForTesting());
    const uint64_t batches_before = log->stats().batches;
    // Each accepted command changes the state before the rejection: a new account, the
    // policy (which re-rates Bob), Acme's suspense; the fourth is rejected.
    const auto results = RunAllOrNone(
        *sequencer, {Cmd("l1", 20220701, Open(kAlice, kAcme)),
                     Cmd("l2", 20220907, ChangeTo(Raised(), 20230101)),
                     Cmd("l3", 20220715, RecordBankReceipt{kAcme, "ICBC", "ICBC-9", Fen{500}, 1}),
                     Cmd("l4", 20220701, Open(kBob, kAcme)),  // already open
                     Cmd("l5", 20220701, Register(kBeta))});
    REQUIRE(results.size() == 5);
    CHECK(Rejected(results[3]).rejection == Rejection::kAccountAlreadyOpen);
    for (const size_t i : {size_t{0}, size_t{1}, size_t{2}, size_t{4}}) {
      CAPTURE(i);
      const RejectionDetail aborted = Rejected(results[i]);
      CHECK(aborted.rejection == Rejection::kAtomicListAborted);
      CHECK(RejectionCode(aborted.rejection) == "atomic_list_aborted");
      CHECK(aborted.message ==
            "command 3 of the all-or-none list was rejected (account_already_open); nothing of "
            "the list was appended");
    }
    CHECK(log->head().position.value == head);
    CHECK(log->stats().batches == batches_before);
    CHECK(Stored(sequencer->SnapshotForTesting()) == stored_before);
    CHECK(sequencer->policy_version() == 1);
    // Later commands see the old state, and the list's keys are free again.
    CHECK(sequencer->SnapshotForTesting().employer(kAcme)->suspense == Fen{0});
    CHECK(sequencer->SnapshotForTesting().policy.version == 1);
    CHECK(Accepted(Run1(*sequencer, Cmd("l1", 20220701, Open(kAlice, kAcme)))) == head + 1);
    // An idempotency conflict inside the list is a rejection too: it aborts the list.
    const auto conflict = RunAllOrNone(*sequencer, {Cmd("c1", 20220701, Register(kBeta)),
                                                    Cmd("c1", 20220701, Open(kDave, kAcme))});
    CHECK(Rejected(conflict[1]).rejection == Rejection::kIdempotencyConflict);
    CHECK(Rejected(conflict[0]).message ==
          "command 1 of the all-or-none list was rejected (idempotency_conflict); nothing of the "
          "list was appended");
    CHECK(sequencer->SnapshotForTesting().employer(kBeta) == nullptr);
    CHECK(Accepted(Run1(*sequencer, Cmd("l5", 20220701, Register(kBeta)))) == head + 2);
    CHECK(sequencer->Close().ok());
    auto report = events::VerifyLog(*log, {});
    REQUIRE(report.has_value());
    CHECK_MESSAGE(report->ok(), report->detail);
  }

  TEST_CASE("Sequencer: an accepted all-or-none list is one batch at consecutive positions") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    // One record per group: each ordinary command is a group of its own.
    auto sequencer = OpenSequencer(*log, /*group_records_max=*/1);
    const Command acme = Cmd("a", 20220701, Register(kAcme));
    CHECK(Accepted(Run1(*sequencer, acme)) == 2);
    const uint64_t batches_before = log->stats().batches;
    const Command beta = Cmd("b", 20220701, Register(kBeta));
    const auto results =
        RunAllOrNone(*sequencer, {beta, Cmd("c", 20220701, Open(kAlice, kAcme)),
                                  beta,  // a duplicate inside the list: it changes nothing
                                  acme,  // a duplicate of a command in the log
                                  Cmd("d", 20220701, Open(kCarol, kBeta)),
                                  Cmd("e", 20230630, SettleInterest{2022, {kAlice, kCarol}})});
    REQUIRE(results.size() == 6);
    CHECK(Accepted(results[0]) == 3);
    CHECK(Accepted(results[1]) == 4);
    CHECK(Duplicate(results[2]) == 3);
    CHECK(Duplicate(results[3]) == 2);
    CHECK(Accepted(results[4]) == 5);
    // Four records, 6 to 9: the year's settlement run starts, Alice and Carol (its only
    // accounts) are credited, and the run completes.
    CHECK(Accepted(results[5]) == 6);
    CHECK(log->head().position.value == 9);
    CHECK(log->stats().batches == batches_before + 1);
    // The stored state matches: a reopened sequencer decides on it.
    CHECK(sequencer->Close().ok());
    const State state = [&] {
      auto reopened = OpenSequencer(*log);
      return reopened->SnapshotForTesting();
    }();
    CHECK(state.account(kCarol) != nullptr);
    CHECK(state.employer(kBeta) != nullptr);
    auto report = events::VerifyLog(*log, {});
    REQUIRE(report.has_value());
    CHECK_MESSAGE(report->ok(), report->detail);
  }

  TEST_CASE("Sequencer: all-or-none lists interleave with ordinary submissions from threads") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log, /*group_records_max=*/2, /*groups_in_flight_max=*/2);
    Accepted(Run1(*sequencer, Cmd("acme", 20220701, Register(kAcme))));
    constexpr int kThreads = 4;
    constexpr int kSubmissions = 30;
    std::vector<std::vector<uint64_t>> positions(kThreads);
    std::vector<int> aborted(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto& mine = positions[static_cast<size_t>(t)];
        for (int s = 0; s < kSubmissions; ++s) {
          const auto id = static_cast<uint64_t>(10'000 + t * 1'000 + s * 3);
          const std::string key = "t" + std::to_string(t) + "-" + std::to_string(s);
          std::vector<Command> commands;
          for (uint64_t k = 0; k < 3; ++k) {
            commands.push_back(
                Cmd(key + "-" + std::to_string(k), 20220701, Open(AccountId{id + k}, kAcme)));
          }
          if (s % 3 == 0) {  // ordinary: each on its own
            for (const CommandResult& result : Run(*sequencer, std::move(commands))) {
              mine.push_back(Accepted(result));
            }
            continue;
          }
          // Every fifth list opens an account twice: the whole list is aborted.
          if (s % 5 == 0) commands[2].body = Open(AccountId{id}, kAcme);
          const auto results = RunAllOrNone(*sequencer, std::move(commands));
          if (s % 5 == 0) {
            CHECK(Rejected(results[2]).rejection == Rejection::kAccountAlreadyOpen);
            CHECK(Rejected(results[0]).rejection == Rejection::kAtomicListAborted);
            ++aborted[static_cast<size_t>(t)];
            continue;
          }
          const uint64_t first = Accepted(results[0]);
          CHECK(Accepted(results[1]) == first + 1);
          CHECK(Accepted(results[2]) == first + 2);
          mine.insert(mine.end(), {first, first + 1, first + 2});
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    std::vector<uint64_t> all{1, 2};  // the genesis policy, then acme
    for (const auto& mine : positions) all.insert(all.end(), mine.begin(), mine.end());
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == i + 1);
    CHECK(log->head().position.value == all.size());
    CHECK(aborted[0] > 0);
    // No account of an aborted list exists.
    const State state = sequencer->SnapshotForTesting();
    for (int t = 0; t < kThreads; ++t) {
      for (int s = 0; s < kSubmissions; s += 5) {
        if (s % 3 == 0) continue;  // ordinary
        const auto id = static_cast<uint64_t>(10'000 + t * 1'000 + s * 3);
        CHECK(state.account(AccountId{id}) == nullptr);
      }
    }
    CHECK(sequencer->Close().ok());
  }

  TEST_CASE("Sequencer: an all-or-none list beyond one append's records is refused whole") {
    testing::TempDir dir;
    auto log = OpenLog(dir);
    auto sequencer = OpenSequencer(*log, /*group_records_max=*/0, /*groups_in_flight_max=*/1);
    Accepted(Run1(*sequencer, Cmd("a", 20220701, Register(kAcme))));
    Accepted(Run1(*sequencer, Cmd("b", 20220701, Open(kAlice, kAcme))));
    Accepted(Run1(*sequencer, Cmd("c", 20220701, Open(kBob, kAcme))));
    // `registers` one-record commands, then a settlement of two accounts: their credits, and
    // the run's start (and its completion while they are the year's only accounts).
    auto list = [](size_t registers) {
      std::vector<Command> commands;
      commands.reserve(registers + 1);
      for (size_t i = 0; i < registers; ++i) {
        commands.push_back(Cmd("r" + std::to_string(i), 20220701, Register(EmployerId{100 + i})));
      }
      commands.push_back(Cmd("s", 20230630, SettleInterest{2022, {kAlice, kBob}}));
      return commands;
    };
    const uint64_t head = log->head().position.value;
    const auto stored_before = Stored(sequencer->SnapshotForTesting());
    // 65 536 commands, 65 539 records: the settlement (four records) passes the bound.
    auto results = RunAllOrNone(*sequencer, list(events::kBatchRecordsMax - 1));
    REQUIRE(results.size() == events::kBatchRecordsMax);
    const RejectionDetail too_large = Rejected(results.back());
    CHECK(too_large.rejection == Rejection::kAtomicListTooLarge);
    CHECK(too_large.message ==
          "the all-or-none list's records would exceed 65536, the most one append holds: "
          "65535 before this command, which adds 4; submit the list in smaller parts");
    CHECK(Rejected(results[0]).message ==
          "command 65535 of the all-or-none list was rejected (atomic_list_too_large); nothing "
          "of the list was appended");
    CHECK(log->head().position.value == head);
    CHECK(Stored(sequencer->SnapshotForTesting()) == stored_before);
    // More commands than one append holds records: refused before any is decided.
    results = RunAllOrNone(*sequencer, list(events::kBatchRecordsMax));
    REQUIRE(results.size() == events::kBatchRecordsMax + 1);
    for (const size_t i : {size_t{0}, events::kBatchRecordsMax}) {
      CHECK(Rejected(results[i]).rejection == Rejection::kAtomicListTooLarge);
    }
    CHECK(Rejected(results[0]).message ==
          "the all-or-none list has 65537 commands, each of at least one record, and one append "
          "holds at most 65536 records; submit it in smaller parts");
    CHECK(log->head().position.value == head);
    // Exactly one append's worth is accepted, whole, even right behind ordinary commands: the
    // second is usually decided while the first is in the log (one group at a time), and
    // cannot share the list's group: it is sent first, and the list decided again. (With Carol
    // and Dave open too, the settlement is three records: the run's start and two credits.)
    std::vector<Command> whole = list(events::kBatchRecordsMax - 3);
    auto first_ordinary = sequencer->Submit({Cmd("d", 20220701, Open(kCarol, kAcme))});
    auto second_ordinary = sequencer->Submit({Cmd("e", 20220701, Open(kDave, kAcme))});
    auto atomic = sequencer->Submit(std::move(whole), {.atomicity = Atomicity::kAllOrNone});
    CHECK(Accepted(first_ordinary.get().at(0)) == head + 1);
    CHECK(Accepted(second_ordinary.get().at(0)) == head + 2);
    results = atomic.get();
    const uint64_t first = Accepted(results[0]);
    CHECK(first == head + 3);
    CHECK(Accepted(results.back()) == first + events::kBatchRecordsMax - 3);
    CHECK(log->head().position.value == first + events::kBatchRecordsMax - 1);
    CHECK(sequencer->Close().ok());
  }

  TEST_CASE("Sequencer: after a failed append every command fails until reopened") {
    testing::TempDir dir;
    {
      auto log = OpenLog(dir);
      auto sequencer = OpenSequencer(*log);
      Accepted(Run1(*sequencer, Cmd("a", 20220701, Register(kAcme))));
      CHECK(sequencer->Close().ok());
    }
    // A read-only store refuses every append: the first accepted command's group fails.
    auto log = events::EventLog::OpenReadOnly(dir.Sub("log"));
    REQUIRE(log.has_value());
    auto sequencer = OpenSequencer(**log);
    // Rejections do not touch the log and are answered as usual before the failure.
    CHECK(Rejected(Run1(*sequencer, Cmd("b", 20220701, Register(kAcme)))).rejection ==
          Rejection::kEmployerAlreadyRegistered);
    const auto results = Run(
        *sequencer, {Cmd("c", 20220701, Open(kAlice, kAcme)), Cmd("d", 20220701, Register(kAcme))});
    const Status failed = Failed(results[0]);
    CHECK(failed.code() == StatusCode::kFailedPrecondition);
    CHECK(failed.message() ==
          "the sequencer stopped after a failed append (the store is open read-only); reopen "
          "the log and the sequencer");
    // Decided on top of the failed group: failed too, although it would be a rejection.
    CHECK(Failed(results[1]).code() == StatusCode::kFailedPrecondition);
    CHECK(Failed(Run1(*sequencer, Cmd("e", 20220701, Register(kBeta)))).message() ==
          failed.message());
    CHECK(sequencer->health().message() == failed.message());
    CHECK(sequencer->Close().message() == failed.message());
    CHECK(Failed(Run1(*sequencer, Cmd("f", 20220701, Register(kBeta)))).code() ==
          StatusCode::kUnavailable);
  }
}

}  // namespace
}  // namespace hpf::ledger
