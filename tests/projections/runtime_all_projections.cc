// tests/projections/runtime_all_projections.cc — every projection there is, for the suites that
// compare whole sets (both sources, the crash test) and the benchmark.
#include "projections/read_models/read_models.h"
#include "tests/projections/runtime_test_support.h"

namespace hpf::projections::testing {

std::vector<std::unique_ptr<Projection>> AllProjections() {
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(MakeTestProjection());
  auto read_models = read_models::CreateReadModels({});
  HPF_ASSERT(read_models.has_value());
  for (auto& model : *read_models) all.push_back(std::move(model));
  return all;
}

std::vector<std::string> AllProjectionNames() {
  std::vector<std::string> names;
  for (const auto& projection : AllProjections()) names.emplace_back(projection->name());
  return names;
}

}  // namespace hpf::projections::testing
