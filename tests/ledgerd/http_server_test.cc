// tests/ledgerd/http_server_test.cc — the server core over real loopback connections: routing,
// keep-alive, size limits, timeouts against slow and idle clients, the connection cap,
// graceful shutdown, 100-continue and TLS with a throwaway certificate.
#include "tools/ledgerd/http_server.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "tests/support/records.h"
#include "tools/ledgerd/http_client.h"
#include "tools/ledgerd/router.h"

namespace hpf::ledgerd {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Replies that a test holds back, answered when the test says so.
struct HeldReplies {
  std::mutex mutex;
  std::vector<Reply> replies;
  void Add(Reply reply) {
    std::lock_guard lock(mutex);
    replies.push_back(std::move(reply));
  }
  void ReplyAll() {
    std::lock_guard lock(mutex);
    for (Reply& reply : replies) reply(HttpResponse{.status = 200, .body = "{}"});
    replies.clear();
  }
};

// A server with a few test routes, no authentication.
class TestServer {
 public:
  explicit TestServer(HttpServerOptions options = {}) : router_(&auth_) {
    router_.Add(HttpMethod::kGet, "/echo", Access::kPublic, [](RequestContext&& c, Reply r) {
      std::string query;
      for (const auto& [k, v] : c.request.query) query += k + "=" + v + ";";
      r(HttpResponse{
          .status = 200,
          .body = fmt::format("{{\"path\":\"{}\",\"query\":\"{}\"}}", c.request.path, query)});
    });
    router_.Add(HttpMethod::kPost, "/echo", Access::kPublic, [](RequestContext&& c, Reply r) {
      r(HttpResponse{.status = 200,
                     .body = fmt::format("{{\"bytes\":{}}}", c.request.body.size())});
    });
    router_.Add(HttpMethod::kGet, "/items/{id}/detail", Access::kPublic,
                [](RequestContext&& c, Reply r) {
                  r(HttpResponse{.status = 200, .body = std::string(c.request.PathParam("id"))});
                });
    router_.Add(HttpMethod::kGet, "/slow", Access::kPublic, [](RequestContext&&, Reply r) {
      std::thread([r] {
        std::this_thread::sleep_for(milliseconds(400));
        r(HttpResponse{.status = 200, .body = "{\"slow\":true}"});
      }).detach();
    });
    router_.Add(HttpMethod::kGet, "/throw", Access::kPublic,
                [](RequestContext&&, Reply) { throw std::runtime_error("boom"); });
    router_.Add(HttpMethod::kGet, "/held", Access::kPublic,
                [this](RequestContext&&, Reply r) { held_.Add(std::move(r)); });
    options.host = "127.0.0.1";
    options.port = 0;
    auto server = HttpServer::Start(options, &router_, nullptr);
    REQUIRE_MESSAGE(server.has_value(), server.status().ToString());
    server_ = std::move(server).value();
  }
  ~TestServer() {
    server_->Shutdown(2000);
    held_.ReplyAll();
    server_.reset();
  }

  HttpServer& server() { return *server_; }
  HeldReplies& held() { return held_; }
  uint16_t port() const { return server_->port(); }

  std::unique_ptr<HttpClient> Connect(HttpClientOptions options = {}) const {
    options.host = "127.0.0.1";
    options.port = port();
    auto client = HttpClient::Connect(options);
    REQUIRE_MESSAGE(client.has_value(), client.status().ToString());
    return std::move(client).value();
  }

 private:
  Authenticator auth_ = Authenticator::Disabled();
  Router router_;
  HeldReplies held_;
  std::unique_ptr<HttpServer> server_;
};

HttpClientResponse Must(Result<HttpClientResponse> response) {
  REQUIRE_MESSAGE(response.has_value(), response.status().ToString());
  return std::move(response).value();
}

std::string ErrorCode(const HttpClientResponse& response) {
  const size_t at = response.body.find("\"code\":\"");
  if (at == std::string::npos) return {};
  const size_t start = at + 8;
  return response.body.substr(start, response.body.find('"', start) - start);
}

TEST_SUITE("ledgerd") {
  TEST_CASE("HttpServer: keep-alive serves several requests on one connection") {
    TestServer test;
    auto client = test.Connect();
    for (int i = 0; i < 3; ++i) {
      const auto response = Must(client->Request("GET", fmt::format("/echo?i={}&s=a%20b+c", i)));
      CHECK(response.status == 200);
      CHECK(response.Header("content-type") == "application/json");
      CHECK(response.body == fmt::format("{{\"path\":\"/echo\",\"query\":\"i={};s=a b c;\"}}", i));
    }
    CHECK(test.server().connections() == 1);
    const auto posted = Must(client->Request("POST", "/echo", std::string(5000, 'x')));
    CHECK(posted.body == "{\"bytes\":5000}");
    CHECK(Must(client->Request("GET", "/items/A%2FB/detail")).body == "A/B");
  }

  TEST_CASE("HttpServer: unknown paths are 404, other methods 405 with Allow") {
    TestServer test;
    auto client = test.Connect();
    const auto missing = Must(client->Request("GET", "/nothing/here"));
    CHECK(missing.status == 404);
    CHECK(ErrorCode(missing) == "not_found");
    const auto wrong = Must(client->Request("DELETE", "/echo"));
    CHECK(wrong.status == 405);
    CHECK(ErrorCode(wrong) == "method_not_allowed");
    CHECK(wrong.Header("allow") == "GET, POST");
    CHECK(Must(client->Request("GET", "/items//detail")).status == 404);  // empty segment
  }

  TEST_CASE("HttpServer: a throwing handler answers 500 and the server goes on") {
    TestServer test;
    auto client = test.Connect();
    const auto failed = Must(client->Request("GET", "/throw"));
    CHECK(failed.status == 500);
    CHECK(failed.body.find("boom") != std::string::npos);
    CHECK(Must(client->Request("GET", "/echo")).status == 200);
  }

  TEST_CASE("HttpServer: a handler may reply later from another thread") {
    TestServer test;
    auto client = test.Connect();
    const auto start = Clock::now();
    const auto response = Must(client->Request("GET", "/slow"));
    CHECK(response.status == 200);
    CHECK(MillisSince(start) >= 390);
    CHECK(Must(client->Request("GET", "/echo")).status == 200);  // still kept alive
  }

  TEST_CASE("HttpServer: oversized headers get 431, oversized bodies 413 before they arrive") {
    TestServer test({.header_bytes_max = 1024, .body_bytes_max = 1000});
    {
      auto client = test.Connect();
      const auto response =
          Must(client->Request("GET", "/echo", {}, {{"X-Padding", std::string(2000, 'p')}}));
      CHECK(response.status == 431);
      CHECK(ErrorCode(response) == "header_too_large");
    }
    {
      auto client = test.Connect();
      // Only the header: the answer comes without the body being sent.
      REQUIRE(
          client->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n").ok());
      const auto response = Must(client->ReadResponse());
      CHECK(response.status == 413);
      CHECK(ErrorCode(response) == "body_too_large");
      CHECK(response.Header("connection") == "close");
    }
    {
      auto client = test.Connect();  // chunked: no length up front
      std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
      for (int i = 0; i < 3; ++i) request += "190\r\n" + std::string(400, 'c') + "\r\n";
      request += "0\r\n\r\n";
      REQUIRE(client->SendRaw(request).ok());
      const auto response = Must(client->ReadResponse());
      CHECK(response.status == 413);
    }
    {
      auto client = test.Connect();
      CHECK(Must(client->Request("POST", "/echo", std::string(1000, 'x'))).status == 200);
    }
  }

  TEST_CASE("HttpServer: malformed requests get a JSON 400 and the connection closes") {
    TestServer test;
    struct Case {
      std::string request;
      const char* code;
    };
    const std::vector<Case> cases = {
        {"GARBAGE\r\n\r\n", "malformed_request"},
        {"POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "malformed_request"},
        {"GET /echo%zz HTTP/1.1\r\nHost: x\r\n\r\n", "malformed_target"},
        {"GET /echo?a=%FF HTTP/1.1\r\nHost: x\r\n\r\n", "malformed_target"},
        {"GET echo HTTP/1.1\r\nHost: x\r\n\r\n", "malformed_target"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.request);
      auto client = test.Connect();
      REQUIRE(client->SendRaw(c.request).ok());
      const auto response = Must(client->ReadResponse());
      CHECK(response.status == 400);
      CHECK(ErrorCode(response) == c.code);
    }
    CHECK(Must(test.Connect()->Request("GET", "/echo")).status == 200);
  }

  TEST_CASE(
      "HttpServer: a client trickling bytes is cut off at the read timeout; others are served") {
    TestServer test({.request_read_timeout_ms = 400, .idle_timeout_ms = 5000});
    auto slow = test.Connect();
    REQUIRE(slow->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\n").ok());
    const auto start = Clock::now();
    std::atomic<bool> answered{false};
    Result<HttpClientResponse> answer = InternalError("no answer");
    double answered_after_ms = 0;
    std::thread reader([&] {
      answer = slow->ReadResponse();
      answered_after_ms = MillisSince(start);
      answered = true;
    });
    // One header byte every 50 ms: each arrives well within any per-byte timeout, and the
    // request never ends.
    while (!answered && MillisSince(start) < 5000) {
      if (!slow->SendRaw("X").ok()) break;
      // Meanwhile the server serves everyone else.
      CHECK(Must(test.Connect()->Request("GET", "/echo")).status == 200);
      std::this_thread::sleep_for(milliseconds(50));
    }
    reader.join();
    const auto response = Must(std::move(answer));
    CHECK(response.status == 408);
    CHECK(ErrorCode(response) == "request_timeout");
    CHECK(answered_after_ms >= 350);
    CHECK(answered_after_ms < 2000);
  }

  TEST_CASE("HttpServer: an idle keep-alive connection is closed at the idle timeout") {
    TestServer test({.idle_timeout_ms = 300});
    auto client = test.Connect();
    CHECK(Must(client->Request("GET", "/echo")).status == 200);
    const auto start = Clock::now();
    const auto next = client->ReadResponse();  // nothing was asked: waits for the close
    CHECK_FALSE(next.has_value());
    CHECK(client->peer_closed());
    CHECK(MillisSince(start) >= 250);
    CHECK(MillisSince(start) < 2000);
  }

  TEST_CASE("HttpServer: one connection beyond the cap gets 503") {
    TestServer test({.connections_max = 2});
    auto first = test.Connect();
    auto second = test.Connect();
    CHECK(Must(first->Request("GET", "/echo")).status == 200);
    CHECK(Must(second->Request("GET", "/echo")).status == 200);
    auto third = test.Connect();
    const auto refused = Must(third->ReadResponse());
    CHECK(refused.status == 503);
    CHECK(ErrorCode(refused) == "too_many_connections");
    first.reset();  // places free up
    third.reset();
    for (int i = 0; i < 100 && test.server().connections() > 1; ++i) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    CHECK(Must(test.Connect()->Request("GET", "/echo")).status == 200);
  }

  TEST_CASE("HttpServer: Expect: 100-continue is answered before the body is sent") {
    TestServer test;
    auto client = test.Connect();
    REQUIRE(client
                ->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                          "Content-Length: 5\r\n\r\n")
                .ok());
    std::this_thread::sleep_for(milliseconds(100));
    REQUIRE(client->SendRaw("12345").ok());
    const auto response = Must(client->ReadResponse());
    CHECK(response.informational == 1);
    CHECK(response.status == 200);
    CHECK(response.body == "{\"bytes\":5}");
  }

  TEST_CASE("HttpServer: shutdown finishes requests in progress, closes idle connections") {
    TestServer test;
    auto idle = test.Connect();
    CHECK(Must(idle->Request("GET", "/echo")).status == 200);
    auto busy = test.Connect();
    REQUIRE(busy->SendRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    std::this_thread::sleep_for(milliseconds(100));  // the request is being handled
    const auto start = Clock::now();
    const size_t forced = test.server().Shutdown(5000);
    CHECK(forced == 0);
    CHECK(MillisSince(start) >= 200);  // it waited for /slow
    const auto answer = Must(busy->ReadResponse());
    CHECK(answer.status == 200);
    CHECK(answer.body == "{\"slow\":true}");
    CHECK(answer.Header("connection") == "close");
    CHECK_FALSE(idle->ReadResponse().has_value());
    CHECK(idle->peer_closed());
    auto late = HttpClient::Connect({.host = "127.0.0.1", .port = test.port()});
    CHECK_FALSE(late.has_value());
  }

  TEST_CASE("HttpServer: shutdown closes what does not finish by the drain deadline") {
    TestServer test;
    auto client = test.Connect();
    REQUIRE(client->SendRaw("GET /held HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    for (int i = 0; i < 100 && test.held().replies.empty(); ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    const auto start = Clock::now();
    CHECK(test.server().Shutdown(300) == 1);
    CHECK(MillisSince(start) >= 280);
    CHECK_FALSE(client->ReadResponse().has_value());
    test.held().ReplyAll();  // a late reply to a closed connection is dropped
  }

  TEST_CASE("HttpServer: HTTPS with a throwaway self-signed certificate") {
    testing::TempDir dir;
    const auto make_cert = [&dir](std::string_view name) {
      const std::string command = fmt::format(
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
          "-keyout {0}/{1}.key -out {0}/{1}.pem -days 1 -subj /CN=127.0.0.1 "
          "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
          dir.path(), name);
      REQUIRE(std::system(command.c_str()) == 0);
    };
    make_cert("server");
    make_cert("stranger");
    TestServer test({.tls = {.certificate_file = dir.Sub("server.pem"),
                             .private_key_file = dir.Sub("server.key")}});
    CHECK(test.server().tls());
    auto client = test.Connect({.tls = TlsMode::kVerify, .ca_file = dir.Sub("server.pem")});
    for (int i = 0; i < 2; ++i) {
      const auto response = Must(client->Request("GET", "/echo?tls=1"));
      CHECK(response.status == 200);
      CHECK(response.body.find("tls=1") != std::string::npos);
    }
    // A client trusting another certificate refuses the server.
    auto distrust = HttpClient::Connect({.host = "127.0.0.1",
                                         .port = test.port(),
                                         .tls = TlsMode::kVerify,
                                         .ca_file = dir.Sub("stranger.pem")});
    CHECK_FALSE(distrust.has_value());
    // Plain HTTP to the TLS port gets no HTTP answer.
    auto plain = test.Connect();
    CHECK_FALSE(plain->Request("GET", "/echo").has_value());
    // Bad TLS files are refused at start.
    Router router(nullptr);
    auto bad = HttpServer::Start({.host = "127.0.0.1",
                                  .port = 0,
                                  .tls = {.certificate_file = dir.Sub("missing.pem"),
                                          .private_key_file = dir.Sub("server.key")}},
                                 &router, nullptr);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code() == StatusCode::kInvalidArgument);
  }

  TEST_CASE("HttpServer: bad options and an address in use are refused") {
    Router router(nullptr);
    CHECK(HttpServer::Start({.host = "not-an-ip", .port = 0}, &router, nullptr).error().code() ==
          StatusCode::kInvalidArgument);
    CHECK(HttpServer::Start({.port = 0, .io_threads = 0}, &router, nullptr).error().code() ==
          StatusCode::kInvalidArgument);
    auto first = HttpServer::Start({.host = "127.0.0.1", .port = 0}, &router, nullptr);
    REQUIRE(first.has_value());
    auto second =
        HttpServer::Start({.host = "127.0.0.1", .port = (*first)->port()}, &router, nullptr);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == StatusCode::kUnavailable);
  }
}

}  // namespace
}  // namespace hpf::ledgerd
