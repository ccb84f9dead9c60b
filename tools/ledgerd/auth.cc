// tools/ledgerd/auth.cc
#include "tools/ledgerd/auth.h"

#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tools/ledgerd/command_decoder.h"
#include "tools/ledgerd/limits.h"

namespace hpf::ledgerd {

namespace {

events::Digest Sha256(std::string_view bytes) {
  events::Digest digest{};
  unsigned int size = 0;
  const int ok =
      EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr);
  HPF_ASSERT(ok == 1);  // SHA-256 is always in OpenSSL's default provider
  HPF_ASSERT(size == digest.size());
  return digest;
}

// Printable ASCII without spaces: names and codes travel in records and logs.
bool IsPrintableWord(std::string_view text) {
  for (const char c : text) {
    if (c <= ' ' || c > '~') return false;
  }
  return !text.empty();
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

bool ParseRole(std::string_view name, Role* role) {
  constexpr Role kRoles[] = {Role::kBank, Role::kOperator, Role::kReviewer, Role::kAuditor,
                             Role::kAdmin};
  for (const Role candidate : kRoles) {
    if (RoleName(candidate) == name) {
      *role = candidate;
      return true;
    }
  }
  return false;
}

constexpr std::string_view kCounterChannel = "counter";

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kBank:
      return "bank";
    case Role::kOperator:
      return "operator";
    case Role::kReviewer:
      return "reviewer";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "none";
}

bool RoleAllows(Role role, Access access) {
  switch (access) {
    case Access::kPublic:
      return true;
    case Access::kRead:
      return role == Role::kOperator || role == Role::kReviewer || role == Role::kAuditor ||
             role == Role::kAdmin;
    case Access::kPostCommands:
    case Access::kPostBankFiles:
      return role == Role::kBank || role == Role::kOperator || role == Role::kReviewer ||
             role == Role::kAdmin;
  }
  return false;
}

bool IsBankCommand(const ledger::CommandBody& body) {
  return std::holds_alternative<ledger::RecordBankReceipt>(body) ||
         std::holds_alternative<ledger::OpenRemittance>(body) ||
         std::holds_alternative<ledger::AllocateContribution>(body) ||
         std::holds_alternative<ledger::CompleteRemittance>(body) ||
         std::holds_alternative<ledger::PayWithdrawal>(body);
}

std::string HashSecretHex(std::string_view secret) { return events::ToHex(Sha256(secret)); }

Result<Authenticator> Authenticator::FromText(std::string_view text) {
  if (text.size() > kTokensFileBytesMax) {
    return InvalidArgumentError(
        fmt::format("the tokens file has {} bytes, at most {}", text.size(), kTokensFileBytesMax));
  }
  Authenticator out;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto bad = [&](std::string_view why) {
      return InvalidArgumentError(fmt::format("tokens file line {}: {}", line_number, why));
    };
    const std::vector<std::string_view> words = Words(line);
    if (words.empty() || words[0].front() == '#') continue;
    if (words.size() < 3 || words.size() > 4) {
      return bad("expected \"SHA256_HEX ROLE NAME [BANK_CODE]\"");
    }
    auto digest = events::DigestFromHex(words[0]);
    if (!digest.has_value() || words[0].size() != 64) {
      return bad("the first word must be the 64 hex digits of the secret's SHA-256");
    }
    Entry entry{.hash = *digest, .principal = {}};
    if (!ParseRole(words[1], &entry.principal.role)) {
      return bad(fmt::format("unknown role \"{}\": bank, operator, reviewer, auditor or admin",
                             words[1].substr(0, 32)));
    }
    entry.principal.name = std::string(words[2]);
    if (!IsPrintableWord(words[2]) || words[2].size() > kPrincipalNameBytesMax) {
      return bad(
          fmt::format("the name must be 1..{} printable ASCII characters", kPrincipalNameBytesMax));
    }
    if (entry.principal.role == Role::kBank) {
      if (words.size() != 4) return bad("a bank needs its bank code as the fourth word");
      if (!IsPrintableWord(words[3]) || words[3].size() > kBankCodeBytesMax) {
        return bad(
            fmt::format("a bank code is 1..{} printable ASCII characters", kBankCodeBytesMax));
      }
      entry.principal.bank_code = std::string(words[3]);
    } else if (words.size() == 4) {
      return bad("only a bank has a bank code");
    }
    for (const Entry& earlier : out.entries_) {
      if (earlier.hash == entry.hash) return bad("the same secret hash is listed twice");
      if (earlier.principal.name == entry.principal.name) {
        return bad(fmt::format("the name \"{}\" is listed twice", entry.principal.name));
      }
    }
    if (out.entries_.size() == kTokensMax) {
      return bad(fmt::format("more than {} tokens", kTokensMax));
    }
    out.entries_.push_back(std::move(entry));
  }
  return out;
}

Result<Authenticator> Authenticator::FromFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFoundError(fmt::format("cannot open the tokens file {}", path));
  std::string text;
  text.resize(kTokensFileBytesMax + 1);
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) return IoError(fmt::format("cannot read the tokens file {}", path));
  text.resize(static_cast<size_t>(file.gcount()));
  auto parsed = FromText(text);
  if (!parsed.has_value()) {
    return InvalidArgumentError(fmt::format("{}: {}", path, parsed.error().message()));
  }
  return parsed;
}

Authenticator Authenticator::Disabled() {
  Authenticator out;
  out.enabled_ = false;
  return out;
}

std::variant<Principal, InputError> Authenticator::Authenticate(
    std::string_view authorization) const {
  if (!enabled_) return Principal{.name = "anonymous", .role = Role::kAdmin, .bank_code = {}};
  if (authorization.empty()) {
    return InputError{"missing_token",
                      "this endpoint needs a token: send Authorization: Bearer TOKEN"};
  }
  constexpr std::string_view kScheme = "bearer ";
  bool scheme_ok = authorization.size() > kScheme.size();
  for (size_t i = 0; scheme_ok && i < kScheme.size(); ++i) {
    const char c = authorization[i];
    scheme_ok = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == kScheme[i];
  }
  if (!scheme_ok) {
    return InputError{"malformed_authorization",
                      "the Authorization header must be \"Bearer TOKEN\""};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > kBearerTokenBytesMax) {
    return InputError{
        "malformed_authorization",
        fmt::format("the bearer token must be 1..{} characters", kBearerTokenBytesMax)};
  }
  const events::Digest presented = Sha256(token);
  // Every entry is compared, whatever matched: the time does not depend on which one did.
  const Entry* match = nullptr;
  for (const Entry& entry : entries_) {
    const bool equal = CRYPTO_memcmp(entry.hash.data(), presented.data(), presented.size()) == 0;
    match = equal ? &entry : match;
  }
  if (match == nullptr) {
    return InputError{"invalid_token", "the bearer token is not known to this server"};
  }
  return match->principal;
}

std::optional<InputError> AuthorizeCommand(const Principal& principal, ledger::Command& command) {
  HPF_ASSERT(RoleAllows(principal.role, Access::kPostCommands));
  ledger::CommandHeader& header = command.header;
  header.actor = principal.name;
  // The fund's parameters are the centre's decision: only an admin records a new policy.
  if (std::holds_alternative<ledger::ChangePolicy>(command.body) &&
      principal.role != Role::kAdmin) {
    return InputError{"forbidden_command_type",
                      fmt::format("{} ({}) may not post ChangePolicy: only an admin records the "
                                  "centre's policy decisions",
                                  principal.name, RoleName(principal.role))};
  }
  if (principal.role != Role::kBank) {
    if (header.channel.empty()) header.channel = std::string(kCounterChannel);
    return std::nullopt;
  }
  if (!IsBankCommand(command.body)) {
    return InputError{
        "forbidden_command_type",
        fmt::format("bank {} may post RecordBankReceipt, OpenRemittance, AllocateContribution, "
                    "CompleteRemittance and PayWithdrawal; {} is for the centre's staff",
                    principal.name, CommandTypeName(command.body))};
  }
  if (!header.channel.empty() && header.channel != principal.bank_code) {
    return InputError{"bank_code_mismatch",
                      fmt::format("bank {} posts on its own channel \"{}\", not {}", principal.name,
                                  principal.bank_code, JsonQuote(header.channel))};
  }
  header.channel = principal.bank_code;
  if (const auto* receipt = std::get_if<ledger::RecordBankReceipt>(&command.body)) {
    if (receipt->bank_code != principal.bank_code) {
      return InputError{
          "bank_code_mismatch",
          fmt::format("bank {} records receipts for bank code \"{}\" only, not {}", principal.name,
                      principal.bank_code, JsonQuote(receipt->bank_code))};
    }
  }
  // A bank reports the payments it made itself: another bank's code would put its name on
  // money it never moved.
  if (const auto* payment = std::get_if<ledger::PayWithdrawal>(&command.body)) {
    if (payment->bank_code != principal.bank_code) {
      return InputError{
          "bank_code_mismatch",
          fmt::format("bank {} reports withdrawals it paid under bank code \"{}\" only, not {}",
                      principal.name, principal.bank_code, JsonQuote(payment->bank_code))};
    }
  }
  return std::nullopt;
}

}  // namespace hpf::ledgerd
