// ledger/internal/codec_support.h — what the ledger's byte codecs share: a little-endian
// writer and a bounds-checked reader, and FieldCount<T>(), which lets a codec fail to compile
// when a struct it encodes gains a field.
//
// The codecs (state_codec, command_hash, record_encoding) list every field of the structs
// they encode by hand, so that stored and hashed bytes never depend on declaration order.
// The price is that a field added to a struct would silently be left out; each codec
// therefore static_asserts FieldCount<T>() for every struct it encodes.
// Thread safety: plain values; a writer or reader belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace hpf::ledger::internal {

// Appends fixed-width little-endian integers and length-prefixed strings to a string.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void U8(uint8_t value) { out_->push_back(static_cast<char>(value)); }
  void U16(uint16_t value) { Unsigned(value, 2); }
  void U32(uint32_t value) { Unsigned(value, 4); }
  void U64(uint64_t value) { Unsigned(value, 8); }
  void I32(int32_t value) { Unsigned(static_cast<uint32_t>(value), 4); }
  void I64(int64_t value) { Unsigned(static_cast<uint64_t>(value), 8); }
  // A u32 byte count, then the bytes: two strings can never run into each other.
  void String(std::string_view value) {
    U32(static_cast<uint32_t>(value.size()));
    out_->append(value);
  }

 private:
  // One append per field, not one per byte: the sequencer encodes every changed account
  // of a group with this (its profile showed the byte-wise push_back).
  void Unsigned(uint64_t value, size_t bytes) {
    char little_endian[8];
    for (size_t i = 0; i < bytes; ++i) {
      little_endian[i] = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
    }
    out_->append(little_endian, bytes);
  }

  std::string* out_;
};

// Reads what ByteWriter wrote. A read past the end fails the reader for good: it returns
// zeros from then on and ok() is false, so a decoder reads every field and checks once.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  uint8_t U8() { return static_cast<uint8_t>(Unsigned(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Unsigned(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Unsigned(4)); }
  uint64_t U64() { return Unsigned(8); }
  int32_t I32() { return static_cast<int32_t>(static_cast<uint32_t>(Unsigned(4))); }
  int64_t I64() { return static_cast<int64_t>(Unsigned(8)); }
  // What ByteWriter::String() wrote: a u32 byte count, then the bytes (a view into the input).
  std::string_view String() {
    const auto size = static_cast<size_t>(Unsigned(4));
    if (!ok_ || remaining() < size) {
      ok_ = false;
      return {};
    }
    const std::string_view text = bytes_.substr(offset_, size);
    offset_ += size;
    return text;
  }

  bool ok() const { return ok_; }
  size_t remaining() const { return bytes_.size() - offset_; }

 private:
  uint64_t Unsigned(size_t bytes) {
    if (!ok_ || remaining() < bytes) {
      ok_ = false;
      return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i) {
      value |= uint64_t{static_cast<uint8_t>(bytes_[offset_ + i])} << (8 * i);
    }
    offset_ += bytes;
    return value;
  }

  std::string_view bytes_;
  size_t offset_ = 0;
  bool ok_ = true;
};

// --- FieldCount<T>(): the number of fields of an aggregate ---
// The largest N for which T{x1, ..., xN} compiles, where each x converts to anything. Used in
// static_asserts only (the conversion operator is never defined, never called).
struct AnyField {
  template <typename U>
  operator U() const noexcept;  // NOLINT: implicit on purpose
};

template <typename T, size_t... I>
constexpr bool BraceConstructible(std::index_sequence<I...> /*unused*/) {
  return requires { T{(static_cast<void>(I), AnyField{})...}; };
}

// Fields beyond this would be a design smell in a fact, a command or a state entry.
inline constexpr size_t kFieldCountMax = 32;

template <typename T, size_t N = 0>
constexpr size_t FieldCount() {
  if constexpr (N > kFieldCountMax) {
    return N;
  } else if constexpr (BraceConstructible<T>(std::make_index_sequence<N + 1>{})) {
    return FieldCount<T, N + 1>();
  } else {
    return N;
  }
}

}  // namespace hpf::ledger::internal
