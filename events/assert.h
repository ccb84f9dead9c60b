// events/assert.h — bugs: broken invariants abort with the condition and file:line.
//
// HPF_ASSERT is on in every build type (release included): a ledger that continues past a
// broken invariant can write wrong money. HPF_DEBUG_ASSERT is for O(n) checks and is compiled
// only in debug and sanitizer builds (when NDEBUG is not defined). One condition per assert,
// so the message names the culprit.
#pragma once

namespace hpf::internal {
[[noreturn]] void AssertFailed(const char* condition, const char* file, int line);
}  // namespace hpf::internal

#define HPF_ASSERT(cond)                                        \
  do {                                                          \
    if (!(cond)) [[unlikely]] {                                 \
      ::hpf::internal::AssertFailed(#cond, __FILE__, __LINE__); \
    }                                                           \
  } while (false)

#ifdef NDEBUG
#define HPF_DEBUG_ASSERT(cond) \
  do {                         \
  } while (false)
#else
#define HPF_DEBUG_ASSERT(cond) HPF_ASSERT(cond)
#endif
