// events/internal/state_delta.cc
#include "events/internal/state_delta.h"

#include <cstring>

#include <fmt/core.h>

#include "events/assert.h"

namespace hpf::events::internal {

namespace {

constexpr uint8_t kPut = 1;
constexpr uint8_t kDelete = 2;

void AppendU32(std::string& out, size_t value) {
  HPF_ASSERT(value <= UINT32_MAX);
  const auto v = static_cast<uint32_t>(value);
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(bytes, 4);
}

bool ReadU32(std::string_view in, size_t& at, uint32_t& value) {
  if (in.size() - at < 4) return false;
  value = 0;
  for (int i = 0; i < 4; ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(in[at + static_cast<size_t>(i)]))
             << (8 * i);
  }
  at += 4;
  return true;
}

}  // namespace

void AppendStateOps(const std::vector<AppendBatch::StateOp>& ops, std::string& out) {
  if (ops.empty()) return;
  if (out.empty()) out.push_back(static_cast<char>(kStateDeltaFormat));
  for (const AppendBatch::StateOp& op : ops) {
    out.push_back(static_cast<char>(op.is_delete ? kDelete : kPut));
    AppendU32(out, op.key.size());
    out.append(op.key);
    if (!op.is_delete) {
      AppendU32(out, op.value.size());
      out.append(op.value);
    }
  }
}

Status ForEachStateOp(
    std::string_view delta,
    const std::function<void(std::string_view key, std::optional<std::string_view> value)>& visit) {
  if (delta.empty() || static_cast<uint8_t>(delta[0]) != kStateDeltaFormat) {
    return CorruptionError(fmt::format("state delta: format byte {} is not {}",
                                       delta.empty() ? -1 : static_cast<uint8_t>(delta[0]),
                                       kStateDeltaFormat));
  }
  size_t at = 1;
  while (at < delta.size()) {
    const size_t op_at = at;
    const auto kind = static_cast<uint8_t>(delta[at++]);
    uint32_t key_size = 0;
    if ((kind != kPut && kind != kDelete) || !ReadU32(delta, at, key_size) ||
        delta.size() - at < key_size) {
      return CorruptionError(fmt::format("state delta: malformed operation at byte {}", op_at));
    }
    const std::string_view key = delta.substr(at, key_size);
    at += key_size;
    if (kind == kDelete) {
      visit(key, std::nullopt);
      continue;
    }
    uint32_t value_size = 0;
    if (!ReadU32(delta, at, value_size) || delta.size() - at < value_size) {
      return CorruptionError(fmt::format("state delta: malformed value at byte {}", op_at));
    }
    visit(key, delta.substr(at, value_size));
    at += value_size;
  }
  return Status::Ok();
}

std::string StateDeltaKey(uint64_t sequence) {
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) {
    key[static_cast<size_t>(i)] = static_cast<char>((sequence >> (8 * (7 - i))) & 0xff);
  }
  return key;
}

Result<uint64_t> StateDeltaSequence(std::string_view key) {
  if (key.size() != 8) {
    return CorruptionError(fmt::format("state delta key of {} bytes, not 8", key.size()));
  }
  uint64_t sequence = 0;
  for (char c : key) sequence = (sequence << 8) | static_cast<uint8_t>(c);
  return sequence;
}

}  // namespace hpf::events::internal
