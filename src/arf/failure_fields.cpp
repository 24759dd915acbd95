// The fields of a message/feedback-report part -> FailureReport members.
#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <limits>

#include "arf_internal.hpp"
#include "dmarcq/ip.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq {

namespace {


std::string without_whitespace(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (std::isspace(static_cast<unsigned char>(c)) == 0) out += c;
  return out;
}

// "a; b", "a, b" -> {"a", "b"}; empty pieces dropped.
std::vector<std::string> split_list(std::string_view text, std::string_view separators) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of(separators, start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view piece = trim(text.substr(start, end - start));
    if (!piece.empty()) out.emplace_back(piece);
    start = end + 1;
  }
  return out;
}

IdentityAlignment parse_identity_alignment(std::string_view text) {
  IdentityAlignment alignment;
  alignment.text = std::string(trim(text));
  for (const std::string& token : split_list(text, ", \t")) {
    if (iequals(token, "none")) alignment.none = true;
    else if (iequals(token, "dkim")) alignment.dkim = true;
    else if (iequals(token, "spf")) alignment.spf = true;
    else alignment.unknown.push_back(token);
  }
  return alignment;
}

void set_once(FailureReport& report, std::optional<std::string>& member, const HeaderField& field) {
  if (member) {
    report.diagnostics.push_back(field.name + " given more than once; the first is used, " +
                                 "later ones are kept as extra fields");
    report.extra_fields.push_back(field);
    return;
  }
  member = field.value;
}

void set_arrival_date(FailureReport& report, const HeaderField& field) {
  report.arrival_date_text = field.value;
  report.arrival_date = parse_rfc5322_date(field.value);
  if (!report.arrival_date)
    report.diagnostics.push_back(field.name + " is not an RFC 5322 date: " + field.value);
}

}  // namespace

namespace arf {

SourceIp parse_source_ip(std::string_view text) {
  SourceIp source;
  source.text = std::string(trim(text));
  std::string_view rest = trim(text);
  std::size_t token_end = rest.find_first_of(" \t(");
  std::string_view token = rest.substr(0, token_end);
  rest = token_end == std::string_view::npos ? std::string_view() : trim(rest.substr(token_end));
  if (token.size() >= 2 && token.front() == '[' && token.back() == ']')
    token = token.substr(1, token.size() - 2);
  if (istarts_with(token, "ipv6:")) token.remove_prefix(5);
  if (const auto ip = parse_ip(token)) {
    source.ip = ip->to_string();
    source.valid = true;
    source.key = ip->bytes;
  } else {
    source.ip = std::string(token);
  }
  if (rest.size() >= 2 && rest.front() == '(') {
    const std::size_t close = rest.find(')');
    const std::string_view host = trim(rest.substr(1, close == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : close - 1));
    if (!host.empty()) source.hostname = std::string(host);
  }
  return source;
}

}  // namespace arf

void apply_feedback_field(FailureReport& report, const HeaderField& field) {
  const std::string name = to_lower_ascii(trim(field.name));
  const std::string& value = field.value;

  if (name == "feedback-type") {
    if (report.feedback_type.present()) {
      report.diagnostics.push_back("Feedback-Type given more than once; the first is used");
      report.extra_fields.push_back(field);
      return;
    }
    report.feedback_type = parse_feedback_type(value);
    if (report.feedback_type.value == FeedbackType::unknown)
      report.diagnostics.push_back("unknown Feedback-Type: " + value);
  } else if (name == "user-agent") {
    set_once(report, report.user_agent, field);
  } else if (name == "version") {
    set_once(report, report.version, field);
  } else if (name == "original-envelope-id") {
    set_once(report, report.original_envelope_id, field);
  } else if (name == "original-mail-from") {
    set_once(report, report.original_mail_from, field);
  } else if (name == "original-rcpt-to") {
    report.original_rcpt_to.push_back(value);
  } else if (name == "arrival-date") {
    if (report.arrival_date_text) return set_once(report, report.arrival_date_text, field);
    set_arrival_date(report, field);
  } else if (name == "received-date" && !report.arrival_date_text) {
    // The name of Arrival-Date in ARF drafts, still used by RFC 6591's example.
    report.diagnostics.push_back("Received-Date read as Arrival-Date");
    set_arrival_date(report, field);
  } else if (name == "reporting-mta") {
    set_once(report, report.reporting_mta, field);
  } else if (name == "source-ip") {
    if (report.source_ip) {
      report.diagnostics.push_back("Source-IP given more than once; the first is used");
      report.extra_fields.push_back(field);
      return;
    }
    report.source_ip = arf::parse_source_ip(value);
    if (!report.source_ip->valid)
      report.diagnostics.push_back("Source-IP is not an IP address: " + value);
  } else if (name == "source-port") {
    const auto port = parse_int64(value);
    if (port && *port >= 0 && *port <= std::numeric_limits<std::uint16_t>::max() &&
        !report.source_port) {
      report.source_port = static_cast<std::uint16_t>(*port);
    } else {
      report.diagnostics.push_back("Source-Port not read: " + value);
      report.extra_fields.push_back(field);
    }
  } else if (name == "incidents") {
    const auto incidents = parse_int64(value);
    if (incidents && *incidents >= 0 && !report.incidents) {
      report.incidents = *incidents;
    } else {
      report.diagnostics.push_back("Incidents not read: " + value);
      report.extra_fields.push_back(field);
    }
  } else if (name == "authentication-results") {
    report.authentication_results.push_back(value);
  } else if (name == "reported-domain") {
    report.reported_domains.push_back(value);
  } else if (name == "reported-uri") {
    report.reported_uris.push_back(value);
  } else if (name == "delivery-result") {
    if (report.delivery_result.present()) {
      report.extra_fields.push_back(field);
      return;
    }
    report.delivery_result = parse_delivery_result(value);
    if (report.delivery_result.value == DeliveryResult::unknown)
      report.diagnostics.push_back("unknown Delivery-Result: " + value);
  } else if (name == "auth-failure") {
    for (const std::string& token : split_list(value, ",")) {
      report.auth_failures.push_back(parse_auth_failure(token));
      if (report.auth_failures.back().value == AuthFailure::unknown)
        report.diagnostics.push_back("unknown Auth-Failure: " + token);
    }
  } else if (name == "dkim-domain") {
    for (std::string& domain : split_list(value, ";,")) report.dkim_domains.push_back(std::move(domain));
  } else if (name == "dkim-identity") {
    set_once(report, report.dkim_identity, field);
  } else if (name == "dkim-selector") {
    set_once(report, report.dkim_selector, field);
  } else if (name == "dkim-selector-dns") {
    set_once(report, report.dkim_selector_dns, field);
  } else if (name == "dkim-canonicalized-header") {
    HeaderField compact{field.name, without_whitespace(value)};
    set_once(report, report.dkim_canonicalized_header, compact);
  } else if (name == "dkim-canonicalized-body") {
    HeaderField compact{field.name, without_whitespace(value)};
    set_once(report, report.dkim_canonicalized_body, compact);
  } else if (name == "spf-dns") {
    report.spf_dns.push_back(value);
  } else if (name == "identity-alignment") {
    if (report.identity_alignment) {
      report.extra_fields.push_back(field);
      return;
    }
    report.identity_alignment = parse_identity_alignment(value);
    for (const std::string& token : report.identity_alignment->unknown)
      report.diagnostics.push_back("unknown Identity-Alignment method: " + token);
  } else {
    report.extra_fields.push_back(field);
  }
}

}  // namespace dmarcq
