// tools/ledgerd/charset.cc
#include "tools/ledgerd/charset.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iconv.h>
#include <string>

#include <fmt/core.h>

namespace hpf::ledgerd {

namespace {

bool IsContinuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Owns an iconv descriptor.
class Iconv {
 public:
  Iconv(const char* to, const char* from) : cd_(iconv_open(to, from)) {}
  ~Iconv() {
    if (ok()) iconv_close(cd_);
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

}  // namespace

std::optional<size_t> FirstInvalidUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    // ASCII, eight bytes at a time: almost all of a command batch or a bank file.
    while (i + 8 <= size) {
      uint64_t word = 0;
      std::memcpy(&word, bytes + i, sizeof(word));
      if ((word & 0x8080808080808080u) != 0) break;
      i += 8;
    }
    if (i == size) break;
    const uint8_t lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint8_t second_min = 0x80;
    uint8_t second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) second_min = 0xA0;  // no overlongs
      if (lead == 0xED) second_max = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) second_min = 0x90;  // no overlongs
      if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
    }
    if (i + length > size) return i;  // cut off at the end
    if (bytes[i + 1] < second_min || bytes[i + 1] > second_max) return i;
    for (size_t k = 2; k < length; ++k) {
      if (!IsContinuation(bytes[i + k])) return i;
    }
    i += length;
  }
  return std::nullopt;
}

std::variant<Charset, InputError> CharsetOfContentType(std::string_view content_type) {
  // Parameters follow ';': type/subtype; name=value; name="value".
  size_t semicolon = content_type.find(';');
  while (semicolon != std::string_view::npos) {
    std::string_view rest = content_type.substr(semicolon + 1);
    const size_t next = rest.find(';');
    std::string_view parameter = Trim(rest.substr(0, next));
    semicolon = next == std::string_view::npos ? next : semicolon + 1 + next;
    const size_t equals = parameter.find('=');
    if (equals == std::string_view::npos) continue;
    if (Lower(Trim(parameter.substr(0, equals))) != "charset") continue;
    std::string_view value = Trim(parameter.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    const std::string name = Lower(value);
    if (name == "utf-8" || name == "utf8" || name == "us-ascii") return Charset::kUtf8;
    if (name == "gb18030" || name == "gbk" || name == "gb2312" || name == "cp936") {
      return Charset::kGb18030;
    }
    return InputError{"unsupported_charset",
                      fmt::format("charset \"{}\" is not supported: send UTF-8, GB18030, GBK or "
                                  "GB2312 (Content-Type: text/csv; charset=GB18030)",
                                  std::string(value.substr(0, 64)))};
  }
  return Charset::kUtf8;
}

std::variant<std::string, InputError> ToUtf8(std::string_view bytes, Charset charset) {
  if (charset == Charset::kUtf8) {
    if (const auto bad = FirstInvalidUtf8(bytes)) {
      return InputError{"invalid_encoding",
                        fmt::format("the body is not valid UTF-8 at byte {} (0x{:02X}); a GBK "
                                    "file needs Content-Type: text/csv; charset=GB18030",
                                    *bad, static_cast<uint8_t>(bytes[*bad]))};
    }
    return std::string(bytes);
  }
  Iconv decoder("UTF-8", "GB18030");
  if (!decoder.ok()) {
    return InputError{"unsupported_charset", "this system's iconv cannot decode GB18030"};
  }
  std::string out;
  // GB18030 takes 1, 2 or 4 bytes per character, UTF-8 at most 4 bytes for them: two output
  // bytes per input byte always suffice, except for the 4-byte sequences that map to 4.
  out.resize(bytes.size() * 2 + 16);
  char* in = const_cast<char*>(bytes.data());  // iconv's signature; it does not write
  size_t in_left = bytes.size();
  char* out_next = out.data();
  size_t out_left = out.size();
  while (in_left > 0) {
    const size_t converted = iconv(decoder.get(), &in, &in_left, &out_next, &out_left);
    if (converted != static_cast<size_t>(-1)) continue;
    const size_t offset = bytes.size() - in_left;
    if (errno == E2BIG) {
      const size_t used = static_cast<size_t>(out_next - out.data());
      out.resize(out.size() * 2);
      out_next = out.data() + used;
      out_left = out.size() - used;
      continue;
    }
    if (errno == EINVAL) {
      return InputError{"invalid_encoding",
                        fmt::format("the body ends inside a GB18030 character at byte {} "
                                    "(a truncated file?)",
                                    offset)};
    }
    return InputError{"invalid_encoding",
                      fmt::format("byte {} (0x{:02X}) does not start a valid GB18030 / GBK "
                                  "character",
                                  offset, static_cast<uint8_t>(bytes[offset]))};
  }
  out.resize(static_cast<size_t>(out_next - out.data()));
  return out;
}

}  // namespace hpf::ledgerd
