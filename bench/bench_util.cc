// bench/bench_util.cc
#include "bench/bench_util.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include <fmt/core.h>
#include <sys/resource.h>

#include "events/assert.h"

namespace hpf::bench {

bool Flags::Parse(int argc, char** argv, int first, std::string* error) {
  for (int i = first; i < argc; i += 2) {
    const std::string_view name = argv[i];
    if (!name.starts_with("--") || i + 1 >= argc) {
      *error = fmt::format("expected --name value, got '{}'", name);
      return false;
    }
    values_[std::string(name.substr(2))] = argv[i + 1];
  }
  return true;
}

uint64_t Flags::GetU64(std::string_view name, uint64_t fallback) const {
  auto it = values_.find(name);
  used_[std::string(name)] = true;
  if (it == values_.end()) return fallback;
  uint64_t value = 0;
  const auto [end, ec] =
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc() || end != it->second.data() + it->second.size()) {
    fmt::print(stderr, "--{} wants a number, got '{}'\n", name, it->second);
    std::exit(2);
  }
  return value;
}

std::string Flags::GetString(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(name);
  used_[std::string(name)] = true;
  return it == values_.end() ? std::string(fallback) : it->second;
}

std::vector<std::string> Flags::Unused() const {
  std::vector<std::string> unused;
  for (const auto& [name, value] : values_) {
    if (!used_.contains(name)) unused.push_back(name);
  }
  return unused;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Median(std::vector<double> values) {
  HPF_ASSERT(!values.empty());
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

std::string MakeTempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/{}-XXXXXX", base != nullptr ? base : "/tmp", prefix);
  HPF_ASSERT(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

double FdatasyncMillis(const std::string& dir, int count) {
  const std::string path = dir + "/fdatasync-probe";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  HPF_ASSERT(fd >= 0);
  std::vector<double> millis;
  const std::string block(4096, 'x');
  for (int i = 0; i < count; ++i) {
    const auto start = std::chrono::steady_clock::now();
    HPF_ASSERT(write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
    HPF_ASSERT(fdatasync(fd) == 0);
    millis.push_back(SecondsSince(start) * 1000);
  }
  close(fd);
  unlink(path.c_str());
  return Median(millis);
}

std::string MachineSummary() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::string model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("model name")) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return fmt::format("{}, {} cores, {:.0f} GiB", model, std::thread::hardware_concurrency(),
                     static_cast<double>(pages) * static_cast<double>(page_size) / (1 << 30));
}

}  // namespace hpf::bench
