#include "dmarcq/ip.hpp"
#include "dmarcq/normalize.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq {

std::string normalize_domain(std::string_view domain) {
  domain = trim(domain);
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return to_lower_ascii(domain);
}

namespace {
void normalize_optional_domain(std::optional<std::string>& domain) {
  if (domain) *domain = normalize_domain(*domain);
}

void normalize_source_ip(Record& record) {
  if (auto ip = parse_ip(record.source_ip)) {
    record.source_ip = ip->to_string();
    record.source_ip_valid = true;
    record.source_ip_key = ip->bytes;
  } else {
    record.source_ip = std::string(trim(record.source_ip));
    record.source_ip_valid = false;
    record.source_ip_key = {};
  }
}
}  // namespace

void normalize_report(AggregateReport& report) {
  report.policy.domain = normalize_domain(report.policy.domain);
  for (Record& record : report.records) {
    normalize_source_ip(record);
    record.header_from = normalize_domain(record.header_from);
    normalize_optional_domain(record.envelope_from);
    normalize_optional_domain(record.envelope_to);
    for (auto& dkim : record.dkim) dkim.domain = normalize_domain(dkim.domain);
    for (auto& spf : record.spf) spf.domain = normalize_domain(spf.domain);
  }
}

}  // namespace dmarcq
