// tools/ledger-replay/main.cc — the auditors' tool (DESIGN §4).
//
//   ledger-replay verify --data-dir DIR [--digest POSITION:HASH] [--json]
//
// Opens the store read-only (safe while ledgerd runs), walks the whole log and reports the
// first gap, broken link, altered record, undecodable record or unbalanced posting by position.
// Exit codes: 0 verified, 1 damage found (the position is printed), 2 bad usage, 3 the store
// could not be opened or read. `rebuild` and `diff` arrive with the projections (issue #4).
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "events/event_log.h"
#include "events/verify.h"

namespace {

using hpf::events::EventLog;
using hpf::events::FormatHeadDigest;
using hpf::events::HashAlgorithmName;
using hpf::events::ParseHeadDigest;
using hpf::events::VerifyLog;
using hpf::events::VerifyOptions;
using hpf::events::VerifyProblemName;
using hpf::events::VerifyReport;

constexpr int kExitVerified = 0;
constexpr int kExitDamaged = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreadable = 3;

int Usage(std::string_view problem) {
  if (!problem.empty()) fmt::print(stderr, "ledger-replay: {}\n", problem);
  fmt::print(stderr,
             "usage: ledger-replay verify --data-dir DIR [--digest POSITION:HASH] [--json]\n"
             "  Verifies the hash chain, positions, record encoding and double entry of the\n"
             "  whole log, and the head against an auditor's digest if given.\n");
  return kExitUsage;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

int Verify(int argc, char** argv) {
  std::string data_dir;
  std::optional<std::string> digest_text;
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (arg == "--digest" && i + 1 < argc) {
      digest_text = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else {
      return Usage(fmt::format("unknown or incomplete argument '{}'", arg));
    }
  }
  if (data_dir.empty()) return Usage("verify needs --data-dir DIR");
  VerifyOptions options;
  if (digest_text) {
    auto digest = ParseHeadDigest(*digest_text);
    if (!digest.has_value()) return Usage(fmt::format("--digest: {}", digest.error().message()));
    options.expected = *digest;
  }
  auto log = EventLog::OpenReadOnly(data_dir);
  if (!log.has_value()) {
    fmt::print(stderr, "ledger-replay: cannot open {}: {}\n", data_dir, log.error().ToString());
    return kExitUnreadable;
  }
  auto result = VerifyLog(**log, options);
  if (!result.has_value()) {
    fmt::print(stderr, "ledger-replay: cannot read {}: {}\n", data_dir, result.error().ToString());
    return kExitUnreadable;
  }
  const VerifyReport& report = *result;
  const std::string algorithm(HashAlgorithmName((*log)->hash_algorithm()));
  if (json) {
    fmt::print(
        "{{\"ok\":{},\"problem\":{},\"position\":{},\"detail\":{},\"records_checked\":{},"
        "\"head\":{},\"hash_algorithm\":{}}}\n",
        report.ok(), JsonString(VerifyProblemName(report.problem)), report.position.value,
        JsonString(report.detail), report.records_checked,
        JsonString(FormatHeadDigest(report.head)), JsonString(algorithm));
  } else if (report.ok()) {
    fmt::print("verified: {} records, chain {}, postings balanced\nhead {}\n",
               report.records_checked, algorithm, FormatHeadDigest(report.head));
    if (options.expected)
      fmt::print("matches the digest for position {}\n", options.expected->position.value);
  } else {
    fmt::print("FAILED at position {}: {} — {}\nlast good record: {}\n", report.position.value,
               VerifyProblemName(report.problem), report.detail, FormatHeadDigest(report.head));
  }
  return report.ok() ? kExitVerified : kExitDamaged;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("");
  const std::string_view command = argv[1];
  if (command == "verify") return Verify(argc, argv);
  if (command == "--help" || command == "-h") return Usage("");
  return Usage(fmt::format("unknown command '{}' (available: verify)", command));
}
