// projections/read_models/page.h — how list queries page: an `after` cursor and a limit in,
// the items and the cursor of the next page out (DESIGN §4: {"items":[…],"next":…}).
//
// A cursor is opaque text that the query itself produced (`next`); callers pass it back
// verbatim. An empty `after` starts at the first item; an empty `next` means there is no more.
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "projections/read_models/limits.h"

namespace hpf::projections::read_models {

struct PageRequest {
  std::string_view after;            // a `next` from an earlier page; empty: from the start
  size_t limit = kPageItemsDefault;  // 1 .. kPageItemsMax
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next;  // empty: this is the last page
};

// kInvalidArgument unless 1 <= limit <= kPageItemsMax and `after` is at most kCursorBytesMax.
Status CheckPageRequest(const PageRequest& request);

// Cursors made of unsigned decimal numbers separated by '.', e.g. "202206.17". Parse fails
// with kInvalidArgument naming the cursor if it has another shape or a number overflows.
std::string FormatCursor(std::initializer_list<uint64_t> numbers);
Result<std::vector<uint64_t>> ParseCursor(std::string_view cursor, size_t numbers_count);

}  // namespace hpf::projections::read_models
