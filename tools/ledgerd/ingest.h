// tools/ledgerd/ingest.h — hands decoded commands to the sequencer and calls back once their
// answers are durable, so that no HTTP thread ever waits for a disk.
//
// The sequencer answers submissions in the order they were queued (ledger/sequencer.h), so
// one completion thread waits for their futures front to back and runs each callback; it also
// counts every answer for /metrics.
// Thread safety: Submit() from any thread; Close() once, after the last Submit().
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "ledger/sequencer.h"
#include "tools/ledgerd/metrics.h"

namespace hpf::ledgerd {

using SubmitCallback = std::function<void(std::vector<ledger::CommandResult>)>;

class Ingestor {
 public:
  // Starts the completion thread. Both pointers are borrowed and must outlive the Ingestor;
  // `metrics` may be null.
  Ingestor(ledger::Sequencer* sequencer, Metrics* metrics);
  ~Ingestor();  // Close()
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  // Whether all-or-none submission (POST /v1/commands?atomic=true, bank files in
  // all-or-nothing mode) is available: the sequencer decides such a list as one unit and
  // appends none of it when any command is rejected (ledger/sequencer.h, "All or none").
  static constexpr bool kAllOrNoneSupported = true;

  // Queues `commands` (in order, after everything submitted before) and returns at once
  // (unless the sequencer's queue is full: then it blocks, which is back-pressure). `done`
  // runs on the completion thread with one result per command, once they are durable.
  // `options` says whether the list is all or none (ledger::Atomicity).
  // REQUIRES: !commands.empty(); Close() not called.
  void Submit(std::vector<ledger::Command> commands, SubmitCallback done,
              ledger::SubmitOptions options = {});

  // Waits until every submission has been answered and its callback has run, then stops the
  // completion thread. Idempotent.
  void Close();

 private:
  struct Pending {
    std::future<std::vector<ledger::CommandResult>> results;
    SubmitCallback done;
    std::chrono::steady_clock::time_point submitted;
    size_t commands = 0;
  };
  void Run();
  void Count(const Pending& pending, const std::vector<ledger::CommandResult>& results);

  ledger::Sequencer* sequencer_;
  Metrics* metrics_;
  std::mutex submit_mutex_;  // keeps the queue in the sequencer's submission order
  std::mutex mutex_;         // guards the fields below
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool closing_ = false;
  std::thread thread_;
};

}  // namespace hpf::ledgerd
