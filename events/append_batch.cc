// events/append_batch.cc
#include "events/append_batch.h"

#include <cstring>
#include <utility>

#include <fmt/core.h>

#include "events/limits.h"
#include "events/record.h"

namespace hpf::events {

namespace {
constexpr size_t kArenaBytesMax = size_t{1} << 31;  // offsets are u32
}  // namespace

Status AppendBatch::CheckCommand(size_t first, size_t count) const {
  if (arena_.size() * 8 >= kArenaBytesMax) {
    return InvalidArgumentError("a batch holds at most 2 GiB of records");
  }
  std::string_view key;
  for (size_t i = 0; i < count; ++i) {
    HPF_ASSIGN_OR_RETURN(const schema::Record* record, VerifyRecord(this->record(first + i)));
    HPF_RETURN_IF_ERROR(CheckPostingsBalance(*record));
    const auto* envelope = record->envelope();
    if (RecordPosition(*record).value != 0) {
      return InvalidArgumentError("a record to append must have a zero link (position 0)");
    }
    if (envelope->command_part() != i || envelope->command_parts() != count) {
      return InvalidArgumentError(
          fmt::format("record {} of a {}-record command is numbered part {} of {}", i, count,
                      envelope->command_part(), envelope->command_parts()));
    }
    const std::string_view record_key = RecordIdempotencyKey(*record);
    if (record_key.size() > kIdempotencyKeyBytesMax) {
      return InvalidArgumentError(fmt::format("idempotency key of {} bytes exceeds {}",
                                              record_key.size(), kIdempotencyKeyBytesMax));
    }
    if (i == 0) {
      key = record_key;
    } else if (record_key != key) {
      return InvalidArgumentError("every record of a command carries the same idempotency key");
    }
  }
  return Status::Ok();
}

Status AppendBatch::AddCommand(std::span<const std::span<const uint8_t>> records) {
  if (records.empty()) return InvalidArgumentError("a command has at least one record");
  if (records.size() > kCommandRecordsMax) {
    return InvalidArgumentError(fmt::format("a command has at most {} records, got {}",
                                            kCommandRecordsMax, records.size()));
  }
  if (record_count() + records.size() > kBatchRecordsMax) {
    return InvalidArgumentError(fmt::format("a batch holds at most {} records", kBatchRecordsMax));
  }
  // Copy the records in (8-byte aligned, as VerifyRecord requires), check them there, and
  // roll back on the first bad one so a rejected command leaves the batch unchanged.
  const size_t arena_words_before = arena_.size();
  const size_t records_before = record_offsets_.size();
  const size_t bytes_before = arena_bytes_;
  for (const auto& bytes : records) {
    const size_t offset_words = arena_.size();
    arena_.resize(offset_words + (bytes.size() + 7) / 8, 0);
    std::memcpy(arena_.data() + offset_words, bytes.data(), bytes.size());
    record_offsets_.push_back(
        RecordSlice{static_cast<uint32_t>(offset_words * 8), static_cast<uint32_t>(bytes.size())});
    arena_bytes_ += bytes.size();
  }
  Status status = CheckCommand(records_before, records.size());
  if (!status.ok()) {
    arena_.resize(arena_words_before);
    record_offsets_.resize(records_before);
    arena_bytes_ = bytes_before;
    return status;
  }
  command_first_record_.push_back(static_cast<uint32_t>(records_before));
  return Status::Ok();
}

Status AppendBatch::AddRecord(std::span<const uint8_t> record) {
  const std::span<const uint8_t> records[] = {record};
  return AddCommand(records);
}

Status AppendBatch::PutState(std::string key, std::string value) {
  if (key.empty() || key.size() > kStateKeyBytesMax) {
    return InvalidArgumentError(fmt::format("state key must be 1..{} bytes", kStateKeyBytesMax));
  }
  if (value.size() > kStateValueBytesMax) {
    return InvalidArgumentError(fmt::format("state value exceeds {} bytes", kStateValueBytesMax));
  }
  if (state_ops_.size() >= kStateDeltaEntriesMax) {
    return InvalidArgumentError(
        fmt::format("a state delta holds at most {} entries", kStateDeltaEntriesMax));
  }
  state_ops_.push_back(StateOp{std::move(key), std::move(value), false});
  return Status::Ok();
}

Status AppendBatch::DeleteState(std::string_view key) {
  if (key.empty() || key.size() > kStateKeyBytesMax) {
    return InvalidArgumentError(fmt::format("state key must be 1..{} bytes", kStateKeyBytesMax));
  }
  if (state_ops_.size() >= kStateDeltaEntriesMax) {
    return InvalidArgumentError(
        fmt::format("a state delta holds at most {} entries", kStateDeltaEntriesMax));
  }
  state_ops_.push_back(StateOp{std::string(key), std::string(), true});
  return Status::Ok();
}

void AppendBatch::Clear() {
  arena_.clear();
  arena_bytes_ = 0;
  record_offsets_.clear();
  command_first_record_.clear();
  state_ops_.clear();
  keys_promised_new_ = false;
}

std::span<const uint8_t> AppendBatch::record(size_t index) const {
  const RecordSlice slice = record_offsets_[index];
  return {reinterpret_cast<const uint8_t*>(arena_.data()) + slice.offset, slice.size};
}

size_t AppendBatch::command_record_count(size_t command) const {
  const size_t end = command + 1 < command_first_record_.size() ? command_first_record_[command + 1]
                                                                : record_offsets_.size();
  return end - command_first_record_[command];
}

}  // namespace hpf::events
