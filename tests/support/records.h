// tests/support/records.h — small, valid records for event-log tests and benchmarks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/record.h"

namespace hpf::testing {

struct ReceiptSpec {
  std::string key;  // idempotency key (may be empty)
  int64_t amount_fen = 100'000;
  uint64_t employer_id = 1;
  std::string reference;  // bank reference; default = key
  uint32_t effective_date = 20220621;
};

// A BankReceiptRecorded record: Dr 101 (demand deposit 1) / Cr 219 (employer suspense). The
// command hash covers key, employer, amount and reference, so the same spec gives the same
// hash and any change gives another.
std::vector<uint8_t> MakeReceipt(const ReceiptSpec& spec);

// The same, built into `builder` without copying (for benchmarks); valid until its next use.
std::span<const uint8_t> BuildReceipt(events::RecordBuilder& builder, const ReceiptSpec& spec);

// A temp directory removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace hpf::testing
