// events/internal/store_layout.h — how the log lays out its RocksDB store (format v2).
//
// v2 added the `delta` family; a v1 store (no deltas) is upgraded when opened for writing.
//
// Column families:
//   default  meta keys below, and followers' keys under kMetaFollowerPrefix
//   log      PositionKey(first position) -> chunk (chunk_codec.h), one per <= 1024 records
//   state    the write model's opaque state: the AppendBatch deltas folded in, one key per
//            entity, by the indexer behind the log (unsynced: folded again from `delta`)
//   delta    StateDeltaKey(group sequence) -> one group's state delta (state_delta.h), written
//            with its records; deleted when folded into `state` (format v2)
//   idem     fingerprint (8 bytes big-endian) -> sorted big-endian u64 positions (a merge
//            operator unions them): the persistent idempotency index, derived from the log
//            and written behind it by the indexer (unsynced: rebuilt from the watermark)
#pragma once

#include <string_view>

namespace hpf::events::internal {

inline constexpr std::string_view kLogFamily = "log";
inline constexpr std::string_view kStateFamily = "state";
inline constexpr std::string_view kIdempotencyFamily = "idem";
inline constexpr std::string_view kStateDeltaFamily = "delta";

// Meta keys in the default family.
inline constexpr std::string_view kMetaFormatVersion = "format_version";         // u32 LE
inline constexpr std::string_view kMetaHashAlgorithm = "hash_algorithm";         // "sha256" | "sm3"
inline constexpr std::string_view kMetaIndexedThrough = "idem_indexed_through";  // u64 LE
inline constexpr std::string_view kMetaStateFoldedThrough = "state_folded_through";  // u64 LE
// Followers' own keys (EventLog::PutFollowerMeta) live under this prefix, apart from the log's.
inline constexpr std::string_view kMetaFollowerPrefix = "follower/";

}  // namespace hpf::events::internal
