// tools/ledgerd/router.h — method + path pattern → handler, so that an endpoint is a few lines:
//
//   router.Add(HttpMethod::kGet, "/v1/log/head", Access::kRead,
//              [&](const RequestContext& context, Reply reply) { reply(...); });
//
// Patterns are literal segments and "{name}" placeholders that match one non-empty segment
// ("/v1/bank-files/{kind}"). The router answers what no handler should repeat: 404 for an
// unknown path, 405 (with Allow) for a known path and another method, 401 without a valid
// bearer token and 403 when the principal's role lacks the route's access (auth.h), and 500
// if a handler throws (a third-party exception: STYLE 5.4).
// Thread safety: Add() before the server starts; Dispatch() from any thread afterwards.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/ledgerd/auth.h"
#include "tools/ledgerd/http_types.h"

namespace hpf::ledgerd {

struct RequestContext {
  HttpRequest request;
  // The authenticated principal; for Access::kPublic routes a principal named "anonymous"
  // with no role rights.
  Principal principal;
};

using Handler = std::function<void(RequestContext&& context, Reply reply)>;

class Router {
 public:
  // `authenticator` is borrowed and must outlive the router.
  explicit Router(const Authenticator* authenticator) : authenticator_(authenticator) {}

  // REQUIRES: `pattern` starts with '/'; no route with the same method and pattern yet.
  void Add(HttpMethod method, std::string_view pattern, Access access, Handler handler);

  // Finds the route, authenticates, authorises and calls its handler (on this thread), or
  // answers the error itself. `reply` is called exactly once.
  void Dispatch(HttpRequest&& request, Reply reply) const;

  // The routes as "METHOD pattern", in the order added (for tests and the startup banner).
  std::vector<std::string> RouteNames() const;

 private:
  struct Route {
    HttpMethod method;
    std::vector<std::string> segments;  // "{name}" for a placeholder
    std::string pattern;
    Access access;
    Handler handler;
  };
  static bool Match(const Route& route, const std::vector<std::string_view>& segments,
                    std::vector<std::pair<std::string, std::string>>* params);

  const Authenticator* authenticator_;
  std::vector<Route> routes_;
};

}  // namespace hpf::ledgerd
