// The ingest pipeline: bytes -> (MIME) -> unpack -> XML -> normalize ->
// alignment -> store. Orchestrates the stage modules; owns no third-party
// library itself.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"
#include "dmarcq/failure_model.hpp"
#include "dmarcq/limits.hpp"
#include "dmarcq/model.hpp"
#include "dmarcq/store.hpp"

namespace dmarcq {

// A report found in an input, parsed, normalized and with alignment computed.
struct ParsedReport {
  AggregateReport report;
  Provenance provenance;
  std::string payload;             // the XML bytes
  std::string_view raw_payload;    // as received (compressed); into the input or Extraction
  std::string raw_payload_sha256;
  std::string content_sha256;      // content_fingerprint(report), computed with the parse
  std::shared_ptr<const EncodedRecords> encoded;  // encode_records(report), likewise
};

// A failure (forensic) report found in a message.
struct ParsedFailure {
  FailureReport report;
  std::string sha256;  // of the feedback part, original headers and text: the dedup key
};

struct Extraction {
  std::vector<ParsedReport> reports;
  std::vector<ParsedFailure> failures;
  std::vector<std::string> notes;  // skipped members / parts, lenient-parse diagnostics
  std::optional<std::string> message_id;  // of the carrying email, if any
  // Decoded attachments that raw_payload views point into (a deque: stable addresses).
  std::deque<std::string> owned_payloads;
};

// Finds and parses every aggregate report in one input (a file's bytes or a
// message). `input_name` goes into provenance and error messages. Fails as a
// whole when any report in the input is broken, so that a rejected input
// stores nothing. Pure and thread-safe: batch imports run it in workers.
// `bytes` must outlive the result (raw_payload may view into it).
Expected<Extraction> extract_reports(std::string_view bytes, const std::string& input_name,
                                     const Limits& limits);

struct IngestSettings {
  Limits limits;
  bool keep_raw = true;        // keep each payload as received (for `dmarcq reprocess`)
  bool keep_rejected = false;  // keep rejected inputs whole in the `rejected` table
  bool keep_bodies = false;    // failure reports: keep the original message body (personal data)
  bool redact = false;         // failure reports: replace address local parts with a hash
};

enum class InputStatus { stored, duplicate, rejected };

struct InputOutcome {
  InputStatus status = InputStatus::stored;
  bool kept = false;  // rejected, and kept in the `rejected` table
  std::int64_t reports_stored = 0;
  std::int64_t records_stored = 0;
  std::int64_t duplicates = 0;
  std::int64_t conflicts = 0;
  std::int64_t failures_stored = 0;
  std::int64_t failure_duplicates = 0;
  std::optional<Error> error;      // set when rejected
  std::vector<std::string> notes;
};

// Replaces the local part of every e-mail address in `text` with "h-" and 12
// hex digits of its SHA-256 (`ingest --redact`): the same sender stays
// recognisable across reports without being readable.
std::string redact_addresses(std::string_view text);

// Writes what extract_reports found (or the rejection) into an open batch.
InputOutcome store_extraction(WriteBatch& batch, std::string_view bytes, const std::string& input_name,
                              Expected<Extraction>& extraction, const IngestSettings& settings);

// extract_reports + store_extraction in one transaction of its own. Store
// failures (busy, disk full, ...) propagate as Failure; bad input is an outcome.
InputOutcome ingest_input(Store& store, std::string_view bytes, const std::string& input_name,
                          const IngestSettings& settings);

}  // namespace dmarcq

namespace dmarcq {

struct ReprocessTotals {
  std::int64_t rejected_tried = 0, rejected_recovered = 0;
  std::int64_t payloads_tried = 0, payloads_reparsed = 0, payloads_failed = 0;
  std::int64_t reports_stored = 0;
};

// Re-parses everything kept: rejected inputs (those that now parse are stored
// and leave the `rejected` table) and every raw payload (its reports are
// replaced by a fresh parse), e.g. after an upgrade fixed a parser bug.
// Each input is its own transaction; running it twice changes nothing.
ReprocessTotals reprocess(Store& store, const IngestSettings& settings,
                          const std::function<void(const std::string&)>& warn);

}  // namespace dmarcq
