// tests/projections/read_models_test_support.cc
#include "tests/projections/read_models_test_support.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "events/record.h"
#include "tools/ledger-sim/city.h"

namespace hpf::projections::read_models::testing {

Result<std::optional<std::string>> MemoryStore::Get(std::string_view key) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStore::Scan(
    std::string_view prefix, std::string_view after,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  auto it = after.empty() || after < prefix ? keys_.lower_bound(prefix) : keys_.upper_bound(after);
  for (; it != keys_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    if (!visit(it->first, it->second)) break;
  }
  return Status::Ok();
}

void MemoryStore::Put(std::string_view key, std::string_view value) {
  keys_.insert_or_assign(std::string(key), std::string(value));
}

void MemoryStore::Delete(std::string_view key) {
  auto it = keys_.find(key);
  if (it != keys_.end()) keys_.erase(it);
}

Ledger::Ledger() : policy_(ledger::DefaultPolicy()) {
  auto log = events::EventLog::Open(
      {.data_dir = dir_.Sub("log"), .durability = events::Durability::kNoSync});
  REQUIRE_MESSAGE(log.has_value(), log.status().ToString());
  log_ = std::move(log).value();
  auto sequencer = ledger::Sequencer::Open({.log = log_.get(), .policy = &policy_});
  REQUIRE_MESSAGE(sequencer.has_value(), sequencer.status().ToString());
  sequencer_ = std::move(sequencer).value();
}

Ledger::~Ledger() {
  sequencer_->Close().IgnoreError();  // the test already checked what it needed
  log_->Close().IgnoreError();
}

uint64_t Ledger::Run(uint32_t date, ledger::CommandBody body, std::string actor,
                     std::string channel) {
  std::vector<ledger::Command> commands;
  commands.push_back(ledger::Command{.header = {.idempotency_key = fmt::format("t{}", ++keys_),
                                                .actor = std::move(actor),
                                                .channel = std::move(channel),
                                                .effective_date = date},
                                     .body = std::move(body)});
  const auto results = sequencer_->Submit(std::move(commands)).get();
  REQUIRE(results.size() == 1);
  if (const auto* rejected = std::get_if<ledger::CommandRejected>(&results[0])) {
    FAIL("command ", keys_, " rejected: ", rejected->detail.message);
  }
  if (const auto* failed = std::get_if<ledger::CommandFailed>(&results[0])) {
    FAIL("command ", keys_, " failed: ", failed->status.ToString());
  }
  REQUIRE(std::holds_alternative<ledger::CommandAccepted>(results[0]));
  return std::get<ledger::CommandAccepted>(results[0]).position.value;
}

ledger::State Ledger::Snapshot() { return sequencer_->SnapshotForTesting(); }

LoggedRecords::LoggedRecords(const events::EventLog& log) {
  const Status scanned =
      log.Scan(events::GlobalPosition{1}, log.head().position, [&](const events::RecordRef& ref) {
        std::vector<uint64_t> words((ref.record.size() + 7) / 8);
        std::memcpy(words.data(), ref.record.data(), ref.record.size());
        storage_.push_back(std::move(words));
        const std::span<const uint8_t> bytes(
            reinterpret_cast<const uint8_t*>(storage_.back().data()), ref.record.size());
        auto record = events::VerifyRecord(bytes);
        REQUIRE(record.has_value());
        records_.push_back({ref.position, *record, bytes});
        return true;
      });
  REQUIRE_MESSAGE(scanned.ok(), scanned.ToString());
}

std::vector<SourcedRecord> LoggedRecords::Through(uint64_t position) const {
  std::vector<SourcedRecord> prefix;
  for (const SourcedRecord& record : records_) {
    if (record.position.value <= position) prefix.push_back(record);
  }
  return prefix;
}

void Fold(Projection& projection, MemoryStore& store, const std::vector<SourcedRecord>& records,
          size_t batch_records) {
  REQUIRE(batch_records > 0);
  for (size_t at = 0; at < records.size(); at += batch_records) {
    const size_t count = std::min(batch_records, records.size() - at);
    const std::span<const SourcedRecord> batch(records.data() + at, count);
    const Status applied = projection.Apply(batch, store);
    REQUIRE_MESSAGE(applied.ok(), projection.name(), ": ", applied.ToString());
    for (const SourcedRecord& record : batch) {
      store.set_position(std::max(store.position(), record.position));
    }
  }
}

Status ApplyAll(Projection& projection, MemoryStore& store,
                const std::vector<SourcedRecord>& records) {
  return projection.Apply(records, store);
}

std::vector<SourcedRecord> ShuffleStreams(const std::vector<SourcedRecord>& records,
                                          uint64_t seed) {
  // Each stream's records in order, then drawn from a random non-empty stream at each step.
  std::map<std::pair<uint8_t, uint64_t>, std::vector<SourcedRecord>> streams;
  for (const SourcedRecord& record : records) {
    const auto* envelope = record.record->envelope();
    streams[{static_cast<uint8_t>(envelope->stream_kind()), envelope->stream_id()}].push_back(
        record);
  }
  std::vector<std::pair<std::vector<SourcedRecord>*, size_t>> open;
  for (auto& [key, list] : streams) open.emplace_back(&list, 0);
  std::mt19937_64 rng(seed);
  std::vector<SourcedRecord> mixed;
  mixed.reserve(records.size());
  while (!open.empty()) {
    const size_t pick = static_cast<size_t>(rng() % open.size());
    auto& [list, next] = open[pick];
    mixed.push_back((*list)[next++]);
    if (next == list->size()) {
      open[pick] = open.back();
      open.pop_back();
    }
  }
  return mixed;
}

CityRun RunCity(Ledger& ledger, uint32_t employers, uint32_t accounts_per_employer, uint64_t seed) {
  CityRun run;
  std::vector<ledger::Command> commands;
  const sim::CityCounts counts = sim::GenerateCity(
      {.seed = seed, .employers = employers, .accounts_per_employer = accounts_per_employer},
      [&](ledger::Command&& command) { commands.push_back(std::move(command)); });
  const auto results = ledger.sequencer().Submit(std::move(commands)).get();
  for (const auto& result : results) {
    if (const auto* rejected = std::get_if<ledger::CommandRejected>(&result)) {
      FAIL("city command rejected: ", rejected->detail.message);
    }
    REQUIRE(std::holds_alternative<ledger::CommandAccepted>(result));
  }
  run.commands = counts.commands;
  run.allocations = counts.allocations;
  run.accounts = counts.accounts;
  run.employers = counts.employers;
  return run;
}

}  // namespace hpf::projections::read_models::testing
