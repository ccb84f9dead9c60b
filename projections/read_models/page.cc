// projections/read_models/page.cc
#include "projections/read_models/page.h"

#include <charconv>

#include <fmt/core.h>

namespace hpf::projections::read_models {

Status CheckPageRequest(const PageRequest& request) {
  if (request.limit == 0 || request.limit > kPageItemsMax) {
    return InvalidArgumentError(
        fmt::format("limit {} is outside 1 .. {}", request.limit, kPageItemsMax));
  }
  if (request.after.size() > kCursorBytesMax) {
    return InvalidArgumentError(
        fmt::format("cursor of {} bytes is longer than {}: not a cursor "
                    "this query returned",
                    request.after.size(), kCursorBytesMax));
  }
  return Status::Ok();
}

std::string FormatCursor(std::initializer_list<uint64_t> numbers) {
  std::string cursor;
  for (const uint64_t number : numbers) {
    if (!cursor.empty()) cursor.push_back('.');
    cursor += fmt::format("{}", number);
  }
  return cursor;
}

Result<std::vector<uint64_t>> ParseCursor(std::string_view cursor, size_t numbers_count) {
  std::vector<uint64_t> numbers;
  const char* at = cursor.data();
  const char* end = cursor.data() + cursor.size();
  while (numbers.size() < numbers_count) {
    if (!numbers.empty()) {
      if (at == end || *at != '.') break;
      ++at;
    }
    uint64_t number = 0;
    const auto [next, error] = std::from_chars(at, end, number);
    if (error != std::errc() || next == at) break;
    numbers.push_back(number);
    at = next;
  }
  if (numbers.size() != numbers_count || at != end) {
    return InvalidArgumentError(
        fmt::format("cursor \"{}\" is not one this query returned "
                    "({} number{} separated by '.')",
                    cursor, numbers_count, numbers_count == 1 ? "" : "s"));
  }
  return numbers;
}

}  // namespace hpf::projections::read_models
