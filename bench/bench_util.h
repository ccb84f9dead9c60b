// bench/bench_util.h — small shared pieces of ledger-bench: flags, timing, medians, JSON.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hpf::bench {

// --name value flags after the benchmark name; unknown flags are an error the driver prints.
class Flags {
 public:
  // Returns false and fills `error` when an argument is not "--name value".
  bool Parse(int argc, char** argv, int first, std::string* error);
  uint64_t GetU64(std::string_view name, uint64_t fallback) const;
  std::string GetString(std::string_view name, std::string_view fallback) const;
  // Flags given but never read: typos the driver reports.
  std::vector<std::string> Unused() const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
  mutable std::map<std::string, bool, std::less<>> used_;
};

double SecondsSince(std::chrono::steady_clock::time_point start);
// CPU seconds (user + system) the whole process has used so far.
double ProcessCpuSeconds();
double Median(std::vector<double> values);

// A fresh directory under $TMPDIR (or /tmp); removed by RemoveDir.
std::string MakeTempDir(std::string_view prefix);
void RemoveDir(const std::string& dir);

// Median latency of a 4 KiB write + fdatasync in `dir` (milliseconds), over `count` tries:
// the disk condition a durable-append figure depends on, printed beside it.
double FdatasyncMillis(const std::string& dir, int count);

// What this machine is, for RESULTS.md: CPU model, cores, memory.
std::string MachineSummary();

}  // namespace hpf::bench
