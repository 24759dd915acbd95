// The report store. Every SQL statement of dmarcq lives behind this interface
// (src/store/), so that a PostgreSQL backend can sit beside SQLite later.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dmarcq/model.hpp"

namespace dmarcq {

struct StoreOptions {
  std::string path;
  bool read_only = false;
  int busy_timeout_ms = 30'000;
  bool group_readable = false;  // create the file 0640 instead of 0600
};

enum class AddOutcome {
  stored,     // new report
  duplicate,  // same payload, or same key with identical content: nothing stored
  conflict,   // same key (org, report id, domain, date range), different content:
              // the newcomer is kept in the conflicts table, not in reports
};

struct AddResult {
  AddOutcome outcome = AddOutcome::stored;
  std::int64_t report_row = 0;  // the stored report's row (the existing one for duplicate/conflict)
};

// One report of a file, with where it came from.
struct IncomingReport {
  const AggregateReport* report = nullptr;
  Provenance provenance;
  std::string_view payload;  // the XML bytes (kept for conflicts); must outlive the call
};

struct StoredReport {
  std::int64_t row = 0;
  std::int64_t ingested_at = 0;
  AggregateReport report;
  Provenance provenance;
};

struct ReportFilter {
  std::vector<std::string> domains;  // policy domains; empty = all
  std::optional<std::int64_t> since; // report overlaps [since, until)
  std::optional<std::int64_t> until;
};

struct ConflictInfo {
  std::int64_t id = 0;
  std::int64_t existing_report_row = 0;
  std::string org_name, report_id, domain;
  std::int64_t begin = 0, end = 0;
  std::string source_file, source_member, payload_sha256;
  std::int64_t detected_at = 0;
};

struct StoreTotals {
  std::int64_t reports = 0;
  std::int64_t records = 0;
  std::int64_t messages = 0;  // sum of counts
  std::int64_t conflicts = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores all reports of one input atomically (one transaction): either every
  // report is stored / recognised as duplicate / kept as conflict, or nothing
  // is written. Throws Failure (kind temporary for busy/full, database else).
  virtual std::vector<AddResult> add_reports(const std::vector<IncomingReport>& reports) = 0;

  virtual void for_each_report(const ReportFilter& filter,
                               const std::function<void(const StoredReport&)>& visit) = 0;
  virtual std::vector<ConflictInfo> conflicts() = 0;
  virtual StoreTotals totals() = 0;
  virtual int schema_version() = 0;
};

// Opens (creating if needed, unless read_only) and migrates the database.
// Throws Failure: temporary (cannot open/lock), database (corrupt, newer schema).
std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options);

// The schema version this build migrates to.
int latest_schema_version();

}  // namespace dmarcq
