// tests/kafka/publish_city.cc — `kafka_publish_city --bootstrap ADDR [--topic T] [--employers N]
// [--months N]`: the producer side of the outside-client test (python_reader.py). Runs a small
// ledger-sim city through the sequencer into a fresh log, publishes the log with the
// KafkaPublisher, and prints one JSON line with what an outside reader must find: the record
// count, the head (position and hash), and the count and sum of contributions by kind —
// allocations of remittances (01) and back-payments (02), each Σ employer + employee amounts,
// and flexible contributions — and, to compare the reader's sums with the read side, the
// fund summary's contributions over the whole history, folded from the same log by the
// projection runtime with every read model (projections/read_models/fund_summary.h).
#include <charconv>
#include <cstdio>
#include <future>
#include <string_view>

#include <fmt/core.h>

#include "events/event_log.h"
#include "events/kafka_publisher.h"
#include "events/record.h"
#include "ledger/sequencer.h"
#include "projections/log_source.h"
#include "projections/projection_store.h"
#include "projections/read_models/fund_summary.h"
#include "projections/read_models/read_models.h"
#include "projections/runtime.h"
#include "tests/support/records.h"
#include "tools/ledger-sim/city.h"

namespace {

namespace events = hpf::events;
namespace schema = ::hpf::schema::v1;

int Usage() {
  fmt::print(stderr,
             "usage: kafka_publish_city --bootstrap ADDR [--topic T] [--employers N] "
             "[--months N]\n");
  return 2;
}

struct Totals {
  uint64_t records = 0;
  uint64_t remittance_count = 0;
  int64_t remittance_fen = 0;
  uint64_t back_payment_count = 0;
  int64_t back_payment_fen = 0;
  uint64_t flexible_count = 0;
  int64_t flexible_fen = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap;
  std::string topic(events::kDefaultTopic);
  hpf::sim::CityOptions city{
      .seed = 20221001, .employers = 8, .accounts_per_employer = 6, .months = 3};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string_view value = argv[i + 1];
    uint32_t number = 0;
    const bool numeric =
        std::from_chars(value.data(), value.data() + value.size(), number).ec == std::errc();
    if (flag == "--bootstrap") {
      bootstrap = value;
    } else if (flag == "--topic") {
      topic = value;
    } else if (flag == "--employers" && numeric && number > 0) {
      city.employers = number;
    } else if (flag == "--months" && numeric && number > 0 && number <= 12) {
      city.months = number;
    } else {
      return Usage();
    }
  }
  if (bootstrap.empty() || argc % 2 == 0) return Usage();

  hpf::testing::TempDir dir;
  auto log =
      events::EventLog::Open({.data_dir = dir.path(), .durability = events::Durability::kNoSync});
  HPF_ASSERT(log.has_value());
  const hpf::ledger::PolicyBook policy = hpf::ledger::DefaultPolicy();
  auto sequencer = hpf::ledger::Sequencer::Open({.log = log->get(), .policy = &policy});
  HPF_ASSERT(sequencer.has_value());
  std::vector<hpf::ledger::Command> commands;
  hpf::sim::GenerateCity(city, [&](hpf::ledger::Command&& c) { commands.push_back(std::move(c)); });
  uint64_t rejected = 0;
  for (const auto& result : (*sequencer)->Submit(std::move(commands)).get()) {
    HPF_ASSERT(!std::holds_alternative<hpf::ledger::CommandFailed>(result));
    if (std::holds_alternative<hpf::ledger::CommandRejected>(result)) ++rejected;
  }
  HPF_ASSERT((*sequencer)->Close().ok());

  auto publisher =
      events::KafkaPublisher::Start(log->get(), {.bootstrap_servers = bootstrap, .topic = topic});
  if (!publisher.has_value()) {
    fmt::print(stderr, "kafka_publish_city: {}\n", publisher.error().ToString());
    return 1;
  }
  const events::HeadDigest head = (*log)->head();
  const auto published = (*publisher)->WaitForPublished(head.position, std::chrono::seconds(60));
  if (published != head.position) {
    fmt::print(stderr, "kafka_publish_city: published through {} of {}: {}\n", published.value,
               head.position.value, (*publisher)->stats().last_error);
    return 1;
  }
  HPF_ASSERT((*publisher)->Stop().ok());

  Totals totals;
  HPF_ASSERT((*log)
                 ->Scan(events::GlobalPosition{1}, head.position,
                        [&](const events::RecordRef& ref) {
                          auto record = events::VerifyRecord(ref.record);
                          HPF_ASSERT(record.has_value());
                          ++totals.records;
                          if (const auto* a = (*record)->payload_as_ContributionAllocated()) {
                            const int64_t fen = a->employer_amount_fen() + a->employee_amount_fen();
                            if (a->business_type() == schema::BusinessType::BackPayment) {
                              ++totals.back_payment_count;
                              totals.back_payment_fen += fen;
                            } else {
                              ++totals.remittance_count;
                              totals.remittance_fen += fen;
                            }
                          } else if (const auto* f =
                                         (*record)->payload_as_FlexibleContributionReceived()) {
                            ++totals.flexible_count;
                            totals.flexible_fen += f->amount_fen();
                          }
                          return true;
                        })
                 .ok());
  // The read side: every read model folded from the log; the fund summary over all time.
  hpf::testing::TempDir projections_dir;
  auto store = hpf::projections::ProjectionStore::Open({.dir = projections_dir.path()});
  HPF_ASSERT(store.has_value());
  hpf::projections::LogSource source(**log);
  auto runner = hpf::projections::Runner::Create({.store = store->get(), .source = &source});
  HPF_ASSERT(runner.has_value());
  auto models = hpf::projections::read_models::CreateReadModels({});
  HPF_ASSERT(models.has_value());
  for (auto& model : *models) HPF_ASSERT((*runner)->Add(std::move(model)).ok());
  HPF_ASSERT((*runner)->Start().ok());
  auto view = (*runner)->WaitForPosition("fund-summary", head.position, std::chrono::seconds(60));
  if (!view.has_value()) {
    fmt::print(stderr, "kafka_publish_city: projections: {}\n", view.error().ToString());
    return 1;
  }
  const auto all_time = hpf::projections::read_models::ReadFundSummary(
      **view, {.as_of = hpf::ledger::Date::FromYyyymmdd(21001231).value(),
               .from = hpf::ledger::Date::FromYyyymmdd(19900101).value(),
               .to = hpf::ledger::Date::FromYyyymmdd(21001231).value()});
  HPF_ASSERT(all_time.has_value());
  HPF_ASSERT((*runner)->Stop().ok());
  fmt::print(
      "{{\"records\":{},\"rejected\":{},\"head_position\":{},\"head_hash\":\"{}\","
      "\"remittance_count\":{},\"remittance_fen\":{},\"back_payment_count\":{},"
      "\"back_payment_fen\":{},\"flexible_count\":{},\"flexible_fen\":{},"
      "\"summary_contributions_count\":{},\"summary_contributions_fen\":{},"
      "\"summary_back_payments_count\":{},\"summary_back_payments_fen\":{}}}\n",
      totals.records, rejected, head.position.value, events::ToHex(head.hash),
      totals.remittance_count, totals.remittance_fen, totals.back_payment_count,
      totals.back_payment_fen, totals.flexible_count, totals.flexible_fen,
      all_time->contributions_count, all_time->contributions.value, all_time->back_payments_count,
      all_time->back_payments.value);
  HPF_ASSERT((*log)->Close().ok());
  return 0;
}
