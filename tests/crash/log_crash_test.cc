// tests/crash/log_crash_test.cc — acknowledged appends survive SIGKILL, crash after crash.
//
// STYLE 8.6 with a real process death: hpf-crash-appender (crash_appender.cc) appends to a
// store with several threads until this test kills it with SIGKILL at a random moment; the
// test reopens the store, checks it against everything the child reported, and starts the
// child again on the same store, so crashes accumulate. After every kill:
//  1. every acknowledged position is present (head >= the highest acknowledged position);
//  2. VerifyLog passes (chain, postings, no gap) and ends at the log's head;
//  3. no group is torn: every command's parts are all present (the log ends on a command's
//     last part), each batch that was in flight is whole or absent, and each thread's stored
//     "count/<thread>" equals its records in the log (a delta lands with its records or not);
//  4. Scan from 1 visits every position once, in order, each record carrying its position,
//     and every record belongs to an acknowledged or in-flight batch, in the reported order;
//  5. re-submitting acknowledged commands — including ones only the in-memory key window held
//     when the child died — returns kDuplicate at the original position, and retrying the
//     in-flight batches appends each exactly once.
// The choices (kill times, child seeds, key window sizes) come from a seed printed at the
// start; HPF_SEED replays them (the interleaving inside the child cannot be replayed).
// HPF_CRASH_ROUNDS sets the number of kills (CTest's crash_tests_long runs 300).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <poll.h>
#include <random>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <sys/wait.h>

#include "events/event_log.h"
#include "events/record.h"
#include "events/verify.h"
#include "tests/crash/crash_workload.h"
#include "tests/support/records.h"

extern char** environ;

namespace hpf::testing::crash {
namespace {

using events::AppendBatch;
using events::CommandOutcome;
using events::EventLog;
using events::GlobalPosition;

constexpr uint32_t kRoundsDefault = 20;
// Kills one store takes before the test starts a fresh one. Every check reads the whole log,
// so one store for all of a long run would make it quadratic; 20 kills still pile up crash
// upon crash (each restart recovers what the previous kill left).
constexpr uint32_t kRoundsPerStore = 20;
// Attempts of the store-creation test, spread over the child's start-up.
constexpr int kCreationKills = 24;
// Acknowledged commands re-submitted after each kill, besides each thread's newest.
constexpr size_t kDuplicateSamples = 16;

// Kill times: mostly while appends run at full speed; one round in eight while the child is
// still starting (exec, RocksDB recovery, reloading the key window).
constexpr int kKillEarlyMaxMs = 40;
constexpr int kKillMinMs = 100;
constexpr int kKillMaxMs = 400;

template <typename T>
std::optional<T> NumberFromEnv(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') {
    return std::nullopt;
  }
  T value{};
  const std::string_view view(text);
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size()) {
    return std::nullopt;
  }
  return value;
}

uint64_t BaseSeed() {
  if (const auto seed = NumberFromEnv<uint64_t>("HPF_SEED")) {
    return *seed;
  }
  // Unseeded runs explore: every run tries other kill points. The seed is printed.
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

// What the log must hold: every acknowledged batch, and every in-flight batch found in the
// log after a kill, by first position.
struct KnownBatch {
  CommandId first;  // commands first.seq .. first.seq + command_count - 1
  uint32_t command_count = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
};

struct Model {
  Workload workload = Workload::kMixed;
  uint32_t threads = 0;
  std::map<uint64_t, KnownBatch> batches;
  std::vector<uint64_t> batch_starts;  // the keys of `batches`, for picking one at random
  uint64_t acknowledged_through = 0;   // the highest acknowledged position
  uint32_t rounds_run = 0;
  // For the summary: evidence that the interesting cases happened.
  uint64_t acknowledged_batches = 0;
  uint64_t in_flight_present = 0;
  uint64_t in_flight_absent = 0;
  uint64_t duplicates_confirmed_by_child = 0;
  uint64_t duplicates_confirmed_after_kill = 0;
  uint64_t multi_record_commands = 0;  // in the final log
  uint64_t early_kills = 0;
};

// Records of each command of `batch`, in order.
std::vector<uint32_t> PartsOf(const Model& model, const KnownBatch& batch) {
  std::vector<uint32_t> parts(batch.command_count);
  for (uint32_t c = 0; c < batch.command_count; ++c) {
    CommandId id = batch.first;
    id.seq += c;
    parts[c] = CommandParts(model.workload, id);
  }
  return parts;
}

uint64_t RecordsOf(const Model& model, const KnownBatch& batch) {
  uint64_t records = 0;
  for (const uint32_t parts : PartsOf(model, batch)) {
    records += parts;
  }
  return records;
}

void AddKnownBatch(Model& model, const KnownBatch& batch) {
  REQUIRE(batch.first_position > 0);
  REQUIRE(batch.last_position - batch.first_position + 1 == RecordsOf(model, batch));
  const auto [it, inserted] = model.batches.emplace(batch.first_position, batch);
  REQUIRE_MESSAGE(inserted, "two batches reported at position " << batch.first_position);
  if (it != model.batches.begin()) {
    REQUIRE(std::prev(it)->second.last_position < batch.first_position);
  }
  if (std::next(it) != model.batches.end()) {
    REQUIRE(batch.last_position < std::next(it)->second.first_position);
  }
  model.batch_starts.push_back(batch.first_position);
}

struct ChildRun {
  std::vector<Message> messages;
  std::chrono::milliseconds killed_after{0};
  int wait_status = 0;
  bool killed_by_us = false;  // false: it died or exited before the kill
  size_t trailing_bytes = 0;  // an incomplete message at the end: reported nothing
};

// Kills and reaps the child if a failed REQUIRE leaves it running, so that it stops writing
// into a directory the test is about to remove.
struct ChildReaper {
  pid_t pid = 0;
  ~ChildReaper() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

enum class KillWhen : uint8_t {
  kDeadline,      // when `kill_after` has passed
  kFirstMessage,  // at the child's first message, or the deadline if that comes first
};

// Starts the child, collects its messages until it is time to kill it, kills it with SIGKILL
// and collects the rest.
ChildRun RunChildUntilKilled(const std::vector<std::string>& args,
                             std::chrono::milliseconds kill_after,
                             KillWhen when = KillWhen::kDeadline) {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  // dup2 onto kMessageFd clears close-on-exec for the child's copy only; if the write end
  // were already kMessageFd, dup2 would do nothing and exec would close it.
  REQUIRE(fds[1] != kMessageFd);
  posix_spawn_file_actions_t actions;
  REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
  REQUIRE(posix_spawn_file_actions_adddup2(&actions, fds[1], kMessageFd) == 0);
  std::vector<char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  close(fds[1]);  // the child's copy is now the only write end: EOF when it dies
  REQUIRE_MESSAGE(spawned == 0, "posix_spawn " << argv[0] << ": errno " << spawned);
  ChildReaper reaper{.pid = pid};
  REQUIRE(posix_spawn_file_actions_destroy(&actions) == 0);

  ChildRun run;
  std::string received;
  char buffer[64 * 1024];
  auto read_available = [&] {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n > 0) {
      received.append(buffer, static_cast<size_t>(n));
    }
    return n;
  };
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + kill_after;
  bool child_closed_pipe = false;
  while (!child_closed_pipe &&
         !(when == KillWhen::kFirstMessage && received.size() >= sizeof(Message))) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd readable{.fd = fds[0], .events = POLLIN, .revents = 0};
    const int ready = poll(&readable, 1, static_cast<int>(left.count()));
    REQUIRE((ready >= 0 || errno == EINTR));
    if (ready > 0) {
      const ssize_t n = read_available();
      REQUIRE((n >= 0 || errno == EINTR));
      child_closed_pipe = n == 0;
    }
  }
  run.killed_by_us = !child_closed_pipe && kill(pid, SIGKILL) == 0;
  run.killed_after = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  REQUIRE(waitpid(pid, &run.wait_status, 0) == pid);
  reaper.pid = 0;
  // The dead child's messages are still in the pipe; read them to EOF.
  while (true) {
    const ssize_t n = read_available();
    if (n == 0) {
      break;
    }
    REQUIRE((n > 0 || errno == EINTR));
  }
  close(fds[0]);

  run.trailing_bytes = received.size() % sizeof(Message);
  run.messages.resize(received.size() / sizeof(Message));
  if (!run.messages.empty()) {
    std::memcpy(run.messages.data(), received.data(), run.messages.size() * sizeof(Message));
  }
  return run;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exited with code {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("died of signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  return fmt::format("wait status {:#x}", status);
}

// The first record of the command at index `command` of `batch`.
uint64_t CommandPosition(const Model& model, const KnownBatch& batch, uint32_t command) {
  const std::vector<uint32_t> parts = PartsOf(model, batch);
  uint64_t position = batch.first_position;
  for (uint32_t c = 0; c < command; ++c) {
    position += parts[c];
  }
  return position;
}

std::optional<uint64_t> FindCommand(const EventLog& log, const CommandId& id) {
  auto hit = log.FindKey(CommandKey(id));
  REQUIRE_MESSAGE(hit.has_value(), hit.error().ToString());
  if (!hit->has_value()) {
    return std::nullopt;
  }
  return (*hit)->position.value;
}

struct ScanFindings {
  std::string problem;  // empty if the scan found nothing wrong
  uint64_t last_position = 0;
  bool ends_inside_command = false;
  bool every_batch_seen = false;
  std::vector<uint64_t> records_per_thread;
  uint64_t multi_record_commands = 0;
};

// Checks 3 and 4: walks the whole log and matches it against the model, record by record.
ScanFindings ScanLog(const EventLog& log, const Model& model) {
  ScanFindings findings;
  findings.records_per_thread.assign(model.threads, 0);
  uint64_t expected = 1;
  auto next_batch = model.batches.begin();
  const KnownBatch* batch = nullptr;  // the batch the scan is inside, if any
  uint32_t batch_command = 0;
  uint32_t batch_part = 0;
  std::string command_key;  // the command the previous record belongs to
  uint32_t next_part = 0;
  uint32_t command_parts = 0;
  const Status scanned =
      log.Scan(GlobalPosition{1}, GlobalPosition{UINT64_MAX}, [&](const events::RecordRef& ref) {
        const uint64_t position = ref.position.value;
        auto fail = [&](std::string what) {
          findings.problem = fmt::format("position {}: {}", position, what);
          return false;
        };
        if (position != expected) {
          return fail(fmt::format("the scan skipped or repeated: expected {}", expected));
        }
        auto record = events::VerifyRecord(ref.record);
        if (!record.has_value()) {
          return fail(record.error().ToString());
        }
        if (events::RecordPosition(**record).value != position) {
          return fail(fmt::format("the record's link says position {}",
                                  events::RecordPosition(**record).value));
        }
        const std::string_view key = events::RecordIdempotencyKey(**record);
        const uint32_t part = (*record)->envelope()->command_part();
        const uint32_t parts = (*record)->envelope()->command_parts();
        // Command structure, from the records alone.
        if (next_part < command_parts) {
          if (key != command_key || part != next_part || parts != command_parts) {
            return fail(fmt::format("command {} stops after part {} of {}; {} part {} follows",
                                    command_key, next_part - 1, command_parts, key, part));
          }
        } else if (part != 0) {
          return fail(fmt::format("{} part {} of {} follows a complete command", key, part, parts));
        }
        command_key = key;
        next_part = part + 1;
        command_parts = parts;
        const std::optional<CommandId> id = ParseCommandKey(key);
        if (!id.has_value() || id->thread >= model.threads) {
          return fail(fmt::format("'{}' is not a key the crash test writes", key));
        }
        if (parts != CommandParts(model.workload, *id)) {
          return fail(fmt::format("{} has {} parts, expected {}", key, parts,
                                  CommandParts(model.workload, *id)));
        }
        ++findings.records_per_thread[id->thread];
        if (part == 0 && parts > 1) {
          ++findings.multi_record_commands;
        }
        // Provenance: every record is in a reported batch, in the order it was reported.
        if (batch == nullptr) {
          if (next_batch == model.batches.end() || next_batch->first != position) {
            return fail(
                fmt::format("{} part {} is in no acknowledged or in-flight batch", key, part));
          }
          batch = &next_batch->second;
          ++next_batch;
          batch_command = 0;
          batch_part = 0;
        }
        CommandId wanted = batch->first;
        wanted.seq += batch_command;
        if (*id != wanted || part != batch_part) {
          return fail(fmt::format("found {} part {}, the batch at {} has {} part {} here", key,
                                  part, batch->first_position, CommandKey(wanted), batch_part));
        }
        if (++batch_part == parts) {
          batch_part = 0;
          ++batch_command;
        }
        if (batch_command == batch->command_count) {
          if (position != batch->last_position) {
            return fail(fmt::format("the batch at {} ends here, not at {}", batch->first_position,
                                    batch->last_position));
          }
          batch = nullptr;
        }
        findings.last_position = position;
        ++expected;
        return true;
      });
  if (!scanned.ok() && findings.problem.empty()) {
    findings.problem = scanned.ToString();
  }
  findings.ends_inside_command = next_part < command_parts;
  findings.every_batch_seen = batch == nullptr && next_batch == model.batches.end();
  return findings;
}

// Check 5: acknowledged commands are duplicates of their original position after the kill.
void CheckAcknowledgedAreDuplicates(EventLog& log, Model& model,
                                    const std::vector<KnownBatch>& newest_per_thread,
                                    std::mt19937_64& rng) {
  struct Expected {
    CommandId id;
    uint64_t position;
  };
  std::vector<Expected> expected;
  // Each thread's newest acknowledged command: the child died with it only in its key window.
  for (const KnownBatch& batch : newest_per_thread) {
    const uint32_t last = batch.command_count - 1;
    expected.push_back({{batch.first.round, batch.first.thread, batch.first.seq + last},
                        CommandPosition(model, batch, last)});
  }
  const size_t samples =
      model.workload == Workload::kLargeCommands ? kDuplicateSamples / 8 : kDuplicateSamples;
  for (size_t i = 0; i < samples && !model.batch_starts.empty(); ++i) {
    const KnownBatch& batch =
        model.batches.at(model.batch_starts[rng() % model.batch_starts.size()]);
    const auto command = static_cast<uint32_t>(rng() % batch.command_count);
    expected.push_back({{batch.first.round, batch.first.thread, batch.first.seq + command},
                        CommandPosition(model, batch, command)});
  }
  if (expected.empty()) {
    return;
  }
  AppendBatch batch;
  for (const Expected& e : expected) {
    REQUIRE(AddCommand(batch, model.workload, e.id).ok());
  }
  const events::HeadDigest head = log.head();
  auto result = log.Append(std::move(batch));
  REQUIRE_MESSAGE(result.has_value(), result.error().ToString());
  REQUIRE(result->commands.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("re-submitted ", CommandKey(expected[i].id), ", acknowledged at ", expected[i].position);
    CHECK(result->commands[i].outcome == CommandOutcome::kDuplicate);
    CHECK(result->commands[i].position.value == expected[i].position);
  }
  CHECK(log.head() == head);
  model.duplicates_confirmed_after_kill += expected.size();
}

// A client that lost its answer retries: the batch appends if the crash took it, and is all
// duplicates if the crash kept it. Either way it is in the log exactly once afterwards.
void RetryInFlight(EventLog& log, Model& model, const KnownBatch& in_flight, bool present,
                   uint64_t thread_records) {
  AppendBatch batch;
  for (uint32_t c = 0; c < in_flight.command_count; ++c) {
    CommandId id = in_flight.first;
    id.seq += c;
    REQUIRE(AddCommand(batch, model.workload, id).ok());
  }
  const uint64_t records = RecordsOf(model, in_flight);
  if (!present) {
    // Decided afresh, as the write model would: the thread's count including this batch.
    REQUIRE(batch
                .PutState(CountStateKey(in_flight.first.thread),
                          std::to_string(thread_records + records))
                .ok());
  }
  auto result = log.Append(std::move(batch));
  REQUIRE_MESSAGE(result.has_value(), result.error().ToString());
  REQUIRE(result->commands.size() == in_flight.command_count);
  KnownBatch appended = in_flight;
  appended.first_position = result->commands[0].position.value;
  appended.last_position = appended.first_position + records - 1;
  const std::vector<uint32_t> parts = PartsOf(model, in_flight);
  uint64_t position = appended.first_position;
  for (uint32_t c = 0; c < in_flight.command_count; ++c) {
    CHECK(result->commands[c].outcome ==
          (present ? CommandOutcome::kDuplicate : CommandOutcome::kAppended));
    CHECK(result->commands[c].position.value == position);
    position += parts[c];
  }
  if (present) {
    CHECK(appended.first_position == in_flight.first_position);
  } else {
    AddKnownBatch(model, appended);
  }
}

// One kill round: run the child, kill it, check the store, leave it closed.
void CrashRound(const std::string& dir, uint32_t round, uint64_t round_seed, Model& model,
                const std::string& workload_name) {
  std::mt19937_64 rng(round_seed);
  // Round 0 is never killed early: a kill while the store is being created is the subject of
  // its own test below.
  const bool early = rng() % 8 == 0 && model.rounds_run > 0;
  ++model.rounds_run;
  const auto kill_after = std::chrono::milliseconds(
      early ? static_cast<int>(rng() % (kKillEarlyMaxMs + 1))
            : kKillMinMs + static_cast<int>(rng() % (kKillMaxMs - kKillMinMs + 1)));
  // A small key window makes the indexer fold keys into the persistent index while appends
  // run, so kills also land in the middle of indexing.
  const size_t windows[] = {0, 512, 8192};
  const size_t key_window_max = windows[rng() % std::size(windows)];
  INFO("round ", round, " (seed ", round_seed, "): kill after ", kill_after.count(),
       " ms, key window ", key_window_max);
  model.early_kills += early ? 1 : 0;

  const ChildRun run = RunChildUntilKilled(
      {HPF_CRASH_APPENDER, dir, std::to_string(round), std::to_string(Mix(round_seed)),
       std::to_string(model.threads), workload_name, std::to_string(key_window_max)},
      kill_after);
  REQUIRE_MESSAGE(run.killed_by_us,
                  "the child ended before the kill: " << DescribeWaitStatus(run.wait_status));
  REQUIRE_MESSAGE(WIFSIGNALED(run.wait_status), DescribeWaitStatus(run.wait_status));
  REQUIRE_MESSAGE(WTERMSIG(run.wait_status) == SIGKILL, DescribeWaitStatus(run.wait_status));
  // Pipe writes of one message are atomic, so nothing is ever half-written; were it, the
  // fragment reports nothing and is ignored.
  CHECK(run.trailing_bytes == 0);

  // What the child reported: acknowledged batches, and the batches it had submitted but not
  // yet heard back about (at most one per thread).
  std::map<std::pair<uint32_t, uint64_t>, Message> in_flight;  // by (thread, first seq)
  std::vector<KnownBatch> newest_per_thread(model.threads);
  for (const Message& message : run.messages) {
    REQUIRE(IsSealed(message));
    REQUIRE(message.round == round);
    REQUIRE(message.thread < model.threads);
    switch (message.kind) {
      case MessageKind::kSubmitted:
        REQUIRE(in_flight.emplace(std::pair(message.thread, message.first_seq), message).second);
        break;
      case MessageKind::kAcknowledged: {
        REQUIRE(in_flight.erase(std::pair(message.thread, message.first_seq)) == 1);
        const KnownBatch batch{.first = {round, message.thread, message.first_seq},
                               .command_count = message.command_count,
                               .first_position = message.first_position,
                               .last_position = message.last_position};
        REQUIRE(RecordsOf(model, batch) == message.record_count);
        AddKnownBatch(model, batch);
        newest_per_thread[message.thread] = batch;
        model.acknowledged_through = std::max(model.acknowledged_through, batch.last_position);
        ++model.acknowledged_batches;
        break;
      }
      case MessageKind::kDuplicatesConfirmed:
        model.duplicates_confirmed_by_child += message.command_count;
        break;
      default:
        FAIL("unknown message kind " << static_cast<int>(message.kind));
    }
  }
  std::erase_if(newest_per_thread, [](const KnownBatch& b) { return b.command_count == 0; });

  auto opened = EventLog::Open({.data_dir = dir, .mode = events::OpenMode::kOpenExisting});
  REQUIRE_MESSAGE(opened.has_value(), opened.error().ToString());
  EventLog& log = **opened;
  const events::HeadDigest head = log.head();

  // 1. Nothing acknowledged was lost.
  REQUIRE(head.position.value >= model.acknowledged_through);

  // In-flight batches: the kill may have kept one or not. The first and last commands tell
  // which; the scan below proves the batch is whole if its first command is there.
  struct InFlight {
    KnownBatch batch;
    bool present;
  };
  std::vector<InFlight> retries;
  for (const auto& [where, message] : in_flight) {
    KnownBatch batch{.first = {round, message.thread, message.first_seq},
                     .command_count = message.command_count};
    CommandId last_id = batch.first;
    last_id.seq += batch.command_count - 1;
    const std::optional<uint64_t> first = FindCommand(log, batch.first);
    const std::optional<uint64_t> last = FindCommand(log, last_id);
    INFO("in-flight batch ", CommandKey(batch.first), " .. ", CommandKey(last_id));
    REQUIRE(first.has_value() == last.has_value());
    if (first.has_value()) {
      batch.first_position = *first;
      batch.last_position = *first + message.record_count - 1;
      CHECK(*last == CommandPosition(model, batch, batch.command_count - 1));
      AddKnownBatch(model, batch);
      ++model.in_flight_present;
    } else {
      ++model.in_flight_absent;
    }
    retries.push_back({batch, first.has_value()});
  }

  // 2. The auditor's verification passes and agrees with the log's head.
  auto report = events::VerifyLog(log, {});
  REQUIRE_MESSAGE(report.has_value(), report.error().ToString());
  INFO("verify: ", events::VerifyProblemName(report->problem), " at ", report->position.value, ": ",
       report->detail);
  CHECK(report->ok());
  CHECK(report->head == head);
  CHECK(report->records_checked == head.position.value);

  // 3 and 4. Gapless, whole commands, every record reported, in order.
  const ScanFindings scan = ScanLog(log, model);
  INFO("scan: ", scan.problem);
  REQUIRE(scan.problem.empty());
  CHECK(scan.last_position == head.position.value);
  CHECK_MESSAGE(!scan.ends_inside_command, "the log ends inside a command");
  CHECK_MESSAGE(scan.every_batch_seen, "an acknowledged or in-flight batch is missing");
  model.multi_record_commands = scan.multi_record_commands;

  // 3. Each thread's state delta landed exactly with its records.
  for (uint32_t thread = 0; thread < model.threads; ++thread) {
    auto stored = log.GetState(CountStateKey(thread));
    REQUIRE(stored.has_value());
    const std::string count = stored->value_or("0");
    INFO("thread ", thread);
    CHECK(count == std::to_string(scan.records_per_thread[thread]));
  }

  // 5. Idempotency survived the crash, then the interrupted clients retry.
  CheckAcknowledgedAreDuplicates(log, model, newest_per_thread, rng);
  for (const InFlight& retry : retries) {
    RetryInFlight(log, model, retry.batch, retry.present,
                  scan.records_per_thread[retry.batch.first.thread]);
  }
  const Status closed = log.Close();
  REQUIRE_MESSAGE(closed.ok(), closed.ToString());
}

void RunCrashRounds(Workload workload, const std::string& workload_name, uint32_t threads,
                    uint32_t rounds, uint32_t rounds_per_store) {
  const uint64_t seed = BaseSeed();
  MESSAGE("crash test (" << workload_name << "): " << rounds << " kills, seed " << seed
                         << " (HPF_SEED=" << seed << " replays the choices)");
  INFO("seed ", seed);
  Model total;
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t first = 0; first < rounds; first += rounds_per_store) {
    TempDir dir;
    Model model{.workload = workload, .threads = threads};
    for (uint32_t round = first; round < std::min(rounds, first + rounds_per_store); ++round) {
      CrashRound(dir.Sub("store"), round, Mix(seed + round), model, workload_name);
    }
    total.acknowledged_batches += model.acknowledged_batches;
    total.acknowledged_through += model.acknowledged_through;
    total.in_flight_present += model.in_flight_present;
    total.in_flight_absent += model.in_flight_absent;
    total.duplicates_confirmed_by_child += model.duplicates_confirmed_by_child;
    total.duplicates_confirmed_after_kill += model.duplicates_confirmed_after_kill;
    total.multi_record_commands += model.multi_record_commands;
    total.early_kills += model.early_kills;
  }
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
  MESSAGE(fmt::format(
      "{} kills in {} ms ({} early, {} per store): {} acknowledged batches up to positions "
      "summing to {}, in-flight batches kept {} / lost {}, duplicates confirmed {} by the child "
      "and {} after kills, {} multi-record commands",
      rounds, elapsed_ms, total.early_kills, rounds_per_store, total.acknowledged_batches,
      total.acknowledged_through, total.in_flight_present, total.in_flight_absent,
      total.duplicates_confirmed_by_child, total.duplicates_confirmed_after_kill,
      total.multi_record_commands));
  // The cases this test exists for did happen.
  CHECK(total.acknowledged_batches > 0);
  CHECK(total.duplicates_confirmed_after_kill > 0);
  if (workload == Workload::kMixed) {
    CHECK(total.duplicates_confirmed_by_child > 0);
    CHECK(total.multi_record_commands > 0);
  }
}

TEST_SUITE("crash") {
  TEST_CASE("EventLog: acknowledged appends survive SIGKILL, kill after kill") {
    const uint32_t rounds = NumberFromEnv<uint32_t>("HPF_CRASH_ROUNDS").value_or(kRoundsDefault);
    RunCrashRounds(Workload::kMixed, "mixed", /*threads=*/4, rounds, kRoundsPerStore);
  }

  TEST_CASE("EventLog: a SIGKILL during a 4096-record command leaves it whole or absent") {
    // Each command spans four chunks and takes a while to write, so kills often land inside
    // its group. Fewer rounds than the mixed test: every round adds far more records.
    const uint32_t rounds =
        std::max<uint32_t>(6, NumberFromEnv<uint32_t>("HPF_CRASH_ROUNDS").value_or(0) / 10);
    RunCrashRounds(Workload::kLargeCommands, "large", /*threads=*/2, rounds,
                   /*rounds_per_store=*/6);
  }

  TEST_CASE("EventLog: a store killed while it is being created opens again") {
    // Creating a store is several steps (RocksDB files, column families, the header); a
    // server killed among them restarts with kOpenOrCreate on what they left. The kills are
    // spread over the child's start-up as measured on this machine, so they land in each step
    // at any build speed.
    const uint64_t seed = BaseSeed();
    INFO("seed ", seed);
    TempDir dir;
    const std::string appender = HPF_CRASH_APPENDER;
    auto child_args = [&](const std::string& store) {
      return std::vector<std::string>{appender, store,   "0", std::to_string(seed),
                                      "1",      "mixed", "0"};
    };
    const ChildRun calibration = RunChildUntilKilled(
        child_args(dir.Sub("calibration")), std::chrono::seconds(10), KillWhen::kFirstMessage);
    REQUIRE(calibration.killed_by_us);
    REQUIRE(!calibration.messages.empty());
    const auto startup = calibration.killed_after;
    MESSAGE("the child's first append starts " << startup.count() << " ms after spawning");
    for (int attempt = 0; attempt < kCreationKills; ++attempt) {
      const std::string store = dir.Sub(fmt::format("store-{}", attempt));
      const auto kill_after = startup * attempt / kCreationKills;
      INFO("killed after ", kill_after.count(), " ms");
      const ChildRun run = RunChildUntilKilled(child_args(store), kill_after);
      REQUIRE(run.killed_by_us);
      auto opened = EventLog::Open({.data_dir = store});
      REQUIRE_MESSAGE(opened.has_value(), opened.error().ToString());
      auto report = events::VerifyLog(**opened, {});
      REQUIRE(report.has_value());
      CHECK(report->ok());
      AppendBatch batch;
      REQUIRE(AddCommand(batch, Workload::kMixed, {.round = 1}).ok());
      auto appended = (*opened)->Append(std::move(batch));
      REQUIRE_MESSAGE(appended.has_value(), appended.error().ToString());
      CHECK(appended->commands[0].outcome == CommandOutcome::kAppended);
    }
  }
}

}  // namespace
}  // namespace hpf::testing::crash
