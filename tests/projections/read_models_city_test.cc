// tests/projections/read_models_city_test.cc — the read models over a ledger-sim city run
// through the real Sequencer: the same records folded in different stream-preserving orders,
// batch sizes and restarts store byte-identical read models (projections/projection.h), and
// the figures agree with each other and with the write model's own state.
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "events/record.h"
#include "ledger/state.h"
#include "projections/read_models/accounts.h"
#include "projections/read_models/employers.h"
#include "projections/read_models/fund_summary.h"
#include "projections/read_models/read_models.h"
#include "projections/read_models/statements.h"
#include "projections/read_models/trial_balance.h"
#include "tests/projections/read_models_test_support.h"

namespace hpf::projections::read_models {
namespace {

using ledger::Date;
using ledger::Fen;
using testing::Fold;
using testing::Ledger;
using testing::LoggedRecords;
using testing::MemoryStore;

Date D(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }

std::vector<std::unique_ptr<Projection>> Fresh() {
  auto models = CreateReadModels({});
  REQUIRE(models.has_value());
  return std::move(models).value();
}

// A city of ~800 accounts over the 2022 interest year (~11 000 records: two position buckets
// and part of a third), then a few corrections after the settlement: two allocations and one
// interest credit reversed, an account frozen and one sealed.
struct City {
  Ledger ledger;
  testing::CityRun run;
  std::unique_ptr<LoggedRecords> log;
  City() {
    run = testing::RunCity(ledger, 40, 20, 11);
    LoggedRecords before(ledger.log());
    std::vector<uint64_t> allocations;
    uint64_t credit = 0;
    uint64_t credited_account = 0;
    for (const SourcedRecord& record : before.records()) {
      const schema::Event type = record.record->payload_type();
      if (type == schema::Event::ContributionAllocated && allocations.size() < 2 &&
          record.position.value > 3000) {
        allocations.push_back(record.position.value);
      }
      if (type == schema::Event::YearEndInterestCredited && credit == 0 &&
          record.record->payload_as_YearEndInterestCredited()->interest_fen() > 0) {
        credit = record.position.value;
        credited_account = record.record->envelope()->stream_id();
      }
    }
    REQUIRE(allocations.size() == 2);
    REQUIRE(credit != 0);
    for (const uint64_t position : {allocations[0], allocations[1], credit}) {
      ledger.Run(20230710, ledger::ReverseRecord{.position = position,
                                                 .reason = ledger::ReversalReason::kWrongAmount,
                                                 .note = "",
                                                 .approval_reference = "R"});
    }
    ledger.Run(20230711,
               ledger::FreezeAccount{ledger::AccountId{credited_account}, "order", "court"});
    log = std::make_unique<LoggedRecords>(ledger.log());
  }
};

City& TheCity() {
  static City city;
  return city;
}

using Stores = std::vector<MemoryStore>;

// Folds every model over `records` in batches drawn by `batch_size`, reloading fresh models
// from their stores every `reload_every` batches (0: never).
Stores FoldAll(const std::vector<SourcedRecord>& records, const std::function<size_t()>& batch_size,
               size_t reload_every) {
  auto models = Fresh();
  Stores stores(models.size());
  for (size_t i = 0; i < models.size(); ++i) REQUIRE(models[i]->Load(stores[i]).ok());
  size_t batches = 0;
  for (size_t at = 0; at < records.size();) {
    const size_t count = std::min(batch_size(), records.size() - at);
    const std::vector<SourcedRecord> batch(records.begin() + static_cast<ptrdiff_t>(at),
                                           records.begin() + static_cast<ptrdiff_t>(at + count));
    for (size_t i = 0; i < models.size(); ++i) Fold(*models[i], stores[i], batch, count);
    at += count;
    if (reload_every != 0 && ++batches % reload_every == 0) {
      models = Fresh();
      for (size_t i = 0; i < models.size(); ++i) {
        const Status loaded = models[i]->Load(stores[i]);
        REQUIRE_MESSAGE(loaded.ok(), models[i]->name(), ": ", loaded.ToString());
      }
    }
  }
  return stores;
}

void CheckSameBytes(const Stores& expected, const Stores& actual, std::string_view how) {
  const auto names = Fresh();
  REQUIRE(expected.size() == actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(how);
    CAPTURE(names[i]->name());
    CHECK(expected[i].keys().size() == actual[i].keys().size());
    CHECK(expected[i].keys() == actual[i].keys());
  }
}

TEST_SUITE("projections") {
  TEST_CASE("Read models: any stream-preserving order, batching or restart stores the same bytes") {
    City& city = TheCity();
    const auto& records = city.log->records();
    REQUIRE(records.size() > 2 * kBucketPositions);
    const Stores in_order = FoldAll(
        records, [] { return size_t{1000}; }, 0);
    for (const MemoryStore& store : in_order) CHECK(!store.keys().empty());
    std::mt19937_64 rng(5);
    CheckSameBytes(
        in_order,
        FoldAll(
            testing::ShuffleStreams(records, 1), [&rng] { return size_t{1} + rng() % 700; }, 0),
        "streams mixed (seed 1), batches of 1 .. 700");
    CheckSameBytes(in_order,
                   FoldAll(
                       testing::ShuffleStreams(records, 2), [] { return size_t{1}; }, 0),
                   "streams mixed (seed 2), one record per batch");
    CheckSameBytes(in_order,
                   FoldAll(
                       records, [] { return size_t{333}; }, 2),
                   "log order, reloaded from the store every two batches");
    CheckSameBytes(
        in_order,
        FoldAll(
            testing::ShuffleStreams(records, 3), [&rng] { return size_t{1} + rng() % 300; }, 3),
        "streams mixed (seed 3), reloaded every three batches");
  }

  TEST_CASE("Read models: a failed batch is not half-applied: reloaded, they go on the same") {
    City& city = TheCity();
    const auto& records = city.log->records();
    const Stores in_order = FoldAll(
        records, [] { return size_t{1000}; }, 0);
    // A record no model can make sense of: an opening dated 2022-13-01.
    events::RecordBuilder builder;
    const auto payload = schema::CreateAccountOpened(builder.fbb(), 999'999, 1);
    const auto bytes = builder.Finish({.effective_date = 20221301,
                                       .stream_kind = schema::EntityKind::Account,
                                       .stream_id = 999'999,
                                       .stream_version = 1,
                                       .actor = "op",
                                       .channel = "c"},
                                      schema::Event::AccountOpened, payload.Union(), {});
    std::vector<uint64_t> words((bytes.size() + 7) / 8);
    std::memcpy(words.data(), bytes.data(), bytes.size());
    const std::span<uint8_t> stored(reinterpret_cast<uint8_t*>(words.data()), bytes.size());
    const uint64_t half = records.size() / 2;
    events::PatchLink(stored, events::GlobalPosition{half + 501}, 1, events::Digest{});
    const SourcedRecord bad{events::GlobalPosition{half + 501},
                            events::VerifyRecord(stored).value(), stored};
    // What a runtime does: writes of a failed batch are dropped, every model is loaded again
    // from what was committed, and the good records are applied.
    struct Dropped final : ProjectionWriter {
      void Put(std::string_view, std::string_view) override {}
      void Delete(std::string_view) override {}
    };
    auto models = Fresh();
    Stores stores(models.size());
    const std::vector<SourcedRecord> first(records.begin(),
                                           records.begin() + static_cast<ptrdiff_t>(half));
    for (size_t i = 0; i < models.size(); ++i) {
      REQUIRE(models[i]->Load(stores[i]).ok());
      Fold(*models[i], stores[i], first, 700);
    }
    std::vector<SourcedRecord> failing(records.begin() + static_cast<ptrdiff_t>(half),
                                       records.begin() + static_cast<ptrdiff_t>(half + 500));
    failing.push_back(bad);
    size_t failed = 0;
    for (auto& model : models) {
      Dropped dropped;
      const Status applied = model->Apply(failing, dropped);
      if (!applied.ok()) {
        ++failed;
        CHECK(applied.code() == StatusCode::kCorruption);
        CHECK(applied.message().find(std::to_string(half + 501)) != std::string::npos);
      }
    }
    CHECK(failed >= 3);  // accounts, fund summary and audit trail read the date
    for (size_t i = 0; i < models.size(); ++i) REQUIRE(models[i]->Load(stores[i]).ok());
    const std::vector<SourcedRecord> rest(records.begin() + static_cast<ptrdiff_t>(half),
                                          records.end());
    for (size_t i = 0; i < models.size(); ++i) Fold(*models[i], stores[i], rest, 900);
    CheckSameBytes(in_order, stores, "a failed batch, reloaded, then applied again");
  }

  TEST_CASE(
      "Read models: a city's totals agree — Σ accounts = 201 = fund summary, Σ suspense "
      "= 219, the books balance") {
    City& city = TheCity();
    const auto& records = city.log->records();
    const Stores stores = FoldAll(
        records, [] { return size_t{4096}; }, 0);
    const MemoryStore& accounts = stores[0];
    const MemoryStore& employers = stores[2];
    const MemoryStore& fund = stores[3];
    const MemoryStore& trial = stores[4];
    const TrialBalance balance = ReadTrialBalance(trial).value();
    CHECK(balance.debit_total == balance.credit_total);
    Fen gl_201;
    Fen gl_219;
    Fen gl_41101;
    for (const auto& line : balance.lines) {
      if (line.gl_account == 201) gl_201 = -line.balance;
      if (line.gl_account == 219) gl_219 = -line.balance;
      if (line.gl_account == 41101) gl_41101 = line.balance;
    }
    CHECK(gl_201 > Fen{0});
    CHECK(gl_41101 > Fen{0});
    // Every account, page by page, against the write model's state.
    const ledger::State state = city.ledger.Snapshot();
    Fen balances;
    Fen interest;
    size_t listed = 0;
    std::string after;
    while (true) {
      const auto page = ListAccounts(accounts, {}, {.after = after, .limit = kPageItemsMax});
      REQUIRE(page.has_value());
      for (const AccountSummary& account : page->items) {
        ++listed;
        balances += account.balance;
        interest += account.interest_credited;
        const ledger::AccountState* expected = state.account(ledger::AccountId{account.account_id});
        REQUIRE(expected != nullptr);
        CAPTURE(account.account_id);
        CHECK(account.balance == expected->balance);
        CHECK(account.paid_up_to_month.yyyymm() == expected->paid_up_to_month);
        CHECK(account.contribution_base == expected->contribution_base);
        CHECK(account.employer_id == expected->employer.value);
        CHECK(account.frozen == expected->frozen);
        CHECK(static_cast<int>(account.status) == static_cast<int>(expected->status));
        CHECK(account.interest_year == expected->interest->year());
      }
      if (page->next.empty()) break;
      after = page->next;
    }
    CHECK(listed == city.run.accounts);
    CHECK(listed == state.accounts.size());
    CHECK(balances == gl_201);
    CHECK(interest == gl_41101);
    // Every employer against the write model; Σ suspense = 219.
    Fen suspense;
    for (const auto& [id, expected] : state.employers) {
      const auto employer = GetEmployer(employers, id.value, D(20230701)).value();
      REQUIRE(employer.has_value());
      CAPTURE(id.value);
      CHECK(employer->paid_up_to_month->yyyymm() == expected.paid_up_to_month);
      CHECK(employer->suspense == expected.suspense);
      CHECK(employer->accounts.normal == static_cast<int64_t>(expected.normal_accounts));
      suspense += employer->suspense;
    }
    CHECK(suspense == gl_219);
    // The fund summary over everything: the same 201 and 219, every allocation counted (less
    // the two reversed).
    const FundSummary summary =
        ReadFundSummary(fund, {.as_of = D(21991231), .from = D(19900101), .to = D(21991231)})
            .value();
    CHECK(summary.personal_accounts == gl_201);
    CHECK(summary.suspense == gl_219);
    CHECK(summary.interest_credited == gl_41101);
    CHECK(summary.contributions_count == static_cast<int64_t>(city.run.allocations) - 2);
    CHECK(summary.paying_employers == static_cast<int64_t>(city.run.employers));
    // The statement of the account whose interest was reversed ends at its balance.
    const SourcedRecord* reversal = &records.back();
    for (const SourcedRecord& record : records) {
      if (record.record->payload_type() == schema::Event::RecordReversed) reversal = &record;
    }
    const uint64_t account_id = reversal->record->envelope()->stream_id();
    const auto account = GetAccount(accounts, account_id).value();
    REQUIRE(account.has_value());
    std::vector<StatementLine> lines;
    after.clear();
    while (true) {
      const auto page =
          Statement(stores[1], {.account_id = account_id, .page = {.after = after, .limit = 5}});
      REQUIRE(page.has_value());
      lines.insert(lines.end(), page->items.begin(), page->items.end());
      if (page->next.empty()) break;
      after = page->next;
    }
    REQUIRE(!lines.empty());
    CHECK(lines.back().balance == account->balance);
    CHECK(lines.back().event_type == "RecordReversed");
  }

  TEST_CASE("Read models: fold rate of the whole set, in memory (printed, not asserted)") {
    City& city = TheCity();
    const auto& records = city.log->records();
    // The projections' own work: a writer that only counts what it is given.
    struct CountingWriter final : ProjectionWriter {
      void Put(std::string_view key, std::string_view value) override {
        ++puts;
        bytes += key.size() + value.size();
      }
      void Delete(std::string_view) override { ++deletes; }
      uint64_t puts = 0;
      uint64_t deletes = 0;
      uint64_t bytes = 0;
    };
    constexpr size_t kBatch = 4096;
    constexpr int kRuns = 5;
    double best_seconds = 1e9;
    CountingWriter writer;
    for (int run = 0; run < kRuns; ++run) {
      auto models = Fresh();
      writer = CountingWriter();
      const auto started = std::chrono::steady_clock::now();
      for (size_t at = 0; at < records.size(); at += kBatch) {
        const std::span<const SourcedRecord> batch(records.data() + at,
                                                   std::min(kBatch, records.size() - at));
        for (auto& model : models) REQUIRE(model->Apply(batch, writer).ok());
      }
      best_seconds = std::min(
          best_seconds,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    MESSAGE(records.size(), " records through the 7 read models, best of ", kRuns, ": ",
            best_seconds * 1e3, " ms, ", static_cast<double>(records.size()) / best_seconds,
            " records/s; ", writer.puts, " puts (",
            static_cast<double>(writer.puts) / static_cast<double>(records.size()), " a record), ",
            writer.bytes, " bytes");
    CHECK(writer.puts > 0);
    // Where the puts go.
    auto models = Fresh();
    for (auto& model : models) {
      CountingWriter own;
      for (size_t at = 0; at < records.size(); at += kBatch) {
        const std::span<const SourcedRecord> batch(records.data() + at,
                                                   std::min(kBatch, records.size() - at));
        REQUIRE(model->Apply(batch, own).ok());
      }
      MESSAGE(model->name(), ": ", own.puts, " puts, ", own.deletes, " deletes, ", own.bytes,
              " bytes");
    }
  }
}

}  // namespace
}  // namespace hpf::projections::read_models
