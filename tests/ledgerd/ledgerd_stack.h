// tests/ledgerd/ledgerd_stack.h — a real ledgerd in-process for the tests: an event log in a
// temp dir, the sequencer, the ingestor, the projections over the log, the API's routes (ledger
// and queries) and the HTTP server on a free loopback port; plus the tokens every test uses and
// helpers to talk to it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "ledger/commands.h"
#include "ledger/policy.h"
#include "ledger/sequencer.h"
#include "tests/support/records.h"
#include "tools/ledgerd/auth.h"
#include "tools/ledgerd/http_client.h"
#include "tools/ledgerd/http_server.h"
#include "tools/ledgerd/ingest.h"
#include "tools/ledgerd/metrics.h"
#include "tools/ledgerd/query_api.h"
#include "tools/ledgerd/router.h"

namespace hpf::testing {

// The principals of kTestTokens, by their secrets.
inline constexpr std::string_view kBankIcbcToken = "secret-icbc-0123456789";
inline constexpr std::string_view kBankCcbToken = "secret-ccb-0123456789";
inline constexpr std::string_view kOperatorToken = "secret-operator-0123456789";
inline constexpr std::string_view kReviewerToken = "secret-reviewer-0123456789";
inline constexpr std::string_view kAuditorToken = "secret-auditor-0123456789";
inline constexpr std::string_view kAdminToken = "secret-admin-0123456789";

// A tokens file naming the principals above: icbc-qingdao (bank ICBC), ccb-qingdao (bank
// CCB), counter-01 (operator), review-01 (reviewer), audit-01 (auditor), root (admin).
std::string TestTokensFile();

struct StackOptions {
  // Server limits and timeouts; host and port are set by the stack.
  ledgerd::HttpServerOptions server;
  // Empty: TestTokensFile(). "-": authentication disabled.
  std::string tokens;
};

class LedgerdStack {
 public:
  explicit LedgerdStack(StackOptions options = {});
  ~LedgerdStack();  // Stop()
  LedgerdStack(const LedgerdStack&) = delete;
  LedgerdStack& operator=(const LedgerdStack&) = delete;

  uint16_t port() const { return server_->port(); }
  events::EventLog& log() { return *log_; }
  ledgerd::HttpServer& server() { return *server_; }
  ledgerd::Metrics& metrics() { return metrics_; }
  projections::Runner& runner() { return projector_->runner(); }
  uint64_t head() const { return log_->head().position.value; }
  // The server's routes as "METHOD pattern".
  std::vector<std::string> routes() const { return router_->RouteNames(); }

  std::unique_ptr<ledgerd::HttpClient> Connect() const;
  // One request on a fresh connection, with "Authorization: Bearer token" unless empty.
  ledgerd::HttpClientResponse Post(std::string_view target, std::string_view body,
                                   std::string_view token,
                                   std::string_view content_type = "application/json") const;
  ledgerd::HttpClientResponse Get(std::string_view target, std::string_view token) const;

  // Submits straight to the sequencer (set-up of the ledger's state), requires every command
  // to be accepted and waits until every read model has applied them.
  void Apply(std::vector<ledger::Command> commands);
  // Waits (bounded) until every read model has applied the log's head.
  void WaitForProjections();

  // Graceful shutdown of the server, then the ingestor, the sequencer and the log. Idempotent.
  void Stop();

 private:
  TempDir dir_;
  ledger::PolicyBook policy_;
  std::unique_ptr<events::EventLog> log_;
  std::unique_ptr<ledger::Sequencer> sequencer_;
  std::unique_ptr<ledgerd::Projector> projector_;
  ledgerd::Metrics metrics_;
  std::unique_ptr<ledgerd::Ingestor> ingestor_;
  std::optional<ledgerd::Authenticator> authenticator_;
  std::unique_ptr<ledgerd::Router> router_;
  std::unique_ptr<ledgerd::HttpServer> server_;
  bool stopped_ = false;
};

// A command with its header filled: key, effective date.
ledger::Command MakeCommand(std::string key, uint32_t effective_date, ledger::CommandBody body);

// A JSON array of the commands (tools/ledger-sim/command_json.h).
std::string CommandsJson(const std::vector<ledger::Command>& commands);

// A top-level field of a JSON object: a string's text, anything else serialised; empty if the
// text is not an object or lacks the field.
std::string JsonField(std::string_view json, std::string_view key);

}  // namespace hpf::testing
