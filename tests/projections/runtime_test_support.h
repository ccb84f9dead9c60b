// tests/projections/runtime_test_support.h — what the projection runtime's tests share: a test
// projection, an in-memory fold to compare against, a synthetic city's log, and a Kafka mock
// cluster with a producer that frames records as the publisher does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "projections/projection.h"
#include "tools/ledger-sim/city.h"

struct rd_kafka_mock_cluster_s;
struct rd_kafka_s;

namespace hpf::projections::testing {

// A projection of our own (the runtime's tests cannot wait for the read models): a fold per
// stream (count, last stream version, an order-sensitive hash of its positions and types) plus
// commutative sums (debits and credits per GL account, records per event type, a total).
// Deterministic across stream-preserving interleavings, as projection.h requires, and any
// double or missed application changes its bytes.
struct TestProjectionOptions {
  std::string name = "runtime-test";
  uint32_t version = 1;
  // Apply() fails with Corruption when a batch holds this position (0: never).
  uint64_t fail_at_position = 0;
  // CPU Apply() burns per record besides its work, to make a projection heavy (0: none).
  uint32_t spin_nanos_per_record = 0;
};
std::unique_ptr<Projection> MakeTestProjection(TestProjectionOptions options = {});

// The key the test projection keeps its total under: value = records (u64 BE) then the sum
// of posting amounts (u64 BE). Its record count equals the position for a log-fed view.
inline constexpr std::string_view kTotalKey = "total";
struct TestTotals {
  uint64_t records = 0;
  uint64_t amount_fen = 0;
};
Result<TestTotals> ReadTotals(const ReadView& view);

// An in-memory key space: what a projection writes, readable as a ReadView.
class MemoryKeySpace final : public ReadView, public ProjectionWriter {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Scan(std::string_view prefix, std::string_view after,
              const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  events::GlobalPosition position() const override { return position_; }
  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;
  void set_position(events::GlobalPosition position) { position_ = position; }

 private:
  std::map<std::string, std::string, std::less<>> keys_;
  events::GlobalPosition position_;
};

// Folds the log's records (after, through] into `projection` and `space` in batches of
// `batch_records`, the way a runner would but with no store: the reference a runner's result
// is compared with.
Status FoldLog(const events::EventLog& log, events::GlobalPosition after,
               events::GlobalPosition through, size_t batch_records, Projection& projection,
               MemoryKeySpace& space);

// A fresh projection folded from position 1 through `through`: its DumpKeySpace().
Result<std::string> ReferenceDump(const events::EventLog& log, events::GlobalPosition through,
                                  Projection& fresh_projection);
// The same over only the records `keep` accepts (by position), in log order: what a projection
// fed per partition holds when each partition stands at its own position.
Result<std::string> ReferenceDumpWhere(const events::EventLog& log, events::GlobalPosition through,
                                       const std::function<bool(events::GlobalPosition)>& keep,
                                       Projection& fresh_projection);

// Every projection there is: the test projection above and every read model
// (projections/read_models/read_models.h), fresh. In runtime_all_projections.cc.
std::vector<std::unique_ptr<Projection>> AllProjections();
std::vector<std::string> AllProjectionNames();

// Writes a ledger-sim city's commands through the sequencer into a new log at `dir` (synced
// off). Returns the number of records.
Result<uint64_t> BuildCityLog(const std::string& dir, const sim::CityOptions& city);

// The Kafka key the publisher gives a record: "<EntityKind>:<stream id>".
std::string KafkaKey(const schema::Record& record);

// librdkafka's mock cluster on 127.0.0.1 with one topic, and an idempotent producer that frames
// records as events/kafka_publisher does (key, exact bytes, position/type/schema/hash headers).
class MockKafka {
 public:
  static Result<std::unique_ptr<MockKafka>> Start(int32_t brokers, const std::string& topic,
                                                  int32_t partitions);
  ~MockKafka();
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& topic() const { return topic_; }

  // Produces the log's records (after, through] in order and waits until all are delivered.
  // Internal if any delivery fails.
  Status Publish(const events::EventLog& log, events::GlobalPosition after,
                 events::GlobalPosition through);
  // Produces raw bytes with these headers (empty: header left out), for malformed messages.
  Status PublishRaw(std::string_view key, std::string_view value, std::string_view position,
                    std::string_view schema);
  uint64_t delivered() const;
  // The partition each published position went to (from the delivery reports).
  std::map<uint64_t, int32_t> partitions() const;

  struct Counters;  // runtime_test_support.cc

 private:
  MockKafka();
  Status Flush();
  std::string topic_;
  std::string bootstrap_;
  rd_kafka_s* cluster_handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  rd_kafka_s* producer_ = nullptr;
  std::unique_ptr<Counters> counters_;
};

}  // namespace hpf::projections::testing
