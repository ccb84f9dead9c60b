// tools/ledger-broker/main.cc — `ledger-broker [--partitions N] [--topic T] [--brokers N]`:
// starts the development Kafka broker (librdkafka's mock cluster, events/dev_broker.h) on
// 127.0.0.1 with the topic created, prints its bootstrap address as the first line of standard
// output, and serves until SIGTERM or SIGINT. For demos and tests that want a broker in a
// process of its own: data lives in memory only and is gone when it exits (events/README.md).
#include <charconv>
#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "events/dev_broker.h"

namespace {

// Prints what was wrong (if anything) and the usage; the exit status for bad arguments.
int Usage(std::string_view problem) {
  if (!problem.empty()) fmt::print(stderr, "ledger-broker: {}\n", problem);
  fmt::print(stderr,
             "usage: ledger-broker [--partitions 1..{}] [--topic NAME] [--brokers 1..{}]\n"
             "  prints the bootstrap address, then serves until SIGTERM or SIGINT\n",
             hpf::events::kDevPartitionsMax, hpf::events::kDevBrokersMax);
  return 2;
}

bool ParseCount(std::string_view text, int32_t max, int32_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= 1 && *out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  hpf::events::DevBrokerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") return Usage("");
    if (flag != "--partitions" && flag != "--brokers" && flag != "--topic") {
      return Usage(fmt::format("unknown argument '{}'", flag));
    }
    if (i + 1 >= argc) return Usage(fmt::format("{} needs a value", flag));
    const std::string_view value = argv[++i];
    if (flag == "--partitions" &&
        !ParseCount(value, hpf::events::kDevPartitionsMax, &options.partition_count)) {
      return Usage(fmt::format("--partitions must be 1..{}, got '{}'",
                               hpf::events::kDevPartitionsMax, value));
    }
    if (flag == "--brokers" &&
        !ParseCount(value, hpf::events::kDevBrokersMax, &options.broker_count)) {
      return Usage(
          fmt::format("--brokers must be 1..{}, got '{}'", hpf::events::kDevBrokersMax, value));
    }
    if (flag == "--topic") {
      if (value.empty()) return Usage("--topic needs a name");
      options.topic = std::string(value);
    }
  }
  // Block the signals before any thread starts, so only sigwait() below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto broker = hpf::events::DevBroker::Start(options);
  if (!broker.has_value()) {
    fmt::print(stderr, "ledger-broker: {}\n", broker.error().ToString());
    return 1;
  }
  fmt::print("{}\n", (*broker)->bootstrap_servers());
  std::fflush(stdout);
  fmt::print(stderr,
             "ledger-broker: topic {} with {} partitions on {} broker(s); in memory only, for "
             "development and tests\n",
             options.topic, options.partition_count, options.broker_count);
  int received = 0;
  sigwait(&signals, &received);
  fmt::print(stderr, "ledger-broker: signal {}, stopping\n", received);
  return 0;
}
