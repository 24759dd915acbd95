// libFuzzer harness: a whole input (file bytes or an email) -> every aggregate
// report in it, parsed, normalized and with alignment computed: the path every
// byte mailed to a rua= address takes, short of the database. Uses the
// production default limits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dmarcq/ingest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const dmarcq::Limits limits{};
  static const std::string name = "fuzz-input";
  auto extraction = dmarcq::extract_reports(bytes, name, limits);
  if (extraction) {
    volatile std::size_t sum = 0;
    for (const auto& report : extraction->reports) {
      // raw_payload views into `bytes` or extraction->owned_payloads.
      for (char c : report.raw_payload) sum = sum + static_cast<unsigned char>(c);
      sum = sum + report.payload.size() + report.report.records.size();
    }
  } else {
    (void)extraction.error().describe();
  }
  return 0;
}
