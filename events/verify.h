// events/verify.h — walks a stored log and reports the first damage, by position.
//
// What an auditor runs (ledger-replay verify): every chunk is read raw, every record checked
// with the FlatBuffers verifier, its link (position, previous hash) compared with its
// predecessor, its stored chain hash recomputed, its postings checked for balance, and the
// final head compared with a digest the auditor kept. Nothing is trusted from the writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "events/event_log.h"

namespace hpf::events {

enum class VerifyProblem : uint8_t {
  kNone = 0,
  kGap,                // a position is missing (or duplicated, or out of order)
  kBrokenLink,         // the record's previous hash is not its predecessor's hash
  kHashMismatch,       // the stored hash is not H(previous ‖ record bytes)
  kUndecodable,        // the chunk or record bytes do not decode
  kUnbalanced,         // the postings do not balance
  kDigestMismatch,     // the history differs from the auditor's digest
  kShorterThanDigest,  // the log ends before the digest's position (truncated)
};

std::string_view VerifyProblemName(VerifyProblem problem);

struct VerifyOptions {
  std::optional<HeadDigest> expected;  // --digest POSITION:HASH
};

struct VerifyReport {
  VerifyProblem problem = VerifyProblem::kNone;
  GlobalPosition position;  // the first bad position (when problem != kNone)
  std::string detail;       // one sentence for people
  HeadDigest head;          // the last good record's position and hash
  uint64_t records_checked = 0;
  bool ok() const { return problem == VerifyProblem::kNone; }
};

// Verifies the whole log. A Status error means the store could not be read at all; damage
// inside it is a report.
Result<VerifyReport> VerifyLog(const EventLog& log, const VerifyOptions& options);

}  // namespace hpf::events
