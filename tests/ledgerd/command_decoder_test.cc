// tests/ledgerd/command_decoder_test.cc — JSON → Command: the round trip with ledger-sim's
// CommandToJson over a generated city and every command type, and every class of bad input
// with its own code.
#include "tools/ledgerd/command_decoder.h"

#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "ledger/internal/command_hash.h"
#include "ledger/policy.h"
#include "tests/support/ledger_commands.h"
#include "tools/ledger-sim/city.h"
#include "tools/ledger-sim/command_json.h"
#include "tools/ledgerd/limits.h"

namespace hpf::ledgerd {
namespace {

using ledger::AccountId;
using ledger::EmployerId;
using ledger::Fen;
using ledger::RatePpm;

ledger::Command Make(ledger::CommandBody body, std::string key = "k-1") {
  return ledger::Command{.header = {.idempotency_key = std::move(key),
                                    .actor = {},
                                    .channel = {},
                                    .effective_date = 20230715},
                         .body = std::move(body)};
}

ledger::OpenAccount AccountWithDigest(AccountId account, EmployerId employer) {
  ledger::OpenAccount open = testing::SampleAccount(account, employer);
  for (size_t i = 0; i < open.identity_digest.size(); ++i) {
    open.identity_digest[i] = static_cast<uint8_t>(i * 7 + 1);
  }
  return open;
}

// One of each command type, every field set to a value other than its default.
std::vector<ledger::Command> OneOfEach() {
  const EmployerId e{42};
  const AccountId a{4200001};
  return {
      Make(testing::SampleEmployer(e)),
      Make(ledger::ChangeEmployerRates{e, RatePpm{100'000}, RatePpm{110'000}, 202308}),
      Make(ledger::GrantRateReduction{e, RatePpm{50'000}, RatePpm{60'000}, 202301, 202306,
                                      "JB-2023-7"}),
      Make(ledger::GrantDeferral{e, 202207, 202212, "HJ-2022-9"}),
      Make(ledger::SealEmployer{e, ledger::EmployerExitReason::kSuspendedBusiness, "FC-7"}),
      Make(ledger::CloseEmployer{e, ledger::EmployerExitReason::kDissolved, "XH-8"}),
      Make(ledger::ReopenEmployer{e, 202309}),
      Make(AccountWithDigest(a, e)),
      Make(ledger::ChangeAccountBase{a, Fen{912'345}, 202307}),
      Make(ledger::SealAccount{a, ledger::AccountSealReason::kEmployerSealed}),
      Make(ledger::UnsealAccount{a, EmployerId{43}, Fen{700'000}, 202310}),
      Make(ledger::FreezeAccount{a, "(2023)鲁0202执123号", "市南区人民法院"}),
      Make(ledger::UnfreezeAccount{a, "(2023)鲁0202执124号", "市南区人民法院"}),
      Make(ledger::CloseAccount{a}),
      Make(ledger::RecordBankReceipt{e, "ICBC", "ICBC20230715000001", Fen{1'920'000}, 7}),
      Make(ledger::OpenRemittance{9, e, ledger::RemittanceKind::kBackPayment, 202301, 202303, 12,
                                  Fen{5'760'000}, "HJ9"}),
      Make(ledger::AllocateContribution{9, e, a, 202302, Fen{800'000}, Fen{96'000}, Fen{96'000}}),
      Make(ledger::CompleteRemittance{9, e}),
      Make(ledger::SettleInterest{2022, {a, AccountId{4200002}, AccountId{0}}}),
      Make(ledger::ReverseRecord{.position = 1234,
                                 .reason = ledger::ReversalReason::kBankReturned,
                                 .note = "退票",
                                 .approval_reference = "FH-1",
                                 .target = nullptr}),
      Make(ledger::ChangePolicy{.document = ledger::PolicyToJson(ledger::DefaultPolicy()),
                                .effective_from = 20230801,
                                .summary = "缴存基数上限调整",
                                .approval_reference = "青公积金〔2023〕7号"}),
      Make(ledger::ApplyWithdrawal{.withdrawal_id = 77,
                                   .account = a,
                                   .reason = ledger::WithdrawalReason::kLeavingCity,
                                   .payee_reference = "PAYEE-6222020200001234",
                                   .evidence_reference = "出境定居证明 2023-118"}),
      Make(ledger::ApproveWithdrawal{.withdrawal_id = 77}),
      Make(ledger::RejectWithdrawal{.withdrawal_id = 78, .reason = "证明材料不全"}),
      Make(ledger::PayWithdrawal{.withdrawal_id = 77,
                                 .deposit_id = 3,
                                 .bank_code = "ICBC",
                                 .bank_reference = "ICBC20230720000009"}),
      Make(ledger::CancelWithdrawal{.withdrawal_id = 79, .reason = "本人撤回申请"}),
  };
}

void CheckRoundTrip(const ledger::Command& original) {
  const std::string json = sim::CommandToJson(original);
  auto decoded = DecodeCommand(json);
  const auto* error = std::get_if<InputError>(&decoded);
  REQUIRE_MESSAGE(error == nullptr, json, " -> ", (error == nullptr ? "" : error->message));
  const ledger::Command& command = std::get<ledger::Command>(decoded);
  CHECK(command.body.index() == original.body.index());
  CHECK(sim::CommandToJson(command) == json);
  // The canonical bytes cover every field of the body and the header's content: the same
  // bytes mean the same command for the ledger's idempotency check.
  CHECK(ledger::internal::CanonicalCommandBytes(command) ==
        ledger::internal::CanonicalCommandBytes(original));
  CHECK(command.header.idempotency_key == original.header.idempotency_key);
  CHECK(json.find(fmt::format("\"type\":\"{}\"", CommandTypeName(command.body))) !=
        std::string::npos);
}

InputError DecodeError(std::string_view body) {
  auto decoded = DecodeCommands(body);
  const auto* error = std::get_if<InputError>(&decoded);
  REQUIRE_MESSAGE(error != nullptr, "decoded without error: ", body);
  return *error;
}

// A valid receipt as JSON with one field replaced by `value` (raw JSON text).
std::string Receipt(std::string_view field, std::string_view value) {
  std::string json =
      sim::CommandToJson(Make(ledger::RecordBankReceipt{EmployerId{1}, "ICBC", "R1", Fen{100}, 1}));
  if (field.empty()) return "[" + json + "]";
  const std::string key = fmt::format("\"{}\":", field);
  const size_t at = json.find(key);
  if (at == std::string::npos) {
    json.insert(json.size() - 1, fmt::format(",{}{}", key, value));
  } else {
    const size_t start = at + key.size();
    size_t end = start;
    if (json[start] == '"') {
      end = json.find('"', start + 1) + 1;
    } else {
      end = json.find_first_of(",}", start);
    }
    json.replace(start, end - start, value);
  }
  return "[" + json + "]";
}

TEST_SUITE("ledgerd") {
  TEST_CASE("DecodeCommand: every command of a generated city round-trips with CommandToJson") {
    size_t count = 0;
    sim::GenerateCity({.seed = 7, .employers = 6, .accounts_per_employer = 5, .months = 12},
                      [&count](ledger::Command&& command) {
                        CheckRoundTrip(command);
                        ++count;
                      });
    CHECK(count > 300);  // a city of every kind of command, not a handful
  }

  TEST_CASE("DecodeCommand: a city's closing withdrawals round-trip with CommandToJson") {
    std::set<std::string> types;
    sim::GenerateCity({.seed = 11,
                       .employers = 4,
                       .accounts_per_employer = 10,
                       .months = 12,
                       .closing_withdrawals_per_mille = 100},
                      [&types](ledger::Command&& command) {
                        CheckRoundTrip(command);
                        types.insert(std::string(CommandTypeName(command.body)));
                      });
    for (const char* type : {"ApplyWithdrawal", "ApproveWithdrawal", "PayWithdrawal"}) {
      CHECK_MESSAGE(types.contains(type), type);
    }
  }

  TEST_CASE("DecodeCommand: one of every command type round-trips, in the variant's order") {
    const auto commands = OneOfEach();
    REQUIRE(commands.size() == std::variant_size_v<ledger::CommandBody>);
    for (size_t i = 0; i < commands.size(); ++i) {
      CHECK(commands[i].body.index() == i);
      CheckRoundTrip(commands[i]);
    }
  }

  TEST_CASE("DecodeCommands: a batch keeps order; channel is read, deposit_id defaults to 1") {
    auto decoded = DecodeCommands(
        R"([{"type":"SealAccount","idempotency_key":"a","effective_date":20230701,"account":5},
            {"type":"RecordBankReceipt","idempotency_key":"b","effective_date":20230702,
             "employer":1,"bank_code":"ICBC","bank_reference":"R","amount_fen":5,
             "channel":"ICBC"}])");
    REQUIRE(std::holds_alternative<std::vector<ledger::Command>>(decoded));
    const auto& commands = std::get<std::vector<ledger::Command>>(decoded);
    REQUIRE(commands.size() == 2);
    CHECK(std::get<ledger::SealAccount>(commands[0].body).account == AccountId{5});
    CHECK(commands[0].header.channel.empty());
    const auto& receipt = std::get<ledger::RecordBankReceipt>(commands[1].body);
    CHECK(receipt.deposit_id == 1);
    CHECK(receipt.amount == Fen{5});
    CHECK(commands[1].header.channel == "ICBC");
    CHECK(commands[1].header.effective_date == 20230702);
  }

  TEST_CASE("DecodeCommands: each class of bad input has its own code and names the place") {
    struct Case {
      const char* name;
      std::string body;
      const char* code;
      const char* mentions;  // the message names the command and field
    };
    const std::vector<Case> cases = {
        {"malformed JSON", R"([{"type":"SealAccount",)", "malformed_json", "byte"},
        {"trailing comma", R"([{"type":"SealAccount"},])", "malformed_json", "byte"},
        {"comment", "[/* hi */]", "malformed_json", "byte"},
        {"two values", "[] []", "malformed_json", "after the JSON value"},
        {"empty body", "", "malformed_json", "empty"},
        {"invalid UTF-8 in a string", Receipt("bank_reference", "\"R\xC3\x28\""), "invalid_utf8",
         "byte"},
        {"invalid UTF-8 outside strings", "[\xFF]", "invalid_utf8", "byte 1"},
        {"surrogate escape", Receipt("bank_reference", R"("\ud800")"), "malformed_json", "byte"},
        {"duplicate key", Receipt("amount_fen", "100,\"amount_fen\":200"), "duplicate_key",
         "amount_fen"},
        {"duplicate type", R"([{"type":"SealAccount","type":"SealAccount"}])", "duplicate_key",
         "type"},
        {"integer beyond uint64", Receipt("amount_fen", "99999999999999999999"), "number_overflow",
         "99999999999999999999"},
        {"fen beyond int64", Receipt("amount_fen", "9223372036854775808"), "number_overflow",
         "commands[0] (RecordBankReceipt): field \"amount_fen\""},
        {"negative beyond int64", Receipt("amount_fen", "-9223372036854775809"), "number_overflow",
         "-9223372036854775809"},
        {"zero amount", Receipt("amount_fen", "0"), "amount_must_be_positive", "amount_fen"},
        {"negative amount", Receipt("amount_fen", "-1"), "amount_must_be_positive", "amount_fen"},
        {"string for an amount", Receipt("amount_fen", "\"100\""), "wrong_type", "amount_fen"},
        {"fraction for an amount", Receipt("amount_fen", "1.5"), "wrong_type", "amount_fen"},
        {"1.0 for an id", Receipt("employer", "1.0"), "wrong_type", "employer"},
        {"bool for an id", Receipt("employer", "true"), "wrong_type", "employer"},
        {"null for a text", Receipt("bank_code", "null"), "wrong_type", "bank_code"},
        {"number for a text", Receipt("bank_reference", "7"), "wrong_type", "bank_reference"},
        {"negative id", Receipt("employer", "-3"), "value_out_of_range", "employer"},
        {"date beyond uint32", Receipt("effective_date", "4294967296"), "value_out_of_range",
         "effective_date"},
        {"unknown field", Receipt("memo", "\"x\""), "unknown_field", "memo"},
        {"actor is not the client's", Receipt("actor", "\"root\""), "unknown_field", "actor"},
        {"missing field", R"([{"type":"SealAccount","idempotency_key":"a",
                              "effective_date":20230701}])",
         "missing_field", "account"},
        {"missing key", R"([{"type":"SealAccount","effective_date":20230701,"account":1}])",
         "missing_field", "idempotency_key"},
        {"missing type", R"([{"account":1}])", "missing_type", "commands[0]"},
        {"type not a string", R"([{"type":7}])", "wrong_type", "type"},
        {"unknown type", R"([{"type":"TransferMoney"}])", "unknown_command_type", "TransferMoney"},
        {"not an array", R"({"type":"SealAccount"})", "not_an_array", "array"},
        {"empty array", "[]", "empty_batch", "no commands"},
        {"element not an object", "[1]", "not_an_object", "commands[0]"},
        {"too deep", "[[[[[[[[[[1]]]]]]]]]]", "json_too_deep", "deeper"},
        {"unknown remittance kind",
         R"([{"type":"OpenRemittance","idempotency_key":"a","effective_date":20230701,
              "remittance_id":1,"employer":1,"kind":"monthly","from_month":202307,
              "to_month":202307,"accounts_count":1,"total_fen":1,"list_reference":"L"}])",
         "invalid_value", "kind"},
        {"reason beyond a code's byte",
         R"([{"type":"ReverseRecord","idempotency_key":"a","effective_date":20230701,
              "position":1,"reason":256,"note":"","approval_reference":"A"}])",
         "value_out_of_range", "reason"},
        {"reversal without a reason",
         R"([{"type":"ReverseRecord","idempotency_key":"a","effective_date":20230701,
              "position":1,"note":"","approval_reference":"A"}])",
         "missing_field", "reason"},
        {"identity digest not hex",
         R"([{"type":"OpenAccount","idempotency_key":"a","effective_date":20230701,
              "account":1,"employer":1,"person_id":1,"contribution_base_fen":800000,
              "first_contribution_month":202307,"identity_digest":"abc"}])",
         "invalid_value", "identity_digest"},
        {"negative allocation side",
         R"([{"type":"AllocateContribution","idempotency_key":"a","effective_date":20230701,
              "remittance_id":1,"employer":1,"account":2,"month":202307,
              "contribution_base_fen":800000,"employer_amount_fen":-1,
              "employee_amount_fen":96000}])",
         "amount_must_not_be_negative", "employer_amount_fen"},
        {"zero contribution base",
         R"([{"type":"ChangeAccountBase","idempotency_key":"a","effective_date":20230701,
              "account":1,"contribution_base_fen":0,"from_month":202307}])",
         "amount_must_be_positive", "contribution_base_fen"},
        {"rate beyond uint32",
         R"([{"type":"ChangeEmployerRates","idempotency_key":"a","effective_date":20230701,
              "employer":1,"employer_rate_ppm":4294967296,"employee_rate_ppm":1,
              "from_month":202307}])",
         "value_out_of_range", "employer_rate_ppm"},
        {"interest year beyond int32",
         R"([{"type":"SettleInterest","idempotency_key":"a","effective_date":20230630,
              "interest_year":2147483648,"accounts":[1]}])",
         "value_out_of_range", "interest_year"},
        {"account list of strings",
         R"([{"type":"SettleInterest","idempotency_key":"a","effective_date":20230630,
              "interest_year":2022,"accounts":["1"]}])",
         "wrong_type", "accounts"},
        {"withdrawal without a reason",
         R"([{"type":"ApplyWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"account":1,"payee_reference":"P","evidence_reference":"E"}])",
         "missing_field", "commands[0] (ApplyWithdrawal): field \"reason\""},
        {"withdrawal reason as a string",
         R"([{"type":"ApplyWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"account":1,"reason":"03","payee_reference":"P",
              "evidence_reference":"E"}])",
         "wrong_type", "reason"},
        {"withdrawal reason beyond a code's byte",
         R"([{"type":"ApplyWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"account":1,"reason":259,"payee_reference":"P",
              "evidence_reference":"E"}])",
         "value_out_of_range", "reason"},
        {"withdrawal without evidence",
         R"([{"type":"ApplyWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"account":1,"reason":3,"payee_reference":"P"}])",
         "missing_field", "evidence_reference"},
        {"negative withdrawal id",
         R"([{"type":"ApproveWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":-1}])",
         "value_out_of_range", "withdrawal_id"},
        {"withdrawal id as a string",
         R"([{"type":"ApproveWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":"1"}])",
         "wrong_type", "withdrawal_id"},
        {"approval with a stray field",
         R"([{"type":"ApproveWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"reviewer":"review-01"}])",
         "unknown_field", "reviewer"},
        {"rejection's reason as a code",
         R"([{"type":"RejectWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"reason":3}])",
         "wrong_type", "commands[0] (RejectWithdrawal): field \"reason\""},
        {"cancellation without a reason",
         R"([{"type":"CancelWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1}])",
         "missing_field", "reason"},
        {"payment without a bank reference",
         R"([{"type":"PayWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"bank_code":"ICBC"}])",
         "missing_field", "bank_reference"},
        {"payment with an amount",
         R"([{"type":"PayWithdrawal","idempotency_key":"a","effective_date":20230701,
              "withdrawal_id":1,"bank_code":"ICBC","bank_reference":"R","amount_fen":100}])",
         "unknown_field", "amount_fen"},
        {"second command bad",
         "[" + sim::CommandToJson(Make(ledger::SealAccount{AccountId{1}})) +
             R"(,{"type":"SealAccount","idempotency_key":"b",
                                   "effective_date":20230701,"account":"x"}])",
         "wrong_type", "commands[1] (SealAccount): field \"account\""},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      const InputError error = DecodeError(c.body);
      CHECK(error.code == c.code);
      CHECK_MESSAGE(error.message.find(c.mentions) != std::string::npos, error.message);
    }
  }

  TEST_CASE("DecodeCommands: more than the limit of commands is refused whole") {
    std::string body = "[";
    for (size_t i = 0; i <= kCommandsPerRequestMax; ++i) {
      if (i > 0) body += ',';
      body += R"({"type":"SealAccount","idempotency_key":"a","effective_date":1,"account":1})";
    }
    body += ']';
    CHECK(DecodeError(body).code == "too_many_commands");
  }

  TEST_CASE("DecodeCommand: optional fields take the ledger's defaults; codes are the ledger's") {
    auto seal = DecodeCommand(
        R"({"type":"SealAccount","idempotency_key":"k","effective_date":20230701,"account":1})");
    REQUIRE(std::holds_alternative<ledger::Command>(seal));
    CHECK(std::get<ledger::SealAccount>(std::get<ledger::Command>(seal).body).reason ==
          ledger::AccountSealReason::kLeftEmployer);
    auto close = DecodeCommand(
        R"({"type":"CloseEmployer","idempotency_key":"k","effective_date":20230701,
            "employer":1,"reason":7})");
    REQUIRE(std::holds_alternative<ledger::Command>(close));
    const auto& closed = std::get<ledger::CloseEmployer>(std::get<ledger::Command>(close).body);
    CHECK(static_cast<int>(closed.reason) == 7);  // not a code: the ledger says code_invalid
    CHECK(closed.approval_reference.empty());
    auto open = DecodeCommand(R"({"type":"OpenAccount","idempotency_key":"a",
        "effective_date":20230701,"account":1,"employer":1,"person_id":1,
        "contribution_base_fen":800000,"first_contribution_month":202307})");
    REQUIRE(std::holds_alternative<ledger::Command>(open));
    CHECK(std::get<ledger::OpenAccount>(std::get<ledger::Command>(open).body).identity_digest ==
          std::array<uint8_t, 32>{});
  }

  TEST_CASE("DecodeCommand: withdrawals — reason codes are the ledger's, deposit_id defaults") {
    auto apply = DecodeCommand(R"({"type":"ApplyWithdrawal","idempotency_key":"w-1",
        "effective_date":20230718,"withdrawal_id":5,"account":100001,"reason":3,
        "payee_reference":"P-1","evidence_reference":"退休证 123"})");
    REQUIRE(std::holds_alternative<ledger::Command>(apply));
    const auto& applied = std::get<ledger::ApplyWithdrawal>(std::get<ledger::Command>(apply).body);
    CHECK(applied.withdrawal_id == 5);
    CHECK(applied.account == AccountId{100001});
    CHECK(applied.reason == ledger::WithdrawalReason::kRetirement);
    CHECK(applied.evidence_reference == "退休证 123");
    // A partial reason and a number that is no reason at all both decode: the ledger answers
    // partial_withdrawal_not_offered and code_invalid, per command.
    for (const int code : {7, 42, 0}) {
      CAPTURE(code);
      auto other = DecodeCommand(fmt::format(
          R"({{"type":"ApplyWithdrawal","idempotency_key":"w","effective_date":20230718,
              "withdrawal_id":5,"account":1,"reason":{},"payee_reference":"",
              "evidence_reference":""}})",
          code));
      REQUIRE(std::holds_alternative<ledger::Command>(other));
      CHECK(static_cast<int>(
                std::get<ledger::ApplyWithdrawal>(std::get<ledger::Command>(other).body).reason) ==
            code);
    }
    auto pay = DecodeCommand(R"({"type":"PayWithdrawal","idempotency_key":"ICBC-9",
        "effective_date":20230720,"withdrawal_id":5,"bank_code":"ICBC",
        "bank_reference":"ICBC-9","channel":"ICBC"})");
    REQUIRE(std::holds_alternative<ledger::Command>(pay));
    const ledger::Command& paid = std::get<ledger::Command>(pay);
    CHECK(std::get<ledger::PayWithdrawal>(paid.body).deposit_id == 1);
    CHECK(std::get<ledger::PayWithdrawal>(paid.body).bank_reference == "ICBC-9");
    CHECK(paid.header.channel == "ICBC");
    CHECK(paid.header.actor.empty());  // the token decides it
  }

  TEST_CASE("DecodeCommand: boundary values pass") {
    auto decoded = DecodeCommand(R"({"type":"RecordBankReceipt","idempotency_key":"k",
        "effective_date":4294967295,"employer":18446744073709551615,"bank_code":"",
        "bank_reference":"","amount_fen":9223372036854775807,"deposit_id":0})");
    REQUIRE(std::holds_alternative<ledger::Command>(decoded));
    const auto& command = std::get<ledger::Command>(decoded);
    const auto& receipt = std::get<ledger::RecordBankReceipt>(command.body);
    CHECK(receipt.employer.value == UINT64_MAX);
    CHECK(receipt.amount.value == INT64_MAX);
    CHECK(receipt.deposit_id == 0);
    CHECK(command.header.effective_date == UINT32_MAX);
  }
}

}  // namespace
}  // namespace hpf::ledgerd
