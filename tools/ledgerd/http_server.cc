// tools/ledgerd/http_server.cc — the only file that includes Beast (see the header).
//
// One Session per connection, its operations serialised on a strand. Timeouts use the
// session's own timer rather than beast::tcp_stream's, because tcp_stream closes the socket on
// expiry and we want to tell a slow client why (408) before closing.
#include "tools/ledgerd/http_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/core.h>

#include "tools/ledgerd/charset.h"
#include "tools/ledgerd/http_types.h"
#include "tools/ledgerd/metrics.h"
#include "tools/ledgerd/router.h"

namespace hpf::ledgerd {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// After an answer that closes the connection, what the client still sends is drained for at
// most this long (and this much) before the socket closes, so that its TCP stack does not turn
// our answer into a reset (a "lingering close"). After an error the rest of the request may
// still be on its way; after a complete request a well-behaved client just closes.
constexpr uint32_t kLingerAfterErrorMs = 2'000;
constexpr uint32_t kLingerAfterAnswerMs = 250;
constexpr size_t kLingerBytesMax = 1 << 20;
// Bytes read while waiting for a request's first byte.
constexpr size_t kFirstReadBytes = 8192;

HttpMethod MethodOf(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return HttpMethod::kGet;
    case http::verb::head:
      return HttpMethod::kHead;
    case http::verb::post:
      return HttpMethod::kPost;
    case http::verb::put:
      return HttpMethod::kPut;
    case http::verb::delete_:
      return HttpMethod::kDelete;
    case http::verb::patch:
      return HttpMethod::kPatch;
    case http::verb::options:
      return HttpMethod::kOptions;
    default:
      return HttpMethod::kOther;
  }
}

class SessionBase;

// What the sessions share with the server.
struct Shared {
  HttpServerOptions options;
  const Router* router = nullptr;
  Metrics* metrics = nullptr;
  std::atomic<bool> stopping{false};

  std::mutex mutex;  // guards `sessions`
  std::condition_variable drained;
  std::map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
};

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Called (on the session's strand) when the server begins to shut down.
  virtual void OnShutdown() = 0;
  // Closes the connection now (on the session's strand).
  virtual void ForceClose() = 0;
  virtual net::any_io_executor executor() = 0;
};

enum class Phase : uint8_t {
  kHandshake,  // TLS handshake
  kIdle,       // waiting for a request's first byte
  kReading,    // a request is arriving
  kHandling,   // the router has the request; no bytes are read meanwhile
  kWriting,
  kLingering,  // the answer is out; draining before close
  kClosed,
};

// Stream is tcp::socket or ssl::stream<tcp::socket>.
template <typename Stream>
class Session final : public SessionBase {
 public:
  Session(std::shared_ptr<Shared> shared, Stream stream, bool reject)
      : shared_(std::move(shared)),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        reject_(reject) {}

  ~Session() override { Unregister(); }

  net::any_io_executor executor() override { return stream_.get_executor(); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = Self()] { self->Begin(); });
  }

  void OnShutdown() override {
    if (phase_ == Phase::kIdle) {
      // Bytes already on the socket are a request the client has sent: let it finish.
      error_code ec;
      if (Socket().available(ec) > 0 && !ec) return;
      Close();
    } else if (phase_ == Phase::kHandshake) {
      Close();
    }
    // kReading, kHandling, kWriting: finish; the answer carries Connection: close.
  }

  void ForceClose() override { Close(); }

 private:
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  tcp::socket& Socket() { return beast::get_lowest_layer(stream_); }
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  void Begin() {
    if (reject_) {
      keep_alive_ = false;
      Write(JsonError(503, "too_many_connections",
                      fmt::format("the server holds its maximum of {} connections; retry later",
                                  shared_->options.connections_max)),
            /*close_after=*/true);
      return;
    }
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Arm(shared_->options.request_read_timeout_ms);
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](const error_code& ec) {
        self->Disarm();
        if (ec) {
          self->Close();
          return;
        }
        self->WaitForRequest();
      });
    } else {
      WaitForRequest();
    }
  }

  // --- timer: one deadline at a time; expiry cancels the pending socket operation ---
  void Arm(uint32_t timeout_ms) {
    timed_out_ = false;
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    timer_.async_wait([self = Self(), generation](const error_code& ec) {
      if (ec || generation != self->timer_generation_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->Socket().cancel(ignored);
    });
  }
  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  // --- reading ---
  void WaitForRequest() {
    error_code ignored;
    if (shared_->stopping.load() && buffer_.size() == 0 && Socket().available(ignored) == 0) {
      Close();
      return;
    }
    phase_ = Phase::kIdle;
    if (buffer_.size() > 0) {  // the client sent the next request already
      ReadRequest();
      return;
    }
    Arm(shared_->options.idle_timeout_ms);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = Self()](const error_code& ec, size_t bytes) {
                              self->Disarm();
                              if (ec || bytes == 0) {
                                self->Close();  // idle timeout, client gone, or shutdown
                                return;
                              }
                              self->buffer_.commit(bytes);
                              self->ReadRequest();
                            });
  }

  void ReadRequest() {
    phase_ = Phase::kReading;
    request_complete_ = false;
    parser_.emplace();
    parser_->header_limit(shared_->options.header_bytes_max);
    parser_->body_limit(shared_->options.body_bytes_max);
    Arm(shared_->options.request_read_timeout_ms);  // for the whole request, however paced
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](const error_code& ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const error_code& ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    const auto& header = parser_->get();
    const auto expect = header[http::field::expect];
    if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
      // curl and others wait for this before sending a body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = Self()](const error_code& write_error, size_t) {
                         if (write_error) {
                           self->OnReadError(write_error);
                           return;
                         }
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = Self()](const error_code& ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(const error_code& ec) {
    Disarm();
    if (timed_out_) {
      Answer408();
      return;
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == ssl::error::stream_truncated) {
      Close();  // the client went away, or shutdown
      return;
    }
    keep_alive_ = false;
    if (ec == http::error::body_limit) {
      Write(JsonError(
                413, "body_too_large",
                fmt::format("the request body exceeds {} bytes", shared_->options.body_bytes_max)),
            true);
    } else if (ec == http::error::header_limit) {
      Write(JsonError(431, "header_too_large",
                      fmt::format("the request line and headers exceed {} bytes",
                                  shared_->options.header_bytes_max)),
            true);
    } else if (ec.category() == make_error_code(http::error::bad_method).category()) {
      Write(JsonError(400, "malformed_request",
                      fmt::format("not a valid HTTP/1.1 request: {}", ec.message())),
            true);
    } else {
      Close();  // a network error: nobody to answer
    }
  }

  void Answer408() {
    keep_alive_ = false;
    Write(JsonError(408, "request_timeout",
                    fmt::format("the request did not arrive within {} ms of its first byte",
                                shared_->options.request_read_timeout_ms)),
          true);
  }

  void OnRead(const error_code& ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    Disarm();
    request_complete_ = true;
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();
    HttpRequest request;
    request.received = std::chrono::steady_clock::now();
    request.method = MethodOf(message.method());
    request.target = std::string(message.target());
    const size_t question = request.target.find('?');
    const std::string_view raw_path = std::string_view(request.target).substr(0, question);
    auto path = PercentDecode(raw_path, false);
    std::optional<std::vector<std::pair<std::string, std::string>>> query;
    if (question != std::string::npos) {
      query = ParseQuery(std::string_view(request.target).substr(question + 1));
    } else {
      query.emplace();
    }
    if (!path.has_value() || raw_path.empty() || raw_path.front() != '/' ||
        FirstInvalidUtf8(*path).has_value() || !query.has_value()) {
      keep_alive_ = false;
      Write(JsonError(400, "malformed_target",
                      "the request target is not an absolute path with a well-formed, UTF-8 "
                      "query (percent escapes %XX)"),
            true);
      return;
    }
    request.path = std::move(*path);
    request.query = std::move(*query);
    request.authorization = std::string(message[http::field::authorization]);
    request.content_type = std::string(message[http::field::content_type]);
    request.body = std::move(message.body());
    phase_ = Phase::kHandling;
    auto replied = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [self = Self(), replied](HttpResponse response) {
      if (replied->exchange(true)) return;
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Write(std::move(response), false);
      });
    };
    shared_->router->Dispatch(std::move(request), std::move(reply));
  }

  // --- writing ---
  void Write(HttpResponse response, bool close_after) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kWriting;
    close_after_ = close_after || !keep_alive_ || shared_->stopping.load();
    if (shared_->metrics != nullptr) shared_->metrics->CountResponse(response.status);
    auto& out = response_.emplace();
    out.version(11);
    out.result(response.status);
    out.set(http::field::server, "ledgerd");
    out.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out.set(name, value);
    out.body() = std::move(response.body);
    out.keep_alive(!close_after_);
    out.prepare_payload();
    Arm(shared_->options.write_timeout_ms);
    http::async_write(stream_, out, [self = Self()](const error_code& ec, size_t) {
      self->Disarm();
      self->response_.reset();
      if (ec) {
        self->Close();
        return;
      }
      if (self->close_after_) {
        self->Linger(self->request_complete_ ? kLingerAfterAnswerMs : kLingerAfterErrorMs);
        return;
      }
      self->WaitForRequest();
    });
  }

  // Half-closes and drains what the client still sends, so our answer is not lost to a reset.
  void Linger(uint32_t linger_ms) {
    phase_ = Phase::kLingering;
    error_code ignored;
    if constexpr (!kTls) Socket().shutdown(tcp::socket::shutdown_send, ignored);
    Arm(linger_ms);
    DrainSome();
  }
  void DrainSome() {
    Socket().async_read_some(net::buffer(drain_),
                             [self = Self()](const error_code& ec, size_t bytes) {
                               self->drained_ += bytes;
                               if (ec || self->timed_out_ || self->drained_ >= kLingerBytesMax) {
                                 self->Disarm();
                                 self->Close();
                                 return;
                               }
                               self->DrainSome();
                             });
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    Disarm();
    error_code ignored;
    Socket().shutdown(tcp::socket::shutdown_both, ignored);
    Socket().close(ignored);
    // No longer a connection, even while a late reply still holds the object.
    Unregister();
  }

  void Unregister() {
    std::lock_guard lock(shared_->mutex);
    shared_->sessions.erase(this);
    shared_->drained.notify_all();
  }

  std::shared_ptr<Shared> shared_;
  Stream stream_;
  net::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  bool reject_;
  Phase phase_ = Phase::kIdle;
  bool keep_alive_ = true;
  bool close_after_ = false;
  bool request_complete_ = false;  // the last request was read whole
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> drain_{};
  size_t drained_ = 0;
};

}  // namespace

struct HttpServer::Impl {
  // Declared in this order so that the sessions still queued in `io` are destroyed before the
  // TLS context and the shared state they use.
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::optional<ssl::context> tls;
  net::io_context io;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool stopped = false;

  void Accept() {
    acceptor->async_accept(net::make_strand(io), [this](const error_code& ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) return;  // closing
        Accept();  // e.g. too many open files: keep serving the others
        return;
      }
      error_code ignored;
      // Once stopping, only a connection whose request is already waiting is served.
      if (shared->stopping.load() && socket.available(ignored) == 0) return;
      socket.set_option(tcp::no_delay(true), ignored);
      bool reject = false;
      {
        std::lock_guard lock(shared->mutex);
        reject = shared->sessions.size() >= shared->options.connections_max;
      }
      if (tls.has_value()) {
        Launch(std::make_shared<Session<ssl::stream<tcp::socket>>>(
            shared, ssl::stream<tcp::socket>(std::move(socket), *tls), reject));
      } else {
        Launch(std::make_shared<Session<tcp::socket>>(shared, std::move(socket), reject));
      }
      Accept();
    });
  }

  template <typename S>
  void Launch(std::shared_ptr<S> session) {
    {
      std::lock_guard lock(shared->mutex);
      shared->sessions.emplace(session.get(), session);
    }
    session->Start();
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(0); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      const Router* router, Metrics* metrics) {
  if (router == nullptr) return InvalidArgumentError("HttpServer needs a router");
  if (options.io_threads == 0 || options.io_threads > kIoThreadsMax) {
    return InvalidArgumentError(
        fmt::format("io_threads must be 1..{}, not {}", kIoThreadsMax, options.io_threads));
  }
  if (options.connections_max == 0 || options.header_bytes_max == 0 ||
      options.request_read_timeout_ms == 0 || options.idle_timeout_ms == 0 ||
      options.write_timeout_ms == 0) {
    return InvalidArgumentError("HttpServer limits and timeouts must be > 0");
  }
  auto impl = std::make_unique<Impl>();
  impl->shared->options = options;
  impl->shared->router = router;
  impl->shared->metrics = metrics;
  const bool want_tls =
      !options.tls.certificate_file.empty() || !options.tls.private_key_file.empty();
  if (want_tls) {
    if (options.tls.certificate_file.empty() || options.tls.private_key_file.empty()) {
      return InvalidArgumentError("TLS needs both a certificate file and a private key file");
    }
    auto& context = impl->tls.emplace(ssl::context::tls_server);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use);
    error_code ec;
    context.use_certificate_chain_file(options.tls.certificate_file, ec);
    if (ec) {
      return InvalidArgumentError(fmt::format("cannot load the TLS certificate {}: {}",
                                              options.tls.certificate_file, ec.message()));
    }
    context.use_private_key_file(options.tls.private_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError(fmt::format("cannot load the TLS private key {}: {}",
                                              options.tls.private_key_file, ec.message()));
    }
  }
  error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) {
    return InvalidArgumentError(
        fmt::format("cannot listen on \"{}\": not an IP address", options.host));
  }
  const tcp::endpoint endpoint(address, options.port);
  auto& acceptor = impl->acceptor.emplace(impl->io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError(
        fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()));
  }
  impl->port = acceptor.local_endpoint().port();
  impl->work.emplace(net::make_work_guard(impl->io));
  impl->Accept();
  Impl* raw = impl.get();
  for (size_t i = 0; i < options.io_threads; ++i) {
    impl->threads.emplace_back([raw] {
      // Runs until Shutdown() stops the io_context. Handlers do not throw (error_code
      // overloads); a throwing handler would be a bug, so it is not caught here.
      raw->io.run();
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

bool HttpServer::tls() const { return impl_->tls.has_value(); }

size_t HttpServer::connections() const {
  std::lock_guard lock(impl_->shared->mutex);
  return impl_->shared->sessions.size();
}

size_t HttpServer::Shutdown(uint32_t drain_timeout_ms) {
  Impl& impl = *impl_;
  if (impl.stopped) return 0;
  impl.stopped = true;
  Shared& shared = *impl.shared;
  shared.stopping.store(true);
  net::post(impl.io, [&impl] {
    error_code ignored;
    impl.acceptor->close(ignored);
  });
  // Tell every session; each finishes what it received and closes.
  auto each_session = [&shared](void (SessionBase::*what)()) {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(shared.mutex);
      for (auto& [raw, weak] : shared.sessions) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (auto& session : live) {
      net::post(session->executor(), [session, what] { (session.get()->*what)(); });
    }
  };
  each_session(&SessionBase::OnShutdown);
  size_t forced = 0;
  {
    std::unique_lock lock(shared.mutex);
    shared.drained.wait_for(lock, std::chrono::milliseconds(drain_timeout_ms),
                            [&shared] { return shared.sessions.empty(); });
    forced = shared.sessions.size();
  }
  if (forced > 0) {
    each_session(&SessionBase::ForceClose);
    std::unique_lock lock(shared.mutex);
    shared.drained.wait_for(lock, std::chrono::milliseconds(1000),
                            [&shared] { return shared.sessions.empty(); });
  }
  impl.work.reset();
  impl.io.stop();
  for (std::thread& thread : impl.threads) thread.join();
  impl.threads.clear();
  return forced;
}

}  // namespace hpf::ledgerd
