// tools/ledgerd/http_client.h — a small blocking HTTP/1.1 client with keep-alive, over POSIX
// sockets and optionally TLS (OpenSSL): what ledger-bench, the tests and a posting ledger-sim
// use to talk to a ledgerd. Not a general client: Content-Length or chunked bodies, no
// redirects, no proxies.
// Thread safety: one HttpClient per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/status.h"

namespace hpf::ledgerd {

enum class TlsMode : uint8_t {
  kNone,      // plain HTTP
  kVerify,    // HTTPS; the server's certificate must chain to `ca_file` and name the host
  kInsecure,  // HTTPS without any verification (only for a throwaway local test server)
};

struct HttpClientOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 address
  uint16_t port = 8080;
  TlsMode tls = TlsMode::kNone;
  std::string ca_file;           // PEM, for TlsMode::kVerify
  uint32_t timeout_ms = 60'000;  // per send and per receive call
  // The answer's body, at most (a guard against a runaway peer).
  size_t response_bytes_max = 256u << 20;
};

struct HttpClientResponse {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  size_t informational = 0;  // 1xx answers (100 Continue) read before this one
  // The first header of that (lower-case) name; empty if absent.
  std::string_view Header(std::string_view name) const;
};

class HttpClient {
 public:
  // Connects (and handshakes). Unavailable if the server cannot be reached, InvalidArgument
  // for an unparsable host, Internal for TLS set-up errors.
  static Result<std::unique_ptr<HttpClient>> Connect(const HttpClientOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request (Host, Content-Length and the given headers) and reads its answer.
  Result<HttpClientResponse> Request(
      std::string_view method, std::string_view target, std::string_view body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Sends bytes exactly as given (tests of malformed or slow requests).
  Status SendRaw(std::string_view bytes);
  // Reads one answer (skipping 1xx). Unavailable with "closed" in the message if the server
  // closed the connection before an answer began.
  Result<HttpClientResponse> ReadResponse();
  // True once the server closed the connection (a read returned end of file).
  bool peer_closed() const { return peer_closed_; }

 private:
  struct Tls;
  HttpClient() = default;
  Status SendAll(std::string_view bytes);
  // Reads more bytes into buffer_; false at end of file or on error (`*status`).
  bool ReadMore(Status* status);

  int fd_ = -1;
  std::unique_ptr<Tls> tls_;
  HttpClientOptions options_;
  std::string buffer_;  // received, not yet consumed
  bool peer_closed_ = false;
};

}  // namespace hpf::ledgerd
