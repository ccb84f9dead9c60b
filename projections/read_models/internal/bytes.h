// projections/read_models/internal/bytes.h — the byte forms the read models store: keys built
// of big-endian numbers (so that RocksDB's byte order is numeric order) and values of
// little-endian fields read back with bounds checks.
//
// Stored values are untrusted bytes (STYLE 5.5): ValueReader never reads past its input; the
// first short read marks it failed, later reads return zeros, and Finish() turns a failed or
// not fully consumed read into kCorruption naming what was being read.
// Thread safety: plain values; a writer or reader belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/status.h"

namespace hpf::projections::read_models::internal {

// Keys: big-endian, fixed width.
inline void AppendKey8(std::string& key, uint8_t value) { key.push_back(static_cast<char>(value)); }
inline void AppendKey32(std::string& key, uint32_t value) {
  const char bytes[4] = {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                         static_cast<char>(value >> 8), static_cast<char>(value)};
  key.append(bytes, sizeof(bytes));
}
inline void AppendKey64(std::string& key, uint64_t value) {
  AppendKey32(key, static_cast<uint32_t>(value >> 32));
  AppendKey32(key, static_cast<uint32_t>(value));
}
// Reads the big-endian number at `at` of `key`; false if the key is too short.
bool ReadKey32(std::string_view key, size_t at, uint32_t* value);
bool ReadKey64(std::string_view key, size_t at, uint64_t* value);

// The smallest key greater than every key that starts with `prefix` ("" if there is none):
// the end of a prefix range.
std::string PrefixEnd(std::string_view prefix);

// Values: little-endian fields appended to a string the caller owns (and reuses).
class ValueWriter {
 public:
  explicit ValueWriter(std::string& out) : out_(out) {}
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U16(uint16_t value) {
    const char bytes[2] = {static_cast<char>(value), static_cast<char>(value >> 8)};
    out_.append(bytes, sizeof(bytes));
  }
  void U32(uint32_t value) {
    const char bytes[4] = {static_cast<char>(value), static_cast<char>(value >> 8),
                           static_cast<char>(value >> 16), static_cast<char>(value >> 24)};
    out_.append(bytes, sizeof(bytes));
  }
  void U64(uint64_t value) {
    U32(static_cast<uint32_t>(value));
    U32(static_cast<uint32_t>(value >> 32));
  }
  void I32(int32_t value) { U32(static_cast<uint32_t>(value)); }
  void I64(int64_t value) { U64(static_cast<uint64_t>(value)); }
  // A u16 length and the bytes. REQUIRES: text.size() <= 65535.
  void Text(std::string_view text);
  void Raw(std::string_view bytes) { out_.append(bytes); }

 private:
  std::string& out_;
};

class ValueReader {
 public:
  explicit ValueReader(std::string_view in) : in_(in) {}
  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  int32_t I32() { return static_cast<int32_t>(U32()); }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  std::string_view Text();
  std::string_view Raw(size_t bytes);

  bool ok() const { return ok_; }
  bool at_end() const { return at_ == in_.size(); }
  size_t remaining() const { return in_.size() - at_; }
  // OK if every read was in bounds and all input was read; kCorruption naming `what` else.
  Status Finish(std::string_view what) const;
  // kCorruption naming `what` and `problem` (a value read fine but makes no sense).
  static Status Invalid(std::string_view what, std::string_view problem);

 private:
  bool Take(size_t bytes, const char** at);

  std::string_view in_;
  size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace hpf::projections::read_models::internal
