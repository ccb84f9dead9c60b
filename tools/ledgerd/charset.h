// tools/ledgerd/charset.h — text encodings at the door: UTF-8 validation and GB18030 / GBK
// to UTF-8 conversion (glibc iconv). Banks still send GBK files; everything inside ledgerd and
// the ledger is UTF-8.
// Thread safety: pure functions (each conversion opens its own iconv descriptor).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tools/ledgerd/http_types.h"

namespace hpf::ledgerd {

// The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF), or nullopt if all of `text` is UTF-8.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);

enum class Charset : uint8_t {
  kUtf8,     // also US-ASCII
  kGb18030,  // GB18030, a superset of GBK and GB2312: one decoder serves all three
};

// The charset named by a Content-Type's `charset` parameter ("text/csv; charset=GBK");
// UTF-8 when there is none. An InputError (unsupported_charset) for a charset we do not
// decode, naming those we do.
std::variant<Charset, InputError> CharsetOfContentType(std::string_view content_type);

// `bytes` in UTF-8. From kUtf8 the bytes are only validated. An InputError (invalid_encoding)
// names the offset of the first byte that is not valid in `charset` (also a multi-byte
// sequence cut off at the end).
std::variant<std::string, InputError> ToUtf8(std::string_view bytes, Charset charset);

}  // namespace hpf::ledgerd
