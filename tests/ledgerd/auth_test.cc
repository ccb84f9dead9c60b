// tests/ledgerd/auth_test.cc — the tokens file, bearer authentication, roles, and a bank's
// scope over the commands it posts.
#include "tools/ledgerd/auth.h"

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "tests/ledgerd/ledgerd_stack.h"
#include "tests/support/ledger_commands.h"
#include "tools/ledgerd/command_decoder.h"

namespace hpf::ledgerd {
namespace {

using testing::kAdminToken;
using testing::kAuditorToken;
using testing::kBankIcbcToken;
using testing::kOperatorToken;
using testing::kReviewerToken;

Authenticator TestAuthenticator() {
  auto parsed = Authenticator::FromText(testing::TestTokensFile());
  REQUIRE(parsed.has_value());
  return std::move(parsed).value();
}

Principal Authenticated(const Authenticator& auth, std::string_view header) {
  auto result = auth.Authenticate(header);
  const auto* error = std::get_if<InputError>(&result);
  REQUIRE_MESSAGE(error == nullptr, (error == nullptr ? "" : error->message));
  return std::get<Principal>(result);
}

std::string AuthError(const Authenticator& auth, std::string_view header) {
  auto result = auth.Authenticate(header);
  const auto* error = std::get_if<InputError>(&result);
  REQUIRE(error != nullptr);
  return error->code;
}

ledger::Command Receipt(std::string bank_code) {
  return testing::MakeCommand("r-1", 20230715,
                              ledger::RecordBankReceipt{ledger::EmployerId{1}, std::move(bank_code),
                                                        "REF1", ledger::Fen{100}, 1});
}

TEST_SUITE("ledgerd") {
  TEST_CASE("HashSecretHex: SHA-256 in lowercase hex, as sha256sum prints it") {
    CHECK(HashSecretHex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  TEST_CASE("Authenticator: a bearer token maps to its principal") {
    const Authenticator auth = TestAuthenticator();
    CHECK(auth.size() == 6);
    const Principal bank = Authenticated(auth, fmt::format("Bearer {}", kBankIcbcToken));
    CHECK(bank.name == "icbc-qingdao");
    CHECK(bank.role == Role::kBank);
    CHECK(bank.bank_code == "ICBC");
    const Principal auditor = Authenticated(auth, fmt::format("bearer  {} ", kAuditorToken));
    CHECK(auditor.name == "audit-01");
    CHECK(auditor.role == Role::kAuditor);
    CHECK(auditor.bank_code.empty());
  }

  TEST_CASE("Authenticator: missing, malformed and unknown tokens are told apart") {
    const Authenticator auth = TestAuthenticator();
    CHECK(AuthError(auth, "") == "missing_token");
    CHECK(AuthError(auth, fmt::format("Basic {}", kAdminToken)) == "malformed_authorization");
    CHECK(AuthError(auth, "Bearer ") == "malformed_authorization");
    CHECK(AuthError(auth, "Bearer " + std::string(600, 'x')) == "malformed_authorization");
    CHECK(AuthError(auth, "Bearer not-a-token") == "invalid_token");
    // One character off: the hash differs completely.
    std::string near(kAdminToken);
    near.back() = near.back() == '9' ? '8' : '9';
    CHECK(AuthError(auth, "Bearer " + near) == "invalid_token");
  }

  TEST_CASE("Authenticator: without tokens everyone is the anonymous administrator") {
    const Authenticator auth = Authenticator::Disabled();
    CHECK_FALSE(auth.enabled());
    const Principal anyone = Authenticated(auth, "");
    CHECK(anyone.name == "anonymous");
    CHECK(anyone.role == Role::kAdmin);
  }

  TEST_CASE("Authenticator: a malformed tokens file names the line and the problem") {
    const std::string hash = HashSecretHex("s1");
    const std::string other = HashSecretHex("s2");
    struct Case {
      std::string text;
      std::string mentions;
    };
    const std::vector<Case> cases = {
        {"abc operator x\n", "line 1: the first word must be the 64 hex digits"},
        {"# c\n\n" + hash.substr(0, 63) + "g operator x\n", "line 3: the first word"},
        {hash + " teller x\n", "unknown role \"teller\""},
        {hash + " bank icbc\n", "a bank needs its bank code"},
        {hash + " operator x ICBC\n", "only a bank has a bank code"},
        {hash + " operator\n", "expected \"SHA256_HEX ROLE NAME [BANK_CODE]\""},
        {hash + " admin a\n" + hash + " admin b\n", "line 2: the same secret hash"},
        {hash + " admin a\n" + other + " auditor a\n", "line 2: the name \"a\" is listed twice"},
        {hash + " admin " + std::string(129, 'n') + "\n", "printable ASCII"},
        {hash + " admin 张三\n", "printable ASCII"},
        {hash + " bank b " + std::string(33, 'C') + "\n", "a bank code is 1..32"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.text);
      auto parsed = Authenticator::FromText(c.text);
      REQUIRE_FALSE(parsed.has_value());
      CHECK(parsed.error().code() == StatusCode::kInvalidArgument);
      CHECK_MESSAGE(parsed.error().message().find(c.mentions) != std::string::npos,
                    parsed.error().message());
    }
    CHECK(Authenticator::FromFile("/nonexistent/tokens").error().code() == StatusCode::kNotFound);
  }

  TEST_CASE("RoleAllows: an auditor only reads; a bank only posts") {
    CHECK(RoleAllows(Role::kAuditor, Access::kRead));
    CHECK_FALSE(RoleAllows(Role::kAuditor, Access::kPostCommands));
    CHECK_FALSE(RoleAllows(Role::kAuditor, Access::kPostBankFiles));
    CHECK(RoleAllows(Role::kBank, Access::kPostCommands));
    CHECK(RoleAllows(Role::kBank, Access::kPostBankFiles));
    CHECK_FALSE(RoleAllows(Role::kBank, Access::kRead));
    for (const Role role : {Role::kOperator, Role::kReviewer, Role::kAdmin}) {
      CHECK(RoleAllows(role, Access::kRead));
      CHECK(RoleAllows(role, Access::kPostCommands));
      CHECK(RoleAllows(role, Access::kPostBankFiles));
    }
    CHECK_FALSE(RoleAllows(Role::kNone, Access::kRead));
    CHECK(RoleAllows(Role::kNone, Access::kPublic));
  }

  TEST_CASE("AuthorizeCommand: the principal becomes the actor; a bank's code the channel") {
    const Authenticator auth = TestAuthenticator();
    const Principal bank = Authenticated(auth, fmt::format("Bearer {}", kBankIcbcToken));
    ledger::Command receipt = Receipt("ICBC");
    receipt.header.actor = "spoofed";
    CHECK_FALSE(AuthorizeCommand(bank, receipt).has_value());
    CHECK(receipt.header.actor == "icbc-qingdao");
    CHECK(receipt.header.channel == "ICBC");

    const Principal clerk = Authenticated(auth, fmt::format("Bearer {}", kOperatorToken));
    ledger::Command seal = testing::MakeCommand("s", 20230701, ledger::SealAccount{{1}});
    CHECK_FALSE(AuthorizeCommand(clerk, seal).has_value());
    CHECK(seal.header.actor == "counter-01");
    CHECK(seal.header.channel == "counter");
    ledger::Command online = testing::MakeCommand("o", 20230701, ledger::SealAccount{{1}});
    online.header.channel = "online";
    CHECK_FALSE(AuthorizeCommand(clerk, online).has_value());
    CHECK(online.header.channel == "online");
  }

  TEST_CASE("AuthorizeCommand: only an admin records a policy change") {
    const Authenticator auth = TestAuthenticator();
    const ledger::Command change =
        testing::MakeCommand("p", 20230620,
                             ledger::ChangePolicy{.document = "{}",
                                                  .effective_from = 20230701,
                                                  .summary = "s",
                                                  .approval_reference = "r"});
    for (const std::string_view token : {kOperatorToken, kReviewerToken, kBankIcbcToken}) {
      CAPTURE(token);
      ledger::Command attempt = change;
      const auto error =
          AuthorizeCommand(Authenticated(auth, fmt::format("Bearer {}", token)), attempt);
      REQUIRE(error.has_value());
      CHECK(error->code == "forbidden_command_type");
      CHECK(error->message.find("ChangePolicy") != std::string::npos);
    }
    ledger::Command by_admin = change;
    CHECK_FALSE(
        AuthorizeCommand(Authenticated(auth, fmt::format("Bearer {}", kAdminToken)), by_admin)
            .has_value());
  }

  TEST_CASE("AuthorizeCommand: a bank posts only money it moved, under its own code") {
    const Authenticator auth = TestAuthenticator();
    const Principal bank = Authenticated(auth, fmt::format("Bearer {}", kBankIcbcToken));
    ledger::Command other_bank = Receipt("CCB");
    auto error = AuthorizeCommand(bank, other_bank);
    REQUIRE(error.has_value());
    CHECK(error->code == "bank_code_mismatch");
    CHECK(error->message.find("\"CCB\"") != std::string::npos);

    ledger::Command other_channel = Receipt("ICBC");
    other_channel.header.channel = "CCB";
    error = AuthorizeCommand(bank, other_channel);
    REQUIRE(error.has_value());
    CHECK(error->code == "bank_code_mismatch");

    ledger::Command open_account = testing::MakeCommand(
        "a", 20230701, testing::SampleAccount(ledger::AccountId{7}, ledger::EmployerId{1}));
    error = AuthorizeCommand(bank, open_account);
    REQUIRE(error.has_value());
    CHECK(error->code == "forbidden_command_type");
    CHECK(error->message.find("OpenAccount") != std::string::npos);

    for (ledger::CommandBody body : {ledger::CommandBody{ledger::OpenRemittance{}},
                                     ledger::CommandBody{ledger::AllocateContribution{}},
                                     ledger::CommandBody{ledger::CompleteRemittance{}}}) {
      ledger::Command command = testing::MakeCommand("x", 20230701, std::move(body));
      CHECK_FALSE(AuthorizeCommand(bank, command).has_value());
      CHECK(command.header.channel == "ICBC");
    }
  }

  TEST_CASE("AuthorizeCommand: staff apply for and decide withdrawals; the paying bank pays") {
    const Authenticator auth = TestAuthenticator();
    const std::vector<ledger::CommandBody> staff_bodies = {
        ledger::ApplyWithdrawal{.withdrawal_id = 1,
                                .account = ledger::AccountId{7},
                                .reason = ledger::WithdrawalReason::kRetirement,
                                .payee_reference = "P",
                                .evidence_reference = "E"},
        ledger::ApproveWithdrawal{.withdrawal_id = 1},
        ledger::RejectWithdrawal{.withdrawal_id = 1, .reason = "r"},
        ledger::CancelWithdrawal{.withdrawal_id = 1, .reason = "r"}};
    const ledger::PayWithdrawal icbc_payment{
        .withdrawal_id = 1, .deposit_id = 1, .bank_code = "ICBC", .bank_reference = "ICBC-1"};
    // Staff post every one, as themselves: the actor is what the ledger's four eyes compare.
    for (const std::string_view token : {kOperatorToken, kReviewerToken, kAdminToken}) {
      const Principal staff = Authenticated(auth, fmt::format("Bearer {}", token));
      CAPTURE(staff.name);
      std::vector<ledger::CommandBody> bodies = staff_bodies;
      bodies.push_back(icbc_payment);
      for (ledger::CommandBody& body : bodies) {
        ledger::Command command = testing::MakeCommand("w", 20230718, std::move(body));
        command.header.actor = "someone-else";
        CHECK_FALSE(AuthorizeCommand(staff, command).has_value());
        CHECK(command.header.actor == staff.name);
      }
    }
    // A bank neither applies nor decides.
    const Principal bank = Authenticated(auth, fmt::format("Bearer {}", kBankIcbcToken));
    for (const ledger::CommandBody& body : staff_bodies) {
      ledger::Command command = testing::MakeCommand("w", 20230718, body);
      const auto error = AuthorizeCommand(bank, command);
      REQUIRE(error.has_value());
      CHECK(error->code == "forbidden_command_type");
      CHECK(error->message.find(CommandTypeName(body)) != std::string::npos);
    }
    // It reports the payments it made, under its own code only.
    ledger::Command own = testing::MakeCommand("ICBC-1", 20230720, icbc_payment);
    CHECK_FALSE(AuthorizeCommand(bank, own).has_value());
    CHECK(own.header.actor == "icbc-qingdao");
    CHECK(own.header.channel == "ICBC");
    ledger::PayWithdrawal ccb_payment = icbc_payment;
    ccb_payment.bank_code = "CCB";
    ledger::Command other = testing::MakeCommand("CCB-1", 20230720, ccb_payment);
    const auto error = AuthorizeCommand(bank, other);
    REQUIRE(error.has_value());
    CHECK(error->code == "bank_code_mismatch");
    CHECK(error->message.find("\"CCB\"") != std::string::npos);
  }
}

}  // namespace
}  // namespace hpf::ledgerd
