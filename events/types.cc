// events/types.cc
#include "events/types.h"

#include <charconv>

#include <fmt/core.h>

namespace hpf::events {

std::string ToHex(const Digest& digest) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out(digest.size() * 2, '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHexDigits[digest[i] >> 4];
    out[2 * i + 1] = kHexDigits[digest[i] & 0x0f];
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<Digest> DigestFromHex(std::string_view hex) {
  Digest digest{};
  if (hex.size() != digest.size() * 2) {
    return InvalidArgumentError(
        fmt::format("a digest is 64 hex characters, got {} characters", hex.size()));
  }
  for (size_t i = 0; i < digest.size(); ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return InvalidArgumentError(fmt::format("not a hex digit at offset {}", 2 * i));
    }
    digest[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return digest;
}

std::string FormatHeadDigest(const HeadDigest& head) {
  return fmt::format("{}:{}", head.position.value, ToHex(head.hash));
}

Result<HeadDigest> ParseHeadDigest(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgumentError("a head digest is POSITION:HASH, e.g. 1000:9f86d0...");
  }
  HeadDigest head;
  const std::string_view number = text.substr(0, colon);
  const auto [end, error] =
      std::from_chars(number.data(), number.data() + number.size(), head.position.value);
  if (error != std::errc() || end != number.data() + number.size() || number.empty()) {
    return InvalidArgumentError(fmt::format("'{}' is not a position", number));
  }
  HPF_ASSIGN_OR_RETURN(head.hash, DigestFromHex(text.substr(colon + 1)));
  return head;
}

}  // namespace hpf::events
