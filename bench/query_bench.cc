// bench/query_bench.cc — `ledger-bench query`: account lookups (GET /v1/accounts/{id}) against
// ledgerd's query API over keep-alive loopback connections, with a synthetic city loaded and
// the projections caught up. Two loads: a fixed offered rate (--rate, default 20 000 req/s,
// open loop: each connection sends on a schedule and latency counts from the scheduled time,
// so a stall is not hidden by the client waiting) and the maximum rate (closed loop). The
// in-run baseline: the same lookups as direct read_models::GetAccount calls on a ReadView, no
// HTTP — the ratio is what the server adds.
#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "events/event_log.h"
#include "ledger/policy.h"
#include "ledger/sequencer.h"
#include "projections/read_models/accounts.h"
#include "tools/ledger-sim/city.h"
#include "tools/ledgerd/auth.h"
#include "tools/ledgerd/http_client.h"
#include "tools/ledgerd/http_server.h"
#include "tools/ledgerd/metrics.h"
#include "tools/ledgerd/query_api.h"
#include "tools/ledgerd/router.h"

namespace hpf::bench {

namespace {

namespace rm = projections::read_models;
using Clock = std::chrono::steady_clock;

struct LoadResult {
  double requests_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t errors = 0;
};

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1,
                                static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

// `connections` threads, each with its own keep-alive client, for `seconds`. rate 0: as fast
// as answers come; otherwise each sends at rate/connections on a fixed schedule.
LoadResult RunLoad(uint16_t port, const std::vector<uint64_t>& ids, size_t connections, double rate,
                   double seconds) {
  std::vector<std::vector<double>> latencies(connections);
  std::atomic<uint64_t> errors{0};
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(50);
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (size_t c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      auto client = ledgerd::HttpClient::Connect({.host = "127.0.0.1", .port = port});
      if (!client.has_value()) {
        errors.fetch_add(1);
        return;
      }
      std::mt19937_64 random(c + 1);
      const auto interval =
          rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(static_cast<double>(connections) / rate))
                   : Clock::duration::zero();
      Clock::time_point scheduled =
          start + interval * static_cast<int64_t>(c) / static_cast<int64_t>(connections);
      std::this_thread::sleep_until(start);
      latencies[c].reserve(static_cast<size_t>(seconds * (rate > 0 ? rate : 50'000.0)) /
                           connections);
      while (true) {
        Clock::time_point sent = Clock::now();
        if (rate > 0) {
          if (scheduled >= end) break;
          std::this_thread::sleep_until(scheduled);
          sent = scheduled;
          scheduled += interval;
        } else if (sent >= end) {
          break;
        }
        const uint64_t id = ids[random() % ids.size()];
        auto response = (*client)->Request("GET", fmt::format("/v1/accounts/{}", id), {}, {});
        if (!response.has_value() || response->status != 200) {
          errors.fetch_add(1);
          continue;
        }
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed = SecondsSince(start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  LoadResult result;
  result.requests_per_s = static_cast<double>(all.size()) / elapsed;
  result.p50_ms = Percentile(all, 0.50);
  result.p99_ms = Percentile(all, 0.99);
  result.errors = errors.load();
  return result;
}

}  // namespace

int RunQuery(const Flags& flags) {
  const uint32_t employers = static_cast<uint32_t>(flags.GetU64("employers", 200));
  const uint32_t per_employer = static_cast<uint32_t>(flags.GetU64("accounts-per-employer", 40));
  const size_t connections = flags.GetU64("connections", 8);
  const double rate = static_cast<double>(flags.GetU64("rate", 20'000));
  const double seconds = static_cast<double>(flags.GetU64("seconds", 5));
  const size_t io_threads = flags.GetU64("io-threads", 2);
  const uint64_t runs = flags.GetU64("runs", 3);

  const std::string dir = MakeTempDir("hpf-query-bench");
  auto log = events::EventLog::Open({.data_dir = dir + "/data"});
  if (!log.has_value()) {
    fmt::print(stderr, "query: {}\n", log.error().ToString());
    return 1;
  }
  const ledger::PolicyBook policy = ledger::DefaultPolicy();
  auto sequencer = ledger::Sequencer::Open({.log = log->get(), .policy = &policy});
  if (!sequencer.has_value()) {
    fmt::print(stderr, "query: {}\n", sequencer.error().ToString());
    return 1;
  }
  // The city, loaded through the sequencer in 1 000-command submissions.
  std::vector<std::vector<ledger::Command>> batches(1);
  const auto counts = sim::GenerateCity(
      {.seed = 20221001, .employers = employers, .accounts_per_employer = per_employer},
      [&batches](ledger::Command&& command) {
        if (batches.back().size() == 1000) batches.emplace_back();
        command.header.actor = "bench:" + command.header.actor;  // four eyes: keep two
        command.header.channel = "bench";
        batches.back().push_back(std::move(command));
      });
  for (auto& batch : batches) (void)(*sequencer)->Submit(std::move(batch)).get();
  auto projector = ledgerd::Projector::Start({.log = log->get(),
                                              .dir = dir + "/projections",
                                              .personal_rate_table = policy.personal_rate_table()});
  if (!projector.has_value()) {
    fmt::print(stderr, "query: {}\n", projector.error().ToString());
    return 1;
  }
  const events::GlobalPosition head = (*log)->head().position;
  auto view = (*projector)->runner().WaitForPosition("accounts", head, std::chrono::seconds(60));
  if (!view.has_value()) {
    fmt::print(stderr, "query: {}\n", view.error().ToString());
    return 1;
  }
  std::vector<uint64_t> ids;
  rm::PageRequest page{.after = {}, .limit = rm::kPageItemsMax};
  std::string after;
  while (true) {
    page.after = after;
    auto listed = rm::ListAccounts(**view, {}, page);
    if (!listed.has_value()) return 1;
    for (const auto& account : listed->items) ids.push_back(account.account_id);
    if (listed->next.empty()) break;
    after = listed->next;
  }

  auto authenticator = ledgerd::Authenticator::Disabled();
  ledgerd::Router router(&authenticator);
  ledgerd::Metrics metrics;
  ledgerd::RegisterQueryApi(router, {.runner = &(*projector)->runner(), .today = {}});
  auto server = ledgerd::HttpServer::Start(
      {.host = "127.0.0.1", .port = 0, .io_threads = io_threads}, &router, &metrics);
  if (!server.has_value()) {
    fmt::print(stderr, "query: {}\n", server.error().ToString());
    return 1;
  }

  std::vector<double> direct_rates, fixed_rates, fixed_p50, fixed_p99, max_rates, max_p50, max_p99;
  uint64_t errors = 0;
  for (uint64_t run = 0; run < runs; ++run) {
    // Baseline: the same lookups, one thread, straight on the view.
    std::mt19937_64 random(run + 7);
    const uint64_t lookups = 200'000;
    const auto start = Clock::now();
    int64_t sum = 0;
    for (uint64_t i = 0; i < lookups; ++i) {
      auto account = rm::GetAccount(**view, ids[random() % ids.size()]);
      if (account.has_value() && account->has_value()) sum += (*account)->balance.value;
    }
    direct_rates.push_back(static_cast<double>(lookups) / SecondsSince(start));
    if (sum == 42) fmt::print("");  // keeps the loop's work observable
    LoadResult fixed = RunLoad((*server)->port(), ids, connections, rate, seconds);
    LoadResult max = RunLoad((*server)->port(), ids, connections, 0, seconds);
    fixed_rates.push_back(fixed.requests_per_s);
    fixed_p50.push_back(fixed.p50_ms);
    fixed_p99.push_back(fixed.p99_ms);
    max_rates.push_back(max.requests_per_s);
    max_p50.push_back(max.p50_ms);
    max_p99.push_back(max.p99_ms);
    errors += fixed.errors + max.errors;
    fmt::print(
        "run {}: direct {:.0f}/s; offered {:.0f}/s: {:.0f}/s p50 {:.3f} ms p99 {:.3f} ms; "
        "max {:.0f}/s p50 {:.3f} ms p99 {:.3f} ms; errors {}\n",
        run + 1, direct_rates.back(), rate, fixed.requests_per_s, fixed.p50_ms, fixed.p99_ms,
        max.requests_per_s, max.p50_ms, max.p99_ms, fixed.errors + max.errors);
    std::fflush(stdout);
  }
  (*server)->Shutdown(2000);
  (*projector)->Stop().IgnoreError();  // the figures are taken; a late error changes none
  (*sequencer)->Close().IgnoreError();
  (*log)->Close().IgnoreError();
  RemoveDir(dir);
  const double direct = Median(direct_rates);
  const double max_rate = Median(max_rates);
  fmt::print(
      "{{\"bench\":\"query\",\"accounts\":{},\"records\":{},\"connections\":{},"
      "\"io_threads\":{},\"runs\":{},\"offered_per_s\":{:.0f},\"fixed_requests_per_s\":{:.0f},"
      "\"fixed_p50_ms\":{:.3f},\"fixed_p99_ms\":{:.3f},\"max_requests_per_s\":{:.0f},"
      "\"max_p50_ms\":{:.3f},\"max_p99_ms\":{:.3f},\"direct_lookups_per_s\":{:.0f},"
      "\"http_over_direct\":{:.4f},\"errors\":{},\"target\":\"p99 <= 2 ms at >= 20000/s\"}}\n",
      counts.accounts, head.value, connections, io_threads, runs, rate, Median(fixed_rates),
      Median(fixed_p50), Median(fixed_p99), max_rate, Median(max_p50), Median(max_p99), direct,
      direct > 0 ? max_rate / direct : 0.0, errors);
  return errors == 0 ? 0 : 1;
}

}  // namespace hpf::bench
