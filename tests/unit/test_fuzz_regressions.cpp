// Every input the fuzzers (fuzz/, tools/fuzz) ever found a problem with, fed
// again to the entry point of the harness that found it:
// tests/data/fuzz-regressions/<harness>/<name>, harness = extract | unpack | xml | mime | arf.
// Each must come back as a result or an Error: no crash, no hang. Under the
// ASan + UBSan pass of tools/test this also catches memory errors and leaks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "dmarcq/archive.hpp"
#include "dmarcq/arf.hpp"
#include "dmarcq/ingest.hpp"
#include "dmarcq/mime.hpp"
#include "dmarcq/xml.hpp"

namespace fs = std::filesystem;
using dmarcq::Limits;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> inputs(const std::string& harness) {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(DMARCQ_TEST_DATA) / "fuzz-regressions" / harness;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Runs `entry_point` on every input of `harness`. The fuzzers' timeout is 2 s
// per input in an optimized build; a Debug ASan build on a busy machine gets
// far more room, so only a real hang fails here.
template <typename EntryPoint>
void replay(const std::string& harness, EntryPoint entry_point) {
  constexpr auto kHang = std::chrono::seconds(60);
  for (const auto& path : inputs(harness)) {
    INFO(harness << "/" << path.filename().string());
    const std::string bytes = read_file(path);
    const auto start = std::chrono::steady_clock::now();
    entry_point(bytes);
    CHECK(std::chrono::steady_clock::now() - start < kHang);
  }
}

}  // namespace

TEST_CASE("fuzz regressions: extract_reports (whole inputs and messages)") {
  replay("extract", [](const std::string& bytes) {
    auto extraction = dmarcq::extract_reports(bytes, "fuzz-regression", Limits{});
    if (extraction) {
      for (const auto& report : extraction->reports) CHECK(!report.payload.empty());
    } else {
      CHECK(!extraction.error().describe().empty());
    }
  });
}

TEST_CASE("fuzz regressions: unpack (zip / gzip / zlib)") {
  replay("unpack", [](const std::string& bytes) {
    auto unpacked = dmarcq::unpack(bytes, Limits{});
    if (!unpacked) CHECK(!unpacked.error().describe().empty());
  });
}

TEST_CASE("fuzz regressions: parse_aggregate_report (XML)") {
  replay("xml", [](const std::string& bytes) {
    auto report = dmarcq::parse_aggregate_report(bytes, Limits{});
    if (!report) CHECK(!report.error().describe().empty());
  });
}

TEST_CASE("fuzz regressions: parse_mail (MIME)") {
  replay("mime", [](const std::string& bytes) {
    auto mail = dmarcq::parse_mail(bytes, Limits{});
    if (!mail) CHECK(!mail.error().describe().empty());
  });
}

TEST_CASE("fuzz regressions: failure reports (ARF)") {
  replay("arf", [](const std::string& bytes) {
    for (const auto& field : dmarcq::parse_feedback_fields(bytes)) {
      (void)dmarcq::parse_rfc5322_date(field.value);
    }
    auto mail = dmarcq::parse_mail(bytes, Limits{});
    if (!mail) return;
    auto reports = dmarcq::parse_failure_reports(*mail);
    if (!reports) CHECK(!reports.error().describe().empty());
  });
}
