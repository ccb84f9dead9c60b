// tests/fuzz/state_delta_fuzz.cc — libFuzzer target for the stored state delta format
// (events/internal/state_delta.h): ForEachStateOp on a RocksDB value, StateDeltaSequence on a
// key.
//
// Properties: no input crashes or reads outside itself; every key and value visited lies
// inside the input; a delta that decodes cleanly encodes back to exactly its bytes (so the
// format has one spelling per content); a key that decodes encodes back to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/internal/state_delta.h"
#include "tests/fuzz/fuzz_input.h"

namespace hpf::fuzz {
namespace {

namespace internal = ::hpf::events::internal;

void Inside(std::string_view part, std::string_view whole) {
  HPF_ASSERT(part.data() >= whole.data());
  HPF_ASSERT(part.data() + part.size() <= whole.data() + whole.size());
}

void FuzzDelta(std::string_view value) {
  std::vector<events::AppendBatch::StateOp> ops;
  const Status status = internal::ForEachStateOp(
      value, [&](std::string_view key, std::optional<std::string_view> stored) {
        Inside(key, value);
        if (stored) Inside(*stored, value);
        ops.push_back({.key = std::string(key),
                       .value = stored ? std::string(*stored) : std::string(),
                       .is_delete = !stored.has_value()});
      });
  Consume(status.message());
  if (!status.ok()) return;
  std::string again;
  internal::AppendStateOps(ops, again);
  // An empty delta is stored as nothing at all, never as a lone format byte.
  HPF_ASSERT(again == value || (ops.empty() && again.empty()));
}

void FuzzKey(std::string_view key) {
  const Result<uint64_t> sequence = internal::StateDeltaSequence(key);
  if (!sequence.has_value()) return;
  HPF_ASSERT(internal::StateDeltaKey(*sequence) == key);
}

}  // namespace
}  // namespace hpf::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  hpf::fuzz::FuzzDelta(input);
  hpf::fuzz::FuzzKey(input.substr(0, 8));
  return 0;
}
