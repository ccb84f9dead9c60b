// tests/ledgerd/ledgerd_stack.cc
#include "tests/ledgerd/ledgerd_stack.h"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/core.h>

#include "tools/ledger-sim/command_json.h"
#include "tools/ledgerd/ledger_api.h"
#include "tools/ledgerd/openapi_document.h"

namespace hpf::testing {

std::string TestTokensFile() {
  using ledgerd::HashSecretHex;
  return fmt::format(
      "# test principals\n"
      "{} bank icbc-qingdao ICBC\n"
      "{} bank ccb-qingdao CCB\n"
      "{} operator counter-01\n"
      "{} reviewer review-01\n"
      "{} auditor audit-01\n"
      "{} admin root\n",
      HashSecretHex(kBankIcbcToken), HashSecretHex(kBankCcbToken), HashSecretHex(kOperatorToken),
      HashSecretHex(kReviewerToken), HashSecretHex(kAuditorToken), HashSecretHex(kAdminToken));
}

LedgerdStack::LedgerdStack(StackOptions options) : policy_(ledger::DefaultPolicy()) {
  auto log = events::EventLog::Open({.data_dir = dir_.Sub("data")});
  REQUIRE(log.has_value());
  log_ = std::move(log).value();
  auto sequencer = ledger::Sequencer::Open({.log = log_.get(), .policy = &policy_});
  REQUIRE(sequencer.has_value());
  sequencer_ = std::move(sequencer).value();
  auto projector =
      ledgerd::Projector::Start({.log = log_.get(),
                                 .dir = dir_.Sub("projections"),
                                 .personal_rate_table = policy_.personal_rate_table()});
  REQUIRE_MESSAGE(projector.has_value(), projector.error().ToString());
  projector_ = std::move(projector).value();
  ingestor_ = std::make_unique<ledgerd::Ingestor>(sequencer_.get(), &metrics_);
  if (options.tokens == "-") {
    authenticator_.emplace(ledgerd::Authenticator::Disabled());
  } else {
    auto parsed = ledgerd::Authenticator::FromText(options.tokens.empty() ? TestTokensFile()
                                                                          : options.tokens);
    REQUIRE(parsed.has_value());
    authenticator_.emplace(std::move(parsed).value());
  }
  router_ = std::make_unique<ledgerd::Router>(&*authenticator_);
  ledgerd::RegisterLedgerApi(*router_, {.log = log_.get(),
                                        .sequencer = sequencer_.get(),
                                        .ingestor = ingestor_.get(),
                                        .metrics = &metrics_,
                                        .openapi_json = ledgerd::OpenApiDocument(),
                                        .extra_metrics = [this] {
                                          return ledgerd::RenderProjectionMetrics(
                                              projector_->runner().stats(), log_->head().position);
                                        }});
  ledgerd::RegisterQueryApi(*router_, {.runner = &projector_->runner(), .today = {}});
  options.server.host = "127.0.0.1";
  options.server.port = 0;
  auto server = ledgerd::HttpServer::Start(options.server, router_.get(), &metrics_);
  REQUIRE(server.has_value());
  server_ = std::move(server).value();
}

LedgerdStack::~LedgerdStack() { Stop(); }

void LedgerdStack::Stop() {
  if (stopped_) return;
  stopped_ = true;
  server_->Shutdown(5000);
  ingestor_->Close();
  CHECK(sequencer_->Close().ok());
  CHECK(projector_->Stop().ok());
  CHECK(log_->Close().ok());
}

std::unique_ptr<ledgerd::HttpClient> LedgerdStack::Connect() const {
  auto client = ledgerd::HttpClient::Connect({.host = "127.0.0.1", .port = port()});
  REQUIRE(client.has_value());
  return std::move(client).value();
}

ledgerd::HttpClientResponse LedgerdStack::Post(std::string_view target, std::string_view body,
                                               std::string_view token,
                                               std::string_view content_type) const {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", fmt::format("Bearer {}", token));
  if (!content_type.empty()) headers.emplace_back("Content-Type", std::string(content_type));
  auto response = Connect()->Request("POST", target, body, headers);
  REQUIRE_MESSAGE(response.has_value(), response.status().ToString());
  return std::move(response).value();
}

ledgerd::HttpClientResponse LedgerdStack::Get(std::string_view target,
                                              std::string_view token) const {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", fmt::format("Bearer {}", token));
  auto response = Connect()->Request("GET", target, {}, headers);
  REQUIRE_MESSAGE(response.has_value(), response.status().ToString());
  return std::move(response).value();
}

void LedgerdStack::Apply(std::vector<ledger::Command> commands) {
  for (ledger::Command& command : commands) {
    if (command.header.actor.empty()) command.header.actor = "test-setup";
    if (command.header.channel.empty()) command.header.channel = "test";
  }
  const auto results = sequencer_->Submit(std::move(commands)).get();
  for (size_t i = 0; i < results.size(); ++i) {
    const auto* rejected = std::get_if<ledger::CommandRejected>(&results[i]);
    INFO("set-up command ", i, ": ",
         (rejected == nullptr ? std::string() : rejected->detail.message));
    REQUIRE(std::holds_alternative<ledger::CommandAccepted>(results[i]));
  }
  WaitForProjections();
}

void LedgerdStack::WaitForProjections() {
  const events::GlobalPosition head = log_->head().position;
  for (const auto& projection : projector_->runner().stats().projections) {
    auto view =
        projector_->runner().WaitForPosition(projection.name, head, std::chrono::seconds(10));
    REQUIRE_MESSAGE(view.has_value(), projection.name, ": ", view.error().ToString());
  }
}

ledger::Command MakeCommand(std::string key, uint32_t effective_date, ledger::CommandBody body) {
  return ledger::Command{.header = {.idempotency_key = std::move(key),
                                    .actor = {},
                                    .channel = {},
                                    .effective_date = effective_date},
                         .body = std::move(body)};
}

std::string CommandsJson(const std::vector<ledger::Command>& commands) {
  std::string out = "[";
  for (size_t i = 0; i < commands.size(); ++i) {
    if (i > 0) out += ',';
    out += sim::CommandToJson(commands[i]);
  }
  out += ']';
  return out;
}

std::string JsonField(std::string_view json, std::string_view key) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return {};
  const auto* field = value.get_object().if_contains(key);
  if (field == nullptr) return {};
  if (field->is_string()) return std::string(field->get_string());
  return boost::json::serialize(*field);
}

}  // namespace hpf::testing
