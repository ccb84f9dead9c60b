// tests/ledgerd/ledgerd_api_test.cc — the API end to end: a real log and sequencer behind the
// HTTP server on loopback. Every bad input gets its specific error and leaves the log's head
// where it was; authentication and a bank's scope; idempotency over HTTP; the remittance
// file in both modes and in GBK; /metrics, /healthz, /v1/log/head; and every route of
// docs/openapi.json answering as documented.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/core.h>

#include "events/record.h"
#include "tests/ledgerd/ledgerd_stack.h"
#include "tests/support/ledger_commands.h"
#include "tools/ledger-sim/command_json.h"
#include "tools/ledgerd/openapi_document.h"

namespace hpf::ledgerd {
namespace {

namespace json = boost::json;
using ledger::AccountId;
using ledger::EmployerId;
using ledger::Fen;
using testing::kAdminToken;
using testing::kAuditorToken;
using testing::kBankCcbToken;
using testing::kBankIcbcToken;
using testing::kOperatorToken;
using testing::LedgerdStack;
using testing::MakeCommand;

json::value Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  REQUIRE_MESSAGE(!ec, "not JSON: ", text);
  return value;
}

std::string ErrorCode(const HttpClientResponse& response) {
  const json::value body = Parse(response.body);
  REQUIRE(body.is_object());
  const auto* error = body.get_object().if_contains("error");
  REQUIRE_MESSAGE(error != nullptr, response.body);
  return std::string(error->at("code").as_string());
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  REQUIRE_MESSAGE(file.good(), path);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

std::string SourcePath(std::string_view relative) {
  const char* root = std::getenv("HPF_SOURCE_DIR");
  REQUIRE(root != nullptr);
  return fmt::format("{}/{}", root, relative);
}

// Employer 1 (ICBC, 12 % / 12 %, from 2023-07) with accounts 100001..100003 on the bases of
// the sample remittance files, and the bank's receipts for July and August.
std::vector<ledger::Command> SampleEmployerSetup() {
  ledger::RegisterEmployer employer = testing::SampleEmployer(EmployerId{1});
  employer.first_contribution_month = 202307;
  std::vector<ledger::Command> commands = {MakeCommand("setup:employer", 20230701, employer)};
  const std::pair<uint64_t, int64_t> accounts[] = {
      {100001, 800'000}, {100002, 650'000}, {100003, 1'200'000}};
  for (const auto& [id, base] : accounts) {
    commands.push_back(MakeCommand(fmt::format("setup:account:{}", id), 20230701,
                                   ledger::OpenAccount{.account = AccountId{id},
                                                       .employer = EmployerId{1},
                                                       .person_id = id,
                                                       .contribution_base = Fen{base},
                                                       .first_contribution_month = 202307}));
  }
  for (const uint32_t month : {202307u, 202308u}) {
    commands.push_back(
        MakeCommand(fmt::format("setup:receipt:{}", month), month * 100 + 15,
                    ledger::RecordBankReceipt{EmployerId{1}, "ICBC", fmt::format("RCPT{}", month),
                                              Fen{636'000}, 1}));
  }
  return commands;
}

std::string ReceiptJson(std::string key, std::string bank_code, int64_t fen = 100'000) {
  return testing::CommandsJson({MakeCommand(
      std::move(key), 20230715,
      ledger::RecordBankReceipt{EmployerId{1}, std::move(bank_code), "REF-1", Fen{fen}, 1})});
}

const json::array& Results(const HttpClientResponse& response) {
  static thread_local json::value body;
  body = Parse(response.body);
  return body.at("results").as_array();
}

// Reads the committed record at `position` and returns (actor, channel).
std::pair<std::string, std::string> ActorAndChannel(events::EventLog& log, uint64_t position) {
  std::pair<std::string, std::string> out;
  REQUIRE(log.Scan(events::GlobalPosition{position}, events::GlobalPosition{position},
                   [&out](const events::RecordRef& ref) {
                     auto record = events::VerifyRecord(ref.record);
                     REQUIRE(record.has_value());
                     out.first = (*record)->envelope()->actor()->str();
                     out.second = (*record)->envelope()->channel()->str();
                     return false;
                   })
              .ok());
  return out;
}

// SampleEmployerSetup() with July's list allocated: account 100001 holds 192 000 fen,
// 100002 156 000 and 100003 288 000, value-dated 2023-07-15.
std::vector<ledger::Command> FundedAccountsSetup() {
  std::vector<ledger::Command> commands = SampleEmployerSetup();
  commands.push_back(
      MakeCommand("setup:list", 20230715,
                  ledger::OpenRemittance{1, EmployerId{1}, ledger::RemittanceKind::kRegular, 202307,
                                         202307, 3, Fen{636'000}, "HJ1"}));
  for (const auto& [id, base] :
       {std::pair<uint64_t, int64_t>{100001, 800'000}, {100002, 650'000}, {100003, 1'200'000}}) {
    const Fen side{base * 12 / 100};
    commands.push_back(MakeCommand(fmt::format("setup:line:{}", id), 20230715,
                                   ledger::AllocateContribution{1, EmployerId{1}, AccountId{id},
                                                                202307, Fen{base}, side, side}));
  }
  commands.push_back(
      MakeCommand("setup:complete", 20230715, ledger::CompleteRemittance{1, EmployerId{1}}));
  return commands;
}

// What a test reads back from a committed record.
struct RecordSeen {
  std::string type;  // events::EventTypeName
  std::string actor;
  std::string channel;
  int64_t amount_fen = 0;  // WithdrawalPaid's amount, InterestToDateCredited's interest
};

std::vector<RecordSeen> RecordsAt(events::EventLog& log, uint64_t first, uint64_t last) {
  std::vector<RecordSeen> out;
  REQUIRE(
      log.Scan(events::GlobalPosition{first}, events::GlobalPosition{last},
               [&out](const events::RecordRef& ref) {
                 auto verified = events::VerifyRecord(ref.record);
                 REQUIRE(verified.has_value());
                 const auto* record = *verified;
                 RecordSeen seen{.type = std::string(events::EventTypeName(record->payload_type())),
                                 .actor = record->envelope()->actor()->str(),
                                 .channel = record->envelope()->channel()->str(),
                                 .amount_fen = 0};
                 if (const auto* paid = record->payload_as_WithdrawalPaid()) {
                   seen.amount_fen = paid->amount_fen();
                 } else if (const auto* interest = record->payload_as_InterestToDateCredited()) {
                   seen.amount_fen = interest->interest_fen();
                 }
                 out.push_back(std::move(seen));
                 return true;
               })
          .ok());
  return out;
}

constexpr std::string_view kCsvUtf8 = "text/csv; charset=utf-8";
constexpr std::string_view kCsvGbk = "text/csv; charset=GBK";

TEST_SUITE("ledgerd") {
  TEST_CASE("POST /v1/commands: accepted commands are answered with their positions") {
    LedgerdStack stack;
    stack.Apply({MakeCommand("e1", 20230701, testing::SampleEmployer(EmployerId{1}))});
    const uint64_t before = stack.head();
    const auto response = stack.Post("/v1/commands", ReceiptJson("r-1", "ICBC"), kOperatorToken);
    CHECK(response.status == 200);
    const json::array& results = Results(response);
    REQUIRE(results.size() == 1);
    CHECK(results[0].at("status").as_string() == "accepted");
    CHECK(results[0].at("position").as_int64() == static_cast<int64_t>(before + 1));
    CHECK(stack.head() == before + 1);
    CHECK(testing::JsonField(response.body, "accepted") == "1");
    // The operator's name is the actor, "counter" the channel.
    CHECK(ActorAndChannel(stack.log(), before + 1) ==
          std::pair<std::string, std::string>("counter-01", "counter"));
  }

  TEST_CASE("POST /v1/commands: every class of bad input has its error and writes nothing") {
    LedgerdStack stack({.server = {.body_bytes_max = 200'000}, .tokens = {}});
    stack.Apply({MakeCommand("e1", 20230701, testing::SampleEmployer(EmployerId{1}))});
    const uint64_t head = stack.head();
    const std::string good = ReceiptJson("good", "ICBC");
    const std::string good_object = good.substr(1, good.size() - 2);
    struct Case {
      const char* name;
      std::string body;
      unsigned status;
      const char* code;
    };
    std::string too_many = "[";
    for (int i = 0; i <= 10'000; ++i) {
      too_many += (i > 0 ? "," : "") + std::string("{}");
    }
    too_many += "]";
    const std::vector<Case> cases = {
        {"malformed JSON", "[{\"type\":", 400, "malformed_json"},
        {"wrong type", R"([{"type":"SealAccount","idempotency_key":"a",
                           "effective_date":20230701,"account":"one"}])",
         400, "wrong_type"},
        {"a repeated field",
         "[" + good_object.substr(0, good_object.size() - 1) + ",\"deposit_id\":1}]", 400,
         "duplicate_key"},
        {"number beyond int64",
         R"([{"type":"RecordBankReceipt","idempotency_key":"o","effective_date":20230715,
              "employer":1,"bank_code":"ICBC","bank_reference":"R",
              "amount_fen":9223372036854775808}])",
         400, "number_overflow"},
        {"zero amount",
         R"([{"type":"RecordBankReceipt","idempotency_key":"z","effective_date":20230715,
              "employer":1,"bank_code":"ICBC","bank_reference":"R","amount_fen":0}])",
         400, "amount_must_be_positive"},
        {"negative amount",
         R"([{"type":"RecordBankReceipt","idempotency_key":"n","effective_date":20230715,
              "employer":1,"bank_code":"ICBC","bank_reference":"R","amount_fen":-100}])",
         400, "amount_must_be_positive"},
        {"unknown command type", R"([{"type":"PayEveryone","idempotency_key":"u"}])", 400,
         "unknown_command_type"},
        {"unknown field", "[" + good_object.substr(0, good_object.size() - 1) + ",\"x\":1}]", 400,
         "unknown_field"},
        {"duplicate key", R"([{"type":"SealAccount","type":"SealAccount"}])", 400, "duplicate_key"},
        {"invalid UTF-8", "[\"\xC3\x28\"]", 400, "invalid_utf8"},
        {"a valid command before a bad one", "[" + good_object + ",{\"type\":1}]", 400,
         "wrong_type"},
        {"oversized body", "[" + std::string(300'000, ' ') + "]", 413, "body_too_large"},
        {"empty array", "[]", 400, "empty_batch"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      const auto response = stack.Post("/v1/commands", c.body, kAdminToken);
      CHECK(response.status == c.status);
      CHECK(ErrorCode(response) == c.code);
      CHECK(stack.head() == head);
    }
    {
      LedgerdStack big_bodies;
      const uint64_t fresh = big_bodies.head();  // the ledger's own first record: its policy
      const auto response = big_bodies.Post("/v1/commands", too_many, kAdminToken);
      CHECK(response.status == 413);
      CHECK(ErrorCode(response) == "too_many_commands");
      CHECK(big_bodies.head() == fresh);
    }
    const auto wrong_media = stack.Post("/v1/commands", good, kAdminToken, "text/plain");
    CHECK(wrong_media.status == 415);
    CHECK(ErrorCode(wrong_media) == "unsupported_media_type");
    const auto unknown_param = stack.Post("/v1/commands?atomc=true", good, kAdminToken);
    CHECK(unknown_param.status == 400);
    CHECK(ErrorCode(unknown_param) == "unknown_query_parameter");
    const auto bad_bool = stack.Post("/v1/commands?atomic=yes", good, kAdminToken);
    CHECK(bad_bool.status == 400);
    CHECK(ErrorCode(bad_bool) == "invalid_query_parameter");
    CHECK(stack.head() == head);
    // The server kept serving through all of it.
    const auto accepted = stack.Post("/v1/commands", good, kAdminToken);
    CHECK(accepted.status == 200);
    CHECK(stack.head() == head + 1);
  }

  TEST_CASE("POST /v1/commands: the ledger's rejections come back per command") {
    LedgerdStack stack;
    stack.Apply({MakeCommand("e1", 20230701, testing::SampleEmployer(EmployerId{1}))});
    const uint64_t head = stack.head();
    const std::string body = testing::CommandsJson(
        {MakeCommand("c-1", 20230715,
                     ledger::RecordBankReceipt{EmployerId{1}, "ICBC", "A", Fen{500}, 1}),
         MakeCommand("c-2", 20230715,
                     ledger::RecordBankReceipt{EmployerId{99}, "ICBC", "B", Fen{500}, 1}),
         MakeCommand("c-3", 20231301, ledger::SealEmployer{EmployerId{1}})});
    const auto response = stack.Post("/v1/commands", body, kOperatorToken);
    CHECK(response.status == 200);
    const json::array& results = Results(response);
    REQUIRE(results.size() == 3);
    CHECK(results[0].at("status").as_string() == "accepted");
    CHECK(results[1].at("status").as_string() == "rejected");
    CHECK(results[1].at("code").as_string() == "employer_not_found");
    CHECK(std::string(results[1].at("message").as_string()).find("99") != std::string::npos);
    CHECK(results[2].at("code").as_string() == "effective_date_invalid");
    CHECK(stack.head() == head + 1);
    CHECK(testing::JsonField(response.body, "rejected") == "2");
    const std::string metrics = stack.Get("/metrics", "").body;
    CHECK(metrics.find("hpf_rejections_total{code=\"employer_not_found\"} 1") != std::string::npos);
  }

  TEST_CASE("POST /v1/commands?atomic=true: all or none") {
    LedgerdStack stack;
    stack.Apply({MakeCommand("e1", 20230701, testing::SampleEmployer(EmployerId{1}))});
    const uint64_t head = stack.head();
    auto receipt = [](std::string key, uint64_t employer) {
      return MakeCommand(std::move(key), 20230715,
                         ledger::RecordBankReceipt{EmployerId{employer}, "ICBC", "A", Fen{500}, 1});
    };
    // The middle command is rejected: nothing is written, the others say why.
    const auto aborted = stack.Post(
        "/v1/commands?atomic=true",
        testing::CommandsJson({receipt("a-1", 1), receipt("a-2", 99), receipt("a-3", 1)}),
        kOperatorToken);
    CHECK(aborted.status == 200);
    {
      const json::array& results = Results(aborted);
      REQUIRE(results.size() == 3);
      CHECK(results[1].at("status").as_string() == "rejected");
      CHECK(results[1].at("code").as_string() == "employer_not_found");
      for (const size_t i : {size_t{0}, size_t{2}}) {
        CAPTURE(i);
        CHECK(results[i].at("status").as_string() == "rejected");
        CHECK(results[i].at("code").as_string() == "atomic_list_aborted");
        CHECK(results[i].at("message").as_string() ==
              "command 1 of the all-or-none list was rejected (employer_not_found); nothing of "
              "the list was appended");
      }
    }
    CHECK(testing::JsonField(aborted.body, "rejected") == "3");
    CHECK(stack.head() == head);
    // Without the bad command: all appended, at consecutive positions.
    const std::string good = testing::CommandsJson({receipt("a-1", 1), receipt("a-3", 1)});
    const auto accepted = stack.Post("/v1/commands?atomic=true", good, kOperatorToken);
    CHECK(accepted.status == 200);
    {
      const json::array& results = Results(accepted);
      REQUIRE(results.size() == 2);
      CHECK(results[0].at("status").as_string() == "accepted");
      CHECK(results[0].at("position").as_int64() == static_cast<int64_t>(head + 1));
      CHECK(results[1].at("position").as_int64() == static_cast<int64_t>(head + 2));
    }
    CHECK(stack.head() == head + 2);
    // A retry of an accepted list is all duplicates, and still all or none.
    const auto retry = stack.Post("/v1/commands?atomic=true", good, kOperatorToken);
    CHECK(Results(retry)[0].at("status").as_string() == "duplicate");
    CHECK(Results(retry)[1].at("status").as_string() == "duplicate");
    CHECK(stack.head() == head + 2);
    const std::string metrics = stack.Get("/metrics", "").body;
    CHECK(metrics.find("hpf_rejections_total{code=\"atomic_list_aborted\"} 2") !=
          std::string::npos);
  }

  TEST_CASE("POST /v1/commands: idempotency over HTTP — duplicate, then conflict") {
    LedgerdStack stack;
    stack.Apply({MakeCommand("e1", 20230701, testing::SampleEmployer(EmployerId{1}))});
    const auto first =
        stack.Post("/v1/commands", ReceiptJson("bank-ref-77", "ICBC"), kBankIcbcToken);
    REQUIRE(first.status == 200);
    const int64_t position = Results(first)[0].at("position").as_int64();
    const uint64_t head = stack.head();
    // A retry (another connection, even another principal of the bank's... the same body).
    const auto retry =
        stack.Post("/v1/commands", ReceiptJson("bank-ref-77", "ICBC"), kBankIcbcToken);
    CHECK(Results(retry)[0].at("status").as_string() == "duplicate");
    CHECK(Results(retry)[0].at("position").as_int64() == position);
    // The same key with another amount.
    const auto conflict =
        stack.Post("/v1/commands", ReceiptJson("bank-ref-77", "ICBC", 999), kBankIcbcToken);
    CHECK(Results(conflict)[0].at("status").as_string() == "rejected");
    CHECK(Results(conflict)[0].at("code").as_string() == "idempotency_conflict");
    CHECK(stack.head() == head);
    // Both in one request: the second is a duplicate of the first.
    const std::string twice = testing::CommandsJson(
        {MakeCommand("k-2", 20230715,
                     ledger::RecordBankReceipt{EmployerId{1}, "ICBC", "X", Fen{1}, 1}),
         MakeCommand("k-2", 20230715,
                     ledger::RecordBankReceipt{EmployerId{1}, "ICBC", "X", Fen{1}, 1})});
    const auto pair = stack.Post("/v1/commands", twice, kBankIcbcToken);
    CHECK(Results(pair)[0].at("status").as_string() == "accepted");
    CHECK(Results(pair)[1].at("status").as_string() == "duplicate");
    CHECK(Results(pair)[1].at("position") == Results(pair)[0].at("position"));
    CHECK(stack.head() == head + 1);
  }

  TEST_CASE("Authentication: 401 without a valid token, 403 outside the role; nothing written") {
    LedgerdStack stack;
    stack.Apply({MakeCommand("e1", 20230701, testing::SampleEmployer(EmployerId{1}))});
    const uint64_t head = stack.head();
    const std::string receipt = ReceiptJson("a-1", "ICBC");

    const auto anonymous = stack.Post("/v1/commands", receipt, "");
    CHECK(anonymous.status == 401);
    CHECK(ErrorCode(anonymous) == "missing_token");
    CHECK(anonymous.Header("www-authenticate").find("Bearer") == 0);
    const auto unknown = stack.Post("/v1/commands", receipt, "guessed-token");
    CHECK(unknown.status == 401);
    CHECK(ErrorCode(unknown) == "invalid_token");

    const auto auditor_post = stack.Post("/v1/commands", receipt, kAuditorToken);
    CHECK(auditor_post.status == 403);
    CHECK(ErrorCode(auditor_post) == "forbidden");
    CHECK(auditor_post.body.find("auditor only reads") != std::string::npos);
    const auto auditor_file = stack.Post("/v1/bank-files/remittance?effective_date=20230715", "x",
                                         kAuditorToken, kCsvUtf8);
    CHECK(auditor_file.status == 403);
    CHECK(stack.Get("/v1/log/head", kAuditorToken).status == 200);
    CHECK(stack.Get("/v1/log/head", kBankIcbcToken).status == 403);
    CHECK(stack.Get("/v1/log/head", "").status == 401);

    const auto other_bank = stack.Post("/v1/commands", receipt, kBankCcbToken);
    CHECK(other_bank.status == 403);
    CHECK(ErrorCode(other_bank) == "bank_code_mismatch");
    const std::string open_account = testing::CommandsJson(
        {MakeCommand("acct", 20230701, testing::SampleAccount(AccountId{5}, EmployerId{1}))});
    const auto bank_open = stack.Post("/v1/commands", open_account, kBankIcbcToken);
    CHECK(bank_open.status == 403);
    CHECK(ErrorCode(bank_open) == "forbidden_command_type");
    CHECK(stack.head() == head);

    // The bank's own receipt: the bank's name and code are in the record.
    const auto own = stack.Post("/v1/commands", receipt, kBankIcbcToken);
    CHECK(own.status == 200);
    CHECK(stack.head() == head + 1);
    CHECK(ActorAndChannel(stack.log(), head + 1) ==
          std::pair<std::string, std::string>("icbc-qingdao", "ICBC"));
    // Public routes need no token.
    CHECK(stack.Get("/healthz", "").status == 200);
    CHECK(stack.Get("/metrics", "").status == 200);
    CHECK(stack.Get("/v1/openapi.json", "").status == 200);
  }

  TEST_CASE("POST /v1/commands: a closing withdrawal — four eyes by token, the bank pays") {
    // A second operator beside counter-01: the four eyes are two people of the same role.
    constexpr std::string_view kSecondOperatorToken = "secret-operator-2-0123456789";
    LedgerdStack stack(
        {.server = {},
         .tokens = testing::TestTokensFile() +
                   fmt::format("{} operator counter-02\n", HashSecretHex(kSecondOperatorToken))});
    stack.Apply(FundedAccountsSetup());
    const uint64_t start = stack.head();
    const auto send = [&stack](const ledger::Command& command, std::string_view token) {
      return stack.Post("/v1/commands", testing::CommandsJson({command}), token);
    };
    const auto result = [](const HttpClientResponse& response, std::string_view field) {
      REQUIRE_MESSAGE(response.status == 200, response.body);
      const json::array& results = Results(response);
      REQUIRE(results.size() == 1);
      const json::value& value = results[0].at(field);
      return value.is_string() ? std::string(value.as_string()) : json::serialize(value);
    };
    const ledger::Command apply =
        MakeCommand("wd-1:apply", 20230801,
                    ledger::ApplyWithdrawal{.withdrawal_id = 1,
                                            .account = AccountId{100001},
                                            .reason = ledger::WithdrawalReason::kRetirement,
                                            .payee_reference = "PAYEE-6222-0001",
                                            .evidence_reference = "退休证 2023-001"});
    const ledger::Command pay =
        MakeCommand("ICBC20230803000001", 20230803,
                    ledger::PayWithdrawal{.withdrawal_id = 1,
                                          .deposit_id = 1,
                                          .bank_code = "ICBC",
                                          .bank_reference = "ICBC20230803000001"});

    // Neither a bank nor an auditor applies.
    const auto by_bank = send(apply, kBankIcbcToken);
    CHECK(by_bank.status == 403);
    CHECK(ErrorCode(by_bank) == "forbidden_command_type");
    CHECK(send(apply, kAuditorToken).status == 403);
    CHECK(stack.head() == start);

    // counter-01 applies.
    const auto applied = send(apply, kOperatorToken);
    CHECK(result(applied, "status") == "accepted");
    const uint64_t applied_at = stack.head();
    REQUIRE(applied_at == start + 1);
    const std::vector<RecordSeen> application = RecordsAt(stack.log(), applied_at, applied_at);
    CHECK(application.at(0).type == "WithdrawalApplied");
    CHECK(application.at(0).actor == "counter-01");

    // The same token approves, or rejects, its own application: the ledger's four eyes refuse
    // both, because ledgerd made the token's principal the actor of each.
    const auto own_approval = send(
        MakeCommand("wd-1:approve-own", 20230802, ledger::ApproveWithdrawal{.withdrawal_id = 1}),
        kOperatorToken);
    CHECK(result(own_approval, "status") == "rejected");
    CHECK(result(own_approval, "code") == "reviewer_is_applicant");
    const auto own_rejection =
        send(MakeCommand("wd-1:reject-own", 20230802,
                         ledger::RejectWithdrawal{.withdrawal_id = 1, .reason = "self-review"}),
             kOperatorToken);
    CHECK(result(own_rejection, "code") == "reviewer_is_applicant");
    // Not approved yet: the bank cannot pay it.
    const auto too_early = send(pay, kBankIcbcToken);
    CHECK(result(too_early, "code") == "withdrawal_not_approved");
    CHECK(stack.head() == applied_at);

    // Another operator approves.
    const auto approved =
        send(MakeCommand("wd-1:approve", 20230802, ledger::ApproveWithdrawal{.withdrawal_id = 1}),
             kSecondOperatorToken);
    CHECK(result(approved, "status") == "accepted");
    const uint64_t approved_at = stack.head();
    REQUIRE(approved_at == applied_at + 1);
    const std::vector<RecordSeen> approval = RecordsAt(stack.log(), approved_at, approved_at);
    CHECK(approval.at(0).type == "WithdrawalApproved");
    CHECK(approval.at(0).actor == "counter-02");

    // Another bank may not report ICBC's payment; ICBC pays.
    const auto other_bank = send(pay, kBankCcbToken);
    CHECK(other_bank.status == 403);
    CHECK(ErrorCode(other_bank) == "bank_code_mismatch");
    CHECK(stack.head() == approved_at);
    const auto paid = send(pay, kBankIcbcToken);
    CHECK(result(paid, "status") == "accepted");
    CHECK(result(paid, "position") == std::to_string(approved_at + 1));
    REQUIRE(stack.head() == approved_at + 3);
    const std::vector<RecordSeen> payment =
        RecordsAt(stack.log(), approved_at + 1, approved_at + 3);
    REQUIRE(payment.size() == 3);
    CHECK(payment[0].type == "InterestToDateCredited");
    CHECK(payment[1].type == "WithdrawalPaid");
    CHECK(payment[2].type == "AccountClosed");
    for (const RecordSeen& record : payment) {
      CHECK(record.actor == "icbc-qingdao");
      CHECK(record.channel == "ICBC");
    }
    // 192 000 fen since 15 July, and the interest on them from then until 3 August: 19 days
    // (17 in July, 2 in August) of 192 000 fen = 3 648 000 fen·days × 1.5 % / 360 = 152 fen.
    CHECK(payment[0].amount_fen == 152);
    CHECK(payment[1].amount_fen == 192'000 + payment[0].amount_fen);
    // The bank's retry is a duplicate of the payment.
    const auto retry = send(pay, kBankIcbcToken);
    CHECK(result(retry, "status") == "duplicate");
    CHECK(result(retry, "position") == std::to_string(approved_at + 1));
    CHECK(stack.head() == approved_at + 3);

    // A second application, on another account: its applicant cannot reject it either; a
    // reviewer does.
    CHECK(
        result(send(MakeCommand("wd-2:apply", 20230801,
                                ledger::ApplyWithdrawal{.withdrawal_id = 2,
                                                        .account = AccountId{100002},
                                                        .reason = ledger::WithdrawalReason::kDeath,
                                                        .payee_reference = "HEIR-1",
                                                        .evidence_reference = "死亡证明 2023-17"}),
                    kSecondOperatorToken),
               "status") == "accepted");
    CHECK(result(send(MakeCommand(
                          "wd-2:reject", 20230802,
                          ledger::RejectWithdrawal{.withdrawal_id = 2, .reason = "继承公证缺失"}),
                      kSecondOperatorToken),
                 "code") == "reviewer_is_applicant");
    CHECK(result(send(MakeCommand(
                          "wd-2:reject", 20230802,
                          ledger::RejectWithdrawal{.withdrawal_id = 2, .reason = "继承公证缺失"}),
                      testing::kReviewerToken),
                 "status") == "accepted");
    const uint64_t end = stack.head();
    CHECK(RecordsAt(stack.log(), end, end).at(0).type == "WithdrawalRejected");

    // The read model: the account is closed with nothing left on it.
    const auto account =
        stack.Get(fmt::format("/v1/accounts/100001?min_position={}", end), kAuditorToken);
    REQUIRE_MESSAGE(account.status == 200, account.body);
    const json::value view = Parse(account.body);
    CHECK(view.at("status").as_string() == "closed");
    CHECK(view.at("balance_fen").as_int64() == 0);
    CHECK(view.at("withdrawn_fen").as_int64() == 192'152);
    CHECK(view.at("withdrawals_paid").as_int64() == 1);
    CHECK(view.at("withdrawal_in_flight").is_null());
    const json::object& closure = view.at("closure").as_object();
    CHECK(closure.at("closed_on").as_string() == "2023-08-03");
    CHECK(closure.at("reason").as_int64() == 1);  // AccountCloseReason ClosingWithdrawal
    CHECK(closure.at("withdrawal").as_int64() == 1);
    CHECK(closure.at("position").as_int64() == static_cast<int64_t>(approved_at + 3));
    // The fund's figures: one retirement (reason 03) paid, its interest to date credited.
    const auto fund = stack.Get(
        fmt::format("/v1/fund/summary?from=2023-07-01&to=2023-12-31&min_position={}", end),
        kAuditorToken);
    REQUIRE_MESSAGE(fund.status == 200, fund.body);
    const json::value summary = Parse(fund.body);
    CHECK(summary.at("withdrawals_fen").as_int64() == 192'152);
    CHECK(summary.at("withdrawals_count").as_int64() == 1);
    CHECK(summary.at("interest_to_date_fen").as_int64() == 152);
    CHECK(summary.at("closed_accounts").as_int64() == 1);
    const json::array& reasons = summary.at("withdrawals_by_reason").as_array();
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0].at("reason").as_int64() == 3);
    CHECK(reasons[0].at("count").as_int64() == 1);
    CHECK(reasons[0].at("amount_fen").as_int64() == 192'152);
    // Account 100002's application was rejected: nothing is in flight or held.
    const json::value other = Parse(
        stack.Get(fmt::format("/v1/accounts/100002?min_position={}", end), kAuditorToken).body);
    CHECK(other.at("withdrawal_in_flight").is_null());
    CHECK(other.at("held_fen").as_int64() == 0);
    CHECK(other.at("status").as_string() == "normal");
  }

  TEST_CASE("POST /v1/bank-files/remittance: accept-valid answers line by line") {
    LedgerdStack stack;
    stack.Apply(SampleEmployerSetup());
    const uint64_t head = stack.head();
    const std::string file =
        "employer,list,kind,period,account,base,employee_part,employer_part,bank_reference\n"
        "1,1,01,202307,100001,8000.00,960.00,960.00,RCPT202307\n"
        "1,1,01,202307,100002,6500.00,780.00,780.00,RCPT202307\n"
        "1,1,01,202307,100003,twelve,1440.00,1440.00,RCPT202307\n";
    const auto response =
        stack.Post("/v1/bank-files/remittance?effective_date=20230715&mode=accept-valid", file,
                   kBankIcbcToken, kCsvUtf8);
    CHECK(response.status == 200);
    const json::value body = Parse(response.body);
    const json::array& lines = body.at("lines").as_array();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].at("line").as_int64() == 2);
    CHECK(lines[0].at("status").as_string() == "accepted");
    CHECK(lines[1].at("status").as_string() == "accepted");
    CHECK(lines[2].at("line").as_int64() == 4);
    CHECK(lines[2].at("status").as_string() == "invalid");
    CHECK(lines[2].at("code").as_string() == "csv_invalid_amount");
    const json::array& lists = body.at("lists").as_array();
    REQUIRE(lists.size() == 1);
    CHECK(lists[0].at("status").as_string() == "completed");
    CHECK(lists[0].at("total_fen").as_int64() == 348'000);
    CHECK(lists[0].at("total_yuan").as_string() == "3480.00");
    CHECK(body.at("summary").at("invalid").as_int64() == 1);
    CHECK(body.at("summary").at("accepted").as_int64() == 2);
    CHECK(stack.head() == head + 4);  // open, two lines, complete
    CHECK(ActorAndChannel(stack.log(), head + 2).first == "icbc-qingdao");

    // Posting the same file again changes nothing: every line is a duplicate.
    const auto again = stack.Post("/v1/bank-files/remittance?effective_date=20230715", file,
                                  kBankIcbcToken, kCsvUtf8);
    const json::value again_body = Parse(again.body);
    CHECK(again_body.at("lines").as_array()[0].at("status").as_string() == "duplicate");
    CHECK(again_body.at("summary").at("duplicates").as_int64() == 2);
    CHECK(stack.head() == head + 4);
  }

  TEST_CASE("POST /v1/bank-files/remittance: a line the ledger rejects leaves its list open") {
    LedgerdStack stack;
    stack.Apply(SampleEmployerSetup());
    const uint64_t head = stack.head();
    const std::string file =
        "employer,list,period,account,base,employee_part,employer_part,bank_reference\n"
        "1,1,202307,100001,8000.00,960.00,960.00,RCPT202307\n"
        "1,1,202307,100002,6500.00,700.00,780.00,RCPT202307\n";  // 12 % of 6 500 is 780
    const auto response = stack.Post("/v1/bank-files/remittance?effective_date=20230715", file,
                                     kOperatorToken, kCsvUtf8);
    CHECK(response.status == 200);
    const json::value body = Parse(response.body);
    const json::array& lines = body.at("lines").as_array();
    CHECK(lines[0].at("status").as_string() == "accepted");
    CHECK(lines[1].at("status").as_string() == "rejected");
    CHECK(lines[1].at("code").as_string() == "contribution_amount_mismatch");
    const json::value& list = body.at("lists").as_array()[0];
    CHECK(list.at("status").as_string() == "open");
    CHECK(list.at("complete").at("code").as_string() == "remittance_incomplete");
    CHECK(stack.head() == head + 2);  // open and one line
  }

  TEST_CASE("POST /v1/bank-files/remittance: all-or-nothing writes nothing if a line is bad") {
    LedgerdStack stack;
    stack.Apply(SampleEmployerSetup());
    const uint64_t head = stack.head();
    const std::string file =
        "employer,list,period,account,base,employee_part,employer_part,bank_reference\n"
        "1,1,202307,100001,8000.00,960.00,960.00,RCPT202307\n"
        "1,1,202307,100002,6500.00,780.00\n";  // truncated
    const auto response =
        stack.Post("/v1/bank-files/remittance?effective_date=20230715&mode=all-or-nothing", file,
                   kBankIcbcToken, kCsvUtf8);
    CHECK(response.status == 422);
    const json::value body = Parse(response.body);
    const json::array& lines = body.at("lines").as_array();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].at("status").as_string() == "not_submitted");
    CHECK(lines[1].at("status").as_string() == "invalid");
    CHECK(lines[1].at("code").as_string() == "csv_field_count");
    CHECK(body.at("summary").at("not_submitted").as_int64() == 1);
    CHECK(stack.head() == head);
    // A well-formed file whose line the ledger rejects: the file is one all-or-none list,
    // so nothing of it is written.
    const std::string rejected_line =
        "employer,list,kind,period,account,base,employee_part,employer_part,bank_reference\n"
        "1,1,01,202307,100001,8000.00,960.00,960.00,ICBC20230715000001\n"
        "1,1,01,202307,100002,6500.00,790.00,780.00,ICBC20230715000001\n"  // 780.00 is due
        "1,1,01,202307,100003,12000.00,1440.00,1440.00,ICBC20230715000001\n";
    const auto aborted =
        stack.Post("/v1/bank-files/remittance?effective_date=20230715&mode=all-or-nothing",
                   rejected_line, kBankIcbcToken, kCsvUtf8);
    CHECK(aborted.status == 200);
    const json::value aborted_body = Parse(aborted.body);
    const json::array& aborted_lines = aborted_body.at("lines").as_array();
    REQUIRE(aborted_lines.size() == 3);
    CHECK(aborted_lines[1].at("code").as_string() == "contribution_amount_mismatch");
    CHECK(aborted_lines[0].at("code").as_string() == "atomic_list_aborted");
    CHECK(aborted_lines[2].at("code").as_string() == "atomic_list_aborted");
    CHECK(aborted_body.at("lists").as_array()[0].at("status").as_string() == "not_opened");
    CHECK(aborted_body.at("summary").at("accepted").as_int64() == 0);
    CHECK(stack.head() == head);
    // The corrected file: the aborted attempt left no open list behind.
    const std::string clean = ReadFile(SourcePath("docs/samples/remittance-utf8.csv"));
    const auto written =
        stack.Post("/v1/bank-files/remittance?effective_date=20230715&mode=all-or-nothing", clean,
                   kBankIcbcToken, kCsvUtf8);
    CHECK(written.status == 200);
    const json::value written_body = Parse(written.body);
    CHECK(written_body.at("mode").as_string() == "all-or-nothing");
    CHECK(written_body.at("summary").at("accepted").as_int64() == 3);
    CHECK(written_body.at("lists").as_array()[0].at("status").as_string() == "completed");
    CHECK(stack.head() == head + 5);  // open, three lines, complete
  }

  TEST_CASE("POST /v1/bank-files/remittance: the UTF-8 and GBK sample files, in sequence") {
    LedgerdStack stack;
    stack.Apply(SampleEmployerSetup());
    const uint64_t head = stack.head();
    const auto july = stack.Post("/v1/bank-files/remittance?effective_date=20230715",
                                 ReadFile(SourcePath("docs/samples/remittance-utf8.csv")),
                                 kBankIcbcToken, kCsvUtf8);
    CHECK(july.status == 200);
    CHECK(Parse(july.body).at("summary").at("accepted").as_int64() == 3);
    const std::string gbk = ReadFile(SourcePath("docs/samples/remittance-gbk.csv"));
    // Without its charset the GBK file is refused as invalid UTF-8.
    const auto misread = stack.Post("/v1/bank-files/remittance?effective_date=20230815", gbk,
                                    kBankIcbcToken, "text/csv");
    CHECK(misread.status == 400);
    CHECK(ErrorCode(misread) == "invalid_encoding");
    const auto august = stack.Post("/v1/bank-files/remittance?effective_date=20230815", gbk,
                                   kBankIcbcToken, kCsvGbk);
    CHECK(august.status == 200);
    const json::value body = Parse(august.body);
    CHECK(body.at("summary").at("accepted").as_int64() == 3);
    CHECK(body.at("lists").as_array()[0].at("status").as_string() == "completed");
    CHECK(stack.head() == head + 10);
  }

  TEST_CASE("POST /v1/bank-files/remittance: whole-file errors write nothing") {
    LedgerdStack stack;
    stack.Apply(SampleEmployerSetup());
    const uint64_t head = stack.head();
    const std::string sample = ReadFile(SourcePath("docs/samples/remittance-utf8.csv"));
    struct Case {
      const char* name;
      std::string target;
      std::string body;
      std::string content_type;
      unsigned status;
      const char* code;
    };
    const std::string ok_target = "/v1/bank-files/remittance?effective_date=20230715";
    const std::vector<Case> cases = {
        {"invalid GBK", ok_target, "employer\xFF\x20", std::string(kCsvGbk), 400,
         "invalid_encoding"},
        {"invalid UTF-8", ok_target, sample + "\xC3", std::string(kCsvUtf8), 400,
         "invalid_encoding"},
        {"unsupported charset", ok_target, sample, "text/csv; charset=latin1", 415,
         "unsupported_charset"},
        {"not CSV", ok_target, sample, "application/json", 415, "unsupported_media_type"},
        {"truncated inside quotes", ok_target, sample + "1,1,01,202307,100004,1,1,1,\"RC",
         std::string(kCsvUtf8), 400, "csv_truncated"},
        {"no lines", ok_target, sample.substr(0, sample.find('\n') + 1), std::string(kCsvUtf8), 400,
         "csv_empty"},
        {"unknown column", ok_target, "employer,colour\n1,red\n", std::string(kCsvUtf8), 400,
         "csv_header"},
        {"unknown kind", "/v1/bank-files/payroll?effective_date=20230715", sample,
         std::string(kCsvUtf8), 404, "unknown_bank_file_kind"},
        {"no effective date", "/v1/bank-files/remittance", sample, std::string(kCsvUtf8), 400,
         "invalid_query_parameter"},
        {"bad effective date", "/v1/bank-files/remittance?effective_date=2023-07-15", sample,
         std::string(kCsvUtf8), 400, "invalid_query_parameter"},
        {"bad mode", ok_target + "&mode=some", sample, std::string(kCsvUtf8), 400,
         "invalid_query_parameter"},
        {"no valid line", ok_target,
         "employer,list,period,account,base,employee_part,employer_part,bank_reference\n"
         "1,1,202307,x,1,1,1,R\n",
         std::string(kCsvUtf8), 422, ""},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      const auto response = stack.Post(c.target, c.body, kBankIcbcToken, c.content_type);
      CHECK(response.status == c.status);
      if (*c.code != '\0') CHECK(ErrorCode(response) == c.code);
      CHECK(stack.head() == head);
    }
  }

  TEST_CASE("GET /v1/log/head, /healthz and /metrics report the log and the ingest") {
    LedgerdStack stack;
    stack.Apply({MakeCommand("e1", 20230701, testing::SampleEmployer(EmployerId{1}))});
    CHECK(stack.Post("/v1/commands", ReceiptJson("m-1", "ICBC"), kOperatorToken).status == 200);
    const auto head = stack.Get("/v1/log/head", kAuditorToken);
    CHECK(head.status == 200);
    const events::HeadDigest digest = stack.log().head();
    CHECK(head.Header("x-ledger-position") == std::to_string(digest.position.value));
    const json::value body = Parse(head.body);
    CHECK(body.at("position").as_int64() == static_cast<int64_t>(digest.position.value));
    CHECK(body.at("digest").as_string() == events::FormatHeadDigest(digest));
    CHECK(body.at("hash_algorithm").as_string() == "sha256");

    const auto health = stack.Get("/healthz", "");
    CHECK(health.status == 200);
    CHECK(testing::JsonField(health.body, "status") == "ok");

    const auto metrics = stack.Get("/metrics", "");
    CHECK(metrics.Header("content-type").find("text/plain; version=0.0.4") == 0);
    for (const char* line :
         {"hpf_commands_total{outcome=\"accepted\"} 1", "hpf_http_responses_total{code=\"200\"}",
          "hpf_commit_latency_seconds_count 1", "hpf_submission_commands_bucket{le=\"1\"} 1",
          "# TYPE hpf_ingest_commands_per_second gauge", "hpf_log_records_total",
          "hpf_log_group_records_average", "hpf_sequencer_up 1",
          // the policy genesis, the employer and the receipt
          "hpf_log_head_position 3"}) {
      CHECK_MESSAGE(metrics.body.find(line) != std::string::npos, line);
    }
    CHECK(stack.Get("/metrics?x=1", "").status == 400);
  }

  TEST_CASE(
      "GET /v1/openapi.json is docs/openapi.json; every documented route answers as "
      "documented") {
    LedgerdStack stack;
    stack.Apply(SampleEmployerSetup());
    const std::string file = ReadFile(SourcePath("docs/openapi.json"));
    const auto served = stack.Get("/v1/openapi.json", "");
    CHECK(served.status == 200);
    CHECK(served.body == file);
    CHECK(served.body == OpenApiDocument());
    const json::value doc = Parse(file);
    CHECK(std::string(doc.at("openapi").as_string()).substr(0, 2) == "3.");
    const json::object& schemas = doc.at("components").at("schemas").as_object();
    std::set<std::string> documented;
    for (const auto& [path, item] : doc.at("paths").as_object()) {
      for (const auto& [method, operation] : item.as_object()) {
        std::string upper(method);
        for (char& c : upper) c = static_cast<char>(std::toupper(c));
        documented.insert(upper + " " + std::string(path));
        CAPTURE(upper);
        CAPTURE(std::string(path));
        // The request from the document's examples.
        std::string target(path);
        std::string query;
        if (const auto* parameters = operation.as_object().if_contains("parameters")) {
          for (const json::value& parameter : parameters->as_array()) {
            const std::string name(parameter.at("name").as_string());
            const auto* example = parameter.as_object().if_contains("example");
            const std::string value = example == nullptr     ? std::string()
                                      : example->is_string() ? std::string(example->as_string())
                                                             : json::serialize(*example);
            if (parameter.at("in").as_string() == "path") {
              REQUIRE_MESSAGE(example != nullptr, "path parameter without an example: ", name);
              target.replace(target.find("{" + name + "}"), name.size() + 2, value);
            } else if (parameter.at("required").as_bool()) {
              REQUIRE_MESSAGE(example != nullptr, "required parameter without example: ", name);
              query += (query.empty() ? "?" : "&") + name + "=" + value;
            }
          }
        }
        std::string body;
        std::string content_type;
        if (const auto* request_body = operation.as_object().if_contains("requestBody")) {
          const auto& [media, content] = *request_body->at("content").as_object().begin();
          content_type = std::string(media);
          const json::value& example = content.at("example");
          body = example.is_string() ? std::string(example.as_string()) : json::serialize(example);
        }
        const auto response = upper == "GET"
                                  ? stack.Get(target + query, kAdminToken)
                                  : stack.Post(target + query, body, kAdminToken, content_type);
        const json::object& responses = operation.at("responses").as_object();
        const std::string status = std::to_string(response.status);
        REQUIRE_MESSAGE(responses.contains(status), "undocumented status ", status, ": ",
                        response.body);
        CHECK(response.status < 300);  // the examples are meant to succeed
        const json::value& documented_response = responses.at(status);
        if (const auto* headers = documented_response.as_object().if_contains("headers")) {
          for (const auto& [name, header] : headers->as_object()) {
            std::string lower(name);
            for (char& c : lower) c = static_cast<char>(std::tolower(c));
            CHECK_MESSAGE(!response.Header(lower).empty(), "missing header ", lower);
          }
        }
        const auto* content = documented_response.as_object().if_contains("content");
        REQUIRE(content != nullptr);
        const auto& [media, media_object] = *content->as_object().begin();
        CHECK(response.Header("content-type").find(std::string(media)) == 0);
        if (media != "application/json") continue;
        // Its schema's required properties are all in the answer.
        const json::value* schema = &media_object.at("schema");
        if (const auto* ref = schema->as_object().if_contains("$ref")) {
          const std::string name(ref->as_string());
          schema = &schemas.at(name.substr(name.rfind('/') + 1));
        }
        const json::value answer = Parse(response.body);
        if (const auto* required = schema->as_object().if_contains("required")) {
          for (const json::value& key : required->as_array()) {
            CHECK_MESSAGE(answer.as_object().contains(key.as_string()), "answer lacks ",
                          key.as_string(), ": ", response.body);
          }
        }
      }
    }
    // Every route the server has is documented, and nothing more.
    const std::vector<std::string> routes = stack.routes();
    CHECK(documented == std::set<std::string>(routes.begin(), routes.end()));
    // Every command type of the decoder is in the document's schemas.
    for (const std::string_view type :
         {"RegisterEmployer", "ReverseRecord", "SettleInterest", "AllocateContribution"}) {
      CHECK(schemas.contains(type));
    }
    CHECK(schemas.at("Command").at("oneOf").as_array().size() ==
          std::variant_size_v<ledger::CommandBody>);
  }
}

}  // namespace
}  // namespace hpf::ledgerd
