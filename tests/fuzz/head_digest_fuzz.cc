// tests/fuzz/head_digest_fuzz.cc — libFuzzer target for the text decoders of events/ that read
// command-line and header input: ParseHeadDigest and DigestFromHex (events/types.h, what
// `ledger-replay verify --digest` accepts) and ParseHashAlgorithm (events/hash_chain.h, the
// store header and --hash).
//
// Properties: no input crashes; whatever parses formats back to text that parses to the same
// value; a digest's hex is its input, lower-cased; an algorithm's name is its input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/hash_chain.h"
#include "events/types.h"
#include "tests/fuzz/fuzz_input.h"

namespace hpf::fuzz {
namespace {

std::string LowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void FuzzHeadDigest(std::string_view text) {
  const Result<events::HeadDigest> head = events::ParseHeadDigest(text);
  if (!head.has_value()) {
    Consume(head.error().message());
    return;
  }
  const Result<events::HeadDigest> again = events::ParseHeadDigest(events::FormatHeadDigest(*head));
  HPF_ASSERT(again.has_value());
  HPF_ASSERT(*again == *head);
}

void FuzzDigest(std::string_view text) {
  const Result<events::Digest> digest = events::DigestFromHex(text);
  if (!digest.has_value()) return;
  HPF_ASSERT(events::ToHex(*digest) == LowerCase(text));
}

void FuzzHashAlgorithm(std::string_view text) {
  const Result<events::HashAlgorithm> algorithm = events::ParseHashAlgorithm(text);
  if (!algorithm.has_value()) return;
  HPF_ASSERT(events::HashAlgorithmName(*algorithm) == text);
}

}  // namespace
}  // namespace hpf::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hpf::fuzz::FuzzHeadDigest(text);
  hpf::fuzz::FuzzHashAlgorithm(text);
  // The hash part of a head digest on its own, and whatever follows the first colon, so the
  // fuzzer reaches the hex decoder without first having to find a valid position.
  hpf::fuzz::FuzzDigest(text);
  const size_t colon = text.find(':');
  if (colon != std::string_view::npos) hpf::fuzz::FuzzDigest(text.substr(colon + 1));
  return 0;
}
