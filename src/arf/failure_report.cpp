// MailMessage (from src/mime) -> FailureReport: which part is which, and
// the fallback for reports without a machine-readable part.
#include <string>
#include <unordered_set>
#include <vector>

#include "arf_internal.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq {

namespace {

bool is_feedback_part(const MailPart& part) {
  return part.content_type == "message/feedback-report";
}

bool is_original_part(const MailPart& part) {
  return part.content_type == "message/rfc822" || part.content_type == "text/rfc822-headers" ||
         part.content_type == "message/rfc822-headers";
}

// For each part: is it a leaf inside an embedded message ("3.1" under a
// message/rfc822 "3")? Those belong to the original message, not to the
// report. One pass: ancestors are looked up by path prefix (depth is bounded
// by the MIME depth limit), never part against part.
std::vector<bool> inside_embedded(const MailMessage& message) {
  std::unordered_set<std::string> embedded_paths;
  std::vector<bool> inside;
  inside.reserve(message.parts.size());
  for (const MailPart& part : message.parts) {
    bool below = false;
    for (std::size_t dot = part.path.find('.'); dot != std::string::npos && !below;
         dot = part.path.find('.', dot + 1))
      below = embedded_paths.contains(part.path.substr(0, dot));
    inside.push_back(below);
    if (part.content_type == "message/rfc822") embedded_paths.insert(part.path);
  }
  return inside;
}

bool contains(std::string_view text, std::string_view word) {
  return to_lower_ascii(text).find(word) != std::string::npos;
}

// Parts that make a message an aggregate report or a delivery notification.
bool is_other_report_part(const MailPart& part) {
  const std::string& type = part.content_type;
  if (type == "message/delivery-status" || type == "message/global-delivery-status" ||
      type == "message/disposition-notification")
    return true;
  if (type == "application/zip" || type == "application/x-zip-compressed" ||
      type == "application/gzip" || type == "application/x-gzip" ||
      type == "application/xml" || type == "text/xml")
    return true;
  const std::string name = to_lower_ascii(part.filename);
  return name.ends_with(".xml") || name.ends_with(".zip") || name.ends_with(".gz");
}

const MailPart* human_readable_part(const MailMessage& message, const std::vector<bool>& inside) {
  for (std::size_t i = 0; i < message.parts.size(); ++i)
    if (message.parts[i].content_type == "text/plain" && !inside[i]) return &message.parts[i];
  return nullptr;
}

const MailPart* first_original_part(const MailMessage& message, const std::vector<bool>& inside) {
  for (std::size_t i = 0; i < message.parts.size(); ++i)
    if (is_original_part(message.parts[i]) && !inside[i]) return &message.parts[i];
  return nullptr;
}

void read_original(OriginalMessage& original, const MailPart& part) {
  original.source = part.content_type;
  const arf::HeaderAndBody split = arf::split_header_body(part.body);
  arf::read_original_headers(original, split.headers);
  if (split.body && !trim(*split.body).empty()) original.body = std::string(*split.body);
}

FailureReport carried_by(const MailMessage& message, const std::vector<bool>& inside) {
  FailureReport report;
  report.mail_from = message.from;
  report.mail_subject = message.subject;
  report.mail_date = message.date;
  report.mail_message_id = message.message_id;
  if (const MailPart* text = human_readable_part(message, inside)) report.human_readable = text->body;
  return report;
}

FailureReport recovered_from_text(const MailMessage& message, const std::vector<bool>& inside) {
  FailureReport report = carried_by(message, inside);
  report.machine_readable = false;
  report.diagnostics.push_back("no machine-readable feedback part: fields read from the text");
  const std::string_view headers =
      arf::recover_from_text(report, report.human_readable, message.subject.value_or(""));
  if (const MailPart* original = first_original_part(message, inside)) {
    read_original(report.original, *original);
  } else if (!headers.empty()) {
    report.original.source = "text/plain";
    arf::read_original_headers(report.original, headers);
  }
  return report;
}

}  // namespace

bool looks_like_failure_report(const MailMessage& message) {
  const std::vector<bool> inside = inside_embedded(message);
  bool other_report = false;
  for (std::size_t i = 0; i < message.parts.size(); ++i) {
    const MailPart& part = message.parts[i];
    if (inside[i]) continue;
    if (is_feedback_part(part)) return true;
    other_report = other_report || is_other_report_part(part);
  }
  if (other_report) return false;
  const std::string& type = message.content_type;
  if (type != "multipart/report" && type != "multipart/mixed" && type != "text/plain" &&
      !type.empty())
    return false;
  const std::string subject = message.subject.value_or("");
  return contains(subject, "dmarc") && (contains(subject, "forensic") || contains(subject, "failure"));
}

Expected<std::vector<FailureReport>> parse_failure_reports(const MailMessage& message) {
  if (!looks_like_failure_report(message))
    return make_error(ErrorKind::not_a_report,
                      "not a failure report: no message/feedback-report part",
                      message.message_id ? "Message-ID " + *message.message_id : std::string());

  const std::vector<bool> inside = inside_embedded(message);
  const MailPart* first_original = first_original_part(message, inside);
  std::vector<FailureReport> reports;
  const auto& parts = message.parts;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!is_feedback_part(parts[i]) || inside[i]) continue;
    const std::vector<HeaderField> fields = parse_feedback_fields(parts[i].body);
    if (fields.empty()) continue;  // nothing machine-readable in it: see below

    FailureReport report = carried_by(message, inside);
    report.feedback_text = parts[i].body;
    for (const HeaderField& field : fields) apply_feedback_field(report, field);
    if (!report.feedback_type.present())
      report.diagnostics.push_back("feedback part has no Feedback-Type");

    // The original that follows this feedback part, else the first one.
    const MailPart* original = first_original;
    for (std::size_t j = i + 1; j < parts.size() && !is_feedback_part(parts[j]); ++j)
      if (is_original_part(parts[j]) && !inside[j]) {
        original = &parts[j];
        break;
      }
    if (original != nullptr) read_original(report.original, *original);
    reports.push_back(std::move(report));
  }
  if (reports.empty()) reports.push_back(recovered_from_text(message, inside));
  return reports;
}

}  // namespace dmarcq
