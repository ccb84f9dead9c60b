// events/verify.cc
#include "events/verify.h"

#include <fmt/core.h>

#include "events/internal/chunk_codec.h"
#include "events/record.h"

namespace hpf::events {

std::string_view VerifyProblemName(VerifyProblem problem) {
  switch (problem) {
    case VerifyProblem::kNone:
      return "ok";
    case VerifyProblem::kGap:
      return "gap";
    case VerifyProblem::kBrokenLink:
      return "broken_link";
    case VerifyProblem::kHashMismatch:
      return "hash_mismatch";
    case VerifyProblem::kUndecodable:
      return "undecodable";
    case VerifyProblem::kUnbalanced:
      return "unbalanced";
    case VerifyProblem::kDigestMismatch:
      return "digest_mismatch";
    case VerifyProblem::kShorterThanDigest:
      return "shorter_than_digest";
  }
  return "unknown";
}

Result<VerifyReport> VerifyLog(const EventLog& log, const VerifyOptions& options) {
  HPF_ASSIGN_OR_RETURN(auto hasher, ChainHasher::Create(log.hash_algorithm()));
  VerifyReport report;
  uint64_t expected = 1;
  Digest prev{};
  auto fail = [&report](VerifyProblem problem, uint64_t position, std::string detail) {
    report.problem = problem;
    report.position = GlobalPosition{position};
    report.detail = std::move(detail);
    return false;
  };
  auto check_record = [&](const internal::ChunkEntry& entry) {
    const uint64_t position = expected;
    auto record = VerifyRecord(entry.record);
    if (!record.has_value())
      return fail(VerifyProblem::kUndecodable, position, record.error().message());
    if (RecordPosition(**record).value != position) {
      return fail(VerifyProblem::kGap, position,
                  fmt::format("expected position {}, the record says {}", position,
                              RecordPosition(**record).value));
    }
    if (RecordPrevHash(**record) != prev) {
      return fail(VerifyProblem::kBrokenLink, position,
                  "the record's previous hash is not the hash of its predecessor");
    }
    const Digest computed = hasher->Link(prev, entry.record);
    if (!std::equal(computed.begin(), computed.end(), entry.hash.begin())) {
      return fail(VerifyProblem::kHashMismatch, position,
                  "the stored chain hash is not H(previous hash || record bytes): the record or "
                  "its hash was altered");
    }
    const Status balance = CheckPostingsBalance(**record);
    if (!balance.ok()) return fail(VerifyProblem::kUnbalanced, position, balance.message());
    prev = computed;
    report.head = HeadDigest{GlobalPosition{position}, computed};
    ++report.records_checked;
    ++expected;
    if (options.expected && options.expected->position.value == position &&
        options.expected->hash != computed) {
      return fail(VerifyProblem::kDigestMismatch, position,
                  fmt::format("the hash at position {} is {}, the digest says {}", position,
                              ToHex(computed), ToHex(options.expected->hash)));
    }
    return true;
  };
  HPF_RETURN_IF_ERROR(log.ScanChunks([&](std::string_view key, std::string_view value) {
    auto first = internal::PositionFromKey(key);
    if (!first.has_value())
      return fail(VerifyProblem::kUndecodable, expected, first.error().message());
    if (first->value != expected) {
      return fail(VerifyProblem::kGap, expected,
                  fmt::format("expected position {}, the next stored chunk starts at {}", expected,
                              first->value));
    }
    const uint64_t chunk_first = expected;
    const Status structure = internal::ForEachChunkEntry(
        value, [&](uint32_t, const internal::ChunkEntry& entry) { return check_record(entry); });
    if (report.ok() && !structure.ok()) {
      return fail(VerifyProblem::kUndecodable, expected,
                  fmt::format("chunk at {}: {}", chunk_first, structure.message()));
    }
    return report.ok();
  }));
  if (report.ok() && options.expected && options.expected->position > report.head.position) {
    fail(VerifyProblem::kShorterThanDigest, report.head.position.value + 1,
         fmt::format("the log ends at {} but the digest is for position {}: it was truncated",
                     report.head.position.value, options.expected->position.value));
  }
  return report;
}

}  // namespace hpf::events
