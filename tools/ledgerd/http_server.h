// tools/ledgerd/http_server.h — HTTP/1.1 over TCP (Boost.Beast on Asio), optionally TLS.
//
// Each connection reads one request at a time (keep-alive, no pipelining of answers), hands it
// to the Router and writes the answer when the handler replies — possibly later, from another
// thread. Every connection is bounded in space and time (limits.h):
//   - header bytes (431) and body bytes (413), refused before they are buffered;
//   - an idle keep-alive connection is closed after idle_timeout_ms;
//   - once a request's first byte has arrived, the whole request must arrive within
//     request_read_timeout_ms, however the client paces it (a slowloris client gets 408 and
//     the connection is closed), and writing an answer within write_timeout_ms;
//   - at most connections_max connections; one more gets 503 and is closed.
// A malformed request gets a JSON 400 and the connection is closed (its framing is lost).
//
// Shutdown() is graceful: it stops accepting, closes idle connections, lets every request that
// was already received (or whose bytes are already waiting on the socket) finish — its
// handler replies, the answer is written with "Connection: close" — and returns when every
// connection is closed or the drain timeout passed. Nothing that was answered is lost: the
// handlers (ingest.h) answer only durable results.
//
// Beast lives only in http_server.cc (DESIGN §7: ~10 s and 0.7 GB to compile one such file).
// Thread safety: Start/Shutdown from one thread; the router is called on the I/O threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "events/status.h"
#include "tools/ledgerd/limits.h"

namespace hpf::ledgerd {

class Router;
class Metrics;

struct TlsOptions {
  std::string certificate_file;  // PEM, the certificate chain
  std::string private_key_file;  // PEM
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 address to listen on
  uint16_t port = 8080;            // 0 = any free port (tests); see HttpServer::port()
  size_t io_threads = 2;           // 1 .. kIoThreadsMax
  uint32_t header_bytes_max = kRequestHeaderBytesMax;
  uint64_t body_bytes_max = kRequestBodyBytesMax;
  uint32_t request_read_timeout_ms = kRequestReadTimeoutMs;
  uint32_t idle_timeout_ms = kIdleTimeoutMs;
  uint32_t write_timeout_ms = kWriteTimeoutMs;
  size_t connections_max = kConnectionsMax;
  // Set both files to serve HTTPS instead of HTTP (TLS 1.2 and 1.3 only).
  TlsOptions tls;
};

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. InvalidArgument for bad options or an
  // unparsable host, Unavailable if the address cannot be bound, InvalidArgument if the TLS
  // files cannot be loaded. `router` (and `metrics`, if not null) are borrowed and must
  // outlive the server.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   const Router* router, Metrics* metrics);
  ~HttpServer();  // Shutdown(0) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (useful with port 0).
  uint16_t port() const;
  bool tls() const;

  // Graceful stop (see the file comment), waiting at most `drain_timeout_ms` for requests in
  // progress. Returns the number of connections that had to be closed at the deadline (0 is
  // a clean drain). Idempotent.
  size_t Shutdown(uint32_t drain_timeout_ms);

  // Connections open now (for tests).
  size_t connections() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpf::ledgerd
