// tests/ledgerd/ledgerd_process_test.cc — the ledgerd binary as a child process: SIGTERM while
// requests are in flight answers them all and leaves every answered command in the log; the
// demo city; and the exit codes of bad flags.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <poll.h>
#include <regex>
#include <signal.h>
#include <spawn.h>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/core.h>
#include <sys/wait.h>

#include "events/event_log.h"
#include "ledger/policy.h"
#include "tests/ledgerd/ledgerd_stack.h"
#include "tests/support/ledger_commands.h"
#include "tests/support/records.h"

extern char** environ;

namespace hpf::ledgerd {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// A ledgerd child process with its standard output (and error) on a pipe.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    const char* binary = std::getenv("HPF_LEDGERD");
    REQUIRE_MESSAGE(binary != nullptr, "HPF_LEDGERD names the ledgerd binary");
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    std::vector<std::string> all = {binary};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : all) argv.push_back(arg.data());
    argv.push_back(nullptr);
    REQUIRE(posix_spawn(&pid_, binary, &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    out_ = pipe_fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (out_ >= 0) close(out_);
  }

  // Reads output until `pattern` matches it (returns the match's first group) or the child
  // ends or `timeout` passes (returns empty).
  std::string ReadUntil(const std::regex& pattern, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::smatch match;
    while (!std::regex_search(output_, match, pattern)) {
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadSome(static_cast<int>(left.count()))) return {};
    }
    return match.size() > 1 ? match[1].str() : match[0].str();
  }

  // Waits for the exit; returns the exit status (128 + signal if killed).
  int Wait() {
    int status = 0;
    while (true) {
      while (ReadSome(100)) {
      }
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      REQUIRE(done >= 0);
      if (done == pid_) break;
    }
    pid_ = -1;
    while (ReadSome(0)) {  // what it wrote last
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  void Signal(int signal_number) const { REQUIRE(kill(pid_, signal_number) == 0); }
  const std::string& output() const { return output_; }

 private:
  bool ReadSome(int timeout_ms) {
    pollfd fd{.fd = out_, .events = POLLIN, .revents = 0};
    if (poll(&fd, 1, timeout_ms) <= 0) return false;
    char buffer[4096];
    const ssize_t got = read(out_, buffer, sizeof(buffer));
    if (got <= 0) return false;
    output_.append(buffer, static_cast<size_t>(got));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

const std::regex kServing(R"(serving http://127\.0\.0\.1:(\d+))");

uint16_t StartedPort(Child& child) {
  const std::string port = child.ReadUntil(kServing, milliseconds(30'000));
  REQUIRE_MESSAGE(!port.empty(), child.output());
  return static_cast<uint16_t>(std::stoi(port));
}

std::unique_ptr<HttpClient> Connect(uint16_t port) {
  auto client = HttpClient::Connect({.host = "127.0.0.1", .port = port});
  REQUIRE(client.has_value());
  return std::move(client).value();
}

std::string Bearer(std::string_view token) { return fmt::format("Bearer {}", token); }

TEST_SUITE("ledgerd") {
  TEST_CASE("ledgerd: SIGTERM answers every request in flight; all of it is in the log") {
    testing::TempDir dir;
    {
      std::ofstream tokens(dir.Sub("tokens"));
      tokens << testing::TestTokensFile();
    }
    Child child({"--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0", "--kafka", "none",
                 "--tokens", dir.Sub("tokens")});
    const uint16_t port = StartedPort(child);
    const std::string employer = testing::CommandsJson({testing::MakeCommand(
        "employer-1", 20230701, testing::SampleEmployer(ledger::EmployerId{1}))});
    const auto registered = Connect(port)->Request(
        "POST", "/v1/commands", employer,
        {{"Authorization", Bearer(testing::kAdminToken)}, {"Content-Type", "application/json"}});
    REQUIRE(registered.has_value());
    REQUIRE(registered->status == 200);

    constexpr int kClients = 4;
    constexpr int kPerClient = 5000;
    std::atomic<int> sent{0};
    std::vector<Result<HttpClientResponse>> answers(kClients, InternalError("none"));
    std::vector<std::chrono::steady_clock::time_point> answered(kClients);
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        std::vector<ledger::Command> commands;
        for (int i = 0; i < kPerClient; ++i) {
          commands.push_back(testing::MakeCommand(
              fmt::format("drain-{}-{}", c, i), 20230715,
              ledger::RecordBankReceipt{ledger::EmployerId{1}, "ICBC", fmt::format("D{}-{}", c, i),
                                        ledger::Fen{100}, 1}));
        }
        const std::string body = testing::CommandsJson(commands);
        auto client = Connect(port);
        // One request first, so the connection is surely accepted before the signal.
        const auto health = client->Request("GET", "/healthz");
        REQUIRE(health.has_value());
        const std::string head = fmt::format(
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n"
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            Bearer(testing::kBankIcbcToken), body.size());
        const bool ok = client->SendRaw(head).ok() && client->SendRaw(body).ok();
        ++sent;
        if (ok) answers[static_cast<size_t>(c)] = client->ReadResponse();
        answered[static_cast<size_t>(c)] = std::chrono::steady_clock::now();
      });
    }
    while (sent.load() < kClients) std::this_thread::sleep_for(milliseconds(1));
    const auto signalled = std::chrono::steady_clock::now();
    child.Signal(SIGTERM);
    for (std::thread& thread : clients) thread.join();
    // The signal came while requests were still being handled.
    CHECK(*std::max_element(answered.begin(), answered.end()) > signalled);
    CHECK(child.Wait() == 0);
    CHECK(child.output().find("SIGTERM received: draining") != std::string::npos);
    CHECK(child.output().find("stopped at") != std::string::npos);

    uint64_t highest = 0;
    for (int c = 0; c < kClients; ++c) {
      CAPTURE(c);
      REQUIRE_MESSAGE(answers[static_cast<size_t>(c)].has_value(),
                      answers[static_cast<size_t>(c)].status().ToString());
      const HttpClientResponse& response = *answers[static_cast<size_t>(c)];
      CHECK(response.status == 200);
      const json::value body = json::parse(response.body);
      CHECK(body.at("accepted").as_int64() == kPerClient);
      for (const json::value& result : body.at("results").as_array()) {
        highest =
            std::max<uint64_t>(highest, static_cast<uint64_t>(result.at("position").as_int64()));
      }
    }
    // Every acknowledged command is in the log after the exit.
    auto log = events::EventLog::Open(
        {.data_dir = dir.Sub("data"), .mode = events::OpenMode::kOpenExisting});
    REQUIRE(log.has_value());
    // The ledger's policy genesis, the setup command, and every client's commands.
    CHECK((*log)->head().position.value == 2 + kClients * kPerClient);
    CHECK(highest == (*log)->head().position.value);
  }

  TEST_CASE("ledgerd: --demo loads the city once into an empty store") {
    testing::TempDir dir;
    uint64_t position = 0;
    for (int run = 0; run < 2; ++run) {
      Child child(
          {"--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0", "--kafka", "none", "--demo"});
      const uint16_t port = StartedPort(child);
      CHECK((child.output().find("demo city loaded") != std::string::npos) == (run == 0));
      const auto head = Connect(port)->Request("GET", "/v1/log/head");
      REQUIRE(head.has_value());
      const uint64_t now = static_cast<uint64_t>(json::parse(head->body).at("position").as_int64());
      CHECK(now > 1000);
      if (run == 1) CHECK(now == position);
      position = now;
      child.Signal(SIGINT);
      CHECK(child.Wait() == 0);
    }
  }

  TEST_CASE("ledgerd: --config seeds a new store; for an existing one a different file is named") {
    testing::TempDir dir;
    {
      // The shipped policy with a higher base floor: not what the store will have recorded.
      ledger::Policy version = ledger::DefaultPolicy().versions().front();
      version.base_floor = ledger::Fen{220'000};
      std::ofstream file(dir.Sub("policy.json"));
      file << ledger::PolicyToJson(ledger::PolicyBook({version}));
    }
    for (const bool with_config : {false, true}) {
      std::vector<std::string> args = {"--data-dir",  dir.Sub("data"), "--listen",
                                       "127.0.0.1:0", "--kafka",       "none"};
      if (with_config) args.insert(args.end(), {"--config", dir.Sub("policy.json")});
      Child child(args);
      StartedPort(child);
      CHECK((child.output().find("differs from the policy the store recorded (version 1)") !=
             std::string::npos) == with_config);
      child.Signal(SIGTERM);
      CHECK(child.Wait() == 0);
    }
  }

  TEST_CASE("ledgerd: --kafka embedded (the default) publishes every committed record") {
    testing::TempDir dir;
    Child child({"--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0", "--demo"});
    const uint16_t port = StartedPort(child);
    const std::regex broker(R"(development Kafka broker .* at (127\.0\.0\.1:\d+), topic )"
                            R"(hpf\.ledger\.events)");
    CHECK_FALSE(child.ReadUntil(broker, milliseconds(1000)).empty());
    CHECK(child.output().find("kcat -b 127.0.0.1:") != std::string::npos);
    const auto head = Connect(port)->Request("GET", "/v1/log/head");
    REQUIRE(head.has_value());
    const std::string position = std::to_string(json::parse(head->body).at("position").as_int64());
    // The publisher catches up with the demo city: /metrics says so.
    std::string metrics;
    for (int i = 0; i < 300; ++i) {
      const auto answer = Connect(port)->Request("GET", "/metrics");
      REQUIRE(answer.has_value());
      metrics = answer->body;
      if (metrics.find("hpf_publisher_published_through " + position + "\n") != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    CHECK_MESSAGE(
        metrics.find("hpf_publisher_published_through " + position + "\n") != std::string::npos,
        metrics);
    CHECK(metrics.find("hpf_publisher_lag_records 0\n") != std::string::npos);
    CHECK(metrics.find("hpf_publisher_up 1\n") != std::string::npos);
    child.Signal(SIGTERM);
    CHECK(child.Wait() == 0);
  }

  TEST_CASE("ledgerd: bad flags exit 2; what cannot be opened exits 3") {
    testing::TempDir dir;
    struct Case {
      std::vector<std::string> args;
      int status;
      const char* says;
    };
    const std::vector<Case> cases = {
        {{"--listen", "nonsense"}, 2, "--listen must be HOST:PORT"},
        {{"--bogus", "1"}, 2, "unknown flag --bogus"},
        {{"--io-threads", "0"}, 2, "--io-threads"},
        {{"--kafka", ""}, 2, "must not be empty"},
        {{"--listen", "0.0.0.0:0"}, 2, "needs --tokens"},
        {{"--tokens", dir.Sub("missing")}, 3, "cannot open the tokens file"},
        {{"--config", dir.Sub("missing-policy")}, 3, "policy"},
    };
    for (const Case& c : cases) {
      std::vector<std::string> args = {"--data-dir", dir.Sub("data")};
      args.insert(args.end(), c.args.begin(), c.args.end());
      CAPTURE(c.says);
      Child child(args);
      CHECK(child.Wait() == c.status);
      CHECK_MESSAGE(child.output().find(c.says) != std::string::npos, child.output());
    }
  }
}

}  // namespace
}  // namespace hpf::ledgerd
