// projections/read_models/internal/blocks.cc
#include "projections/read_models/internal/blocks.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "events/assert.h"
#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/limits.h"

namespace hpf::projections::read_models::internal {

namespace {

constexpr size_t kLengthBytes = 2;

size_t RowLength(std::string_view bytes, size_t at) {
  return static_cast<size_t>(static_cast<uint8_t>(bytes[at])) |
         (static_cast<size_t>(static_cast<uint8_t>(bytes[at + 1])) << 8);
}

int CompareKeys(std::string_view a, std::string_view b, size_t key_bytes) {
  return std::memcmp(a.data(), b.data(), key_bytes);
}

}  // namespace

uint64_t BucketOf(uint64_t position) {
  HPF_ASSERT(position >= 1);
  return (position - 1) / kBucketPositions;
}

Result<SortedBlock> SortedBlock::FromStored(std::string_view bytes, size_t key_bytes,
                                            std::string_view what) {
  SortedBlock block;
  block.key_bytes_ = key_bytes;
  size_t at = 0;
  std::string_view previous;
  while (at < bytes.size()) {
    if (bytes.size() - at < kLengthBytes) {
      return CorruptionError(fmt::format("{}: block ends inside a row length", what));
    }
    const size_t length = RowLength(bytes, at);
    if (bytes.size() - at - kLengthBytes < length) {
      return CorruptionError(fmt::format("{}: a row of {} bytes overruns the block", what, length));
    }
    if (length < key_bytes) {
      return CorruptionError(fmt::format("{}: a row of {} bytes is shorter than its {}-byte key",
                                         what, length, key_bytes));
    }
    const std::string_view row = bytes.substr(at + kLengthBytes, length);
    if (!previous.empty() && CompareKeys(previous, row, key_bytes) >= 0) {
      return CorruptionError(fmt::format("{}: rows are not in increasing key order", what));
    }
    previous = row;
    block.order_.push_back(static_cast<uint32_t>(at));
    at += kLengthBytes + length;
  }
  block.arena_.assign(bytes);
  block.sorted_ = block.order_.size();
  return block;
}

std::string_view SortedBlock::KeyAt(uint32_t offset) const {
  return std::string_view(arena_.data() + offset + kLengthBytes, key_bytes_);
}

void SortedBlock::Add(std::string_view row, size_t key_bytes) {
  HPF_ASSERT(row.size() >= key_bytes);
  HPF_ASSERT(row.size() <= kBlockRowBytesMax);
  HPF_ASSERT(order_.empty() || key_bytes == key_bytes_);
  HPF_ASSERT(arena_.size() + kLengthBytes + row.size() <= UINT32_MAX);
  key_bytes_ = key_bytes;
  const auto offset = static_cast<uint32_t>(arena_.size());
  arena_.push_back(static_cast<char>(static_cast<uint8_t>(row.size())));
  arena_.push_back(static_cast<char>(static_cast<uint8_t>(row.size() >> 8)));
  arena_.append(row);
  // Still in order when it follows the last row (one stream at a time, the log's order).
  if (sorted_ == order_.size() &&
      (order_.empty() || CompareKeys(KeyAt(order_.back()), row, key_bytes) < 0)) {
    ++sorted_;
  }
  order_.push_back(offset);
}

Status SortedBlock::Serialize(std::string& out, std::string_view what) {
  if (sorted_ < order_.size()) {
    auto less = [this](uint32_t a, uint32_t b) {
      return CompareKeys(KeyAt(a), KeyAt(b), key_bytes_) < 0;
    };
    const auto middle = order_.begin() + static_cast<ptrdiff_t>(sorted_);
    std::sort(middle, order_.end(), less);
    std::inplace_merge(order_.begin(), middle, order_.end(), less);
    sorted_ = order_.size();
  }
  out.clear();
  out.reserve(arena_.size());
  for (size_t i = 0; i < order_.size(); ++i) {
    if (i > 0 && CompareKeys(KeyAt(order_[i - 1]), KeyAt(order_[i]), key_bytes_) == 0) {
      return CorruptionError(
          fmt::format("{}: two rows with one key (a record folded twice)", what));
    }
    const uint32_t offset = order_[i];
    out.append(arena_, offset, kLengthBytes + RowLength(arena_, offset));
  }
  return Status::Ok();
}

Status VisitBlockRows(std::string_view block, std::string_view what,
                      const std::function<bool(std::string_view row)>& visit) {
  size_t at = 0;
  while (at < block.size()) {
    if (block.size() - at < kLengthBytes) {
      return CorruptionError(fmt::format("{}: block ends inside a row length", what));
    }
    const size_t length = RowLength(block, at);
    if (block.size() - at - kLengthBytes < length) {
      return CorruptionError(fmt::format("{}: a row of {} bytes overruns the block", what, length));
    }
    if (!visit(block.substr(at + kLengthBytes, length))) break;
    at += kLengthBytes + length;
  }
  return Status::Ok();
}

std::string BucketedBlocks::OpenKey(uint64_t bucket) const {
  std::string key = open_prefix_;
  AppendKey64(key, bucket);
  return key;
}

Status BucketedBlocks::Load(const ReadView& stored,
                            const std::function<size_t(std::string_view block_key)>& key_bytes_of) {
  buckets_.clear();
  finished_.clear();
  touched_buckets_.clear();
  cached_entry_ = nullptr;
  // The list of each unfinished bucket: u32 records folded, u32 blocks, each block's key.
  std::vector<std::pair<uint64_t, std::string>> lists;
  Status visited = Status::Ok();
  HPF_RETURN_IF_ERROR(
      stored.Scan(open_prefix_, "", [&](std::string_view key, std::string_view value) {
        uint64_t bucket = 0;
        if (key.size() != open_prefix_.size() + 8 ||
            !ReadKey64(key, open_prefix_.size(), &bucket)) {
          visited = CorruptionError(fmt::format("open bucket key of {} bytes", key.size()));
          return false;
        }
        lists.emplace_back(bucket, std::string(value));
        return true;
      }));
  HPF_RETURN_IF_ERROR(visited);
  for (const auto& [bucket_id, list] : lists) {
    const std::string what = fmt::format("open bucket {}", bucket_id);
    ValueReader reader(list);
    Bucket& bucket = buckets_[bucket_id];
    bucket.records_count = reader.U32();
    const uint32_t blocks_count = reader.U32();
    if (!reader.ok() || bucket.records_count == 0 || bucket.records_count >= kBucketPositions) {
      return CorruptionError(fmt::format("{}: {} records folded is not an unfinished bucket", what,
                                         bucket.records_count));
    }
    for (uint32_t i = 0; i < blocks_count && reader.ok(); ++i) {
      const std::string_view block_key = reader.Text();
      if (!reader.ok()) break;
      const size_t key_bytes = key_bytes_of(block_key);
      if (key_bytes == 0) {
        return CorruptionError(fmt::format("{}: lists a key that is not a block", what));
      }
      HPF_ASSIGN_OR_RETURN(std::optional<std::string> bytes, stored.Get(block_key));
      if (!bytes.has_value()) {
        return CorruptionError(fmt::format("{}: a listed block is missing", what));
      }
      HPF_ASSIGN_OR_RETURN(SortedBlock block, SortedBlock::FromStored(*bytes, key_bytes, what));
      bucket.blocks.emplace(std::string(block_key), Entry{std::move(block), false});
    }
    HPF_RETURN_IF_ERROR(reader.Finish(what));
  }
  return Status::Ok();
}

Result<uint64_t> BucketedBlocks::Note(uint64_t position) {
  if (position == 0) return CorruptionError("a record at position 0");
  const uint64_t bucket_id = BucketOf(position);
  Bucket* bucket = finished_.contains(bucket_id) ? nullptr : &buckets_[bucket_id];
  if (bucket == nullptr || bucket->records_count >= kBucketPositions) {
    return FailedPreconditionError(
        fmt::format("position {}: its bucket has already folded all {} positions (a record "
                    "delivered twice?)",
                    position, kBucketPositions));
  }
  ++bucket->records_count;
  if (!bucket->touched) {
    bucket->touched = true;
    touched_buckets_.push_back(bucket_id);
  }
  return bucket_id;
}

SortedBlock& BucketedBlocks::Touch(uint64_t bucket_id, std::string_view block_key) {
  if (cached_entry_ != nullptr && cached_bucket_ == bucket_id && cached_key_ == block_key) {
    cached_entry_->dirty = true;
    return cached_entry_->block;
  }
  Bucket& bucket = buckets_[bucket_id];
  if (!bucket.touched) {
    bucket.touched = true;
    touched_buckets_.push_back(bucket_id);
  }
  auto it = bucket.blocks.find(block_key);
  if (it == bucket.blocks.end()) {
    it = bucket.blocks.emplace(std::string(block_key), Entry{}).first;
  }
  it->second.dirty = true;
  cached_bucket_ = bucket_id;
  cached_key_.assign(block_key);
  cached_entry_ = &it->second;
  return it->second.block;
}

Status BucketedBlocks::Flush(ProjectionWriter& out) {
  std::vector<const std::string*> keys;
  for (const uint64_t bucket_id : touched_buckets_) {
    auto found = buckets_.find(bucket_id);
    HPF_ASSERT(found != buckets_.end());
    Bucket& bucket = found->second;
    keys.clear();
    for (auto& [key, entry] : bucket.blocks) {
      if (entry.dirty) {
        HPF_RETURN_IF_ERROR(entry.block.Serialize(block_bytes_, key));
        out.Put(key, block_bytes_);
        entry.dirty = false;
      }
      keys.push_back(&key);
    }
    bucket.touched = false;
    if (bucket.records_count == kBucketPositions) {
      out.Delete(OpenKey(bucket_id));
      buckets_.erase(found);
      finished_.insert(bucket_id);
      continue;
    }
    // The list is sorted so that its bytes do not depend on the hash table's order.
    std::sort(keys.begin(), keys.end(),
              [](const std::string* a, const std::string* b) { return *a < *b; });
    scratch_.clear();
    ValueWriter writer(scratch_);
    writer.U32(static_cast<uint32_t>(bucket.records_count));
    writer.U32(static_cast<uint32_t>(keys.size()));
    for (const std::string* key : keys) writer.Text(*key);
    out.Put(OpenKey(bucket_id), scratch_);
  }
  touched_buckets_.clear();
  cached_entry_ = nullptr;
  return Status::Ok();
}

}  // namespace hpf::projections::read_models::internal
