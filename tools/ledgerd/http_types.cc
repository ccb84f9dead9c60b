// tools/ledgerd/http_types.cc
#include "tools/ledgerd/http_types.h"

#include <fmt/core.h>

#include "tools/ledgerd/charset.h"

namespace hpf::ledgerd {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendEscaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += fmt::format("\\u{:04x}", byte);
        } else {
          out += c;
        }
    }
  }
}

}  // namespace

std::string_view HttpMethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kHead:
      return "HEAD";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kDelete:
      return "DELETE";
    case HttpMethod::kPatch:
      return "PATCH";
    case HttpMethod::kOptions:
      return "OPTIONS";
    case HttpMethod::kOther:
      break;
  }
  return "OTHER";
}

std::string_view HttpRequest::PathParam(std::string_view name) const {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return {};
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  while (!text.empty()) {
    const auto bad = FirstInvalidUtf8(text);
    AppendEscaped(out, text.substr(0, bad.value_or(text.size())));
    if (!bad.has_value()) break;
    out += "\xEF\xBF\xBD";  // U+FFFD for the offending byte
    text.remove_prefix(*bad + 1);
  }
  out += '"';
  return out;
}

HttpResponse JsonError(unsigned status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = fmt::format("{{\"error\":{{\"code\":{},\"message\":{}}}}}", JsonQuote(code),
                              JsonQuote(message));
  return response;
}

HttpResponse JsonError(unsigned status, const InputError& error) {
  return JsonError(status, error.code, error.message);
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t equals = part.find('=');
    auto name = PercentDecode(part.substr(0, equals), true);
    auto value = PercentDecode(
        equals == std::string_view::npos ? std::string_view() : part.substr(equals + 1), true);
    if (!name.has_value() || !value.has_value()) return std::nullopt;
    if (FirstInvalidUtf8(*name).has_value() || FirstInvalidUtf8(*value).has_value()) {
      return std::nullopt;
    }
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::optional<InputError> QueryParams::Check(std::initializer_list<std::string_view> known) const {
  const auto& query = request_.query;
  for (size_t i = 0; i < query.size(); ++i) {
    bool found = false;
    for (const std::string_view name : known) found = found || query[i].first == name;
    if (!found) {
      std::string names;
      for (const std::string_view name : known)
        names += (names.empty() ? "" : ", ") + std::string(name);
      return InputError{"unknown_query_parameter",
                        fmt::format("unknown query parameter {}; this endpoint takes {}",
                                    JsonQuote(query[i].first.substr(0, 64)),
                                    names.empty() ? std::string("none") : names)};
    }
    for (size_t k = 0; k < i; ++k) {
      if (query[k].first == query[i].first) {
        return InputError{
            "repeated_query_parameter",
            fmt::format("query parameter {} is given more than once", JsonQuote(query[i].first))};
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> QueryParams::Get(std::string_view name) const {
  for (const auto& [key, value] : request_.query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<InputError> QueryParams::GetBool(std::string_view name, bool* out) const {
  const auto value = Get(name);
  if (!value.has_value()) return std::nullopt;
  if (*value == "true") {
    *out = true;
  } else if (*value == "false") {
    *out = false;
  } else {
    return InputError{"invalid_query_parameter",
                      fmt::format("query parameter {} must be true or false, not {}",
                                  std::string(name), JsonQuote(value->substr(0, 64)))};
  }
  return std::nullopt;
}

}  // namespace hpf::ledgerd
