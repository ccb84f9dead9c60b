// tests/events/hash_chain_test.cc — the chain's hash functions against published vectors.
#include "events/hash_chain.h"

#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace hpf::events {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST_SUITE("events") {
  TEST_CASE("ChainHasher: SHA-256 and SM3 of \"abc\" match the published test vectors") {
    auto sha = ChainHasher::Create(HashAlgorithm::kSha256);
    REQUIRE(sha.has_value());
    // FIPS 180-2, appendix B.1.
    CHECK(ToHex((*sha)->Plain(Bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    auto sm3 = ChainHasher::Create(HashAlgorithm::kSm3);
    REQUIRE(sm3.has_value());
    // GB/T 32905-2016, example 1.
    CHECK(ToHex((*sm3)->Plain(Bytes("abc"))) ==
          "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  }

  TEST_CASE("ChainHasher: a link is the hash of the previous hash followed by the record") {
    auto sha = ChainHasher::Create(HashAlgorithm::kSha256);
    REQUIRE(sha.has_value());
    Digest previous{};
    previous[0] = 0x61;  // 'a'
    previous[31] = 0x7a;
    std::vector<uint8_t> joined(previous.begin(), previous.end());
    joined.push_back('x');
    CHECK((*sha)->Link(previous, Bytes("x")) == (*sha)->Plain(joined));
    CHECK((*sha)->Link(Digest{}, Bytes("x")) != (*sha)->Link(previous, Bytes("x")));
  }

  TEST_CASE("HeadDigest: POSITION:HASH parses back and bad text is refused") {
    HeadDigest head{GlobalPosition{42}, {}};
    head.hash[5] = 0xab;
    auto parsed = ParseHeadDigest(FormatHeadDigest(head));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == head);
    CHECK(!ParseHeadDigest("42").has_value());
    CHECK(!ParseHeadDigest("x:00").has_value());
    CHECK(!ParseHeadDigest("42:abc").has_value());
    CHECK(!ParseHashAlgorithm("md5").has_value());
  }
}

}  // namespace
}  // namespace hpf::events
