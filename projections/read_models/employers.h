// projections/read_models/employers.h — employers (缴存单位) for GET /v1/employers?status= and
// /v1/employers/{id}: registration, status, rates, paid-up-to month (缴至年月) with the record
// that set it, deferrals, suspense (暂收, Σ of its 219 postings), its accounts counted by state,
// and months in arrears as of a date.
//
// Folding. Employer facts come from the employer's stream; its suspense and account counts
// come from other streams too (allocations debit 219 on account streams; accounts open, seal,
// unseal and close on theirs) and are sums and counts, which commute. An account's counts move
// with its own stream's records (the model keeps each account's employer and state), so any
// interleaving of streams gives the same rows. A row can exist before its registration arrives
// (another stream's record named the employer first); it reads as not registered until then.
//
// Stored form: "r/" + employer (u64) → the row; "t/" + status + employer → "" (list index, for
// registered employers); "a/" + account → the account's employer, state and freeze flag (for
// Load(); written only when those change).
// Thread safety: the projection object belongs to the runtime's thread; the queries read a
// ReadView and may run on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ledger/calendar.h"
#include "ledger/money.h"
#include "projections/projection.h"
#include "projections/read_models/arrears.h"
#include "projections/read_models/page.h"

namespace hpf::projections::read_models {

enum class EmployerStatus : uint8_t {
  kNormal = 1,  // 正常
  kSealed = 2,  // 封存
  kClosed = 3,  // 销户
};

// "normal", "sealed", "closed"; Parse fails with kInvalidArgument for any other text.
std::string_view EmployerStatusName(EmployerStatus status);
Result<EmployerStatus> ParseEmployerStatus(std::string_view name);

namespace internal {
class ValueReader;
class ValueWriter;
}  // namespace internal

// An employer's deferral grants (缓缴) in the stored form of every read model that keeps them
// (this one and arrears_alerts.h): a u16 count, then each grant's from month, to month (u32
// yyyymm) and position (u64). REQUIRES: at most 65 535 grants.
void WriteDeferrals(internal::ValueWriter& writer, std::span<const DeferralGrant> deferrals);
// Reads them back, replacing `deferrals`. kCorruption naming `what` for a month that is not
// one; a short read is left to the reader's Finish().
Status ReadDeferrals(internal::ValueReader& reader, std::string_view what,
                     std::vector<DeferralGrant>* deferrals);

class EmployersProjection final : public Projection {
 public:
  std::string_view name() const override { return "employers"; }
  uint32_t version() const override { return 1; }
  Status Load(const ReadView& stored) override;
  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override;

  struct Row {
    bool registered = false;
    std::string name;
    std::string unified_social_credit_code;
    std::string bank_code;
    uint32_t employer_rate_ppm = 0;
    uint32_t employee_rate_ppm = 0;
    uint32_t registered_date = 0;           // yyyymmdd
    uint32_t first_contribution_month = 0;  // yyyymm
    EmployerStatus status = EmployerStatus::kNormal;
    uint32_t status_date = 0;       // yyyymmdd of the last seal, reopening or closing; 0 if none
    uint32_t paid_up_to_month = 0;  // yyyymm
    uint64_t paid_up_position = 0;  // the record that set it
    uint64_t open_remittance_id = 0;
    std::vector<DeferralGrant> deferrals;
    int64_t suspense_fen = 0;
    int64_t accounts_normal = 0;
    int64_t accounts_sealed = 0;
    int64_t accounts_closed = 0;
    int64_t accounts_frozen = 0;
    uint64_t stream_version = 0;
    uint64_t touched_batch = 0;  // in memory only
  };
  struct AccountLink {
    uint64_t employer_id = 0;
    uint8_t status = 0;  // EmployerStatus-like account states: 1 normal, 2 sealed, 3 closed
    bool frozen = false;
    uint64_t touched_batch = 0;  // in memory only
  };

 private:
  Status ApplyOne(const SourcedRecord& sourced);
  Status ApplyAccountRecord(const SourcedRecord& sourced);
  Row& Touch(uint64_t employer_id);
  AccountLink& TouchAccount(uint64_t account_id);

  std::unordered_map<uint64_t, Row> rows_;
  std::unordered_map<uint64_t, AccountLink> accounts_;
  uint64_t batch_ = 0;
  // Employers touched this batch with their indexed status before it (0: none).
  std::vector<std::pair<uint64_t, uint8_t>> touched_;
  std::vector<uint64_t> touched_accounts_;
  std::string key_;
  std::string value_;
};

struct AccountCounts {
  int64_t normal = 0;
  int64_t sealed = 0;
  int64_t closed = 0;
  int64_t frozen = 0;  // of any state, frozen by a court order
};

struct EmployerSummary {
  uint64_t employer_id = 0;
  bool registered = false;  // false: only other streams have named it so far
  std::string name;
  std::string unified_social_credit_code;
  std::string bank_code;
  uint32_t employer_rate_ppm = 0;  // in force now (a 降比 grant is not shown here)
  uint32_t employee_rate_ppm = 0;
  std::optional<ledger::Date> registered_on;
  EmployerStatus status = EmployerStatus::kNormal;
  std::optional<ledger::Date> status_changed_on;  // the last seal, reopening or closing
  std::optional<ledger::Month> paid_up_to_month;  // empty until registered
  uint64_t paid_up_position = 0;  // the registration, reopening or completed list that set it
  uint64_t open_remittance_id = 0;
  std::vector<DeferralGrant> deferrals;
  ledger::Fen suspense;  // received, not yet allocated
  AccountCounts accounts;
  Arrears arrears;  // as of the date asked (none until registered)
};

// One employer with its arrears as of `as_of`; empty if no record has named it.
Result<std::optional<EmployerSummary>> GetEmployer(const ReadView& view, uint64_t employer_id,
                                                   ledger::Date as_of);

// Registered employers, by id, of one status or all; arrears as of `as_of`.
Result<Page<EmployerSummary>> ListEmployers(const ReadView& view,
                                            std::optional<EmployerStatus> status,
                                            ledger::Date as_of, const PageRequest& page);

}  // namespace hpf::projections::read_models
