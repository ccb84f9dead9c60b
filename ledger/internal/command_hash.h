// ledger/internal/command_hash.h — the canonical content hash of a command: what the log
// stores as Envelope.command_hash and compares when an idempotency key comes back.
//
// Same command, same hash; any change of the body or of the effective date, another hash. So
// a retried command (same key, same content) is recognised as a duplicate and a reused key
// with a different body as a conflict (DESIGN §4, kIdempotencyConflict). The actor, the
// channel and the key itself are NOT hashed: a bank retrying through another channel or
// session is still sending the same command.
//
// The hash is SHA-256 over CanonicalCommandBytes(): a domain tag, the effective date, the
// command type's stable tag (below; never the variant index, which moves when commands are
// added) and every field of the body in a fixed order, as fixed-width little-endian integers
// and length-prefixed strings, so no two different commands have the same bytes. These bytes
// are part of the stored format: a hash in the log must match the same command submitted by
// a later build, so the encoding of an existing command never changes. A new field of a
// command fails to compile here until it is encoded.
// Thread safety: pure functions; a ChainHasher belongs to one thread.
#pragma once

#include <cstdint>
#include <string>

#include "events/hash_chain.h"
#include "events/types.h"
#include "ledger/commands.h"

namespace hpf::ledger::internal {

// The stable tag of each command type in the canonical bytes. Never renumber or reuse one.
uint16_t CommandTag(const CommandBody& body);

// The canonical byte encoding of the command's content (body and effective date).
std::string CanonicalCommandBytes(const Command& command);

// SHA-256 of CanonicalCommandBytes(command).
// REQUIRES: sha256.algorithm() == events::HashAlgorithm::kSha256.
events::Digest CommandHash(const Command& command, events::ChainHasher& sha256);

}  // namespace hpf::ledger::internal
