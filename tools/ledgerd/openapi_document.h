// tools/ledgerd/openapi_document.h — the OpenAPI 3 description of ledgerd's HTTP API, kept in
// the repository as docs/openapi.json and compiled into the binary (GET /v1/openapi.json).
#pragma once

#include <string_view>

namespace hpf::ledgerd {

// The bytes of docs/openapi.json as of the build.
std::string_view OpenApiDocument();

}  // namespace hpf::ledgerd
