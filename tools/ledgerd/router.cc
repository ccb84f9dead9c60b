// tools/ledgerd/router.cc
#include "tools/ledgerd/router.h"

#include <atomic>
#include <exception>
#include <memory>

#include <fmt/core.h>

namespace hpf::ledgerd {

namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 1;  // past the leading '/'
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool IsPlaceholder(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(HttpMethod method, std::string_view pattern, Access access, Handler handler) {
  HPF_ASSERT(!pattern.empty());
  HPF_ASSERT(pattern.front() == '/');
  for (const Route& route : routes_) {
    HPF_ASSERT(!(route.method == method && route.pattern == pattern));
  }
  Route route{.method = method,
              .segments = {},
              .pattern = std::string(pattern),
              .access = access,
              .handler = std::move(handler)};
  for (const std::string_view segment : Split(pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

bool Router::Match(const Route& route, const std::vector<std::string_view>& segments,
                   std::vector<std::pair<std::string, std::string>>* params) {
  if (route.segments.size() != segments.size()) return false;
  params->clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& expected = route.segments[i];
    if (IsPlaceholder(expected)) {
      if (segments[i].empty()) return false;
      params->emplace_back(expected.substr(1, expected.size() - 2), std::string(segments[i]));
    } else if (expected != segments[i]) {
      return false;
    }
  }
  return true;
}

void Router::Dispatch(HttpRequest&& request, Reply reply) const {
  // Segments are split before they are decoded, so that "%2F" stays inside its segment.
  const std::string_view raw_path =
      request.target.empty() ? std::string_view(request.path)
                             : std::string_view(request.target).substr(0, request.target.find('?'));
  std::vector<std::string> decoded;
  for (const std::string_view segment : Split(raw_path)) {
    decoded.push_back(PercentDecode(segment, false).value_or(std::string(segment)));
  }
  const std::vector<std::string_view> segments(decoded.begin(), decoded.end());
  const Route* found = nullptr;
  std::string allowed;
  std::vector<std::pair<std::string, std::string>> params;
  for (const Route& route : routes_) {
    if (!Match(route, segments, &params)) continue;
    if (route.method == request.method) {
      found = &route;
      break;
    }
    allowed += (allowed.empty() ? "" : ", ") + std::string(HttpMethodName(route.method));
  }
  if (found == nullptr) {
    if (!allowed.empty()) {
      HttpResponse response =
          JsonError(405, "method_not_allowed",
                    fmt::format("{} does not take {}; it takes {}", request.path,
                                HttpMethodName(request.method), allowed));
      response.headers.emplace_back("Allow", allowed);
      reply(std::move(response));
      return;
    }
    reply(JsonError(404, "not_found",
                    fmt::format("no endpoint {} (GET /v1/openapi.json lists them)",
                                JsonQuote(request.path.substr(0, 200)))));
    return;
  }
  params.clear();
  Match(*found, segments, &params);
  request.path_params = std::move(params);
  RequestContext context{.request = std::move(request), .principal = {}};
  if (found->access == Access::kPublic) {
    context.principal.name = "anonymous";
  } else {
    auto principal = authenticator_->Authenticate(context.request.authorization);
    if (auto* error = std::get_if<InputError>(&principal)) {
      HttpResponse response = JsonError(401, *error);
      response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ledgerd\"");
      reply(std::move(response));
      return;
    }
    context.principal = std::move(std::get<Principal>(principal));
    if (!RoleAllows(context.principal.role, found->access)) {
      const bool reads_only = context.principal.role == Role::kAuditor;
      reply(JsonError(403, "forbidden",
                      fmt::format("{} ({}) may not {} {}{}", context.principal.name,
                                  RoleName(context.principal.role), HttpMethodName(found->method),
                                  found->pattern, reads_only ? ": an auditor only reads" : "")));
      return;
    }
  }
  // A handler that throws (a third-party library: STYLE 5.4) answers 500, unless it already
  // replied.
  auto replied = std::make_shared<std::atomic<bool>>(false);
  Reply once = [replied, reply](HttpResponse response) {
    if (!replied->exchange(true)) reply(std::move(response));
  };
  try {
    found->handler(std::move(context), once);
  } catch (const std::exception& e) {
    once(JsonError(500, "internal", fmt::format("the request failed: {}", e.what())));
  } catch (...) {
    once(JsonError(500, "internal", "the request failed"));
  }
}

std::vector<std::string> Router::RouteNames() const {
  std::vector<std::string> names;
  for (const Route& route : routes_) {
    names.push_back(fmt::format("{} {}", HttpMethodName(route.method), route.pattern));
  }
  return names;
}

}  // namespace hpf::ledgerd
