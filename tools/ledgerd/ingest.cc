// tools/ledgerd/ingest.cc
#include "tools/ledgerd/ingest.h"

#include <utility>
#include <variant>

namespace hpf::ledgerd {

Ingestor::Ingestor(ledger::Sequencer* sequencer, Metrics* metrics)
    : sequencer_(sequencer), metrics_(metrics), thread_([this] { Run(); }) {}

Ingestor::~Ingestor() { Close(); }

void Ingestor::Submit(std::vector<ledger::Command> commands, SubmitCallback done,
                      ledger::SubmitOptions options) {
  HPF_ASSERT(!commands.empty());
  const size_t count = commands.size();
  std::lock_guard submit_lock(submit_mutex_);
  Pending pending{.results = sequencer_->Submit(std::move(commands), options),
                  .done = std::move(done),
                  .submitted = std::chrono::steady_clock::now(),
                  .commands = count};
  {
    std::lock_guard lock(mutex_);
    HPF_ASSERT(!closing_);
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
}

void Ingestor::Close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Ingestor::Run() {
  // Runs until Close() and an empty queue: answers each submission in order.
  while (true) {
    Pending pending;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      pending = std::move(queue_.front());
      queue_.pop_front();
    }
    std::vector<ledger::CommandResult> results = pending.results.get();
    HPF_ASSERT(results.size() == pending.commands);
    Count(pending, results);
    pending.done(std::move(results));
  }
}

void Ingestor::Count(const Pending& pending, const std::vector<ledger::CommandResult>& results) {
  if (metrics_ == nullptr) return;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t failed = 0;
  for (const ledger::CommandResult& result : results) {
    if (std::holds_alternative<ledger::CommandAccepted>(result)) {
      ++accepted;
    } else if (std::holds_alternative<ledger::CommandDuplicate>(result)) {
      ++duplicates;
    } else if (const auto* rejected = std::get_if<ledger::CommandRejected>(&result)) {
      metrics_->CountRejection(ledger::RejectionCode(rejected->detail.rejection));
    } else {
      ++failed;
    }
  }
  metrics_->CountSubmission(pending.commands, accepted, duplicates, failed,
                            std::chrono::steady_clock::now() - pending.submitted);
}

}  // namespace hpf::ledgerd
