// tests/crash/crash_appender.cc — the crash test's child: appends to an EventLog until killed.
//
//   hpf-crash-appender DATA_DIR ROUND SEED THREADS WORKLOAD KEY_WINDOW_MAX
//
// Opens the store (durability kSync, the production default) and runs THREADS submitters.
// Each submitter loops: mostly a batch of new commands with its "count/<thread>" state delta,
// sometimes a re-submission of commands it already had acknowledged. It reports on fd 3
// (crash_workload.h) before each Append() and after each success, so the parent knows what
// was acknowledged and what was in flight when it sent SIGKILL. Anything unexpected — an
// error, a wrong outcome or position — aborts, which the parent sees as a death by SIGABRT
// rather than by its SIGKILL.
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/core.h>
#include <sys/prctl.h>

#include "events/event_log.h"
#include "tests/crash/crash_workload.h"

namespace hpf::testing::crash {
namespace {

// The parent kills us within a second; this only stops an orphan that somehow survived it.
constexpr auto kLifetimeMax = std::chrono::seconds(120);
// Commands one duplicate re-submission repeats.
constexpr size_t kDuplicatesPerBatchMax = 8;

struct Options {
  std::string data_dir;
  uint32_t round = 0;
  uint64_t seed = 0;
  uint32_t threads = 0;
  Workload workload = Workload::kMixed;
  size_t key_window_max = 0;
};

[[noreturn]] void Die(std::string_view what) {
  fmt::print(stderr, "hpf-crash-appender: {}\n", what);
  std::fflush(stderr);
  std::abort();
}

void Send(Message message) {
  Seal(message);
  // One write of at most PIPE_BUF bytes to a pipe is atomic: the parent reads the whole
  // message or, if we die first, none of it.
  ssize_t written = 0;
  do {
    written = write(kMessageFd, &message, sizeof message);
  } while (written < 0 && errno == EINTR);
  if (written != static_cast<ssize_t>(sizeof message)) {
    Die(fmt::format("writing a message to fd {} failed (errno {})", kMessageFd, errno));
  }
}

size_t BatchCommands(Workload workload, std::mt19937_64& rng) {
  if (workload == Workload::kLargeCommands) {
    return 1;
  }
  // Mostly small batches, as interactive clients send; some medium; a few near the size of a
  // bulk remittance file.
  const uint64_t roll = rng() % 100;
  if (roll < 60) {
    return 1 + rng() % 10;
  }
  if (roll < 90) {
    return 11 + rng() % 90;
  }
  return 101 + rng() % 400;
}

struct Acknowledged {
  uint64_t seq;
  uint64_t position;
};

void ResubmitDuplicates(events::EventLog& log, const Options& options, uint32_t thread,
                        const std::vector<Acknowledged>& acknowledged, std::mt19937_64& rng) {
  const size_t count =
      options.workload == Workload::kLargeCommands ? 1 : 1 + rng() % kDuplicatesPerBatchMax;
  events::AppendBatch batch;
  std::vector<Acknowledged> picked;
  for (size_t i = 0; i < count; ++i) {
    picked.push_back(acknowledged[rng() % acknowledged.size()]);
    const CommandId id{.round = options.round, .thread = thread, .seq = picked.back().seq};
    const Status added = AddCommand(batch, options.workload, id);
    if (!added.ok()) {
      Die(added.ToString());
    }
  }
  auto result = log.Append(std::move(batch));
  if (!result.has_value()) {
    Die(fmt::format("re-submitting acknowledged commands failed: {}", result.error().ToString()));
  }
  for (size_t i = 0; i < picked.size(); ++i) {
    const events::CommandResult& outcome = result->commands[i];
    if (outcome.outcome != events::CommandOutcome::kDuplicate ||
        outcome.position.value != picked[i].position) {
      Die(fmt::format("re-submitted {} (acknowledged at {}) came back as outcome {} at {}",
                      CommandKey({options.round, thread, picked[i].seq}), picked[i].position,
                      static_cast<int>(outcome.outcome), outcome.position.value));
    }
  }
  Send(Message{.kind = MessageKind::kDuplicatesConfirmed,
               .thread = static_cast<uint16_t>(thread),
               .round = options.round,
               .command_count = static_cast<uint32_t>(picked.size())});
}

// One submitter: runs until the parent's SIGKILL (there is no other way out).
void Submit(events::EventLog& log, const Options& options, uint32_t thread,
            uint64_t records_in_log) {
  std::mt19937_64 rng(Mix(options.seed ^ Mix(thread)));
  uint64_t next_seq = 0;
  std::vector<Acknowledged> acknowledged;
  while (true) {
    if (!acknowledged.empty() && rng() % 10 == 0) {
      ResubmitDuplicates(log, options, thread, acknowledged, rng);
      continue;
    }
    const size_t commands = BatchCommands(options.workload, rng);
    events::AppendBatch batch;
    uint64_t records = 0;
    for (size_t c = 0; c < commands; ++c) {
      const CommandId id{.round = options.round, .thread = thread, .seq = next_seq + c};
      const Status added = AddCommand(batch, options.workload, id);
      if (!added.ok()) {
        Die(added.ToString());
      }
      records += CommandParts(options.workload, id);
    }
    // The delta is the thread's record count once this batch is in: it must land exactly
    // when the batch's records do.
    const Status put =
        batch.PutState(CountStateKey(thread), std::to_string(records_in_log + records));
    if (!put.ok()) {
      Die(put.ToString());
    }
    Message message{.kind = MessageKind::kSubmitted,
                    .thread = static_cast<uint16_t>(thread),
                    .round = options.round,
                    .command_count = static_cast<uint32_t>(commands),
                    .first_seq = next_seq,
                    .record_count = records};
    Send(message);
    auto result = log.Append(std::move(batch));
    if (!result.has_value()) {
      Die(fmt::format("append failed: {}", result.error().ToString()));
    }
    if (result->commands.size() != commands) {
      Die(fmt::format("{} results for {} commands", result->commands.size(), commands));
    }
    // A batch's new commands sit at consecutive positions, each after its predecessor's parts.
    const uint64_t first_position = result->commands[0].position.value;
    uint64_t expected = first_position;
    for (size_t c = 0; c < commands; ++c) {
      const events::CommandResult& outcome = result->commands[c];
      if (outcome.outcome != events::CommandOutcome::kAppended ||
          outcome.position.value != expected) {
        Die(fmt::format("new command {} came back as outcome {} at {}, expected appended at {}",
                        CommandKey({options.round, thread, next_seq + c}),
                        static_cast<int>(outcome.outcome), outcome.position.value, expected));
      }
      acknowledged.push_back({next_seq + c, expected});
      expected += CommandParts(options.workload, {options.round, thread, next_seq + c});
    }
    message.kind = MessageKind::kAcknowledged;
    message.first_position = first_position;
    message.last_position = expected - 1;
    Send(message);
    records_in_log += records;
    next_seq += commands;
  }
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

int Run(int argc, char** argv) {
  // Die with the parent: a crashed test must not leave a writer behind.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  Options options;
  std::string_view workload;
  if (argc != 7 || !ParseNumber(argv[2], options.round) || !ParseNumber(argv[3], options.seed) ||
      !ParseNumber(argv[4], options.threads) || !ParseNumber(argv[6], options.key_window_max)) {
    fmt::print(stderr,
               "usage: hpf-crash-appender DATA_DIR ROUND SEED THREADS mixed|large "
               "KEY_WINDOW_MAX\n");
    return 2;
  }
  options.data_dir = argv[1];
  workload = argv[5];
  if (workload == "mixed") {
    options.workload = Workload::kMixed;
  } else if (workload == "large") {
    options.workload = Workload::kLargeCommands;
  } else {
    fmt::print(stderr, "hpf-crash-appender: unknown workload {}\n", workload);
    return 2;
  }
  auto log = events::EventLog::Open(
      {.data_dir = options.data_dir, .key_window_max = options.key_window_max});
  if (!log.has_value()) {
    fmt::print(stderr, "hpf-crash-appender: opening {}: {}\n", options.data_dir,
               log.error().ToString());
    return 1;
  }
  std::vector<std::thread> submitters;
  for (uint32_t thread = 0; thread < options.threads; ++thread) {
    auto count = (*log)->GetState(CountStateKey(thread));
    if (!count.has_value()) {
      Die(count.error().ToString());
    }
    uint64_t records_in_log = 0;
    if (count->has_value() && !ParseNumber(**count, records_in_log)) {
      Die(fmt::format("{} holds '{}', not a number", CountStateKey(thread), **count));
    }
    submitters.emplace_back([&log, &options, thread, records_in_log] {
      Submit(**log, options, thread, records_in_log);
    });
  }
  std::this_thread::sleep_for(kLifetimeMax);
  fmt::print(stderr, "hpf-crash-appender: not killed within {} s; exiting\n", kLifetimeMax.count());
  std::_Exit(3);
}

}  // namespace
}  // namespace hpf::testing::crash

int main(int argc, char** argv) { return hpf::testing::crash::Run(argc, argv); }
