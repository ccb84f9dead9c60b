// tools/ledgerd/command_decoder.cc
#include "tools/ledgerd/command_decoder.h"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <boost/json/value.hpp>
#include <fmt/core.h>

#include "tools/ledgerd/charset.h"
#include "tools/ledgerd/limits.h"
#include "tools/ledgerd/strict_json.h"

namespace hpf::ledgerd {

namespace {

namespace json = boost::json;
using ledger::AccountId;
using ledger::Command;
using ledger::CommandBody;
using ledger::Fen;
using ledger::RatePpm;

// The names of the command types, in the order of ledger::CommandBody's alternatives (the
// round-trip test against CommandToJson keeps them aligned).
constexpr std::string_view kTypeNames[] = {
    "RegisterEmployer",     "ChangeEmployerRates", "GrantRateReduction", "GrantDeferral",
    "SealEmployer",         "CloseEmployer",       "ReopenEmployer",     "OpenAccount",
    "ChangeAccountBase",    "SealAccount",         "UnsealAccount",      "FreezeAccount",
    "UnfreezeAccount",      "CloseAccount",        "RecordBankReceipt",  "OpenRemittance",
    "AllocateContribution", "CompleteRemittance",  "SettleInterest",     "ReverseRecord",
    "ChangePolicy",         "ApplyWithdrawal",     "ApproveWithdrawal",  "RejectWithdrawal",
    "PayWithdrawal",        "CancelWithdrawal",
};
static_assert(std::size(kTypeNames) == std::variant_size_v<CommandBody>,
              "name every command type, in the variant's order");

// Keys a command object may have beyond its type's fields are few; 64 lets a bitmask track
// which keys were read.
constexpr size_t kCommandKeysMax = 64;

std::string_view KindOf(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "an integer";
    case json::kind::double_:
      return "a number with a fraction or exponent";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

enum class Sign : uint8_t {
  kPositive,     // > 0
  kNonNegative,  // >= 0
};

// Reads the fields of one command object and remembers which keys it read, so that any
// other key is reported. Each reader returns false with `error` set.
class Fields {
 public:
  Fields(const json::object& object, std::string_view where) : object_(object), where_(where) {}

  InputError& error() { return error_; }

  void set_type(std::string_view type) { type_ = type; }

  bool Id(std::string_view key, uint64_t* out) { return Unsigned(key, out, kRequired); }
  bool OptionalId(std::string_view key, uint64_t* out) { return Unsigned(key, out, kOptional); }

  bool U32(std::string_view key, uint32_t* out) {
    uint64_t value = 0;
    if (!Unsigned(key, &value, kRequired)) return false;
    if (value > std::numeric_limits<uint32_t>::max()) {
      return Fail(
          "value_out_of_range", key,
          fmt::format("must be at most {}, got {}", std::numeric_limits<uint32_t>::max(), value));
    }
    *out = static_cast<uint32_t>(value);
    return true;
  }

  bool Rate(std::string_view key, RatePpm* out) { return U32(key, &out->value); }

  bool I32(std::string_view key, int32_t* out) {
    const json::value* value = Find(key, kRequired);
    if (value == nullptr) return false;
    if (!value->is_int64()) return NotInteger(key, *value);
    const int64_t v = value->get_int64();
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
      return Fail("value_out_of_range", key, fmt::format("must fit in int32, got {}", v));
    }
    *out = static_cast<int32_t>(v);
    return true;
  }

  bool Amount(std::string_view key, Fen* out, Sign sign) {
    const json::value* value = Find(key, kRequired);
    if (value == nullptr) return false;
    if (value->is_uint64()) {
      return Fail("number_overflow", key,
                  fmt::format("{} fen does not fit in int64 (at most {})", value->get_uint64(),
                              std::numeric_limits<int64_t>::max()));
    }
    if (!value->is_int64()) return NotInteger(key, *value);
    const int64_t fen = value->get_int64();
    if (sign == Sign::kPositive && fen <= 0) {
      return Fail("amount_must_be_positive", key, fmt::format("must be > 0 fen, got {}", fen));
    }
    if (sign == Sign::kNonNegative && fen < 0) {
      return Fail("amount_must_not_be_negative", key, fmt::format("must be >= 0 fen, got {}", fen));
    }
    out->value = fen;
    return true;
  }

  bool Text(std::string_view key, std::string* out) { return String(key, out, kRequired); }
  bool OptionalText(std::string_view key, std::string* out) { return String(key, out, kOptional); }

  bool Accounts(std::string_view key, std::vector<AccountId>* out) {
    const json::value* value = Find(key, kRequired);
    if (value == nullptr) return false;
    if (!value->is_array()) {
      return Fail("wrong_type", key,
                  fmt::format("must be an array of account ids, not {}", KindOf(*value)));
    }
    const json::array& array = value->get_array();
    out->reserve(array.size());
    for (size_t i = 0; i < array.size(); ++i) {
      const json::value& item = array[i];
      uint64_t id = 0;
      if (item.is_uint64()) {
        id = item.get_uint64();
      } else if (item.is_int64() && item.get_int64() >= 0) {
        id = static_cast<uint64_t>(item.get_int64());
      } else if (item.is_int64()) {
        return Fail("value_out_of_range", key,
                    fmt::format("item {} must be >= 0, got {}", i, item.get_int64()));
      } else {
        return Fail("wrong_type", key,
                    fmt::format("item {} must be an integer account id, not {}", i, KindOf(item)));
      }
      out->push_back(AccountId{id});
    }
    return true;
  }

  bool Kind(std::string_view key, ledger::RemittanceKind* out) {
    std::string text;
    if (!String(key, &text, kRequired)) return false;
    if (text == "regular") {
      *out = ledger::RemittanceKind::kRegular;
    } else if (text == "back_payment") {
      *out = ledger::RemittanceKind::kBackPayment;
    } else {
      return Fail("invalid_value", key,
                  fmt::format("must be \"regular\" or \"back_payment\", not {}",
                              JsonQuote(text.substr(0, 64))));
    }
    return true;
  }

  // A coded field (a reason): the ledger knows its codes and answers code_invalid for
  // others; here it must fit the code's byte. Absent: `*out` keeps its default.
  template <typename CodeType>
  bool OptionalCode(std::string_view key, CodeType* out) {
    uint64_t code = 0;
    const json::value* present = object_.if_contains(key);
    if (!Unsigned(key, &code, kOptional)) return false;
    if (present == nullptr) return true;
    if (code > 255) {
      return Fail("value_out_of_range", key, fmt::format("must be a code 0..255, got {}", code));
    }
    *out = static_cast<CodeType>(code);
    return true;
  }
  template <typename CodeType>
  bool RequiredCode(std::string_view key, CodeType* out) {
    if (object_.if_contains(key) == nullptr) {
      return Fail("missing_field", key, fmt::format("is required for {}", type_));
    }
    return OptionalCode(key, out);
  }

  // 64 hex digits (a SHA-256 or HMAC), absent = all zeros.
  bool OptionalDigest(std::string_view key, std::array<uint8_t, 32>* out) {
    std::string hex;
    if (!String(key, &hex, kOptional)) return false;
    if (hex.empty() && object_.if_contains(key) == nullptr) return true;
    const auto nibble = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    bool ok = hex.size() == 2 * out->size();
    for (size_t i = 0; ok && i < out->size(); ++i) {
      const int high = nibble(hex[2 * i]);
      const int low = nibble(hex[2 * i + 1]);
      ok = high >= 0 && low >= 0;
      if (ok) (*out)[i] = static_cast<uint8_t>(high * 16 + low);
    }
    if (!ok) {
      return Fail("invalid_value", key,
                  fmt::format("must be 64 hex digits, not {}", JsonQuote(hex.substr(0, 80))));
    }
    return true;
  }

  // After the type's fields: every key of the object must have been read.
  bool Finish() {
    for (size_t i = 0; i < object_.size(); ++i) {
      if ((read_ & (uint64_t{1} << i)) != 0) continue;
      const std::string_view key = (object_.begin() + static_cast<std::ptrdiff_t>(i))->key();
      if (key == "actor") {
        return Fail("unknown_field", key,
                    "is not accepted: the actor is the principal of the bearer token");
      }
      return Fail("unknown_field", key, fmt::format("is not a field of {}", type_));
    }
    return true;
  }

  bool Fail(std::string_view code, std::string_view key, std::string_view what) {
    error_ =
        InputError{std::string(code), fmt::format("{}{}: field {} {}", where_,
                                                  type_.empty() ? "" : fmt::format(" ({})", type_),
                                                  JsonQuote(key.substr(0, 64)), what)};
    return false;
  }

 private:
  enum Presence : uint8_t { kRequired, kOptional };

  // The value of `key`, marked as read; null if absent (an error if required).
  const json::value* Find(std::string_view key, Presence presence) {
    const auto it = object_.find(key);
    if (it == object_.end()) {
      if (presence == kRequired) {
        Fail("missing_field", key, fmt::format("is required for {}", type_));
      }
      return nullptr;
    }
    read_ |= uint64_t{1} << static_cast<size_t>(it - object_.begin());
    return &it->value();
  }

  bool NotInteger(std::string_view key, const json::value& value) {
    return Fail("wrong_type", key, fmt::format("must be an integer, not {}", KindOf(value)));
  }

  bool Unsigned(std::string_view key, uint64_t* out, Presence presence) {
    const json::value* value = Find(key, presence);
    if (value == nullptr) return presence == kOptional;
    if (value->is_uint64()) {
      *out = value->get_uint64();
      return true;
    }
    if (!value->is_int64()) return NotInteger(key, *value);
    if (value->get_int64() < 0) {
      return Fail("value_out_of_range", key,
                  fmt::format("must be >= 0, got {}", value->get_int64()));
    }
    *out = static_cast<uint64_t>(value->get_int64());
    return true;
  }

  bool String(std::string_view key, std::string* out, Presence presence) {
    const json::value* value = Find(key, presence);
    if (value == nullptr) return presence == kOptional;
    if (!value->is_string()) {
      return Fail("wrong_type", key, fmt::format("must be a string, not {}", KindOf(*value)));
    }
    const json::string& text = value->get_string();
    // The body was valid UTF-8, but a \u escape can still spell a lone surrogate.
    if (FirstInvalidUtf8(std::string_view(text.data(), text.size())).has_value()) {
      return Fail("invalid_utf8", key, "is not valid UTF-8 (a lone surrogate escape?)");
    }
    out->assign(text.data(), text.size());
    return true;
  }

  const json::object& object_;
  std::string_view where_;
  std::string_view type_;
  uint64_t read_ = 0;  // bit i: the object's i-th key was read
  InputError error_;
};

// One overload per command type: its fields, as CommandToJson writes them.
bool Decode(Fields& f, ledger::RegisterEmployer& c) {
  return f.Id("employer", &c.employer.value) &&
         f.Text("unified_social_credit_code", &c.unified_social_credit_code) &&
         f.Text("name", &c.name) && f.Text("bank_code", &c.bank_code) &&
         f.Rate("employer_rate_ppm", &c.employer_rate) &&
         f.Rate("employee_rate_ppm", &c.employee_rate) &&
         f.U32("first_contribution_month", &c.first_contribution_month);
}
bool Decode(Fields& f, ledger::ChangeEmployerRates& c) {
  return f.Id("employer", &c.employer.value) && f.Rate("employer_rate_ppm", &c.employer_rate) &&
         f.Rate("employee_rate_ppm", &c.employee_rate) && f.U32("from_month", &c.from_month);
}
bool Decode(Fields& f, ledger::GrantRateReduction& c) {
  return f.Id("employer", &c.employer.value) && f.Rate("employer_rate_ppm", &c.employer_rate) &&
         f.Rate("employee_rate_ppm", &c.employee_rate) && f.U32("from_month", &c.from_month) &&
         f.U32("to_month", &c.to_month) && f.Text("approval_reference", &c.approval_reference);
}
bool Decode(Fields& f, ledger::GrantDeferral& c) {
  return f.Id("employer", &c.employer.value) && f.U32("from_month", &c.from_month) &&
         f.U32("to_month", &c.to_month) && f.Text("approval_reference", &c.approval_reference);
}
bool Decode(Fields& f, ledger::SealEmployer& c) {
  return f.Id("employer", &c.employer.value) && f.OptionalCode("reason", &c.reason) &&
         f.OptionalText("approval_reference", &c.approval_reference);
}
bool Decode(Fields& f, ledger::CloseEmployer& c) {
  return f.Id("employer", &c.employer.value) && f.OptionalCode("reason", &c.reason) &&
         f.OptionalText("approval_reference", &c.approval_reference);
}
bool Decode(Fields& f, ledger::ReopenEmployer& c) {
  return f.Id("employer", &c.employer.value) &&
         f.U32("first_contribution_month", &c.first_contribution_month);
}
bool Decode(Fields& f, ledger::OpenAccount& c) {
  return f.Id("account", &c.account.value) && f.Id("employer", &c.employer.value) &&
         f.Id("person_id", &c.person_id) &&
         f.Amount("contribution_base_fen", &c.contribution_base, Sign::kPositive) &&
         f.U32("first_contribution_month", &c.first_contribution_month) &&
         f.OptionalDigest("identity_digest", &c.identity_digest);
}
bool Decode(Fields& f, ledger::ChangeAccountBase& c) {
  return f.Id("account", &c.account.value) &&
         f.Amount("contribution_base_fen", &c.contribution_base, Sign::kPositive) &&
         f.U32("from_month", &c.from_month);
}
bool Decode(Fields& f, ledger::SealAccount& c) {
  return f.Id("account", &c.account.value) && f.OptionalCode("reason", &c.reason);
}
bool Decode(Fields& f, ledger::UnsealAccount& c) {
  return f.Id("account", &c.account.value) && f.Id("employer", &c.employer.value) &&
         f.Amount("contribution_base_fen", &c.contribution_base, Sign::kPositive) &&
         f.U32("first_contribution_month", &c.first_contribution_month);
}
bool Decode(Fields& f, ledger::FreezeAccount& c) {
  return f.Id("account", &c.account.value) &&
         f.Text("court_order_reference", &c.court_order_reference) &&
         f.Text("authority", &c.authority);
}
bool Decode(Fields& f, ledger::UnfreezeAccount& c) {
  return f.Id("account", &c.account.value) &&
         f.Text("court_order_reference", &c.court_order_reference) &&
         f.Text("authority", &c.authority);
}
bool Decode(Fields& f, ledger::CloseAccount& c) { return f.Id("account", &c.account.value); }
bool Decode(Fields& f, ledger::RecordBankReceipt& c) {
  return f.Id("employer", &c.employer.value) && f.Text("bank_code", &c.bank_code) &&
         f.Text("bank_reference", &c.bank_reference) &&
         f.Amount("amount_fen", &c.amount, Sign::kPositive) &&
         f.OptionalId("deposit_id", &c.deposit_id);
}
bool Decode(Fields& f, ledger::OpenRemittance& c) {
  return f.Id("remittance_id", &c.remittance_id) && f.Id("employer", &c.employer.value) &&
         f.Kind("kind", &c.kind) && f.U32("from_month", &c.from_month) &&
         f.U32("to_month", &c.to_month) && f.U32("accounts_count", &c.accounts_count) &&
         f.Amount("total_fen", &c.total, Sign::kPositive) &&
         f.Text("list_reference", &c.list_reference);
}
bool Decode(Fields& f, ledger::AllocateContribution& c) {
  return f.Id("remittance_id", &c.remittance_id) && f.Id("employer", &c.employer.value) &&
         f.Id("account", &c.account.value) && f.U32("month", &c.month) &&
         f.Amount("contribution_base_fen", &c.contribution_base, Sign::kPositive) &&
         f.Amount("employer_amount_fen", &c.employer_amount, Sign::kNonNegative) &&
         f.Amount("employee_amount_fen", &c.employee_amount, Sign::kNonNegative);
}
bool Decode(Fields& f, ledger::CompleteRemittance& c) {
  return f.Id("remittance_id", &c.remittance_id) && f.Id("employer", &c.employer.value);
}
bool Decode(Fields& f, ledger::SettleInterest& c) {
  return f.I32("interest_year", &c.interest_year) && f.Accounts("accounts", &c.accounts);
}
bool Decode(Fields& f, ledger::ReverseRecord& c) {
  return f.Id("position", &c.position) && f.RequiredCode("reason", &c.reason) &&
         f.Text("note", &c.note) && f.Text("approval_reference", &c.approval_reference);
}

// The document is the policy's JSON text in a string (docs/policy.md); the ledger parses it.
bool Decode(Fields& f, ledger::ChangePolicy& c) {
  return f.Text("document", &c.document) && f.U32("effective_from", &c.effective_from) &&
         f.Text("summary", &c.summary) && f.Text("approval_reference", &c.approval_reference);
}

// The withdrawal's `reason` is a code (WithdrawalReason: 3 retirement, ...), its reviewer's
// or canceller's `reason` a sentence: the names follow the commands' fields.
bool Decode(Fields& f, ledger::ApplyWithdrawal& c) {
  return f.Id("withdrawal_id", &c.withdrawal_id) && f.Id("account", &c.account.value) &&
         f.RequiredCode("reason", &c.reason) && f.Text("payee_reference", &c.payee_reference) &&
         f.Text("evidence_reference", &c.evidence_reference);
}
bool Decode(Fields& f, ledger::ApproveWithdrawal& c) {
  return f.Id("withdrawal_id", &c.withdrawal_id);
}
bool Decode(Fields& f, ledger::RejectWithdrawal& c) {
  return f.Id("withdrawal_id", &c.withdrawal_id) && f.Text("reason", &c.reason);
}
bool Decode(Fields& f, ledger::PayWithdrawal& c) {
  return f.Id("withdrawal_id", &c.withdrawal_id) && f.OptionalId("deposit_id", &c.deposit_id) &&
         f.Text("bank_code", &c.bank_code) && f.Text("bank_reference", &c.bank_reference);
}
bool Decode(Fields& f, ledger::CancelWithdrawal& c) {
  return f.Id("withdrawal_id", &c.withdrawal_id) && f.Text("reason", &c.reason);
}

using BodyDecoder = bool (*)(Fields&, CommandBody&);

template <size_t I>
bool DecodeAlternative(Fields& f, CommandBody& body) {
  std::variant_alternative_t<I, CommandBody> command{};
  if (!Decode(f, command)) return false;
  body.emplace<I>(std::move(command));
  return true;
}

template <size_t... I>
constexpr std::array<BodyDecoder, sizeof...(I)> MakeDecoders(std::index_sequence<I...>) {
  return {&DecodeAlternative<I>...};
}

constexpr auto kDecoders =
    MakeDecoders(std::make_index_sequence<std::variant_size_v<CommandBody>>{});

std::variant<Command, InputError> DecodeObject(const json::value& value, std::string_view where) {
  if (!value.is_object()) {
    return InputError{"not_an_object",
                      fmt::format("{} must be a JSON object, not {}", where, KindOf(value))};
  }
  const json::object& object = value.get_object();
  Fields f(object, where);
  if (object.size() > kCommandKeysMax) {
    return InputError{"unknown_field", fmt::format("{} has {} keys; no command has more than {}",
                                                   where, object.size(), kCommandKeysMax)};
  }
  const auto type_it = object.find("type");
  if (type_it == object.end()) {
    return InputError{"missing_type",
                      fmt::format("{} has no \"type\" (e.g. \"RecordBankReceipt\")", where)};
  }
  if (!type_it->value().is_string()) {
    return InputError{"wrong_type", fmt::format("{}: \"type\" must be a string, not {}", where,
                                                KindOf(type_it->value()))};
  }
  const json::string& type = type_it->value().get_string();
  size_t index = kDecoders.size();
  for (size_t i = 0; i < std::size(kTypeNames); ++i) {
    if (kTypeNames[i] == std::string_view(type.data(), type.size())) index = i;
  }
  if (index == kDecoders.size()) {
    return InputError{"unknown_command_type",
                      fmt::format("{}: unknown command type {} (docs/commands.md lists them)",
                                  where, JsonQuote(std::string_view(type).substr(0, 64)))};
  }
  f.set_type(kTypeNames[index]);
  Command command;
  std::string type_text;
  if (!f.Text("type", &type_text) || !f.Text("idempotency_key", &command.header.idempotency_key) ||
      !f.U32("effective_date", &command.header.effective_date) ||
      !f.OptionalText("channel", &command.header.channel) || !kDecoders[index](f, command.body) ||
      !f.Finish()) {
    return std::move(f.error());
  }
  return command;
}

}  // namespace

std::string_view CommandTypeName(const CommandBody& body) { return kTypeNames[body.index()]; }

std::variant<std::vector<Command>, InputError> DecodeCommands(std::string_view body) {
  // The parsed document lives only in this call: a per-thread scratch arena spares the
  // allocator (and the page faults of fresh memory) for a batch of ordinary size.
  constexpr size_t kScratchBytes = 2u << 20;
  thread_local std::vector<unsigned char> scratch(kScratchBytes);
  auto parsed = ParseStrictJson(body, kJsonDepthMax, scratch);
  if (auto* error = std::get_if<InputError>(&parsed)) return std::move(*error);
  const json::value& root = std::get<json::value>(parsed);
  if (!root.is_array()) {
    return InputError{
        "not_an_array",
        fmt::format("the body must be a JSON array of commands, not {}", KindOf(root))};
  }
  const json::array& array = root.get_array();
  if (array.empty()) return InputError{"empty_batch", "the array holds no commands"};
  if (array.size() > kCommandsPerRequestMax) {
    return InputError{"too_many_commands",
                      fmt::format("{} commands in one request; at most {}: split the batch",
                                  array.size(), kCommandsPerRequestMax)};
  }
  std::vector<Command> commands;
  commands.reserve(array.size());
  std::string where;
  for (size_t i = 0; i < array.size(); ++i) {
    where = fmt::format("commands[{}]", i);
    auto decoded = DecodeObject(array[i], where);
    if (auto* error = std::get_if<InputError>(&decoded)) return std::move(*error);
    commands.push_back(std::move(std::get<Command>(decoded)));
  }
  return commands;
}

std::variant<Command, InputError> DecodeCommand(std::string_view text) {
  auto parsed = ParseStrictJson(text, kJsonDepthMax);
  if (auto* error = std::get_if<InputError>(&parsed)) return std::move(*error);
  return DecodeObject(std::get<json::value>(parsed), "the command");
}

}  // namespace hpf::ledgerd
