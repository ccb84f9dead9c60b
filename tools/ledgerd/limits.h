// tools/ledgerd/limits.h — every bound of ledgerd's HTTP surface, each with its reason
// (STYLE 5.6). Defaults of HttpServerOptions come from here; tests shrink the timeouts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "events/limits.h"
#include "ledger/limits.h"

namespace hpf::ledgerd {

// --- the connection ---

// A request's start line and headers. Browsers send ~1 KiB; a bearer token and a few headers
// stay far below. Beyond it: 431.
inline constexpr uint32_t kRequestHeaderBytesMax = 16 * 1024;

// A request's body. A maximal command batch (below) at ~300 bytes a command is ~3 MiB, a
// remittance file of kCsvLinesMax lines at ~120 bytes a line ~2.4 MiB; 8 MiB leaves room
// for long texts without letting one request pin much memory. Beyond it: 413.
inline constexpr uint64_t kRequestBodyBytesMax = 8u << 20;

// Commands in one POST /v1/commands. DESIGN's batches are 1 000; ten times that bounds the
// memory of one request's decoded commands and the time its answer waits for.
inline constexpr size_t kCommandsPerRequestMax = 10'000;
static_assert(kCommandsPerRequestMax * 256 <= kRequestBodyBytesMax,
              "a maximal batch of ordinary commands fits in a body");

// Detail lines in one remittance file: a large employer's list is a few thousand people;
// 20 000 also covers a bank bundling many employers' lists.
inline constexpr size_t kCsvLinesMax = 20'000;
// One CSV field (a bank reference, an amount): real fields are under 40 bytes.
inline constexpr size_t kCsvFieldBytesMax = 256;
// Columns of the remittance file; a wider header is not ours.
inline constexpr size_t kCsvColumnsMax = 32;
// Commands one file yields: each line, plus an open and a complete per list.
inline constexpr size_t kCsvCommandsMax = 3 * kCsvLinesMax;

// Nesting of a command batch: the array, a command, its account list. 8 is generous and
// keeps a hostile "[[[[...]]]]" from recursing.
inline constexpr size_t kJsonDepthMax = 8;

// How long a client may take to send a whole request once its first byte arrived: a client
// that trickles bytes is cut off here, whatever its pace (slowloris). 30 s covers an 8 MiB
// body at ~2.2 Mbit/s.
inline constexpr uint32_t kRequestReadTimeoutMs = 30'000;
// How long a keep-alive connection may sit idle between requests.
inline constexpr uint32_t kIdleTimeoutMs = 60'000;
// How long writing one response may take (a client that stops reading).
inline constexpr uint32_t kWriteTimeoutMs = 30'000;
// Open connections; one more is answered 503 and closed. Each holds a ~8 KiB buffer idle and
// at most one request body.
inline constexpr size_t kConnectionsMax = 1024;
// Threads running the HTTP sessions. Decoding a 1 000-command batch takes ~1 ms of CPU; the
// sequencer is one thread, so more than a few cannot feed it faster.
inline constexpr size_t kIoThreadsMax = 16;
// On SIGTERM: how long requests already being handled may take to finish before ledgerd
// closes their connections anyway (their commands are still decided and made durable).
inline constexpr uint32_t kShutdownDrainTimeoutMs = 30'000;

// --- authentication ---

// The tokens file: one line per principal.
inline constexpr size_t kTokensFileBytesMax = 1 << 20;
inline constexpr size_t kTokensMax = 10'000;
// A principal's name travels as every record's actor; the sequencer takes at most 128 bytes.
inline constexpr size_t kPrincipalNameBytesMax = 128;
// A bank code travels as the channel (at most 64 bytes in the sequencer); real codes are a
// few characters (ICBC, 0102).
inline constexpr size_t kBankCodeBytesMax = 32;
// A client-chosen channel (non-bank principals), at most the sequencer's 64 bytes.
inline constexpr size_t kChannelBytesMax = 64;
// A bearer token as sent; the secrets we issue are 32-64 characters.
inline constexpr size_t kBearerTokenBytesMax = 512;

// --- metrics ---

// Distinct rejection codes counted separately; the ledger has ~60.
inline constexpr size_t kMetricsRejectionCodesMax = 256;

}  // namespace hpf::ledgerd
