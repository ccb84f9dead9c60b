// projections/read_models/internal/bytes.cc
#include "projections/read_models/internal/bytes.h"

#include <fmt/core.h>

#include "events/assert.h"

namespace hpf::projections::read_models::internal {

namespace {

template <typename T>
bool ReadBigEndian(std::string_view key, size_t at, T* value) {
  if (at > key.size() || key.size() - at < sizeof(T)) return false;
  T result = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    result = static_cast<T>((result << 8) | static_cast<uint8_t>(key[at + i]));
  }
  *value = result;
  return true;
}

template <typename T>
T FromLittleEndian(const char* at) {
  T result = 0;
  for (size_t i = sizeof(T); i > 0; --i) {
    result = static_cast<T>((result << 8) | static_cast<uint8_t>(at[i - 1]));
  }
  return result;
}

}  // namespace

bool ReadKey32(std::string_view key, size_t at, uint32_t* value) {
  return ReadBigEndian(key, at, value);
}
bool ReadKey64(std::string_view key, size_t at, uint64_t* value) {
  return ReadBigEndian(key, at, value);
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<uint8_t>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

void ValueWriter::Text(std::string_view text) {
  HPF_ASSERT(text.size() <= 0xffff);
  U16(static_cast<uint16_t>(text.size()));
  out_.append(text);
}

bool ValueReader::Take(size_t bytes, const char** at) {
  if (!ok_ || in_.size() - at_ < bytes) {
    ok_ = false;
    return false;
  }
  *at = in_.data() + at_;
  at_ += bytes;
  return true;
}

uint8_t ValueReader::U8() {
  const char* at = nullptr;
  return Take(1, &at) ? static_cast<uint8_t>(*at) : 0;
}

uint16_t ValueReader::U16() {
  const char* at = nullptr;
  return Take(2, &at) ? FromLittleEndian<uint16_t>(at) : 0;
}

uint32_t ValueReader::U32() {
  const char* at = nullptr;
  return Take(4, &at) ? FromLittleEndian<uint32_t>(at) : 0;
}

uint64_t ValueReader::U64() {
  const char* at = nullptr;
  return Take(8, &at) ? FromLittleEndian<uint64_t>(at) : 0;
}

std::string_view ValueReader::Text() {
  const uint16_t size = U16();
  return Raw(size);
}

std::string_view ValueReader::Raw(size_t bytes) {
  const char* at = nullptr;
  return Take(bytes, &at) ? std::string_view(at, bytes) : std::string_view();
}

Status ValueReader::Finish(std::string_view what) const {
  if (!ok_) {
    return CorruptionError(
        fmt::format("{}: stored value of {} bytes is truncated", what, in_.size()));
  }
  if (!at_end()) {
    return CorruptionError(
        fmt::format("{}: stored value has {} unexpected trailing bytes", what, in_.size() - at_));
  }
  return Status::Ok();
}

Status ValueReader::Invalid(std::string_view what, std::string_view problem) {
  return CorruptionError(fmt::format("{}: {}", what, problem));
}

}  // namespace hpf::projections::read_models::internal
