// ledger/internal/state_codec.h — the write model's stored form: one key and value per employer
// and per personal account, written as state deltas in the same WriteBatch as the records that
// changed them (DESIGN principle 4), and read back when the sequencer opens.
//
// Keys are "employer/<id>", "account/<id>", "withdrawal/<id>" and "reversed/<position>"
// (State's set of records already reversed, one key each) with the number in decimal, no leading
// zeros, "policy" (the policy in force: its version and document) and "fund/1" (the fund: the
// accounts each interest year has to settle, the settlement runs). Values start with a format byte,
// then every field of EmployerState / AccountState / WithdrawalState / PolicyInForce / FundState as
// fixed-width
// little-endian integers and length-prefixed bytes (layouts in state_codec.cc); a reversed
// position's value is the format byte alone. The policy's book is not stored: it is parsed
// from the document when the state is loaded, so a document this build no longer accepts is
// kCorruption. A change of layout takes the next format number (the history is in
// state_codec.cc). This build reads its own format only: there is no migration yet, so a
// value of an older format is kUnimplemented with a message that says so, never misread; a
// format no build has written is kCorruption. A field added to the state structs fails to
// compile in state_codec.cc until it is encoded.
//
// Stored bytes are untrusted (STYLE 5.5): decoding checks the length, the format byte, every
// enum and flag, months, rates and the interest accumulator's invariants, and answers
// kCorruption naming what is wrong; nothing decoded is trusted before that.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/event_log.h"
#include "events/status.h"
#include "ledger/commands.h"
#include "ledger/state.h"

namespace hpf::ledger::internal {

inline constexpr std::string_view kEmployerStatePrefix = "employer/";
inline constexpr std::string_view kAccountStatePrefix = "account/";
inline constexpr std::string_view kReversedStatePrefix = "reversed/";
inline constexpr std::string_view kPolicyStateKey = "policy";
inline constexpr std::string_view kFundStatePrefix = "fund/";
inline constexpr std::string_view kWithdrawalStatePrefix = "withdrawal/";

// The format byte this build writes (and the only one it reads).
inline constexpr uint8_t kStateFormat = 5;

// A withdrawal's applicant is a command's actor, which the sequencer bounds to 128 bytes.
inline constexpr size_t kApplicantBytesMax = 128;

std::string EmployerStateKey(EmployerId id);
std::string AccountStateKey(AccountId id);
std::string ReversedStateKey(uint64_t position);
std::string FundStateKey();  // "fund/1": the fund's one stream (record_encoding.h)
std::string WithdrawalStateKey(uint64_t id);
Result<uint64_t> ParseWithdrawalStateKey(std::string_view key);
// The number in a key; kCorruption unless the key is the prefix and a canonical decimal u64.
Result<EmployerId> ParseEmployerStateKey(std::string_view key);
Result<AccountId> ParseAccountStateKey(std::string_view key);
Result<uint64_t> ParseReversedStateKey(std::string_view key);

// REQUIRES: the state satisfies the invariants the decoder checks (it came from Evolve()).
std::string EncodeEmployerState(const EmployerState& employer);
std::string EncodeAccountState(const AccountState& account);
std::string EncodeReversedMark();
// REQUIRES: policy.version >= 1 and policy.document is the book's (Evolve() installed it).
std::string EncodePolicyState(const PolicyInForce& policy);
std::string EncodeFundState(const FundState& fund);
std::string EncodeWithdrawalState(const WithdrawalState& withdrawal);

Result<EmployerState> DecodeEmployerState(std::string_view value);
Result<AccountState> DecodeAccountState(std::string_view value);
Status DecodeReversedMark(std::string_view value);
// Decodes the version and the document and parses the document into the book.
Result<PolicyInForce> DecodePolicyState(std::string_view value);
Result<FundState> DecodeFundState(std::string_view value);
Result<WithdrawalState> DecodeWithdrawalState(std::string_view value);

// The whole write model from the log's stored state (EventLog::ScanState over the four
// prefixes, and the policy's key; no fund key is an empty fund); reads no records. Also checks
// what ties entries together: every account's employer is registered, each employer's
// normal_accounts counts its normal accounts, the fund's accounts by open year count the
// accounts not closed, and a withdrawal is in flight (applied or approved) exactly when its
// account names it as its withdrawal in flight. An account stored before the policy last changed
// its rate table (and untouched since) is re-rated to it, as Evolve() did in memory
// (RerateAccounts). kCorruption naming the key otherwise (kUnimplemented for a value of another
// format); the log's read errors as they come. A store without a policy (new, or written before
// policies were recorded) loads with state.policy.version == 0.
Result<State> LoadState(const events::EventLog& log);

}  // namespace hpf::ledger::internal
