// ledger/internal/command_hash.cc
#include "ledger/internal/command_hash.h"

#include <span>
#include <type_traits>

#include "ledger/internal/codec_support.h"

namespace hpf::ledger::internal {

namespace {

// Names the hash's purpose and the encoding's version; a new encoding is a new tag.
constexpr std::string_view kDomainTag = "hpf.ledger.command.v1";

// --- the stable tag of each command type (never renumber or reuse) ---
constexpr uint16_t Tag(std::type_identity<RegisterEmployer> /*unused*/) { return 1; }
constexpr uint16_t Tag(std::type_identity<ChangeEmployerRates> /*unused*/) { return 2; }
constexpr uint16_t Tag(std::type_identity<SealEmployer> /*unused*/) { return 3; }
constexpr uint16_t Tag(std::type_identity<OpenAccount> /*unused*/) { return 4; }
constexpr uint16_t Tag(std::type_identity<ChangeAccountBase> /*unused*/) { return 5; }
constexpr uint16_t Tag(std::type_identity<SealAccount> /*unused*/) { return 6; }
constexpr uint16_t Tag(std::type_identity<UnsealAccount> /*unused*/) { return 7; }
constexpr uint16_t Tag(std::type_identity<FreezeAccount> /*unused*/) { return 8; }
constexpr uint16_t Tag(std::type_identity<UnfreezeAccount> /*unused*/) { return 9; }
constexpr uint16_t Tag(std::type_identity<CloseAccount> /*unused*/) { return 10; }
constexpr uint16_t Tag(std::type_identity<RecordBankReceipt> /*unused*/) { return 11; }
constexpr uint16_t Tag(std::type_identity<OpenRemittance> /*unused*/) { return 12; }
constexpr uint16_t Tag(std::type_identity<AllocateContribution> /*unused*/) { return 13; }
constexpr uint16_t Tag(std::type_identity<CompleteRemittance> /*unused*/) { return 14; }
constexpr uint16_t Tag(std::type_identity<SettleInterest> /*unused*/) { return 15; }
constexpr uint16_t Tag(std::type_identity<GrantRateReduction> /*unused*/) { return 16; }
constexpr uint16_t Tag(std::type_identity<GrantDeferral> /*unused*/) { return 17; }
constexpr uint16_t Tag(std::type_identity<ReverseRecord> /*unused*/) { return 18; }
constexpr uint16_t Tag(std::type_identity<CloseEmployer> /*unused*/) { return 19; }
constexpr uint16_t Tag(std::type_identity<ReopenEmployer> /*unused*/) { return 20; }
constexpr uint16_t Tag(std::type_identity<ChangePolicy> /*unused*/) { return 21; }
constexpr uint16_t Tag(std::type_identity<ApplyWithdrawal> /*unused*/) { return 22; }
constexpr uint16_t Tag(std::type_identity<ApproveWithdrawal> /*unused*/) { return 23; }
constexpr uint16_t Tag(std::type_identity<RejectWithdrawal> /*unused*/) { return 24; }
constexpr uint16_t Tag(std::type_identity<PayWithdrawal> /*unused*/) { return 25; }
constexpr uint16_t Tag(std::type_identity<CancelWithdrawal> /*unused*/) { return 26; }
// A command without a tag of its own lands here.
template <typename C>
constexpr uint16_t Tag(std::type_identity<C> /*unused*/) {
  static_assert(sizeof(C) == 0, "give the new command the next tag above");
  return 0;
}

// --- every field of every command, in a fixed order ---
// A field added to a command changes its FieldCount and stops the build here: encode it
// (append it at the end of its Encode) and extend the test in tests/ledger/sequencer_test.cc.
static_assert(FieldCount<CommandHeader>() == 4, "Command header: is the new field content?");
static_assert(FieldCount<RegisterEmployer>() == 7, "encode the new field of RegisterEmployer");
static_assert(FieldCount<ChangeEmployerRates>() == 4, "encode the new field");
static_assert(FieldCount<SealEmployer>() == 3, "encode the new field of SealEmployer");
static_assert(FieldCount<OpenAccount>() == 6, "encode the new field of OpenAccount");
static_assert(FieldCount<ChangeAccountBase>() == 3, "encode the new field");
static_assert(FieldCount<SealAccount>() == 2, "encode the new field of SealAccount");
static_assert(FieldCount<UnsealAccount>() == 4, "encode the new field of UnsealAccount");
static_assert(FieldCount<FreezeAccount>() == 3, "encode the new field of FreezeAccount");
static_assert(FieldCount<UnfreezeAccount>() == 3, "encode the new field");
static_assert(FieldCount<CloseAccount>() == 1, "encode the new field of CloseAccount");
static_assert(FieldCount<RecordBankReceipt>() == 5, "encode the new field");
static_assert(FieldCount<OpenRemittance>() == 8, "encode the new field of OpenRemittance");
static_assert(FieldCount<AllocateContribution>() == 7, "encode the new field");
static_assert(FieldCount<CompleteRemittance>() == 2, "encode the new field");
static_assert(FieldCount<SettleInterest>() == 2, "encode the new field of SettleInterest");
static_assert(FieldCount<GrantRateReduction>() == 6, "encode the new field");
static_assert(FieldCount<GrantDeferral>() == 4, "encode the new field of GrantDeferral");
static_assert(FieldCount<ReverseRecord>() == 5, "encode the new field of ReverseRecord");
static_assert(FieldCount<CloseEmployer>() == 3, "encode the new field of CloseEmployer");
static_assert(FieldCount<ReopenEmployer>() == 2, "encode the new field of ReopenEmployer");
static_assert(FieldCount<ChangePolicy>() == 4, "encode the new field of ChangePolicy");
static_assert(FieldCount<ApplyWithdrawal>() == 5, "encode the new field of ApplyWithdrawal");
static_assert(FieldCount<ApproveWithdrawal>() == 1, "encode the new field");
static_assert(FieldCount<RejectWithdrawal>() == 2, "encode the new field of RejectWithdrawal");
static_assert(FieldCount<PayWithdrawal>() == 4, "encode the new field of PayWithdrawal");
static_assert(FieldCount<CancelWithdrawal>() == 2, "encode the new field of CancelWithdrawal");

class BodyEncoder {
 public:
  explicit BodyEncoder(ByteWriter& w) : w_(w) {}

  void operator()(const RegisterEmployer& c) {
    w_.U64(c.employer.value);
    w_.String(c.unified_social_credit_code);
    w_.String(c.name);
    w_.String(c.bank_code);
    w_.U32(c.employer_rate.value);
    w_.U32(c.employee_rate.value);
    w_.U32(c.first_contribution_month);
  }
  void operator()(const ChangeEmployerRates& c) {
    w_.U64(c.employer.value);
    w_.U32(c.employer_rate.value);
    w_.U32(c.employee_rate.value);
    w_.U32(c.from_month);
  }
  void operator()(const GrantRateReduction& c) {
    w_.U64(c.employer.value);
    w_.U32(c.employer_rate.value);
    w_.U32(c.employee_rate.value);
    w_.U32(c.from_month);
    w_.U32(c.to_month);
    w_.String(c.approval_reference);
  }
  void operator()(const GrantDeferral& c) {
    w_.U64(c.employer.value);
    w_.U32(c.from_month);
    w_.U32(c.to_month);
    w_.String(c.approval_reference);
  }
  void operator()(const SealEmployer& c) {
    w_.U64(c.employer.value);
    w_.U8(static_cast<uint8_t>(c.reason));
    w_.String(c.approval_reference);
  }
  void operator()(const CloseEmployer& c) {
    w_.U64(c.employer.value);
    w_.U8(static_cast<uint8_t>(c.reason));
    w_.String(c.approval_reference);
  }
  void operator()(const ReopenEmployer& c) {
    w_.U64(c.employer.value);
    w_.U32(c.first_contribution_month);
  }
  void operator()(const OpenAccount& c) {
    w_.U64(c.account.value);
    w_.U64(c.employer.value);
    w_.U64(c.person_id);
    w_.I64(c.contribution_base.value);
    w_.U32(c.first_contribution_month);
    w_.String(std::string_view(reinterpret_cast<const char*>(c.identity_digest.data()),
                               c.identity_digest.size()));
  }
  void operator()(const ChangeAccountBase& c) {
    w_.U64(c.account.value);
    w_.I64(c.contribution_base.value);
    w_.U32(c.from_month);
  }
  void operator()(const SealAccount& c) {
    w_.U64(c.account.value);
    w_.U8(static_cast<uint8_t>(c.reason));
  }
  void operator()(const UnsealAccount& c) {
    w_.U64(c.account.value);
    w_.U64(c.employer.value);
    w_.I64(c.contribution_base.value);
    w_.U32(c.first_contribution_month);
  }
  void operator()(const FreezeAccount& c) {
    w_.U64(c.account.value);
    w_.String(c.court_order_reference);
    w_.String(c.authority);
  }
  void operator()(const UnfreezeAccount& c) {
    w_.U64(c.account.value);
    w_.String(c.court_order_reference);
    w_.String(c.authority);
  }
  void operator()(const CloseAccount& c) { w_.U64(c.account.value); }
  void operator()(const RecordBankReceipt& c) {
    w_.U64(c.employer.value);
    w_.String(c.bank_code);
    w_.String(c.bank_reference);
    w_.I64(c.amount.value);
    w_.U64(c.deposit_id);
  }
  void operator()(const OpenRemittance& c) {
    w_.U64(c.remittance_id);
    w_.U64(c.employer.value);
    w_.U8(static_cast<uint8_t>(c.kind));
    w_.U32(c.from_month);
    w_.U32(c.to_month);
    w_.U32(c.accounts_count);
    w_.I64(c.total.value);
    w_.String(c.list_reference);
  }
  void operator()(const AllocateContribution& c) {
    w_.U64(c.remittance_id);
    w_.U64(c.employer.value);
    w_.U64(c.account.value);
    w_.U32(c.month);
    w_.I64(c.contribution_base.value);
    w_.I64(c.employer_amount.value);
    w_.I64(c.employee_amount.value);
  }
  void operator()(const CompleteRemittance& c) {
    w_.U64(c.remittance_id);
    w_.U64(c.employer.value);
  }
  void operator()(const SettleInterest& c) {
    w_.I32(c.interest_year);
    w_.U64(c.accounts.size());  // the count first: the list's end is unambiguous
    for (const AccountId account : c.accounts) w_.U64(account.value);
  }
  // `target` is not content: the sequencer derives it from the log (ledger/commands.h).
  void operator()(const ReverseRecord& c) {
    w_.U64(c.position);
    w_.U8(static_cast<uint8_t>(c.reason));
    w_.String(c.note);
    w_.String(c.approval_reference);
  }
  // The document as sent, byte for byte: another spelling of the same book is another
  // command (its key cannot be reused for it).
  void operator()(const ChangePolicy& c) {
    w_.String(c.document);
    w_.U32(c.effective_from);
    w_.String(c.summary);
    w_.String(c.approval_reference);
  }
  void operator()(const ApplyWithdrawal& c) {
    w_.U64(c.withdrawal_id);
    w_.U64(c.account.value);
    w_.U8(static_cast<uint8_t>(c.reason));
    w_.String(c.payee_reference);
    w_.String(c.evidence_reference);
  }
  void operator()(const ApproveWithdrawal& c) { w_.U64(c.withdrawal_id); }
  void operator()(const RejectWithdrawal& c) {
    w_.U64(c.withdrawal_id);
    w_.String(c.reason);
  }
  void operator()(const PayWithdrawal& c) {
    w_.U64(c.withdrawal_id);
    w_.U64(c.deposit_id);
    w_.String(c.bank_code);
    w_.String(c.bank_reference);
  }
  void operator()(const CancelWithdrawal& c) {
    w_.U64(c.withdrawal_id);
    w_.String(c.reason);
  }
  // A command without an encoding of its own lands here.
  template <typename C>
  void operator()(const C& /*unused*/) {
    static_assert(sizeof(C) == 0, "encode every field of the new command");
  }

 private:
  ByteWriter& w_;
};

}  // namespace

uint16_t CommandTag(const CommandBody& body) {
  return std::visit(
      [](const auto& c) { return Tag(std::type_identity<std::decay_t<decltype(c)>>{}); }, body);
}

std::string CanonicalCommandBytes(const Command& command) {
  std::string bytes;
  ByteWriter w(&bytes);
  w.String(kDomainTag);
  w.U32(command.header.effective_date);
  w.U16(CommandTag(command.body));
  std::visit(BodyEncoder(w), command.body);
  return bytes;
}

events::Digest CommandHash(const Command& command, events::ChainHasher& sha256) {
  HPF_ASSERT(sha256.algorithm() == events::HashAlgorithm::kSha256);
  const std::string bytes = CanonicalCommandBytes(command);
  return sha256.Plain(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace hpf::ledger::internal
