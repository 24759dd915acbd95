// libFuzzer harness: failure reports (ARF, RFC 6591 / RFC 9991) from one
// message: parse_mail, then parse_failure_reports; the same bytes also go
// straight to the feedback-field and date parsers. Default limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dmarcq/arf.hpp"
#include "dmarcq/mime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  static const dmarcq::Limits limits{};
  dmarcq::FailureReport scratch;
  for (const auto& field : dmarcq::parse_feedback_fields(raw)) {
    dmarcq::apply_feedback_field(scratch, field);
    (void)dmarcq::parse_rfc5322_date(field.value);
  }
  auto mail = dmarcq::parse_mail(raw, limits);
  if (!mail) return 0;
  (void)dmarcq::looks_like_failure_report(*mail);
  auto reports = dmarcq::parse_failure_reports(*mail);
  if (!reports) (void)reports.error().describe();
  return 0;
}
