// tools/ledgerd/http_client.cc
#include "tools/ledgerd/http_client.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <unistd.h>

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace hpf::ledgerd {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "no OpenSSL error queued";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace

struct HttpClient::Tls {
  SSL_CTX* context = nullptr;
  SSL* ssl = nullptr;
  ~Tls() {
    if (ssl != nullptr) SSL_free(ssl);
    if (context != nullptr) SSL_CTX_free(context);
  }
};

std::string_view HttpClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

HttpClient::~HttpClient() {
  if (tls_ != nullptr && tls_->ssl != nullptr && !peer_closed_) SSL_shutdown(tls_->ssl);
  tls_.reset();
  if (fd_ >= 0) close(fd_);
}

Result<std::unique_ptr<HttpClient>> HttpClient::Connect(const HttpClientOptions& options) {
  sockaddr_storage address{};
  socklen_t address_size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, options.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(options.port);
    address_size = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, options.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(options.port);
    address_size = sizeof(sockaddr_in6);
  } else {
    return InvalidArgumentError(fmt::format("\"{}\" is not an IP address", options.host));
  }
  std::unique_ptr<HttpClient> client(new HttpClient());
  client->options_ = options;
  client->fd_ = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client->fd_ < 0) return IoError(fmt::format("socket: {}", std::strerror(errno)));
  timeval timeout{.tv_sec = options.timeout_ms / 1000,
                  .tv_usec = static_cast<suseconds_t>(options.timeout_ms % 1000) * 1000};
  setsockopt(client->fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(client->fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  const int one = 1;
  setsockopt(client->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(client->fd_, reinterpret_cast<sockaddr*>(&address), address_size) != 0) {
    return UnavailableError(fmt::format("cannot connect to {}:{}: {}", options.host, options.port,
                                        std::strerror(errno)));
  }
  if (options.tls == TlsMode::kNone) return client;
  client->tls_ = std::make_unique<Tls>();
  Tls& tls = *client->tls_;
  tls.context = SSL_CTX_new(TLS_client_method());
  if (tls.context == nullptr) return InternalError("SSL_CTX_new: " + OpenSslError());
  SSL_CTX_set_min_proto_version(tls.context, TLS1_2_VERSION);
  if (options.tls == TlsMode::kVerify) {
    if (SSL_CTX_load_verify_locations(tls.context, options.ca_file.c_str(), nullptr) != 1) {
      return InvalidArgumentError(
          fmt::format("cannot load CA file {}: {}", options.ca_file, OpenSslError()));
    }
    SSL_CTX_set_verify(tls.context, SSL_VERIFY_PEER, nullptr);
  }
  tls.ssl = SSL_new(tls.context);
  if (tls.ssl == nullptr) return InternalError("SSL_new: " + OpenSslError());
  if (options.tls == TlsMode::kVerify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(tls.ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, options.host.c_str()) != 1) {
      return InternalError("cannot set the expected IP address: " + OpenSslError());
    }
  }
  SSL_set_fd(tls.ssl, client->fd_);
  if (SSL_connect(tls.ssl) != 1) {
    return UnavailableError(fmt::format("TLS handshake with {}:{} failed: {}", options.host,
                                        options.port, OpenSslError()));
  }
  return client;
}

Status HttpClient::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t sent = 0;
    if (tls_ != nullptr) {
      const int chunk = static_cast<int>(std::min<size_t>(bytes.size(), 1 << 30));
      sent = SSL_write(tls_->ssl, bytes.data(), chunk);
      if (sent <= 0) return UnavailableError("TLS write failed: " + OpenSslError());
    } else {
      sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        return UnavailableError(fmt::format("send: {}", std::strerror(errno)));
      }
    }
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return Status::Ok();
}

Status HttpClient::SendRaw(std::string_view bytes) { return SendAll(bytes); }

bool HttpClient::ReadMore(Status* status) {
  char chunk[65536];
  while (true) {
    ssize_t got = 0;
    if (tls_ != nullptr) {
      got = SSL_read(tls_->ssl, chunk, sizeof(chunk));
      if (got <= 0) {
        const int error = SSL_get_error(tls_->ssl, static_cast<int>(got));
        if (error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SYSCALL) {
          peer_closed_ = true;
          *status = UnavailableError("the server closed the connection");
        } else {
          *status = UnavailableError("TLS read failed: " + OpenSslError());
        }
        return false;
      }
    } else {
      got = recv(fd_, chunk, sizeof(chunk), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        const bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
        *status = timeout ? DeadlineExceededError("no answer within the timeout")
                          : UnavailableError(fmt::format("recv: {}", std::strerror(errno)));
        if (errno == ECONNRESET) peer_closed_ = true;
        return false;
      }
      if (got == 0) {
        peer_closed_ = true;
        *status = UnavailableError("the server closed the connection");
        return false;
      }
    }
    buffer_.append(chunk, static_cast<size_t>(got));
    return true;
  }
}

Result<HttpClientResponse> HttpClient::Request(
    std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Length: {}\r\n", method,
                                 target, options_.host, options_.port, body.size());
  for (const auto& [name, value] : headers) head += fmt::format("{}: {}\r\n", name, value);
  head += "\r\n";
  if (body.size() < 64 * 1024) {
    head.append(body);
    HPF_RETURN_IF_ERROR(SendAll(head));
  } else {
    HPF_RETURN_IF_ERROR(SendAll(head));
    HPF_RETURN_IF_ERROR(SendAll(body));
  }
  return ReadResponse();
}

Result<HttpClientResponse> HttpClient::ReadResponse() {
  size_t informational = 0;
  while (true) {
    size_t end = buffer_.find("\r\n\r\n");
    Status status;
    while (end == std::string::npos) {
      if (buffer_.size() > 1 << 20) return InternalError("the answer's header is over 1 MiB");
      if (!ReadMore(&status)) return status;
      end = buffer_.find("\r\n\r\n");
    }
    HttpClientResponse response;
    response.informational = informational;
    const std::string_view head(buffer_.data(), end);
    const size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
      return InternalError(fmt::format("not an HTTP status line: {}", status_line.substr(0, 80)));
    }
    const std::string_view code = status_line.substr(9, 3);
    if (std::from_chars(code.data(), code.data() + 3, response.status).ec != std::errc()) {
      return InternalError(fmt::format("bad status code in: {}", status_line.substr(0, 80)));
    }
    size_t content_length = 0;
    bool chunked = false;
    std::string_view rest =
        line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
      const size_t eol = rest.find("\r\n");
      const std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name = Lower(Trim(line.substr(0, colon)));
      std::string value(Trim(line.substr(colon + 1)));
      if (name == "content-length") {
        std::from_chars(value.data(), value.data() + value.size(), content_length);
      } else if (name == "transfer-encoding" && Lower(value).find("chunked") != std::string::npos) {
        chunked = true;
      }
      response.headers.emplace_back(std::move(name), std::move(value));
    }
    buffer_.erase(0, end + 4);
    if (response.status >= 100 && response.status < 200) {  // 100 Continue
      ++informational;
      continue;
    }
    if (content_length > options_.response_bytes_max) {
      return InternalError(
          fmt::format("the answer's body of {} bytes is too large", content_length));
    }
    if (chunked) {
      while (true) {
        size_t eol = buffer_.find("\r\n");
        while (eol == std::string::npos) {
          if (!ReadMore(&status)) return status;
          eol = buffer_.find("\r\n");
        }
        size_t size = 0;
        std::from_chars(buffer_.data(), buffer_.data() + eol, size, 16);
        while (buffer_.size() < eol + 2 + size + 2) {
          if (!ReadMore(&status)) return status;
        }
        response.body.append(buffer_, eol + 2, size);
        buffer_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
        if (response.body.size() > options_.response_bytes_max) {
          return InternalError("the answer's body is too large");
        }
      }
      return response;
    }
    while (buffer_.size() < content_length) {
      if (!ReadMore(&status)) return status;
    }
    response.body = buffer_.substr(0, content_length);
    buffer_.erase(0, content_length);
    return response;
  }
}

}  // namespace hpf::ledgerd
