// events/status.h — failures: Status (canonical code + message) and Result<T> (value or Status).
//
// Failures mean the environment let us down (I/O, corruption, a store we cannot read);
// business outcomes are rejections (ledger/rejection.h) and bugs are assertions
// (events/assert.h). Both types are [[nodiscard]]; discarding one is spelled IgnoreError().
// Result<T> mirrors std::expected's member names so it can become an alias later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "events/assert.h"

namespace hpf {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,     // the caller passed something malformed
  kNotFound = 2,            // no such position, key or file
  kAlreadyExists = 3,       // e.g. creating a store where one exists
  kFailedPrecondition = 4,  // the store is in a state that forbids the call (failed, closed)
  kCorruption = 5,          // stored bytes do not verify
  kIoError = 6,             // the disk or the OS failed
  kUnavailable = 7,         // a peer is down or the store is shutting down
  kDeadlineExceeded = 8,    // a bounded wait ran out
  kUnimplemented = 9,       // e.g. a store format newer than this build
  kInternal = 10,           // an invariant failed in a dependency
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE: message", for logs and CLI output.
  std::string ToString() const;

  // Discards a failure on purpose; the call site says why in a comment.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status CorruptionError(std::string message);
Status IoError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit like std::expected
  Result(Status status) : state_(std::move(status)) {  // NOLINT
    HPF_ASSERT(!std::get<Status>(state_).ok());
  }

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    HPF_ASSERT(has_value());
    return std::get<T>(state_);
  }
  const T& value() const& {
    HPF_ASSERT(has_value());
    return std::get<T>(state_);
  }
  T&& value() && {
    HPF_ASSERT(has_value());
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Status& error() const& {
    HPF_ASSERT(!has_value());
    return std::get<Status>(state_);
  }
  Status error() && {
    HPF_ASSERT(!has_value());
    return std::get<Status>(std::move(state_));
  }
  // The Status of either state: OK when a value is held.
  Status status() const { return has_value() ? Status() : std::get<Status>(state_); }

  void IgnoreError() const {}

 private:
  std::variant<T, Status> state_;
};

namespace internal {
inline Status ToStatus(Status status) { return status; }
template <typename T>
Status ToStatus(Result<T>&& result) {
  return std::move(result).error();
}
}  // namespace internal

}  // namespace hpf

#define HPF_STATUS_CONCAT_INNER(a, b) a##b
#define HPF_STATUS_CONCAT(a, b) HPF_STATUS_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define HPF_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::hpf::Status hpf_status_ = (expr);        \
    if (!hpf_status_.ok()) return hpf_status_; \
  } while (false)

// Evaluates `expr` (a Result<T>); on error returns its Status, else moves the value to `lhs`.
#define HPF_ASSIGN_OR_RETURN(lhs, expr) \
  HPF_ASSIGN_OR_RETURN_IMPL(HPF_STATUS_CONCAT(hpf_result_, __LINE__), lhs, expr)
#define HPF_ASSIGN_OR_RETURN_IMPL(result, lhs, expr)         \
  auto result = (expr);                                      \
  if (!result.has_value()) return std::move(result).error(); \
  lhs = std::move(result).value()
