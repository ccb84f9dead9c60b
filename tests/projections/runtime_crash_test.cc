// tests/projections/runtime_crash_test.cc — a projector killed with SIGKILL mid-batch resumes
// without double counting, from either source.
//
// The parent grows a ledger-sim city's log through the sequencer in chunks. After each chunk it
// starts hpf-crash-projector (runtime_crash_projector.cc) on the same projection store — every
// projection: the runtime's test projection and every read model — and kills it with SIGKILL at
// a random moment: mostly a few milliseconds after it started reading (in the middle of its
// batches, between Apply() and the commit or inside it), sometimes while it is still loading.
// After every kill the parent opens the store and checks, for every projection:
//  - log source: the view's position P never goes back, and the stored key space is byte for
//    byte a fresh fold of records 1..P — state and checkpoint are from the same commit, no
//    record applied twice or lost;
//  - Kafka source (4 partitions, the mock cluster in this process): the stored key space is a
//    fresh fold of exactly the records whose position is at or below their partition's stored
//    checkpoint (which partition each record went to comes from the delivery reports).
// At the end the child runs until it reports "done", and every projection equals a fold of the
// whole log. Kill times come from a seed printed at the start; HPF_SEED replays them (the
// interleaving inside the child cannot be replayed). HPF_CRASH_ROUNDS sets the number of kills.
#include <chrono>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <poll.h>
#include <random>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <variant>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <sys/wait.h>

#include "ledger/sequencer.h"
#include "projections/projection_store.h"
#include "tests/projections/runtime_test_support.h"
#include "tests/support/records.h"

extern char** environ;

namespace hpf::projections {
namespace {

using events::GlobalPosition;
using hpf::testing::TempDir;
using namespace std::chrono_literals;

std::optional<uint64_t> NumberFromEnv(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  return std::strtoull(text, nullptr, 10);
}

// A running child and the lines it printed.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
    REQUIRE(posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO) == 0);
    REQUIRE(posix_spawn_file_actions_addclose(&actions, fds[0]) == 0);
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) Kill();
    close(out_);
  }

  // Waits for `line` up to `timeout`; false on timeout or if the child ended.
  bool WaitFor(std::string_view line, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const size_t end = text_.find('\n');
      if (end != std::string::npos) {
        const std::string got = text_.substr(0, end);
        text_.erase(0, end + 1);
        if (got == line) return true;
        continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd fd{.fd = out_, .events = POLLIN, .revents = 0};
      if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[256];
      const ssize_t got = read(out_, buffer, sizeof buffer);
      if (got <= 0) return false;  // the child is gone
      text_.append(buffer, static_cast<size_t>(got));
    }
  }

  // SIGKILL; returns how it ended (a test failure if not by our kill).
  void Kill() {
    kill(pid_, SIGKILL);
    int status = 0;
    REQUIRE(waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    CHECK_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                  "the projector ended by itself (status ", status, "); see its stderr");
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string text_;
};

struct Run {
  bool kafka = false;
  uint32_t rounds = 0;
};

// The city's commands, in submission chunks.
std::vector<std::vector<ledger::Command>> CityChunks(size_t chunks) {
  std::vector<ledger::Command> commands;
  sim::GenerateCity({.seed = 5, .employers = 40, .accounts_per_employer = 10},
                    [&](ledger::Command&& command) { commands.push_back(std::move(command)); });
  std::vector<std::vector<ledger::Command>> split(chunks);
  for (size_t i = 0; i < commands.size(); ++i) {
    split[i * chunks / commands.size()].push_back(std::move(commands[i]));
  }
  return split;
}

void Submit(ledger::Sequencer& sequencer, std::vector<ledger::Command> chunk) {
  for (const auto& result : sequencer.Submit(std::move(chunk)).get()) {
    REQUIRE(!std::holds_alternative<ledger::CommandFailed>(result));
  }
}

// Checks every projection's stored key space against a fresh fold (see the file comment).
void CheckStore(const std::string& store_dir, const events::EventLog& log,
                const testing::MockKafka* kafka, std::map<std::string, GlobalPosition>& last) {
  auto store = ProjectionStore::Open({.dir = store_dir});
  REQUIRE_MESSAGE(store.has_value(), store.status().ToString());
  const std::map<uint64_t, int32_t> partitions =
      kafka != nullptr ? kafka->partitions() : std::map<uint64_t, int32_t>();
  for (auto& fresh : testing::AllProjections()) {
    const std::string name(fresh->name());
    auto view = (*store)->View(name);
    if (!view.has_value()) {
      CHECK(view.status().code() == StatusCode::kNotFound);  // killed before taking it in
      continue;
    }
    auto dump = DumpKeySpace(**view);
    REQUIRE(dump.has_value());
    Result<std::string> expected = std::string();
    if (kafka == nullptr) {
      const GlobalPosition position = (*view)->position();
      CHECK_MESSAGE(position >= last[name], name, " went back from ", last[name].value, " to ",
                    position.value);
      last[name] = position;
      expected = testing::ReferenceDump(log, position, *fresh);
    } else {
      const Checkpoint checkpoint = *(*store)->GetCheckpoint(name);
      expected = testing::ReferenceDumpWhere(
          log, log.head().position,
          [&](GlobalPosition position) {
            const auto at = partitions.find(position.value);
            HPF_ASSERT(at != partitions.end());
            const PartitionCheckpoint* entry = checkpoint.Find(at->second);
            return entry != nullptr && position <= entry->position;
          },
          *fresh);
    }
    REQUIRE(expected.has_value());
    CHECK_MESSAGE(*dump == *expected, name, ": ", DescribeDumpDifference(*expected, *dump));
  }
}

void RunCrashes(const Run& run) {
  const uint64_t seed = NumberFromEnv("HPF_SEED").value_or(std::random_device()());
  MESSAGE("seed ", seed, " (HPF_SEED replays the kill times)");
  std::mt19937_64 rng(seed);
  TempDir dir;
  auto log = events::EventLog::Open(
      {.data_dir = dir.Sub("log"), .durability = events::Durability::kNoSync});
  REQUIRE(log.has_value());
  static const ledger::PolicyBook policy = ledger::DefaultPolicy();
  auto sequencer = ledger::Sequencer::Open({.log = log->get(), .policy = &policy});
  REQUIRE(sequencer.has_value());
  std::unique_ptr<testing::MockKafka> kafka;
  if (run.kafka) {
    auto started = testing::MockKafka::Start(1, "hpf.ledger.events", 4);
    REQUIRE_MESSAGE(started.has_value(), started.status().ToString());
    kafka = std::move(started).value();
  }
  auto chunks = CityChunks(run.rounds + 1);
  std::map<std::string, GlobalPosition> last;
  GlobalPosition published{0};
  uint64_t previous_records = 0;
  uint32_t kills_reading = 0;
  uint32_t kills_part_way = 0;  // the test projection moved, but not to the head
  for (uint32_t round = 0; round <= run.rounds; ++round) {
    Submit(**sequencer, std::move(chunks[round]));
    const GlobalPosition head = (*log)->head().position;
    if (kafka != nullptr) {
      REQUIRE(kafka->Publish(**log, published, head).ok());
      published = head;
    }
    // Batches of a few records (a commit every few records) to many.
    constexpr const char* kBatches[] = {"2", "16", "128"};
    std::vector<std::string> args = {HPF_CRASH_PROJECTOR, dir.Sub("store"), kBatches[rng() % 3],
                                     std::to_string(head.value)};
    if (kafka != nullptr) {
      // A fresh group per incarnation: the killed member would hold its partitions until its
      // session timed out (Kafka's own behaviour, not what this test is about).
      args.insert(args.end(), {"kafka", kafka->bootstrap(), fmt::format("crash-{}", round)});
    } else {
      args.insert(args.end(), {"log", dir.Sub("log")});
    }
    Child child(args);
    if (round == run.rounds) {
      REQUIRE_MESSAGE(child.WaitFor("done", 120s), "the last projector did not finish");
      child.Kill();
    } else if (rng() % 5 == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));  // while loading
      child.Kill();
    } else {
      if (child.WaitFor("reading", 60s)) ++kills_reading;
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 10000));
      child.Kill();
    }
    CheckStore(dir.Sub("store"), **log, kafka.get(), last);
    {
      auto store = ProjectionStore::Open({.dir = dir.Sub("store")});
      REQUIRE(store.has_value());
      auto view = (*store)->View("runtime-test");
      if (view.has_value()) {
        const uint64_t records = testing::ReadTotals(**view)->records;
        if (records > previous_records && records < head.value) ++kills_part_way;
        previous_records = records;
      }
    }
  }
  MESSAGE(kills_reading, " kills while reading, ", kills_part_way, " of them part-way through");
  CHECK(kills_reading > 0);
  CHECK(kills_part_way > 0);
  // After the last round every projection holds the whole log.
  auto store = ProjectionStore::Open({.dir = dir.Sub("store")});
  REQUIRE(store.has_value());
  auto totals = testing::ReadTotals(**(*store)->View("runtime-test"));
  REQUIRE(totals.has_value());
  CHECK(totals->records == (*log)->head().position.value);
  REQUIRE((*sequencer)->Close().ok());
}

TEST_SUITE("projections") {
  TEST_CASE(
      "Runner: a projector killed with SIGKILL mid-batch resumes from the log without "
      "double counting") {
    RunCrashes({.kafka = false,
                .rounds = static_cast<uint32_t>(NumberFromEnv("HPF_CRASH_ROUNDS").value_or(16))});
  }

  TEST_CASE(
      "Runner: a projector killed with SIGKILL mid-batch resumes from Kafka without "
      "double counting") {
    RunCrashes({.kafka = true,
                .rounds = static_cast<uint32_t>(NumberFromEnv("HPF_CRASH_ROUNDS").value_or(6))});
  }
}

}  // namespace
}  // namespace hpf::projections
