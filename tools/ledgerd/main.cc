// tools/ledgerd/main.cc — the service (DESIGN §4):
//
//   ledgerd --data-dir DIR --listen 127.0.0.1:8080 --kafka embedded|none|HOST:PORT[,…]
//           --topic hpf.ledger.events [--config FILE] [--tokens FILE] [--demo]
//           [--tls-cert FILE --tls-key FILE] [--io-threads N]
//
// Opens the event log and the sequencer, runs the projections over the log (every read model,
// store under DIR/projections), serves the HTTP API (tools/ledgerd/ledger_api.h, query_api.h)
// and on SIGTERM or SIGINT drains in this order: no new connections, requests already received
// are answered (their commands are decided and made durable), the sequencer closes, the server
// goes, the projections stop (after the last query they could answer), the publisher hands the
// broker what it can, and the log closes last — everything above reads it.
// --kafka embedded (the default) starts the development broker in this process and prints how
// to attach kcat; HOST:PORT publishes to a real cluster; none publishes nothing (the log is
// the truth either way: a publisher started later catches up from its cursor).
// Exit status: 0 after a clean stop, 1 if the sequencer, the projections or the publisher had
// failed, 2 for bad usage, 3 if the store, the projections' store, the policy, the tokens, the
// broker or the address cannot be opened.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <future>
#include <pthread.h>
#include <signal.h>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "events/dev_broker.h"
#include "events/event_log.h"
#include "events/kafka_publisher.h"
#include "ledger/policy.h"
#include "ledger/sequencer.h"
#include "tools/ledger-sim/city.h"
#include "tools/ledgerd/auth.h"
#include "tools/ledgerd/http_server.h"
#include "tools/ledgerd/ingest.h"
#include "tools/ledgerd/ledger_api.h"
#include "tools/ledgerd/limits.h"
#include "tools/ledgerd/metrics.h"
#include "tools/ledgerd/openapi_document.h"
#include "tools/ledgerd/query_api.h"
#include "tools/ledgerd/router.h"

namespace {

namespace ledgerd = hpf::ledgerd;
namespace ledger = hpf::ledger;
namespace events = hpf::events;

struct Flags {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8080";
  std::string kafka = "embedded";
  std::string topic = std::string(hpf::events::kDefaultTopic);
  std::string config;
  std::string tokens;
  std::string tls_cert;
  std::string tls_key;
  size_t io_threads = 2;
  bool demo = false;
};

int Usage(std::string_view problem) {
  if (!problem.empty()) fmt::print(stderr, "ledgerd: {}\n", problem);
  fmt::print(stderr,
             "usage: ledgerd --data-dir DIR --listen HOST:PORT --kafka embedded|none|HOST:PORT\n"
             "               --topic NAME [--config POLICY_FILE] [--tokens FILE] [--demo]\n"
             "               [--tls-cert PEM --tls-key PEM] [--io-threads 1..{}]\n"
             "--config: the policy a NEW store records as its first (docs/policy.md); a store\n"
             "          keeps the policy it recorded, changed only by a ChangePolicy command\n",
             ledgerd::kIoThreadsMax);
  return 2;
}

bool ParseFlags(int argc, char** argv, Flags* flags, std::string* problem) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--demo") {
      flags->demo = true;
      continue;
    }
    if (i + 1 >= argc) {
      *problem = fmt::format("{} needs a value", flag);
      return false;
    }
    const std::string value = argv[++i];
    if (flag == "--data-dir") {
      flags->data_dir = value;
    } else if (flag == "--listen") {
      flags->listen = value;
    } else if (flag == "--kafka") {
      flags->kafka = value;
    } else if (flag == "--topic") {
      flags->topic = value;
    } else if (flag == "--config") {
      flags->config = value;
    } else if (flag == "--tokens") {
      flags->tokens = value;
    } else if (flag == "--tls-cert") {
      flags->tls_cert = value;
    } else if (flag == "--tls-key") {
      flags->tls_key = value;
    } else if (flag == "--io-threads") {
      const auto [end, ec] =
          std::from_chars(value.data(), value.data() + value.size(), flags->io_threads);
      if (ec != std::errc() || end != value.data() + value.size() || flags->io_threads == 0 ||
          flags->io_threads > ledgerd::kIoThreadsMax) {
        *problem = fmt::format("--io-threads must be 1..{}", ledgerd::kIoThreadsMax);
        return false;
      }
    } else {
      *problem = fmt::format("unknown flag {}", flag);
      return false;
    }
  }
  if (flags->data_dir.empty()) {
    *problem = "--data-dir must not be empty";
    return false;
  }
  return true;
}

// "127.0.0.1:8080", "[::1]:8080" -> host and port.
bool SplitListen(std::string_view listen, std::string* host, uint16_t* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host_part = listen.substr(0, colon);
  if (host_part.size() >= 2 && host_part.front() == '[' && host_part.back() == ']') {
    host_part = host_part.substr(1, host_part.size() - 2);
  }
  const std::string_view port_part = listen.substr(colon + 1);
  const auto [end, ec] =
      std::from_chars(port_part.data(), port_part.data() + port_part.size(), *port);
  if (ec != std::errc() || end != port_part.data() + port_part.size() || port_part.empty()) {
    return false;
  }
  *host = std::string(host_part);
  return !host->empty();
}

bool IsLoopback(std::string_view host) { return host == "::1" || host.substr(0, 4) == "127."; }

// The publisher's figures for /metrics.
std::string PublisherMetrics(const events::KafkaPublisherStats& stats) {
  std::string out;
  const auto metric = [&out](std::string_view name, std::string_view type, std::string_view help,
                             uint64_t value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("hpf_publisher_lag_records", "gauge",
         "Committed records not yet delivered to Kafka (head - published_through).",
         stats.lag_records);
  metric("hpf_publisher_published_through", "gauge",
         "Every record at or below this position is delivered to Kafka.",
         stats.published_through.value);
  metric("hpf_publisher_delivered_total", "counter", "Successful delivery reports.",
         stats.delivered);
  metric("hpf_publisher_delivery_errors_total", "counter", "Failed delivery reports.",
         stats.delivery_errors);
  metric("hpf_publisher_restarts_total", "counter",
         "Publisher restarts from the stored cursor after a failure.", stats.restarts);
  metric("hpf_publisher_up", "gauge", "1 while a producer is up and the broker was checked.",
         stats.producing ? 1 : 0);
  return out;
}

// The demo city: a small ledger-sim city, unless the store already holds it (README's main
// job). Judged by its first command's key, not by an empty log: the ledger's own first record
// (the policy in force) is there before any command.
hpf::Status LoadDemoCity(ledger::Sequencer& sequencer, const events::EventLog& log) {
  const hpf::sim::CityOptions city{.seed = 20221001, .employers = 20, .accounts_per_employer = 10};
  std::vector<std::vector<ledger::Command>> batches(1);
  const auto counts = hpf::sim::GenerateCity(city, [&batches](ledger::Command&& command) {
    if (batches.back().size() == 1000) batches.emplace_back();
    // The city's own principals, marked as the demo's: a withdrawal's reviewer must not be
    // its applicant (four eyes), so they cannot all be one actor.
    command.header.actor = "demo:" + command.header.actor;
    command.header.channel = "demo";
    batches.back().push_back(std::move(command));
  });
  auto loaded = log.FindKey(batches.front().front().header.idempotency_key);
  if (!loaded.has_value()) return loaded.error();
  if (loaded->has_value()) return hpf::Status::Ok();
  std::vector<std::future<std::vector<ledger::CommandResult>>> answers;
  for (auto& batch : batches) answers.push_back(sequencer.Submit(std::move(batch)));
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  for (auto& answer : answers) {
    for (const auto& result : answer.get()) {
      if (const auto* failed = std::get_if<ledger::CommandFailed>(&result)) return failed->status;
      if (std::holds_alternative<ledger::CommandRejected>(result)) ++rejected;
      if (std::holds_alternative<ledger::CommandAccepted>(result)) ++accepted;
    }
  }
  fmt::print(
      "ledgerd: demo city loaded: {} employers, {} accounts, {} commands ({} accepted, "
      "{} rejected)\n",
      counts.employers, counts.accounts, counts.commands, accepted, rejected);
  return hpf::Status::Ok();
}

void PrintBanner(const Flags& flags, const std::string& url, bool auth_enabled,
                 const events::HeadDigest& head) {
  const std::string auth = auth_enabled ? " -H \"Authorization: Bearer $TOKEN\"" : "";
  const std::string insecure = flags.tls_cert.empty() ? "" : " --cacert " + flags.tls_cert;
  fmt::print(
      "ledgerd: serving {} (data {}, head {}, kafka {})\n"
      "try:\n"
      "  curl -s{} {}/healthz\n"
      "  curl -s{}{} {}/v1/log/head\n"
      "  curl -s{}{} -H 'Content-Type: application/json' {}/v1/commands \\\n"
      "       -d '[{{\"type\":\"RecordBankReceipt\",\"idempotency_key\":\"try-1\","
      "\"effective_date\":20230705,\"employer\":1,\"bank_code\":\"ICBC\",\n"
      "            \"bank_reference\":\"TRY0001\",\"amount_fen\":100000}}]'\n"
      "  curl -s{} {}/metrics | grep hpf_commands_total\n"
      "stop with Ctrl-C or SIGTERM (requests in flight are answered first)\n",
      url, flags.data_dir, events::FormatHeadDigest(head), flags.kafka, insecure, url, insecure,
      auth, url, insecure, auth, url, insecure, url);
  if (!auth_enabled) {
    fmt::print(
        "ledgerd: no --tokens: every request acts as \"anonymous\" (admin) — for "
        "development on loopback only\n");
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  std::string problem;
  if (!ParseFlags(argc, argv, &flags, &problem)) return Usage(problem);
  std::string host;
  uint16_t port = 0;
  if (!SplitListen(flags.listen, &host, &port)) {
    return Usage(
        fmt::format("--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not {}", flags.listen));
  }
  if (flags.kafka.empty() || flags.topic.empty()) {
    return Usage("--kafka and --topic must not be empty");
  }

  // Every thread started from here on inherits the blocked signals; main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto authenticator = flags.tokens.empty()
                           ? hpf::Result<ledgerd::Authenticator>(ledgerd::Authenticator::Disabled())
                           : ledgerd::Authenticator::FromFile(flags.tokens);
  if (!authenticator.has_value()) {
    fmt::print(stderr, "ledgerd: {}\n", authenticator.error().ToString());
    return 3;
  }
  if (!authenticator->enabled() && !IsLoopback(host)) {
    fmt::print(stderr,
               "ledgerd: listening on {} needs --tokens (without it every caller is an "
               "administrator)\n",
               host);
    return 2;
  }
  auto policy = flags.config.empty() ? hpf::Result<ledger::PolicyBook>(ledger::DefaultPolicy())
                                     : ledger::LoadPolicyFile(flags.config);
  if (!policy.has_value()) {
    fmt::print(stderr, "ledgerd: policy {}: {}\n", flags.config, policy.error().ToString());
    return 3;
  }
  auto log = events::EventLog::Open({.data_dir = flags.data_dir});
  if (!log.has_value()) {
    fmt::print(stderr, "ledgerd: opening {}: {}\n", flags.data_dir, log.error().ToString());
    return 3;
  }
  auto sequencer = ledger::Sequencer::Open({.log = log->get(), .policy = &*policy});
  if (!sequencer.has_value()) {
    fmt::print(stderr, "ledgerd: {}\n", sequencer.error().ToString());
    return 3;
  }
  // The store decides with the policy it recorded; a file given for an existing store that
  // says something else is ignored, which the operator should hear about.
  const std::shared_ptr<const ledger::PolicyBook> in_force = (*sequencer)->policy();
  if (!flags.config.empty() && in_force != nullptr && !(*in_force == *policy)) {
    fmt::print(stderr,
               "ledgerd: --config {} differs from the policy the store recorded (version {}); the "
               "store's is in force: send a ChangePolicy command to change it\n",
               flags.config, (*sequencer)->policy_version());
  }
  if (flags.demo) {
    if (auto status = LoadDemoCity(**sequencer, **log); !status.ok()) {
      fmt::print(stderr, "ledgerd: loading the demo city: {}\n", status.ToString());
      return 1;
    }
  }

  // Publication (DESIGN §1, principle 5): the publisher follows the committed log; with
  // --kafka embedded the development broker runs in this process.
  std::unique_ptr<events::DevBroker> broker;
  std::unique_ptr<events::KafkaPublisher> publisher;
  std::string bootstrap = flags.kafka;
  if (flags.kafka == "embedded") {
    auto started = events::DevBroker::Start({.topic = flags.topic});
    if (!started.has_value()) {
      fmt::print(stderr, "ledgerd: the development Kafka broker: {}\n", started.error().ToString());
      return 3;
    }
    broker = std::move(started).value();
    bootstrap = broker->bootstrap_servers();
  }
  if (flags.kafka != "none") {
    auto started = events::KafkaPublisher::Start(
        log->get(), {.bootstrap_servers = bootstrap, .topic = flags.topic});
    if (!started.has_value()) {
      fmt::print(stderr, "ledgerd: the Kafka publisher: {}\n", started.error().ToString());
      return started.error().code() == hpf::StatusCode::kInvalidArgument ? 2 : 3;
    }
    publisher = std::move(started).value();
  }

  // The read models (DESIGN §1): a runner follows the committed log in this process.
  auto projector = ledgerd::Projector::Start(
      {.log = log->get(),
       .dir = flags.data_dir + "/projections",
       .personal_rate_table =
           in_force != nullptr ? in_force->personal_rate_table() : policy->personal_rate_table()});
  if (!projector.has_value()) {
    fmt::print(stderr, "ledgerd: the projections: {}\n", projector.error().ToString());
    return 3;
  }

  ledgerd::Metrics metrics;
  ledgerd::Ingestor ingestor(sequencer->get(), &metrics);
  ledgerd::Router router(&*authenticator);
  ledgerd::RegisterLedgerApi(router, {.log = log->get(),
                                      .sequencer = sequencer->get(),
                                      .ingestor = &ingestor,
                                      .metrics = &metrics,
                                      .openapi_json = ledgerd::OpenApiDocument(),
                                      .extra_metrics = [&publisher, &projector, &log] {
                                        std::string text = ledgerd::RenderProjectionMetrics(
                                            (*projector)->runner().stats(),
                                            (*log)->head().position);
                                        if (publisher != nullptr)
                                          text += PublisherMetrics(publisher->stats());
                                        return text;
                                      }});
  ledgerd::RegisterQueryApi(router, {.runner = &(*projector)->runner(), .today = {}});
  auto server = ledgerd::HttpServer::Start(
      {.host = host,
       .port = port,
       .io_threads = flags.io_threads,
       .tls = {.certificate_file = flags.tls_cert, .private_key_file = flags.tls_key}},
      &router, &metrics);
  if (!server.has_value()) {
    fmt::print(stderr, "ledgerd: {}\n", server.error().ToString());
    return 3;
  }
  const std::string shown_host = host.find(':') == std::string::npos ? host : "[" + host + "]";
  if (broker != nullptr) {
    fmt::print(
        "ledgerd: development Kafka broker (in memory, this process only) at {}, topic {}\n"
        "  kcat -b {} -C -t {} -o beginning -f '%k %h\\n'\n",
        bootstrap, flags.topic, bootstrap, flags.topic);
  } else if (publisher != nullptr) {
    fmt::print("ledgerd: publishing to Kafka at {}, topic {}\n", bootstrap, flags.topic);
  }
  PrintBanner(
      flags,
      fmt::format("{}://{}:{}", (*server)->tls() ? "https" : "http", shown_host, (*server)->port()),
      authenticator->enabled(), (*log)->head());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  fmt::print("ledgerd: {} received: draining\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  const size_t forced = (*server)->Shutdown(ledgerd::kShutdownDrainTimeoutMs);
  ingestor.Close();  // every submitted request has its durable answer
  const hpf::Status sequencer_status = (*sequencer)->Close();
  server->reset();
  const hpf::Status projections_status = (*projector)->Stop();
  hpf::Status publisher_status;
  if (publisher != nullptr) {
    // Give the broker the last records before stopping; what it misses is re-sent from the
    // stored cursor next time (the log is the truth).
    publisher->WaitForPublished((*log)->head().position, std::chrono::milliseconds(5000));
    publisher_status = publisher->Stop();
    publisher.reset();
  }
  broker.reset();
  const events::HeadDigest head = (*log)->head();
  const hpf::Status log_status = (*log)->Close();
  fmt::print(
      "ledgerd: stopped at {}{}\n", events::FormatHeadDigest(head),
      forced > 0 ? fmt::format(" ({} connections closed at the drain deadline)", forced) : "");
  if (!sequencer_status.ok() || !log_status.ok() || !publisher_status.ok() ||
      !projections_status.ok()) {
    fmt::print(stderr, "ledgerd: sequencer {}, log {}, publisher {}, projections {}\n",
               sequencer_status.ToString(), log_status.ToString(), publisher_status.ToString(),
               projections_status.ToString());
    return 1;
  }
  return 0;
}
