// tools/ledgerd/strict_json.cc — the one file that instantiates Boost.JSON's SAX parser.
#include "tools/ledgerd/strict_json.h"

#include <optional>
#include <string>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value_stack.hpp>
#include <fmt/core.h>

#include "tools/ledgerd/charset.h"

namespace hpf::ledgerd {

namespace {

namespace json = boost::json;

// Builds the value like boost::json::parser does, and refuses duplicate keys and integers
// beyond 64 bits on the way.
class StrictHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  explicit StrictHandler(json::storage_ptr storage)
      : storage_(std::move(storage)), stack_(storage_) {}

  json::value Release() { return stack_.release(); }
  const std::optional<InputError>& error() const { return error_; }

  bool on_document_begin(json::error_code&) {
    stack_.reset(storage_);
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack_.push_array(n);
    return true;
  }
  bool on_object_begin(json::error_code&) {
    levels_.push_back(keys_used_);
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    keys_used_ = levels_.back();
    levels_.pop_back();
    stack_.push_object(n);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    stack_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    // Objects are small (a command has ~10 keys): a linear scan of this level's keys. The
    // strings of `keys_` are reused, so a steady stream of objects allocates nothing here.
    for (size_t i = levels_.back(); i < keys_used_; ++i) {
      if (keys_[i] == key_) {
        error_ = InputError{"duplicate_key",
                            fmt::format("key {} appears twice in one object", JsonQuote(key_))};
        ec = json::error::syntax;
        return false;
      }
    }
    if (keys_used_ == keys_.size()) keys_.emplace_back();
    keys_[keys_used_++].assign(key_);
    key_.clear();
    stack_.push_key(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code& ec) {
    number_.append(s.data(), s.size());
    // Boost.JSON reads an integer literal that overflows 64 bits as a double: refuse it.
    if (number_.find_first_of(".eE") == std::string::npos) {
      error_ = InputError{
          "number_overflow",
          fmt::format("the integer {} does not fit in 64 bits (int64: -9223372036854775808 .. "
                      "9223372036854775807)",
                      number_.substr(0, 40))};
      ec = json::error::syntax;
      return false;
    }
    number_.clear();
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  json::storage_ptr storage_;
  json::value_stack stack_;
  std::string key_;
  std::string number_;
  std::vector<std::string> keys_;  // the keys of every open object, innermost last
  size_t keys_used_ = 0;
  std::vector<size_t> levels_;  // where each open object's keys start in keys_
  std::optional<InputError> error_;
};

}  // namespace

std::variant<json::value, InputError> ParseStrictJson(std::string_view text, size_t depth_max,
                                                      std::span<unsigned char> scratch) {
  if (const auto bad = FirstInvalidUtf8(text)) {
    return InputError{"invalid_utf8",
                      fmt::format("the body is not valid UTF-8 at byte {} (0x{:02X})", *bad,
                                  static_cast<uint8_t>(text[*bad]))};
  }
  json::parse_options options;
  options.max_depth = depth_max;
  options.allow_comments = false;
  options.allow_trailing_commas = false;
  options.allow_invalid_utf8 = true;  // validated above, faster
  json::basic_parser<StrictHandler> parser(
      options, scratch.empty() ? json::make_shared_resource<json::monotonic_resource>()
                               : json::make_shared_resource<json::monotonic_resource>(
                                     scratch.data(), scratch.size()));
  json::error_code ec;
  const size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (parser.handler().error().has_value()) {
    InputError error = *parser.handler().error();
    error.message += fmt::format(" (at byte {})", consumed);
    return error;
  }
  if (ec) {
    if (ec == json::error::too_deep) {
      return InputError{"json_too_deep", fmt::format("JSON nested deeper than {} levels at byte {}",
                                                     depth_max, consumed)};
    }
    if (ec == json::error::extra_data) {
      return InputError{"malformed_json",
                        fmt::format("unexpected data after the JSON value at byte {}", consumed)};
    }
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return InputError{"malformed_json", "the body is empty: expected a JSON value"};
    }
    return InputError{"malformed_json",
                      fmt::format("malformed JSON at byte {}: {}", consumed, ec.message())};
  }
  // write_some stops after one complete value: anything but whitespace after it is an error.
  const size_t rest = text.find_first_not_of(" \t\r\n", consumed);
  if (rest != std::string_view::npos) {
    return InputError{"malformed_json",
                      fmt::format("unexpected data after the JSON value at byte {}", rest)};
  }
  return parser.handler().Release();
}

}  // namespace hpf::ledgerd
