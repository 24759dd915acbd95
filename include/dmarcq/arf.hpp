// Failure (forensic) reports: ARF messages (RFC 5965, RFC 6591, RFC 9991)
// -> FailureReport. Parsing only; storage and queries sit elsewhere.
//
// Values are kept as the reporter wrote them (trimmed, folded lines joined);
// normalisation (lowercasing domains, address canonicalisation beyond
// Source-IP) belongs to later stages. Enumerated fields keep unknown text
// verbatim, as in model.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"
#include "dmarcq/failure_model.hpp"
#include "dmarcq/mime.hpp"
#include "dmarcq/model.hpp"

namespace dmarcq {

// ---- field blocks and dates -------------------------------------------------


// A header-style block ("Name: value" lines, continuation lines starting
// with space or tab) -> fields in order. CRLF, LF or CR line ends. Blank and
// whitespace-only lines are skipped (the block may be padded); lines that
// are not a field are ignored. Does not stop at a blank line: callers pass
// only the block. No RFC 2047 decoding.
std::vector<HeaderField> parse_feedback_fields(std::string_view block);

// RFC 5322 date-time -> UTC epoch seconds. Lenient where it is unambiguous:
// optional day name (with or without comma), comments such as "(GMT)",
// seconds optional, obsolete zones (UT, GMT, Z, EST/EDT, CST/CDT, MST/MDT,
// PST/PDT; other letters count as -0000 per RFC 5322 4.3), numeric zones,
// a zone name after a numeric zone, 2-digit years (< 50 -> 20xx, else 19xx)
// and 3-digit years (+1900), full month names. A missing zone is read as UTC.
// nullopt when it is not a date or a value is out of range.
std::optional<std::int64_t> parse_rfc5322_date(std::string_view text);

// Applies one feedback field to `report` (known fields by case-insensitive
// name; others go to extra_fields). Exposed for tests and for callers that
// build a report from text.
void apply_feedback_field(FailureReport& report, const HeaderField& field);

// True when the message is an ARF report (it has a message/feedback-report
// part), or a failure report without one: multipart/report or a single text
// part, no aggregate-report attachment or DSN part, and a subject or text
// that names a DMARC failure/forensic report.
bool looks_like_failure_report(const MailMessage& message);

// One report per message/feedback-report part (in practice one), or one
// report with machine_readable=false recovered from the text.
// Errors: not_a_report when looks_like_failure_report is false.
Expected<std::vector<FailureReport>> parse_failure_reports(const MailMessage& message);

}  // namespace dmarcq
