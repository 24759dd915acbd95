#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

#include <fmt/format.h>

#include "dmarcq/arf.hpp"
#include "dmarcq/archive.hpp"
#include "dmarcq/hash.hpp"
#include "dmarcq/ingest.hpp"
#include "dmarcq/mime.hpp"
#include "dmarcq/normalize.hpp"
#include "dmarcq/xml.hpp"
#include "redact.hpp"

namespace dmarcq {

namespace {

// Documents this big are parsed in their own bytes (no UTF-8 copy beside
// them and the DOM), and the payload kept for conflicts is unpacked again
// from the raw payload afterwards, when the DOM is gone.
constexpr std::size_t kParseInPlaceBytes = 1 << 20;

// Parses every document of one payload. The first broken XML document fails
// the payload: a rejected input stores nothing. The documents' bytes are
// moved into the reports (or consumed): `unpacked` is spent afterwards.
Expected<bool> parse_documents(UnpackResult& unpacked, const Provenance& base,
                               const std::string& chain_prefix, std::string_view raw_payload,
                               const Limits& limits, Extraction& out) {
  const std::string raw_sha256 = sha256_hex(raw_payload);
  for (const std::string& skipped : unpacked.skipped) out.notes.push_back(skipped);
  for (std::size_t index = 0; index < unpacked.documents.size(); ++index) {
    UnpackedDocument& document = unpacked.documents[index];
    const std::string where = document.name.empty() ? std::string() : document.name;
    if (document.format == ContentFormat::json) {
      out.notes.push_back(fmt::format("{}{}skipped: JSON document (an SMTP TLS report?), not a "
                                      "DMARC aggregate report",
                                      where, where.empty() ? "" : ": "));
      continue;
    }
    const std::string payload_sha256 = sha256_hex(document.bytes);
    const bool in_place = document.bytes.size() >= kParseInPlaceBytes;
    auto parsed = in_place ? parse_aggregate_report_in_place(document.bytes, limits)
                           : parse_aggregate_report(document.bytes, limits);
    if (!parsed) {
      Error error = parsed.error();
      if (!where.empty()) error.where = error.where.empty() ? where : where + ": " + error.where;
      return error;
    }
    std::string payload;
    if (!in_place) {
      payload = std::move(document.bytes);
    } else {
      std::string().swap(document.bytes);  // parsed over: garbage now
#ifdef __GLIBC__
      // The freed DOM pages sit between the model's allocations: give the
      // whole free pages back before the payload is unpacked again.
      malloc_trim(0);
#endif
      auto again = unpack(raw_payload, limits);  // deterministic: it succeeded just before
      if (!again || again->documents.size() <= index)
        return make_error(ErrorKind::malformed, "payload changed while it was parsed", where);
      payload = std::move(again->documents[index].bytes);
    }
    ParsedReport report{std::move(*parsed), base, std::move(payload), raw_payload, raw_sha256, {}, {}};
    report.provenance.member = document.name;
    report.provenance.container = chain_prefix + document.chain;
    report.provenance.payload_sha256 = payload_sha256;
    for (const std::string& note : report.report.diagnostics) out.notes.push_back(note);
    normalize_report(report.report);
    compute_alignment(report.report, PublicSuffixList::shared());
    // Pure: done here, in the parse workers, not in the single writer thread.
    report.content_sha256 = content_fingerprint(report.report);
    report.encoded = encode_records(report.report);
    out.reports.push_back(std::move(report));
  }
  return true;
}

// An uncompressed mail part that starts with '<' may just be an HTML body or
// some other XML: only one that mentions a <feedback> element is a report
// candidate (UTF-16 text is given the benefit of the doubt).
bool mentions_feedback_element(std::string_view bytes) {
  const std::string_view head = bytes.substr(0, 64 * 1024);
  if (head.find('\0') != std::string_view::npos) return true;
  for (std::size_t at = head.find("feedback"); at != std::string_view::npos;
       at = head.find("feedback", at + 1))
    if (at > 0 && (head[at - 1] == '<' || head[at - 1] == ':')) return true;
  return false;
}

bool may_hold_report(ContentFormat format) {
  return format == ContentFormat::xml || format == ContentFormat::gzip ||
         format == ContentFormat::zip || format == ContentFormat::zlib;
}

Expected<Extraction> extract_failures(const MailMessage& message) {
  auto reports = parse_failure_reports(message);
  if (!reports) return reports.error();
  Extraction extraction;
  extraction.message_id = message.message_id;
  for (FailureReport& report : *reports) {
    for (auto& domain : report.reported_domains) domain = normalize_domain(domain);
    for (const auto& note : report.diagnostics) extraction.notes.push_back(note);
    // Re-deliveries add Received fields to the carrying message; the report
    // itself (feedback part, original headers, text) stays the same.
    std::string key = report.feedback_text;
    key += '\0';
    key += report.original.headers;
    key += '\0';
    key += report.human_readable;
    std::string sha256 = sha256_hex(key);
    extraction.failures.push_back(ParsedFailure{std::move(report), std::move(sha256)});
  }
  return extraction;
}

Expected<Extraction> extract_from_mail(std::string_view bytes, const std::string& input_name,
                                       const Limits& limits) {
  auto message = parse_mail(bytes, limits);
  if (!message) return message.error();
  if (looks_like_failure_report(*message)) return extract_failures(*message);
  Extraction extraction;
  extraction.message_id = message->message_id;
  Provenance base;
  base.file = input_name;
  base.message_id = message->message_id;
  base.mail_from = message->from;
  base.mail_date = message->date;
  base.mail_subject = message->subject;
  std::vector<std::string> seen_types;
  for (MailPart& part : message->parts) {
    // The raw embedded message is listed too; its leaves follow it.
    if (part.content_type == "message/rfc822") continue;
    const ContentFormat format = sniff_format(part.body);
    if (!may_hold_report(format) ||
        (format == ContentFormat::xml && !mentions_feedback_element(part.body))) {
      seen_types.push_back(part.content_type.empty() ? "untyped" : part.content_type);
      continue;
    }
    auto unpacked = unpack(part.body, limits);
    const std::string part_name = part.filename.empty() ? "part " + part.path : part.filename;
    if (!unpacked) {
      Error error = unpacked.error();
      error.where = error.where.empty() ? part_name : part_name + ": " + error.where;
      return error;
    }
    Provenance provenance = base;
    if (!part.filename.empty()) provenance.attachment_name = part.filename;
    const std::string& raw = extraction.owned_payloads.emplace_back(std::move(part.body));
    auto parsed = parse_documents(*unpacked, provenance, "eml>", raw, limits, extraction);
    if (!parsed) {
      Error error = parsed.error();
      error.where = error.where.empty() ? part_name : part_name + ": " + error.where;
      return error;
    }
  }
  if (extraction.reports.empty()) {
    std::string types;
    for (const auto& type : seen_types) types += (types.empty() ? "" : ", ") + type;
    for (const auto& note : extraction.notes) types += (types.empty() ? "" : "; ") + note;
    return make_error(ErrorKind::not_a_report,
                      fmt::format("message carries no DMARC aggregate report{}",
                                  types.empty() ? "" : " (parts: " + types + ")"));
  }
  return extraction;
}

}  // namespace

Expected<Extraction> extract_reports(std::string_view bytes, const std::string& input_name,
                                     const Limits& limits) {
  const ContentFormat format = sniff_format(bytes);
  if (format == ContentFormat::mail || format == ContentFormat::mbox)
    return extract_from_mail(bytes, input_name, limits);
  if (format == ContentFormat::json)
    return make_error(ErrorKind::not_a_report,
                      "JSON document (an SMTP TLS report?), not a DMARC aggregate report");
  auto unpacked = unpack(bytes, limits);
  if (!unpacked) return unpacked.error();
  Extraction extraction;
  Provenance base;
  base.file = input_name;
  auto parsed = parse_documents(*unpacked, base, "", bytes, limits, extraction);
  if (!parsed) return parsed.error();
  if (extraction.reports.empty()) {
    std::string notes;
    for (const auto& note : extraction.notes) notes += (notes.empty() ? "" : "; ") + note;
    return make_error(ErrorKind::not_a_report,
                      fmt::format("no DMARC aggregate report inside{}",
                                  notes.empty() ? "" : " (" + notes + ")"));
  }
  return extraction;
}

namespace {

void store_failures(WriteBatch& batch, const std::string& input_name, const Extraction& extraction,
                    const IngestSettings& settings, InputOutcome& outcome) {
  if (extraction.failures.empty()) return;
  // What is stored is a copy: personal data is dropped or redacted first.
  std::vector<FailureReport> prepared;
  prepared.reserve(extraction.failures.size());
  for (const ParsedFailure& parsed : extraction.failures) {
    FailureReport report = parsed.report;
    if (!settings.keep_bodies) report.original.body.reset();
    if (settings.redact) redact_failure_report(report);
    prepared.push_back(std::move(report));
  }
  std::vector<IncomingFailure> incoming;
  for (std::size_t i = 0; i < prepared.size(); ++i)
    incoming.push_back(IncomingFailure{&prepared[i], extraction.failures[i].sha256, input_name});
  for (const AddResult& result : batch.add_failure_reports(incoming)) {
    if (result.outcome == AddOutcome::stored) ++outcome.failures_stored;
    else ++outcome.failure_duplicates;
  }
}

}  // namespace

InputOutcome store_extraction(WriteBatch& batch, std::string_view bytes, const std::string& input_name,
                              Expected<Extraction>& extraction, const IngestSettings& settings) {
  InputOutcome outcome;
  if (!extraction) {
    outcome.status = InputStatus::rejected;
    outcome.error = extraction.error();
    if (settings.keep_rejected) {
      RejectedInput rejected;
      rejected.source = input_name;
      rejected.reason_kind = to_string(outcome.error->kind);
      rejected.reason = outcome.error->describe();
      rejected.bytes = bytes;
      rejected.sha256 = sha256_hex(bytes);
      batch.keep_rejected(rejected);
      outcome.kept = true;
    }
    return outcome;
  }
  outcome.notes = std::move(extraction->notes);
  std::vector<IncomingReport> incoming;
  incoming.reserve(extraction->reports.size());
  for (const ParsedReport& parsed : extraction->reports) {
    IncomingReport in{&parsed.report, parsed.provenance, parsed.payload, {}, {}, parsed.content_sha256,
                      parsed.encoded};
    if (settings.keep_raw) {
      in.raw_payload = parsed.raw_payload;
      in.raw_payload_sha256 = parsed.raw_payload_sha256;
    }
    incoming.push_back(std::move(in));
  }
  store_failures(batch, input_name, *extraction, settings, outcome);
  const std::vector<AddResult> results = batch.add_reports(incoming);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const AggregateReport& report = extraction->reports[i].report;
    switch (results[i].outcome) {
      case AddOutcome::stored:
        ++outcome.reports_stored;
        outcome.records_stored += static_cast<std::int64_t>(report.records.size());
        break;
      case AddOutcome::duplicate:
        ++outcome.duplicates;
        break;
      case AddOutcome::conflict:
        ++outcome.conflicts;
        outcome.notes.push_back(fmt::format(
            "report {} from \"{}\" for {} reuses the id of a stored report with different "
            "content: kept as a conflict (see `dmarcq conflicts`)",
            report.report_id, report.org_name, report.policy.domain));
        break;
    }
  }
  outcome.status = outcome.reports_stored + outcome.failures_stored > 0 ? InputStatus::stored
                                                                       : InputStatus::duplicate;
  return outcome;
}

InputOutcome ingest_input(Store& store, std::string_view bytes, const std::string& input_name,
                          const IngestSettings& settings) {
  auto extraction = extract_reports(bytes, input_name, settings.limits);
  auto batch = store.begin_batch();
  InputOutcome outcome = store_extraction(*batch, bytes, input_name, extraction, settings);
  batch->commit();
  return outcome;
}

}  // namespace dmarcq
