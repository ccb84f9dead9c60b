// tools/ledgerd/strict_json.h — JSON from outside, parsed strictly (RFC 8259 and no more).
//
// Boost.JSON's own parser keeps the last of duplicate keys and turns integers beyond 64 bits
// into doubles; money cannot be read that way. This parser (Boost.JSON's SAX parser with our
// handler) refuses, each with its own code and the byte offset:
//   invalid_utf8     bytes that are not UTF-8 (anywhere in the text)
//   malformed_json   a syntax error, comments, trailing commas, trailing data, empty text
//   duplicate_key    the same key twice in one object
//   number_overflow  an integer literal outside int64 / uint64 (-2^63 .. 2^64-1)
//   json_too_deep    nesting beyond `depth_max`
// Integers arrive as int64 (or uint64 above INT64_MAX); every other number as a double.
// Thread safety: a pure function.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <variant>

#include <boost/json/value.hpp>

#include "tools/ledgerd/http_types.h"

namespace hpf::ledgerd {

// The value owns its memory. With `scratch`, the value's memory comes from it first (and
// from the heap once it is used up): no allocation for a value that fits. REQUIRES: the
// scratch outlives the value and serves one value at a time.
std::variant<boost::json::value, InputError> ParseStrictJson(std::string_view text,
                                                             size_t depth_max,
                                                             std::span<unsigned char> scratch = {});

}  // namespace hpf::ledgerd
