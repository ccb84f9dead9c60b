// tools/ledgerd/http_types.h — a request and a response as handlers see them, free of Beast
// (DESIGN §7: Beast stays in http_server.cc), and the JSON error every failure answers with:
//   {"error":{"code":"…","message":"…"}}
// `code` is stable and machine-readable (snake_case); `message` is a sentence for people.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hpf::ledgerd {

enum class HttpMethod : uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };

std::string_view HttpMethodName(HttpMethod method);

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded path, without the query
  // Percent-decoded query parameters in order (a name may repeat; handlers refuse that).
  std::vector<std::pair<std::string, std::string>> query;
  // Path parameters filled by the router: "{kind}" in "/v1/bank-files/{kind}".
  std::vector<std::pair<std::string, std::string>> path_params;
  std::string authorization;  // the Authorization header, empty if absent
  std::string content_type;   // the Content-Type header, empty if absent
  std::string body;
  std::chrono::steady_clock::time_point received;

  // The value of a path parameter; empty if the route has none by that name.
  std::string_view PathParam(std::string_view name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Answers a request exactly once, from any thread.
using Reply = std::function<void(HttpResponse)>;

// Something the client sent that we refuse: a stable code and a sentence.
struct InputError {
  std::string code;
  std::string message;
};

// {"error":{"code":code,"message":message}} with the given HTTP status.
HttpResponse JsonError(unsigned status, std::string_view code, std::string_view message);
HttpResponse JsonError(unsigned status, const InputError& error);

// A JSON string literal (with quotes) for `text`, escaping what JSON requires. Invalid UTF-8
// is replaced by U+FFFD so that an answer quoting client bytes stays valid JSON.
std::string JsonQuote(std::string_view text);

// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space). nullopt if a percent escape is
// malformed or a decoded byte sequence is not valid UTF-8.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// Decodes %XX escapes of a path; nullopt if one is malformed.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// The query parameters a handler accepts: looks them up and reports anything else.
class QueryParams {
 public:
  explicit QueryParams(const HttpRequest& request) : request_(request) {}
  // Every parameter must be in `known` and appear at most once; otherwise an InputError
  // naming the first offender (unknown_query_parameter / repeated_query_parameter).
  std::optional<InputError> Check(std::initializer_list<std::string_view> known) const;
  std::optional<std::string_view> Get(std::string_view name) const;
  // "true" or "false" into *out (left as it is when absent); anything else is an InputError.
  std::optional<InputError> GetBool(std::string_view name, bool* out) const;

 private:
  const HttpRequest& request_;
};

}  // namespace hpf::ledgerd
