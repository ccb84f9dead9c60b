// projections/read_models/internal/blocks.h — per-event rows packed into few stored values.
//
// A SortedBlock is one stored value holding rows ordered by their leading key bytes (a row is
// a u16 length and its bytes). BucketedBlocks keeps the blocks of the unfinished position
// buckets (limits.h kBucketPositions) in memory: a record's rows go into blocks named by the
// caller (an account page, an actor, a day) plus the record's bucket, a batch rewrites only
// the blocks it touched, and a bucket leaves memory once all its positions have been folded.
//
// Determinism (projections/projection.h): a block's bytes depend only on which rows it holds,
// never on the order they came in, so any interleaving of streams gives the same blocks. The
// blocks of an unfinished bucket are listed under `open_prefix` + bucket so that Load() can
// bring them back; that list, too, is a function of the records folded.
// Thread safety: one thread (the runtime's apply thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "events/status.h"
#include "projections/projection.h"

namespace hpf::projections::read_models::internal {

// The bucket of a position: kBucketPositions consecutive positions from 1.
// REQUIRES: position >= 1.
uint64_t BucketOf(uint64_t position);

class SortedBlock {
 public:
  SortedBlock() = default;
  // Restores a stored block. kCorruption naming `what` if a row overruns the bytes, is shorter
  // than `key_bytes`, or the rows are not strictly increasing by their keys.
  static Result<SortedBlock> FromStored(std::string_view bytes, size_t key_bytes,
                                        std::string_view what);
  // Adds `row`, whose place among the rows is set by its first `key_bytes` bytes, in O(1):
  // rows of other streams may come out of order, and their order is settled by Serialize().
  // REQUIRES: key_bytes <= row.size() <= kBlockRowBytesMax; the block's rows share key_bytes.
  void Add(std::string_view row, size_t key_bytes);
  // The stored form: every row in key order (a u16 length, then the row), into `out`.
  // kCorruption naming `what` if two rows share a key (a record folded twice).
  Status Serialize(std::string& out, std::string_view what);
  size_t rows_count() const { return order_.size(); }

 private:
  std::string_view KeyAt(uint32_t offset) const;

  std::string arena_;            // the rows as added, each a u16 length and its bytes
  std::vector<uint32_t> order_;  // offsets into arena_; [0, sorted_) are in key order
  size_t sorted_ = 0;
  size_t key_bytes_ = 0;
};

// Visits a stored block's rows in order until `visit` returns false. kCorruption naming
// `what` if a row overruns the block.
Status VisitBlockRows(std::string_view block, std::string_view what,
                      const std::function<bool(std::string_view row)>& visit);

class BucketedBlocks {
 public:
  // `open_prefix` names the keys that list each unfinished bucket's blocks ("o/").
  explicit BucketedBlocks(std::string open_prefix) : open_prefix_(std::move(open_prefix)) {}

  // Brings back the unfinished buckets and their blocks. `key_bytes_of` gives the row key width
  // of a block by its stored key (0: not a block of this projection, a corruption).
  Status Load(const ReadView& stored,
              const std::function<size_t(std::string_view block_key)>& key_bytes_of);

  // Counts the record at `position` as folded and returns its bucket. kFailedPrecondition if
  // the bucket has already counted all its positions (a record delivered twice; buckets
  // finished before the last Load() are not remembered).
  Result<uint64_t> Note(uint64_t position);

  // The block stored under `block_key` (which names `bucket`), empty if new; written at the
  // next Flush(). The reference stays valid until Flush().
  SortedBlock& Touch(uint64_t bucket, std::string_view block_key);

  // Writes every block touched since the last Flush() and the list of each unfinished bucket
  // touched; a finished bucket's list is deleted and its blocks leave memory. kCorruption if a
  // block holds two rows with one key.
  Status Flush(ProjectionWriter& out);

  size_t open_buckets_count() const { return buckets_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  struct Entry {
    SortedBlock block;
    bool dirty = false;
  };
  struct Bucket {
    uint64_t records_count = 0;
    bool touched = false;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> blocks;
  };

  std::string OpenKey(uint64_t bucket) const;

  std::string open_prefix_;
  std::map<uint64_t, Bucket> buckets_;
  std::unordered_set<uint64_t> finished_;  // since Load()
  std::vector<uint64_t> touched_buckets_;
  // The block Touch() returned last: consecutive records often share it (an actor, a day).
  uint64_t cached_bucket_ = 0;
  std::string cached_key_;
  Entry* cached_entry_ = nullptr;
  std::string scratch_;
  std::string block_bytes_;
};

}  // namespace hpf::projections::read_models::internal
