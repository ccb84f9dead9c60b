// projections/read_models/internal/lifecycle_status.h — the three states accounts and
// employers share (正常 normal = 1, 封存 sealed = 2, 销户 closed = 3): their names in the query
// API and the parsing of a status filter, written once for AccountStatus and EmployerStatus.
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <fmt/core.h>

#include "events/status.h"

namespace hpf::projections::read_models::internal {

inline constexpr std::array<std::string_view, 3> kLifecycleStatusNames = {"normal", "sealed",
                                                                          "closed"};

// "normal", "sealed", "closed" for 1, 2, 3; "unknown" for any other value.
inline std::string_view LifecycleStatusName(uint8_t value) {
  return value >= 1 && value <= kLifecycleStatusNames.size() ? kLifecycleStatusNames[value - 1]
                                                             : std::string_view("unknown");
}

// 1, 2 or 3 for "normal", "sealed", "closed"; kInvalidArgument naming `what` (e.g. "account
// status") for any other text.
inline Result<uint8_t> ParseLifecycleStatus(std::string_view what, std::string_view name) {
  for (uint8_t value = 1; value <= kLifecycleStatusNames.size(); ++value) {
    if (name == kLifecycleStatusNames[value - 1]) return value;
  }
  return InvalidArgumentError(
      fmt::format("{} \"{}\" is not one of normal, sealed, closed", what, name));
}

}  // namespace hpf::projections::read_models::internal
