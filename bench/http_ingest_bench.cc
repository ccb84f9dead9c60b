// bench/http_ingest_bench.cc — `ledger-bench http-ingest`: a synthetic city's commands posted
// to ledgerd over loopback HTTP/1.1 with keep-alive, 1 000 commands a request, against the
// same commands submitted straight to the sequencer in the same run (the in-process rate
// `ledger-bench ingest` measures) — their ratio is what the HTTP layer costs.
//
// Both sides get a fresh durable log and the same batches. A city's commands depend on each
// other only within an employer (registration, accounts, receipts, lists) — and the 30 June
// settlement on everything before it — so the batches are made per partition of employers,
// one keep-alive connection per partition keeps each partition in order, and the settlement
// follows in a second phase. The in-process side submits the same batches in the same
// partition-respecting order with as many in flight as there are connections.
#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "events/event_log.h"
#include "ledger/policy.h"
#include "ledger/sequencer.h"
#include "tools/ledger-sim/city.h"
#include "tools/ledger-sim/command_json.h"
#include "tools/ledgerd/auth.h"
#include "tools/ledgerd/http_client.h"
#include "tools/ledgerd/http_server.h"
#include "tools/ledgerd/ingest.h"
#include "tools/ledgerd/ledger_api.h"
#include "tools/ledgerd/metrics.h"
#include "tools/ledgerd/router.h"

namespace hpf::bench {

namespace {

constexpr std::string_view kToken = "bench-operator-secret";

struct Batch {
  std::vector<ledger::Command> commands;
  std::string json;  // the same commands as the request body
};

// Phase 1: one list of batches per connection (a partition of the employers), in order.
// Phase 2: the settlement's batches, independent of each other.
struct Workload {
  std::vector<std::vector<Batch>> partitions;
  std::vector<Batch> settlement;
  uint64_t commands = 0;
  uint64_t requests = 0;
};

// The employer a city command belongs to; nullopt for the settlement.
std::optional<uint64_t> EmployerOf(const ledger::Command& command,
                                   std::map<uint64_t, uint64_t>& employer_of_account) {
  return std::visit(
      [&employer_of_account](const auto& c) -> std::optional<uint64_t> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, ledger::OpenAccount>) {
          employer_of_account[c.account.value] = c.employer.value;
          return c.employer.value;
        } else if constexpr (std::is_same_v<C, ledger::UnsealAccount>) {
          return c.employer.value;
        } else if constexpr (requires { c.employer; }) {
          return c.employer.value;
        } else if constexpr (requires { c.account; }) {
          return employer_of_account.at(c.account.value);
        } else {
          return std::nullopt;  // SettleInterest (ReverseRecord is not in a city)
        }
      },
      command.body);
}

std::string BodyOf(const std::vector<ledger::Command>& commands) {
  std::string body = "[";
  for (size_t i = 0; i < commands.size(); ++i) {
    if (i > 0) body += ',';
    body += sim::CommandToJson(commands[i]);
  }
  body += ']';
  return body;
}

Workload MakeWorkload(const sim::CityOptions& city, uint64_t connections, uint64_t batch_size,
                      sim::CityCounts* counts) {
  std::vector<std::vector<ledger::Command>> by_partition(connections);
  std::vector<ledger::Command> settlement;
  std::map<uint64_t, uint64_t> employer_of_account;
  *counts = sim::GenerateCity(city, [&](ledger::Command&& command) {
    const auto employer = EmployerOf(command, employer_of_account);
    if (employer.has_value()) {
      by_partition[*employer % connections].push_back(std::move(command));
    } else {
      settlement.push_back(std::move(command));
    }
  });
  Workload workload;
  auto chunk = [&](std::vector<ledger::Command>& commands, std::vector<Batch>& out) {
    for (size_t first = 0; first < commands.size(); first += batch_size) {
      Batch batch;
      const size_t last = std::min<size_t>(commands.size(), first + batch_size);
      batch.commands.assign(std::make_move_iterator(commands.begin() + static_cast<long>(first)),
                            std::make_move_iterator(commands.begin() + static_cast<long>(last)));
      batch.json = BodyOf(batch.commands);
      workload.commands += batch.commands.size();
      ++workload.requests;
      out.push_back(std::move(batch));
    }
  };
  workload.partitions.resize(connections);
  for (uint64_t p = 0; p < connections; ++p) chunk(by_partition[p], workload.partitions[p]);
  chunk(settlement, workload.settlement);
  return workload;
}

struct Run {
  double commands_per_s = 0;
  double p99_ms = 0;
  uint64_t rejected = 0;
};

// The durable log and the sequencer both sides run on.
struct Ledger {
  std::string dir = MakeTempDir("hpf-bench-http");
  ledger::PolicyBook policy = ledger::DefaultPolicy();
  std::unique_ptr<events::EventLog> log;
  std::unique_ptr<ledger::Sequencer> sequencer;
  Ledger() {
    auto opened = events::EventLog::Open({.data_dir = dir, .mode = events::OpenMode::kCreateNew});
    HPF_ASSERT(opened.has_value());
    log = std::move(opened).value();
    auto started = ledger::Sequencer::Open({.log = log.get(), .policy = &policy});
    HPF_ASSERT(started.has_value());
    sequencer = std::move(started).value();
  }
  ~Ledger() {
    HPF_ASSERT(sequencer->Close().ok());
    HPF_ASSERT(log->Close().ok());
    RemoveDir(dir);
  }
};

uint64_t CountRejected(const std::vector<ledger::CommandResult>& results) {
  uint64_t rejected = 0;
  for (const auto& result : results) {
    HPF_ASSERT(!std::holds_alternative<ledger::CommandFailed>(result));
    if (std::holds_alternative<ledger::CommandRejected>(result)) ++rejected;
  }
  return rejected;
}

// The reference: the same batches straight into the sequencer, `inflight` at a time,
// round-robin over the partitions (each partition stays in order), then the settlement.
Run RunInProcess(const Workload& workload, uint64_t inflight) {
  Ledger ledger;
  Run run;
  std::vector<double> latencies_ms;
  struct Pending {
    std::future<std::vector<ledger::CommandResult>> results;
    std::chrono::steady_clock::time_point sent;
  };
  std::deque<Pending> pending;
  auto collect = [&] {
    run.rejected += CountRejected(pending.front().results.get());
    latencies_ms.push_back(SecondsSince(pending.front().sent) * 1000);
    pending.pop_front();
  };
  auto submit = [&](const Batch& batch) {
    pending.push_back({ledger.sequencer->Submit(batch.commands), std::chrono::steady_clock::now()});
    while (pending.size() > inflight) collect();
  };
  const auto start = std::chrono::steady_clock::now();
  for (size_t round = 0;; ++round) {
    bool any = false;
    for (const auto& partition : workload.partitions) {
      if (round < partition.size()) {
        submit(partition[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  while (!pending.empty()) collect();
  for (const Batch& batch : workload.settlement) submit(batch);
  while (!pending.empty()) collect();
  run.commands_per_s = static_cast<double>(workload.commands) / SecondsSince(start);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  run.p99_ms = latencies_ms[latencies_ms.size() * 99 / 100];
  return run;
}

// Reads "rejected":N from the summary at the end of a POST /v1/commands answer.
uint64_t RejectedIn(const std::string& body) {
  const size_t at = body.rfind("\"rejected\":");
  HPF_ASSERT(at != std::string::npos);
  return std::stoull(body.substr(at + 11, 20));
}

Run RunOverHttp(const Workload& workload, uint64_t connections, uint64_t io_threads) {
  Ledger ledger;
  ledgerd::Metrics metrics;
  ledgerd::Ingestor ingestor(ledger.sequencer.get(), &metrics);
  auto auth = ledgerd::Authenticator::FromText(
      fmt::format("{} operator bench\n", ledgerd::HashSecretHex(kToken)));
  HPF_ASSERT(auth.has_value());
  ledgerd::Router router(&*auth);
  ledgerd::RegisterLedgerApi(router, {.log = ledger.log.get(),
                                      .sequencer = ledger.sequencer.get(),
                                      .ingestor = &ingestor,
                                      .metrics = &metrics,
                                      .openapi_json = "{}",
                                      .extra_metrics = {}});
  auto server = ledgerd::HttpServer::Start(
      {.host = "127.0.0.1", .port = 0, .io_threads = io_threads}, &router, &metrics);
  HPF_ASSERT(server.has_value());
  const uint16_t port = (*server)->port();
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Authorization", fmt::format("Bearer {}", kToken)}, {"Content-Type", "application/json"}};

  Run run;
  std::mutex mutex;  // guards latencies_ms and run.rejected
  std::vector<double> latencies_ms;
  // Posts `batches` in order over one keep-alive connection.
  auto post_all = [&](const std::vector<const Batch*>& batches) {
    auto client = ledgerd::HttpClient::Connect({.host = "127.0.0.1", .port = port});
    HPF_ASSERT(client.has_value());
    std::vector<double> mine;
    uint64_t rejected = 0;
    for (const Batch* batch : batches) {
      const auto sent = std::chrono::steady_clock::now();
      auto response = (*client)->Request("POST", "/v1/commands", batch->json, headers);
      HPF_ASSERT(response.has_value());
      HPF_ASSERT(response->status == 200);
      mine.push_back(SecondsSince(sent) * 1000);
      rejected += RejectedIn(response->body);
    }
    std::lock_guard lock(mutex);
    latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    run.rejected += rejected;
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (const auto& partition : workload.partitions) {
    std::vector<const Batch*> batches;
    for (const Batch& batch : partition) batches.push_back(&batch);
    threads.emplace_back(post_all, batches);
  }
  for (std::thread& thread : threads) thread.join();
  threads.clear();
  for (uint64_t c = 0; c < connections; ++c) {
    std::vector<const Batch*> batches;
    for (size_t i = c; i < workload.settlement.size(); i += connections) {
      batches.push_back(&workload.settlement[i]);
    }
    if (!batches.empty()) threads.emplace_back(post_all, batches);
  }
  for (std::thread& thread : threads) thread.join();
  run.commands_per_s = static_cast<double>(workload.commands) / SecondsSince(start);
  (*server)->Shutdown(5000);
  ingestor.Close();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  run.p99_ms = latencies_ms[latencies_ms.size() * 99 / 100];
  return run;
}

}  // namespace

int RunHttpIngest(const Flags& flags) {
  const sim::CityOptions city{
      .seed = flags.GetU64("seed", 1),
      .employers = static_cast<uint32_t>(flags.GetU64("employers", 1000)),
      .accounts_per_employer = static_cast<uint32_t>(flags.GetU64("accounts-per-employer", 40)),
      // One bearer token posts everything, and four eyes need two principals: no closing
      // withdrawals in this mix.
      .closing_withdrawals_per_mille = 0};
  const uint64_t runs = flags.GetU64("runs", 3);
  const uint64_t batch_size = flags.GetU64("batch", 1000);
  const uint64_t connections = flags.GetU64("connections", 8);
  const uint64_t io_threads = flags.GetU64("io-threads", 2);
  if (runs == 0 || batch_size == 0 || batch_size > 10'000 || connections == 0 ||
      connections > 256 || io_threads == 0 || io_threads > 16 || city.employers == 0) {
    fmt::print(stderr,
               "http-ingest: --runs, --employers > 0; --batch 1..10000; --connections 1..256; "
               "--io-threads 1..16\n");
    return 2;
  }
  sim::CityCounts counts;
  const Workload workload = MakeWorkload(city, connections, batch_size, &counts);
  fmt::print(
      "http-ingest: {} commands of a city of {} employers and {} accounts in {} requests of up "
      "to {} commands over {} keep-alive connections ({} server I/O threads), {} runs\n",
      workload.commands, counts.employers, counts.accounts, workload.requests, batch_size,
      connections, io_threads, runs);
  fmt::print("machine: {}\n", MachineSummary());
  std::vector<double> http_rates, http_p99s, local_rates, ratios;
  uint64_t rejected = 0;
  for (uint64_t i = 0; i < runs; ++i) {
    // Alternate which side goes first, so neither always gets the cooler disk.
    Run http;
    Run local;
    if (i % 2 == 0) {
      http = RunOverHttp(workload, connections, io_threads);
      local = RunInProcess(workload, connections);
    } else {
      local = RunInProcess(workload, connections);
      http = RunOverHttp(workload, connections, io_threads);
    }
    http_rates.push_back(http.commands_per_s);
    http_p99s.push_back(http.p99_ms);
    local_rates.push_back(local.commands_per_s);
    ratios.push_back(http.commands_per_s / local.commands_per_s);
    rejected = std::max({rejected, http.rejected, local.rejected});
    fmt::print(
        "run {}: HTTP {:.0f} commands/s (p99 request {:.1f} ms, {} rejected); in-process "
        "{:.0f} commands/s (p99 submission {:.1f} ms, {} rejected); ratio {:.2f}\n",
        i + 1, http.commands_per_s, http.p99_ms, http.rejected, local.commands_per_s, local.p99_ms,
        local.rejected, http.commands_per_s / local.commands_per_s);
  }
  fmt::print(
      "{{\"bench\":\"http-ingest\",\"commands\":{},\"runs\":{},\"batch\":{},\"connections\":{},"
      "\"http_commands_per_s\":{:.0f},\"p99_request_ms\":{:.2f},\"rejected\":{},"
      "\"in_process_commands_per_s\":{:.0f},\"ratio\":{:.2f}}}\n",
      workload.commands, runs, batch_size, connections, Median(http_rates), Median(http_p99s),
      rejected, Median(local_rates), Median(ratios));
  return 0;
}

}  // namespace hpf::bench
