// tests/crash/crash_workload.cc
#include "tests/crash/crash_workload.h"

#include <charconv>
#include <cstring>
#include <span>
#include <vector>

#include <fmt/core.h>

#include "events/limits.h"
#include "events/record.h"

namespace hpf::testing::crash {

namespace {

namespace schema = ::hpf::schema::v1;

constexpr uint32_t kMessageMagic = 0x48504643;  // "HPFC"

uint64_t Fnv1a(std::span<const uint8_t> bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const uint8_t byte : bytes) {
    hash = (hash ^ byte) * 0x100000001b3ull;
  }
  return hash;
}

uint64_t MessageChecksum(const Message& message) {
  return Fnv1a({reinterpret_cast<const uint8_t*>(&message), offsetof(Message, checksum)});
}

// Parses the decimal number after `prefix` at the front of `text` and consumes both.
template <typename T>
bool ConsumeNumber(std::string_view& text, std::string_view prefix, T& out) {
  if (!text.starts_with(prefix)) {
    return false;
  }
  text.remove_prefix(prefix.size());
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (error != std::errc() || end == text.data()) {
    return false;
  }
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return true;
}

}  // namespace

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string CommandKey(const CommandId& id) {
  return fmt::format("r{}-t{}-c{}", id.round, id.thread, id.seq);
}

std::optional<CommandId> ParseCommandKey(std::string_view key) {
  CommandId id;
  if (!ConsumeNumber(key, "r", id.round) || !ConsumeNumber(key, "-t", id.thread) ||
      !ConsumeNumber(key, "-c", id.seq) || !key.empty()) {
    return std::nullopt;
  }
  return id;
}

uint32_t CommandParts(Workload workload, const CommandId& id) {
  if (workload == Workload::kLargeCommands) {
    return static_cast<uint32_t>(events::kCommandRecordsMax);
  }
  // Mostly single-record commands, as in production; one in five spans 2 or 3 records so that
  // a crash can land between the parts of a command.
  const uint64_t roll = Mix(Mix(Mix(id.round) ^ id.thread) ^ id.seq) % 100;
  if (roll < 80) {
    return 1;
  }
  return roll < 92 ? 2 : 3;
}

Status AddCommand(events::AppendBatch& batch, Workload workload, const CommandId& id) {
  const std::string key = CommandKey(id);
  const uint32_t parts = CommandParts(workload, id);
  // The command hash only has to tell commands apart; any stable function of the id does.
  events::Digest command_hash{};
  for (size_t i = 0; i < command_hash.size(); i += 8) {
    const uint64_t word =
        Mix(Fnv1a({reinterpret_cast<const uint8_t*>(key.data()), key.size()}) + i);
    std::memcpy(command_hash.data() + i, &word, 8);
  }
  const uint64_t employer_id = uint64_t{id.thread} + 1;
  constexpr uint64_t kDemandDepositId = 1;
  events::RecordBuilder builder;
  std::vector<std::vector<uint8_t>> records;
  records.reserve(parts);
  for (uint32_t part = 0; part < parts; ++part) {
    const int64_t amount_fen = static_cast<int64_t>(100 + (id.seq % 1000) + part);
    const std::string reference = fmt::format("{}/{}", key, part);
    auto& fbb = builder.fbb();
    const auto payload = schema::CreateBankReceiptRecordedDirect(
        fbb, employer_id, "ICBC", reference.c_str(), amount_fen, kDemandDepositId);
    const schema::Posting postings[] = {
        schema::Posting(101, schema::Side::Debit, schema::EntityKind::Deposit, 0, kDemandDepositId,
                        amount_fen),
        schema::Posting(219, schema::Side::Credit, schema::EntityKind::Employer, 0, employer_id,
                        amount_fen),
    };
    const auto bytes =
        builder.Finish(events::EnvelopeFields{.effective_date = 20220621,
                                              .stream_kind = schema::EntityKind::Employer,
                                              .stream_id = employer_id,
                                              .stream_version = id.seq + 1,
                                              .idempotency_key = key,
                                              .command_hash = command_hash,
                                              .command_part = static_cast<uint16_t>(part),
                                              .command_parts = static_cast<uint16_t>(parts),
                                              .actor = "crash-test",
                                              .channel = "test"},
                       schema::Event::BankReceiptRecorded, payload.Union(), postings);
    records.emplace_back(bytes.begin(), bytes.end());
  }
  std::vector<std::span<const uint8_t>> spans(records.begin(), records.end());
  return batch.AddCommand(spans);
}

std::string CountStateKey(uint32_t thread) { return fmt::format("count/{}", thread); }

void Seal(Message& message) {
  message.magic = kMessageMagic;
  message.checksum = MessageChecksum(message);
}

bool IsSealed(const Message& message) {
  return message.magic == kMessageMagic && message.checksum == MessageChecksum(message);
}

}  // namespace hpf::testing::crash
