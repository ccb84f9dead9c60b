// tools/ledger-demo/main.cc — the main job until ledgerd exists (issue #5).
//
//   ledger-demo [--data-dir DIR] [--employers N] [--accounts-per-employer N] [--months N]
//
// Appends a small synthetic city to the event log — employers registered, personal accounts
// opened, and for each month a bank receipt into the employer's suspense and the allocation
// of it to every account — then verifies the whole chain and prints the head digest an
// auditor keeps. The data is deterministic and every command has an idempotency key, so a
// second run appends nothing and reports duplicates: the log is append-only and idempotent.
//
// This is synthetic data through the event log only; the ledger's business rules (rates,
// floors and caps, month sequencing) arrive with the write model (issue #3) and its seeded
// city generator ledger-sim replaces this tool's figures.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "events/event_log.h"
#include "events/hash_chain.h"
#include "events/record.h"
#include "events/verify.h"

namespace {

namespace events = hpf::events;
namespace schema = hpf::schema::v1;

struct Options {
  std::string data_dir = "./data";
  uint64_t employers = 20;
  uint64_t accounts_per_employer = 25;
  uint64_t months = 3;
};

constexpr uint32_t kEmployerRatePpm = 120'000;  // 12 %
constexpr uint32_t kEmployeeRatePpm = 120'000;
constexpr uint64_t kDemandDepositId = 1;
constexpr uint32_t kFirstMonth = 202207;  // the contribution year starts 1 July

// base × rate, rounded half-up to the fen (the ledger's default rule; DOMAIN §2).
int64_t SideAmount(int64_t base_fen, uint32_t rate_ppm) {
  return (base_fen * rate_ppm + 500'000) / 1'000'000;
}

uint32_t MonthPlus(uint32_t yyyymm, uint64_t months) {
  const uint64_t index = (yyyymm / 100) * 12 + (yyyymm % 100 - 1) + months;
  return static_cast<uint32_t>((index / 12) * 100 + index % 12 + 1);
}

// Collects commands into one batch; each command is one record with its own key.
class DemoWriter {
 public:
  explicit DemoWriter(events::ChainHasher& hasher) : hasher_(hasher) {}

  // Adds one record; `content` is the command's canonical text (hashed for idempotency).
  template <typename MakePayload>
  void Add(std::string key, uint32_t date, schema::EntityKind kind, uint64_t stream_id,
           schema::Event type, const std::string& content, MakePayload make_payload,
           std::vector<schema::Posting> postings) {
    const std::span<const uint8_t> content_bytes(reinterpret_cast<const uint8_t*>(content.data()),
                                                 content.size());
    auto& fbb = builder_.fbb();
    const flatbuffers::Offset<void> payload = make_payload(fbb);
    const auto bytes = builder_.Finish({.effective_date = date,
                                        .stream_kind = kind,
                                        .stream_id = stream_id,
                                        .stream_version = 1,
                                        .idempotency_key = key,
                                        .command_hash = hasher_.Plain(content_bytes),
                                        .actor = "demo",
                                        .channel = "demo"},
                                       type, payload, postings);
    HPF_ASSERT(batch_.AddRecord(bytes).ok());
  }

  events::AppendBatch Take() {
    events::AppendBatch out = std::move(batch_);
    batch_.Clear();
    return out;
  }

 private:
  events::ChainHasher& hasher_;
  events::RecordBuilder builder_;
  events::AppendBatch batch_;
};

schema::Posting Line(uint32_t gl, schema::Side side, schema::EntityKind kind, uint64_t id,
                     int64_t amount) {
  return schema::Posting(gl, side, kind, 0, id, amount);
}

void AddEmployer(DemoWriter& w, const Options& o, uint64_t employer) {
  const std::string code = fmt::format("91370200MA{:08}", employer);
  const std::string name = fmt::format("Demo Employer {}", employer);
  w.Add(fmt::format("demo:employer:{}", employer), 20220701, schema::EntityKind::Employer, employer,
        schema::Event::EmployerRegistered, code + name,
        [&](auto& fbb) {
          return schema::CreateEmployerRegisteredDirect(fbb, employer, code.c_str(), name.c_str(),
                                                        "ICBC", kEmployerRatePpm, kEmployeeRatePpm,
                                                        kFirstMonth)
              .Union();
        },
        {});
  for (uint64_t a = 0; a < o.accounts_per_employer; ++a) {
    const uint64_t account = employer * 1000 + a;
    const int64_t base = 400'000 + static_cast<int64_t>((account * 7919) % 1'500'000);
    w.Add(fmt::format("demo:account:{}", account), 20220701, schema::EntityKind::Account, account,
          schema::Event::AccountOpened, fmt::format("{}:{}", account, base),
          [&](auto& fbb) {
            schema::AccountOpenedBuilder b(fbb);
            b.add_account_id(account);
            b.add_employer_id(employer);
            b.add_contributor_kind(schema::ContributorKind::Employee);
            b.add_person_id(account);
            b.add_contribution_base_fen(base);
            b.add_first_contribution_month(kFirstMonth);
            return b.Finish().Union();
          },
          {});
  }
}

void AddMonth(DemoWriter& w, const Options& o, uint64_t employer, uint64_t month_index) {
  const uint32_t month = MonthPlus(kFirstMonth, month_index);
  const uint32_t date = month * 100 + 15;
  std::vector<std::pair<uint64_t, int64_t>> shares;  // account, base
  int64_t total = 0;
  for (uint64_t a = 0; a < o.accounts_per_employer; ++a) {
    const uint64_t account = employer * 1000 + a;
    const int64_t base = 400'000 + static_cast<int64_t>((account * 7919) % 1'500'000);
    shares.emplace_back(account, base);
    total += SideAmount(base, kEmployerRatePpm) + SideAmount(base, kEmployeeRatePpm);
  }
  const std::string reference = fmt::format("ICBC{}{:06}", month, employer);
  using K = schema::EntityKind;
  using S = schema::Side;
  w.Add("demo:receipt:" + reference, date, K::Employer, employer,
        schema::Event::BankReceiptRecorded, fmt::format("{}:{}", reference, total),
        [&](auto& fbb) {
          return schema::CreateBankReceiptRecordedDirect(fbb, employer, "ICBC", reference.c_str(),
                                                         total, kDemandDepositId)
              .Union();
        },
        {Line(101, S::Debit, K::Deposit, kDemandDepositId, total),
         Line(219, S::Credit, K::Employer, employer, total)});
  const uint64_t remittance = employer * 100'000 + month;
  for (const auto& share : shares) {
    const uint64_t account = share.first;  // named copies: clang 14 cannot capture bindings
    const int64_t base = share.second;
    const int64_t employer_part = SideAmount(base, kEmployerRatePpm);
    const int64_t employee_part = SideAmount(base, kEmployeeRatePpm);
    w.Add(fmt::format("demo:allocation:{}:{}", remittance, account), date, K::Account, account,
          schema::Event::ContributionAllocated,
          fmt::format("{}:{}:{}:{}", remittance, account, employer_part, employee_part),
          [&](auto& fbb) {
            return schema::CreateContributionAllocated(
                       fbb, remittance, employer, account, schema::BusinessType::Remittance, month,
                       base, kEmployerRatePpm, kEmployeeRatePpm, employer_part, employee_part)
                .Union();
          },
          {Line(219, S::Debit, K::Employer, employer, employer_part + employee_part),
           Line(201, S::Credit, K::Account, account, employer_part + employee_part)});
  }
}

int Fail(std::string_view what, const hpf::Status& status) {
  fmt::print(stderr, "ledger-demo: {}: {}\n", what, status.ToString());
  return 1;
}

bool ParseU64(std::string_view text, uint64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out > 0 && *out <= 1000;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    bool ok = has_value;
    if (arg == "--data-dir" && has_value) {
      o.data_dir = argv[++i];
    } else if (arg == "--employers" && has_value) {
      ok = ParseU64(argv[++i], &o.employers);
    } else if (arg == "--accounts-per-employer" && has_value) {
      ok = ParseU64(argv[++i], &o.accounts_per_employer);
    } else if (arg == "--months" && has_value) {
      ok = ParseU64(argv[++i], &o.months) && o.months <= 12;
    } else {
      ok = false;
    }
    if (!ok) {
      fmt::print(stderr,
                 "usage: ledger-demo [--data-dir DIR] [--employers 1..1000] "
                 "[--accounts-per-employer 1..999] [--months 1..12]\n");
      return 2;
    }
  }
  auto opened = events::EventLog::Open({.data_dir = o.data_dir});
  if (!opened.has_value()) return Fail("opening " + o.data_dir, opened.error());
  auto log = std::move(opened).value();
  auto hasher = events::ChainHasher::Create(log->hash_algorithm());
  if (!hasher.has_value()) return Fail("hash", hasher.error());
  DemoWriter writer(**hasher);
  uint64_t appended = 0;
  uint64_t duplicates = 0;
  auto append = [&](events::AppendBatch batch) -> hpf::Status {
    HPF_ASSIGN_OR_RETURN(const auto result, log->Append(std::move(batch)));
    for (const auto& command : result.commands) {
      if (command.outcome == events::CommandOutcome::kAppended) ++appended;
      if (command.outcome == events::CommandOutcome::kDuplicate) ++duplicates;
      if (command.outcome == events::CommandOutcome::kConflict) {
        return hpf::FailedPreconditionError(fmt::format(
            "a demo key is already used at position {} with other content: use an empty "
            "--data-dir",
            command.position.value));
      }
    }
    return hpf::Status::Ok();
  };
  for (uint64_t e = 1; e <= o.employers; ++e) AddEmployer(writer, o, e);
  if (auto status = append(writer.Take()); !status.ok()) return Fail("appending", status);
  for (uint64_t m = 0; m < o.months; ++m) {
    for (uint64_t e = 1; e <= o.employers; ++e) AddMonth(writer, o, e, m);
    if (auto status = append(writer.Take()); !status.ok()) return Fail("appending", status);
  }
  if (auto status = log->Close(); !status.ok()) return Fail("closing", status);
  log.reset();

  auto reader = events::EventLog::OpenReadOnly(o.data_dir);
  if (!reader.has_value()) return Fail("reopening read-only", reader.error());
  auto report = events::VerifyLog(**reader, {});
  if (!report.has_value()) return Fail("verifying", report.error());
  fmt::print("ledger-demo: {} records appended, {} already present (idempotent rerun)\n", appended,
             duplicates);
  if (!report->ok()) {
    fmt::print("verification FAILED at position {}: {}\n", report->position.value, report->detail);
    return 1;
  }
  const std::string digest = events::FormatHeadDigest(report->head);
  fmt::print("verified {} records ({}); head digest:\n  {}\n", report->records_checked,
             events::HashAlgorithmName((*reader)->hash_algorithm()), digest);
  fmt::print(
      "an auditor re-checks it at any time with:\n  ledger-replay verify --data-dir {} "
      "--digest {}\n",
      o.data_dir, digest);
  return 0;
}
