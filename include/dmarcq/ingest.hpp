// The ingest pipeline: bytes -> (MIME) -> unpack -> XML -> normalize ->
// alignment -> store. Orchestrates the stage modules; owns no third-party
// library itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"
#include "dmarcq/limits.hpp"
#include "dmarcq/model.hpp"
#include "dmarcq/store.hpp"

namespace dmarcq {

// A report found in an input, parsed, normalized and with alignment computed.
struct ParsedReport {
  AggregateReport report;
  Provenance provenance;
  std::string payload;  // the XML bytes
};

struct Extraction {
  std::vector<ParsedReport> reports;
  std::vector<std::string> notes;  // skipped members / parts, lenient-parse diagnostics
};

// Finds and parses every aggregate report in one input (a file's bytes or a
// message on stdin). `input_name` is used in provenance and error messages.
// Fails as a whole when any report in the input is broken, so that a rejected
// input stores nothing.
Expected<Extraction> extract_reports(std::string_view bytes, const std::string& input_name,
                                     const Limits& limits);

enum class InputStatus { stored, duplicate, rejected };

struct InputOutcome {
  InputStatus status = InputStatus::stored;
  std::int64_t reports_stored = 0;
  std::int64_t records_stored = 0;
  std::int64_t duplicates = 0;
  std::int64_t conflicts = 0;
  std::optional<Error> error;      // set when rejected
  std::vector<std::string> notes;
};

// extract_reports + Store::add_reports in one transaction. Store failures
// (busy, disk full, ...) propagate as Failure; bad input is an outcome.
InputOutcome ingest_input(Store& store, std::string_view bytes, const std::string& input_name,
                          const Limits& limits);

}  // namespace dmarcq
