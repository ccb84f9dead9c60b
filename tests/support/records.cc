// tests/support/records.cc
#include "tests/support/records.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/core.h>
#include <openssl/sha.h>

namespace hpf::testing {

namespace schema = ::hpf::schema::v1;

std::span<const uint8_t> BuildReceipt(events::RecordBuilder& builder, const ReceiptSpec& spec) {
  const std::string reference = spec.reference.empty() ? spec.key : spec.reference;
  const std::string content =
      fmt::format("{}|{}|{}|{}", spec.key, spec.employer_id, spec.amount_fen, reference);
  events::Digest command_hash{};
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(),
         command_hash.data());
  auto& fbb = builder.fbb();
  constexpr uint64_t kDemandDepositId = 1;
  const auto payload = schema::CreateBankReceiptRecordedDirect(
      fbb, spec.employer_id, "ICBC", reference.c_str(), spec.amount_fen, kDemandDepositId);
  const schema::Posting postings[] = {
      schema::Posting(101, schema::Side::Debit, schema::EntityKind::Deposit, 0, kDemandDepositId,
                      spec.amount_fen),
      schema::Posting(219, schema::Side::Credit, schema::EntityKind::Employer, 0, spec.employer_id,
                      spec.amount_fen),
  };
  return builder.Finish(events::EnvelopeFields{.effective_date = spec.effective_date,
                                               .stream_kind = schema::EntityKind::Employer,
                                               .stream_id = spec.employer_id,
                                               .stream_version = 1,
                                               .idempotency_key = spec.key,
                                               .command_hash = command_hash,
                                               .actor = "bank:102",
                                               .channel = "102"},
                        schema::Event::BankReceiptRecorded, payload.Union(), postings);
}

std::vector<uint8_t> MakeReceipt(const ReceiptSpec& spec) {
  events::RecordBuilder builder;
  const auto bytes = BuildReceipt(builder, spec);
  return {bytes.begin(), bytes.end()};
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "hpf-test-XXXXXX").string();
  HPF_ASSERT(mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace hpf::testing
