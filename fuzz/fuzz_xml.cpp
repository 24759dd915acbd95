// libFuzzer harness: aggregate report XML -> AggregateReport (pugixml + our
// lenient parser, encodings, value checks). Uses the production default limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dmarcq/xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  static const dmarcq::Limits limits{};
  auto report = dmarcq::parse_aggregate_report(xml, limits);
  if (!report) (void)report.error().describe();
  return 0;
}
