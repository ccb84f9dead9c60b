// tests/projections/read_models_parts_test.cc — the read models' pieces and their failures:
// packed blocks and stored values (any insertion order gives the same bytes; damaged bytes are
// Corruption), cursors and page requests, months in arrears, records a read model refuses
// (kCorruption naming the position), the rate table in force taken from the log's policy, a
// credit whose 积数 is not the folded money's, and damaged stores.
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "events/record.h"
#include "projections/read_models/accounts.h"
#include "projections/read_models/arrears.h"
#include "projections/read_models/employers.h"
#include "projections/read_models/internal/blocks.h"
#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/page.h"
#include "projections/read_models/statements.h"
#include "tests/projections/read_models_test_support.h"
#include "tests/support/ledger_commands.h"

namespace hpf::projections::read_models {
namespace {

using internal::BucketedBlocks;
using internal::SortedBlock;
using ledger::Date;
using ledger::Month;
using testing::MemoryStore;

Date D(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }
Month M(uint32_t yyyymm) { return Month::FromYyyymm(yyyymm).value(); }

std::string Row(uint64_t key, std::string_view payload) {
  std::string row;
  internal::AppendKey64(row, key);
  row.append(payload);
  return row;
}

std::vector<uint64_t> Keys(std::string_view block) {
  std::vector<uint64_t> keys;
  REQUIRE(internal::VisitBlockRows(block, "test", [&](std::string_view row) {
            uint64_t key = 0;
            REQUIRE(internal::ReadKey64(row, 0, &key));
            keys.push_back(key);
            return true;
          }).ok());
  return keys;
}

// A record built by hand, for what the ledger never writes.
struct Built {
  std::vector<uint64_t> words;
  SourcedRecord sourced;
};

Built Build(uint64_t position, schema::EntityKind kind, uint64_t stream_id, uint64_t version,
            const std::vector<schema::Posting>& postings) {
  events::RecordBuilder builder;
  auto payload = schema::CreateBankReceiptRecordedDirect(builder.fbb(), 1, "ICBC", "X", 100, 1);
  const auto bytes = builder.Finish({.effective_date = 20220715,
                                     .stream_kind = kind,
                                     .stream_id = stream_id,
                                     .stream_version = version,
                                     .actor = "op",
                                     .channel = "c"},
                                    schema::Event::BankReceiptRecorded, payload.Union(), postings);
  Built built;
  built.words.resize((bytes.size() + 7) / 8);
  std::memcpy(built.words.data(), bytes.data(), bytes.size());
  const std::span<uint8_t> stored(reinterpret_cast<uint8_t*>(built.words.data()), bytes.size());
  events::PatchLink(stored, events::GlobalPosition{position}, 1, events::Digest{});
  built.sourced = {events::GlobalPosition{position}, events::VerifyRecord(stored).value(), stored};
  return built;
}

TEST_SUITE("projections") {
  TEST_CASE("SortedBlock: rows in any order give the same bytes; a repeated key is refused") {
    SortedBlock in_order;
    SortedBlock shuffled;
    for (const uint64_t key : {1u, 2u, 3u, 5u, 8u})
      in_order.Add(Row(key, std::string(key, 'x')), 8);
    for (const uint64_t key : {5u, 1u, 8u, 3u, 2u})
      shuffled.Add(Row(key, std::string(key, 'x')), 8);
    std::string ordered_bytes;
    std::string shuffled_bytes;
    REQUIRE(in_order.Serialize(ordered_bytes, "a").ok());
    REQUIRE(shuffled.Serialize(shuffled_bytes, "b").ok());
    CHECK(ordered_bytes == shuffled_bytes);
    CHECK(Keys(shuffled_bytes) == std::vector<uint64_t>{1, 2, 3, 5, 8});
    // Rows added after a serialization merge into the order already settled.
    shuffled.Add(Row(4, ""), 8);
    shuffled.Add(Row(9, ""), 8);
    shuffled.Add(Row(0, ""), 8);
    REQUIRE(shuffled.Serialize(shuffled_bytes, "b").ok());
    CHECK(Keys(shuffled_bytes) == std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 8, 9});
    // Restored from its bytes, it goes on the same way.
    auto restored = SortedBlock::FromStored(shuffled_bytes, 8, "test").value();
    CHECK(restored.rows_count() == 8);
    restored.Add(Row(7, ""), 8);
    restored.Add(Row(10, ""), 8);
    std::string restored_bytes;
    REQUIRE(restored.Serialize(restored_bytes, "c").ok());
    CHECK(Keys(restored_bytes) == std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 7, 8, 9, 10});
    // The same key twice, in order or not, is a record folded twice.
    restored.Add(Row(3, "again"), 8);
    const Status twice = restored.Serialize(restored_bytes, "c");
    CHECK(twice.code() == StatusCode::kCorruption);
    CHECK(twice.message().find("folded twice") != std::string::npos);
    SortedBlock appended;
    appended.Add(Row(1, ""), 8);
    appended.Add(Row(1, ""), 8);
    CHECK(appended.Serialize(restored_bytes, "d").code() == StatusCode::kCorruption);
  }

  TEST_CASE("SortedBlock: damaged stored bytes are Corruption") {
    SortedBlock block;
    block.Add(Row(1, "abc"), 8);
    block.Add(Row(2, "de"), 8);
    std::string bytes;
    REQUIRE(block.Serialize(bytes, "b").ok());
    const auto truncated = SortedBlock::FromStored(bytes.substr(0, bytes.size() - 1), 8, "b");
    CHECK(truncated.status().code() == StatusCode::kCorruption);
    CHECK(truncated.status().message().find("overruns") != std::string::npos);
    std::string swapped = bytes.substr(13) + bytes.substr(0, 13);  // rows 2, 1
    CHECK(SortedBlock::FromStored(swapped, 8, "b").status().code() == StatusCode::kCorruption);
    CHECK(SortedBlock::FromStored(bytes, 16, "b").status().code() == StatusCode::kCorruption);
    CHECK(internal::VisitBlockRows(bytes.substr(0, 1), "b", [](std::string_view) {
            return true;
          }).code() == StatusCode::kCorruption);
  }

  TEST_CASE("BucketedBlocks: unfinished buckets survive a reload; finished ones leave memory") {
    MemoryStore store;
    BucketedBlocks blocks("o/");
    auto key_of = [](uint64_t bucket) {
      std::string key = "x/";
      internal::AppendKey64(key, bucket);
      return key;
    };
    // Every position of bucket 0 but the last, then one of bucket 1.
    for (uint64_t position = 1; position < kBucketPositions; ++position) {
      const uint64_t bucket = blocks.Note(position).value();
      blocks.Touch(bucket, key_of(bucket)).Add(Row(position, ""), 8);
    }
    blocks.Touch(1, key_of(1)).Add(Row(kBucketPositions + 5, ""), 8);
    REQUIRE(blocks.Note(kBucketPositions + 5).value() == 1);
    REQUIRE(blocks.Flush(store).ok());
    CHECK(blocks.open_buckets_count() == 2);
    CHECK(store.keys().size() == 4);  // two blocks, two open lists
    // A reload brings both back; the last position of bucket 0 finishes it.
    BucketedBlocks reloaded("o/");
    REQUIRE(reloaded
                .Load(store,
                      [](std::string_view key) -> size_t { return key.starts_with("x/") ? 8 : 0; })
                .ok());
    CHECK(reloaded.open_buckets_count() == 2);
    REQUIRE(reloaded.Note(kBucketPositions).value() == 0);
    reloaded.Touch(0, key_of(0)).Add(Row(kBucketPositions, ""), 8);
    REQUIRE(reloaded.Flush(store).ok());
    CHECK(reloaded.open_buckets_count() == 1);
    CHECK(store.keys().size() == 3);  // bucket 0's list is gone, its block stays
    CHECK(Keys(store.Get(key_of(0)).value().value()).size() == kBucketPositions);
    // A record delivered twice overflows its bucket's count.
    CHECK(reloaded.Note(kBucketPositions).status().code() == StatusCode::kFailedPrecondition);
    // A listed block that is missing is Corruption.
    store.Delete(key_of(1));
    BucketedBlocks broken("o/");
    CHECK(broken.Load(store, [](std::string_view) -> size_t { return 8; }).code() ==
          StatusCode::kCorruption);
  }

  TEST_CASE("ValueReader: short and long values are Corruption naming what was read") {
    std::string value;
    internal::ValueWriter writer(value);
    writer.U32(7);
    writer.Text("abc");
    internal::ValueReader exact(value);
    CHECK(exact.U32() == 7);
    CHECK(exact.Text() == "abc");
    CHECK(exact.Finish("thing").ok());
    internal::ValueReader longer(value);
    CHECK(longer.U32() == 7);
    const Status trailing = longer.Finish("thing");
    CHECK(trailing.code() == StatusCode::kCorruption);
    CHECK(trailing.message().find("thing") != std::string::npos);
    internal::ValueReader shorter(std::string_view(value).substr(0, 6));
    shorter.U32();
    CHECK(shorter.Text().empty());
    CHECK(shorter.Finish("thing").code() == StatusCode::kCorruption);
    CHECK(internal::PrefixEnd("a/") == "a0");
    CHECK(internal::PrefixEnd("\xff").empty());
  }

  TEST_CASE("Cursors and page requests: only what a query returned is accepted") {
    CHECK(FormatCursor({202206, 17}) == "202206.17");
    CHECK(ParseCursor("202206.17", 2).value() == std::vector<uint64_t>{202206, 17});
    CHECK(ParseCursor("5", 1).value() == std::vector<uint64_t>{5});
    for (const char* bad :
         {"", "1.", ".1", "1..2", "a", "1.2.3", "-1", "1 ", "99999999999999999999"}) {
      CAPTURE(bad);
      CHECK(ParseCursor(bad, 2).status().code() == StatusCode::kInvalidArgument);
    }
    CHECK(CheckPageRequest({.limit = 1}).ok());
    CHECK(CheckPageRequest({.limit = 0}).code() == StatusCode::kInvalidArgument);
    CHECK(CheckPageRequest({.after = std::string(kCursorBytesMax + 1, '1')}).code() ==
          StatusCode::kInvalidArgument);
  }

  TEST_CASE("ArrearsAsOf: months due end with the last full month, the seal; deferrals excuse") {
    const DeferralGrant deferral{M(202210), M(202212), 42};
    // Paid up to 2022-06: as of 2023-02-15, July 2022 to January 2023 are due (7), of which
    // October to December are deferred: 4.
    const Arrears four = ArrearsAsOf(
        {.paid_up_to_month = M(202206), .deferrals = std::span(&deferral, 1)}, D(20230215));
    CHECK(four.months_count == 4);
    CHECK(four.first_unpaid_month == M(202207));
    CHECK(four.last_due_month == M(202301));
    CHECK(four.deferral_positions == std::vector<uint64_t>{42});
    // The month of the date is not due yet; paid up to last month is 0.
    CHECK(ArrearsAsOf({.paid_up_to_month = M(202301)}, D(20230228)).months_count == 0);
    CHECK(ArrearsAsOf({.paid_up_to_month = M(202305)}, D(20230228)).months_count == 0);
    CHECK_FALSE(ArrearsAsOf({.paid_up_to_month = M(202301)}, D(20230228)).last_due_month);
    // Sealed on 2022-09-10: September is not due; July and August are.
    CHECK(ArrearsAsOf({.paid_up_to_month = M(202206), .sealed_on = D(20220910)}, D(20230215))
              .months_count == 2);
    CHECK(ArrearsAsOf({.paid_up_to_month = M(202206), .closed = true}, D(20230215)).months_count ==
          0);
  }

  TEST_CASE("Read models: records they cannot make sense of are Corruption naming the position") {
    const schema::Posting to_201[] = {
        schema::Posting(101, schema::Side::Debit, schema::EntityKind::Deposit, 0, 1, 100),
        schema::Posting(201, schema::Side::Credit, schema::EntityKind::Account, 0, 1001, 100)};
    // 201 moved from an employer's stream: neither accounts nor statements can order it.
    const Built off_stream =
        Build(7, schema::EntityKind::Employer, 1, 1, {std::begin(to_201), std::end(to_201)});
    auto accounts = AccountsProjection::Create({}).value();
    MemoryStore store;
    const Status refused = testing::ApplyAll(*accounts, store, {off_stream.sourced});
    CHECK(refused.code() == StatusCode::kCorruption);
    CHECK(refused.message().find("position 7") != std::string::npos);
    StatementsProjection statements;
    CHECK(testing::ApplyAll(statements, store, {off_stream.sourced}).code() ==
          StatusCode::kCorruption);
    // Money on an account that was never opened.
    const Built unopened =
        Build(8, schema::EntityKind::Account, 1001, 2, {std::begin(to_201), std::end(to_201)});
    auto fresh = AccountsProjection::Create({}).value();
    CHECK(testing::ApplyAll(*fresh, store, {unopened.sourced}).code() == StatusCode::kCorruption);
    // An employer stream whose first record is not its registration, or skips a version.
    EmployersProjection employers;
    const Built skipped = Build(9, schema::EntityKind::Employer, 3, 2, {});
    const Status gap = testing::ApplyAll(employers, store, {skipped.sourced});
    CHECK(gap.code() == StatusCode::kCorruption);
    CHECK(gap.message().find("stream version 2") != std::string::npos);
  }

  // One account of one employer with July's contribution allocated on `allocated_on`, settled
  // on 2023-06-30; returns the position of the account's year-end credit.
  uint64_t RunSettledAccount(testing::Ledger & ledger, uint32_t allocated_on) {
    ledger.Run(20220701, hpf::testing::SampleEmployer(ledger::EmployerId{1}));
    ledger.Run(20220701,
               hpf::testing::SampleAccount(ledger::AccountId{1001}, ledger::EmployerId{1}));
    ledger.Run(allocated_on, ledger::RecordBankReceipt{ledger::EmployerId{1}, "ICBC", "R1",
                                                       ledger::Fen{192'000}});
    ledger.Run(allocated_on, ledger::OpenRemittance{.remittance_id = 1,
                                                    .employer = ledger::EmployerId{1},
                                                    .kind = ledger::RemittanceKind::kRegular,
                                                    .from_month = 202207,
                                                    .to_month = 202207,
                                                    .accounts_count = 1,
                                                    .total = ledger::Fen{192'000},
                                                    .list_reference = "L"});
    ledger.Run(allocated_on, ledger::AllocateContribution{.remittance_id = 1,
                                                          .employer = ledger::EmployerId{1},
                                                          .account = ledger::AccountId{1001},
                                                          .month = 202207,
                                                          .contribution_base = ledger::Fen{800'000},
                                                          .employer_amount = ledger::Fen{96'000},
                                                          .employee_amount = ledger::Fen{96'000}});
    // The run's first record is YearEndSettlementStarted; the account's credit follows it.
    return ledger.Run(20230630, ledger::SettleInterest{2022, {ledger::AccountId{1001}}}) + 1;
  }

  TEST_CASE("Accounts: the rate table comes from the log's PolicyChanged records, not options") {
    testing::Ledger ledger;
    const uint64_t credit = RunSettledAccount(ledger, 20220715);
    const testing::LoggedRecords log(ledger.log());
    // 192 000 fen from 2022-07-15 to 2023-06-30: 351 days, 67 392 000 fen·days; at the 1.5 %
    // of the policy genesis on 360 days: 67 392 000 / 24 000 = 2 808 fen.
    const auto* credited = log.records()[credit - 1].record->payload_as_YearEndInterestCredited();
    REQUIRE(credited != nullptr);
    CHECK(credited->interest_fen() == 2'808);
    // Options that say 1.75 % from 2022-01-01 are what a log without a policy would use; this
    // log starts with its policy, so they change nothing: the fold is clean and the interest
    // accrued to the credit's value date is the ledger's.
    for (const std::vector<ledger::RateSegment>& options :
         {AccountsOptions{}.personal_rate_table,
          std::vector<ledger::RateSegment>{{D(19900101), ledger::RatePpm{11'000}},
                                           {D(20220101), ledger::RatePpm{17'500}}}}) {
      auto accounts = AccountsProjection::Create({.personal_rate_table = options}).value();
      MemoryStore store;
      testing::Fold(*accounts, store, log.Through(credit - 1), 3);
      const auto accrued = InterestAccrued(store, 1001, D(20230701), ledger::DayBasis::k360);
      REQUIRE_MESSAGE(accrued.has_value(), accrued.status().ToString());
      CHECK(accrued->fen_days.value == 67'392'000);
      CHECK(accrued->interest == ledger::Fen{2'808});
      MemoryStore whole;
      auto again = AccountsProjection::Create({.personal_rate_table = options}).value();
      CHECK(testing::ApplyAll(*again, whole, log.records()).ok());
    }
    // Without the policy genesis (a log that has none), the options' table is the one in force:
    // 67 392 000 × 17 500 / 360 000 000 = 3 276 fen.
    std::vector<SourcedRecord> no_policy;
    for (const SourcedRecord& record : log.Through(credit - 1)) {
      if (record.record->envelope()->stream_kind() != schema::EntityKind::Policy) {
        no_policy.push_back(record);
      }
    }
    auto optioned = AccountsProjection::Create(
                        {.personal_rate_table = {{D(19900101), ledger::RatePpm{11'000}},
                                                 {D(20220101), ledger::RatePpm{17'500}}}})
                        .value();
    MemoryStore bare;
    testing::Fold(*optioned, bare, no_policy, 100);
    CHECK(InterestAccrued(bare, 1001, D(20230701), ledger::DayBasis::k360)->interest ==
          ledger::Fen{3'276});
    // A table that starts after the first interest year, or is empty, is refused up front.
    CHECK(AccountsProjection::Create({.personal_rate_table = {}}).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(AccountsProjection::Create(
              {.personal_rate_table = {{D(20000101), ledger::RatePpm{15'000}}}})
              .status()
              .code() == StatusCode::kInvalidArgument);
  }

  TEST_CASE("Accounts: a year-end credit whose 积数 is not the money folded is Corruption") {
    // Two ledgers alike but for the allocation's value date (07-15, 07-20): the same positions
    // and stream versions. The first's records with the second's credit do not add up.
    testing::Ledger first;
    testing::Ledger second;
    const uint64_t credit = RunSettledAccount(first, 20220715);
    REQUIRE(RunSettledAccount(second, 20220720) == credit);
    const testing::LoggedRecords first_log(first.log());
    const testing::LoggedRecords second_log(second.log());
    std::vector<SourcedRecord> mixed = first_log.Through(credit - 1);
    mixed.push_back(second_log.records()[credit - 1]);
    auto accounts = AccountsProjection::Create({}).value();
    MemoryStore store;
    const Status refused = testing::ApplyAll(*accounts, store, mixed);
    CHECK(refused.code() == StatusCode::kCorruption);
    CHECK(refused.message().find(std::to_string(credit)) != std::string::npos);
    CHECK(refused.message().find("积数") != std::string::npos);
  }

  TEST_CASE("Accounts: a damaged stored page is Corruption on Load and on a query") {
    testing::Ledger ledger;
    ledger.Run(20220701, hpf::testing::SampleEmployer(ledger::EmployerId{1}));
    ledger.Run(20220701,
               hpf::testing::SampleAccount(ledger::AccountId{1001}, ledger::EmployerId{1}));
    const testing::LoggedRecords log(ledger.log());
    auto accounts = AccountsProjection::Create({}).value();
    MemoryStore store;
    testing::Fold(*accounts, store, log.records(), 10);
    REQUIRE(GetAccount(store, 1001).value().has_value());
    for (auto& [key, value] : store.mutable_keys()) {
      if (key.starts_with("r/")) value.pop_back();
    }
    auto reloaded = AccountsProjection::Create({}).value();
    CHECK(reloaded->Load(store).code() == StatusCode::kCorruption);
    CHECK(GetAccount(store, 1001).status().code() == StatusCode::kCorruption);
  }
}

}  // namespace
}  // namespace hpf::projections::read_models
