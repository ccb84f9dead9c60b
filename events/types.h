// events/types.h — the small value types of the event log: positions and digests.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/status.h"

namespace hpf::events {

// A record's global position in the log: gapless from 1; 0 means "before the first record".
struct GlobalPosition {
  uint64_t value = 0;
  auto operator<=>(const GlobalPosition&) const = default;
  GlobalPosition next() const { return GlobalPosition{value + 1}; }
};

// A 32-byte SHA-256 or SM3 digest.
using Digest = std::array<uint8_t, 32>;

// Lower-case hex of a digest (64 characters), and its inverse.
std::string ToHex(const Digest& digest);
Result<Digest> DigestFromHex(std::string_view hex);

// The head of the chain: the last position and its record's chain hash. An auditor keeps
// this pair; any change to the history it covers changes the hash. Position 0 with the zero
// digest is the empty log.
struct HeadDigest {
  GlobalPosition position;
  Digest hash{};
  bool operator==(const HeadDigest&) const = default;
};

// "POSITION:HEX", the form ledger-replay prints and accepts with --digest.
std::string FormatHeadDigest(const HeadDigest& head);
Result<HeadDigest> ParseHeadDigest(std::string_view text);

}  // namespace hpf::events
