// events/hash_chain.h — the tamper-evident chain: hash(n) = H(hash(n-1) ‖ record bytes(n)).
//
// H is SHA-256 by default or SM3 (国密), chosen when a store is created and recorded in its
// header; both come from OpenSSL's EVP interface and give 32 bytes. hash(0) is all zeros.
// Thread safety: a ChainHasher is used by one thread at a time (it reuses its EVP context).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "events/status.h"
#include "events/types.h"

namespace hpf::events {

enum class HashAlgorithm : uint8_t {
  kSha256 = 1,
  kSm3 = 2,
};

// "sha256" / "sm3", as stored in the header and accepted on command lines.
std::string_view HashAlgorithmName(HashAlgorithm algorithm);
Result<HashAlgorithm> ParseHashAlgorithm(std::string_view name);

class ChainHasher {
 public:
  // Fails with kUnimplemented if the linked OpenSSL lacks the algorithm.
  static Result<std::unique_ptr<ChainHasher>> Create(HashAlgorithm algorithm);
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  HashAlgorithm algorithm() const { return algorithm_; }

  // Returns H(previous ‖ record).
  Digest Link(const Digest& previous, std::span<const uint8_t> record);

  // Returns H(bytes): the plain digest, used for command content hashes.
  Digest Plain(std::span<const uint8_t> bytes);

 private:
  struct Impl;
  ChainHasher(HashAlgorithm algorithm, std::unique_ptr<Impl> impl);
  HashAlgorithm algorithm_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpf::events
