// tools/ledgerd/auth.h — who is calling, and what they may do (DESIGN §4).
//
// A tokens file (format: docs/api/README.md) maps the SHA-256 of each secret to a principal:
// a name, a role and, for a bank, its bank code. ledgerd never stores a secret, only its hash;
// a request's `Authorization: Bearer SECRET` is hashed and compared with every entry in
// constant time (CRYPTO_memcmp over all entries, no early exit), so timing says nothing about
// which entry, if any, is close.
//
// Roles and what they may do:
//   bank      posts the commands of money it handled, for its own bank code only
//             (IsBankCommand below: receipts, remittance lists, withdrawals it paid), and bank
//             files; reads nothing
//   operator  posts any command and bank files; reads
//   reviewer  posts any command (approvals, reversals) and bank files; reads
// Four eyes on a withdrawal is the ledger's rule, not a role: the actor who applied never
// approves or rejects it (ledger/commands.h), whatever their roles.
//   auditor   reads only
//   admin     everything
// The principal's name becomes every command's actor; a bank's code becomes the channel.
// Thread safety: an Authenticator is immutable after construction; share it freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "events/status.h"
#include "events/types.h"
#include "ledger/commands.h"
#include "tools/ledgerd/http_types.h"

namespace hpf::ledgerd {

enum class Role : uint8_t {
  kNone,  // not authenticated (public routes only)
  kBank,
  kOperator,
  kReviewer,
  kAuditor,
  kAdmin,
};

std::string_view RoleName(Role role);

struct Principal {
  std::string name;
  Role role = Role::kNone;
  std::string bank_code;  // non-empty exactly for Role::kBank
};

// What a route needs.
enum class Access : uint8_t {
  kPublic,         // no token needed: /healthz, /metrics, /v1/openapi.json
  kRead,           // queries and the log head
  kPostCommands,   // POST /v1/commands (a bank further limited per command)
  kPostBankFiles,  // POST /v1/bank-files/{kind}
};

bool RoleAllows(Role role, Access access);

// The command types a bank may post: money it moved (receipts, remittance lists, withdrawal
// payments). Loans and deposit interest join with the write model's second part.
bool IsBankCommand(const ledger::CommandBody& body);

// The lowercase hex SHA-256 of a secret, as the tokens file holds it; the same as
// `printf %s SECRET | sha256sum`.
std::string HashSecretHex(std::string_view secret);

class Authenticator {
 public:
  // Parses a tokens file's text. InvalidArgument naming the line on any malformed entry:
  // not 64 hex digits, an unknown role, a bank without a code (or another role with one), a
  // name or code too long or not printable ASCII, the same hash or name twice, too many
  // entries.
  static Result<Authenticator> FromText(std::string_view text);
  // FromText() of a file; NotFound / IoError if it cannot be read.
  static Result<Authenticator> FromFile(const std::string& path);
  // No tokens: every request is the principal "anonymous" with the admin role. For
  // development on loopback only (ledgerd refuses it on other addresses).
  static Authenticator Disabled();

  bool enabled() const { return enabled_; }
  size_t size() const { return entries_.size(); }

  // The principal of an Authorization header, or the reason for a 401: missing_token (no
  // header), malformed_authorization (not "Bearer TOKEN"), invalid_token (no such token).
  std::variant<Principal, InputError> Authenticate(std::string_view authorization) const;

 private:
  struct Entry {
    events::Digest hash;
    Principal principal;
  };
  Authenticator() = default;

  bool enabled_ = true;
  std::vector<Entry> entries_;
};

// Stamps the principal onto a decoded command and checks its scope: the actor becomes the
// principal's name; a bank's channel becomes its bank code (a different "channel" in the
// request is refused), others keep the requested channel or get "counter". A bank may post
// only IsBankCommand() types, and a receipt or a withdrawal payment only under its own bank
// code; only an admin posts ChangePolicy. Returns the reason
// for a 403 (forbidden_command_type, bank_code_mismatch) or nullopt.
// REQUIRES: RoleAllows(principal.role, Access::kPostCommands) or kPostBankFiles.
std::optional<InputError> AuthorizeCommand(const Principal& principal, ledger::Command& command);

}  // namespace hpf::ledgerd
