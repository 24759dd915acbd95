// The report store. Every SQL statement of dmarcq lives behind this interface
// (src/store/), so that a PostgreSQL backend can sit beside SQLite later.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dmarcq/failure_model.hpp"
#include "dmarcq/model.hpp"

namespace dmarcq {

struct StoreOptions {
  std::string path;
  bool read_only = false;
  int busy_timeout_ms = 30'000;
  bool group_readable = false;  // create the file 0640 instead of 0600
  // Every COMMIT on disk before it returns (synchronous = FULL): MDA mode,
  // where exit 0 tells the MTA it may delete the message.
  bool durable_commits = false;
  // Batch imports: WAL checkpoints run in a thread of their own instead of
  // inside the writer's COMMIT (src/store/wal_checkpointer.hpp). A commit
  // that leaves more than `checkpoint_pages` in the WAL starts one (1,000 is
  // SQLite's automatic checkpoint); the WAL file stays under about 16 times
  // that (64 MiB).
  bool background_checkpoints = false;
  int checkpoint_pages = 1000;
  // Batch imports: records and rollup rows are written with multi-row
  // INSERTs, prepared per chunk size on first use (not worth preparing for
  // one MDA delivery).
  bool multi_row_inserts = false;
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

// What the write path derives from a report's records before it inserts them
// (the records' JSON columns, the rollup's keys). Defined in src/store; pure,
// so the batch import computes it in its parse workers (encode_records)
// instead of its one writer thread.
struct EncodedRecords;

// nullptr for a report too large to hold twice in memory: the store then
// encodes it record by record as it writes.
std::shared_ptr<const EncodedRecords> encode_records(const AggregateReport& report);

// One report of an input, with where it came from. The views must outlive the call.
struct IncomingReport {
  const AggregateReport* report = nullptr;
  Provenance provenance;
  std::string_view payload;      // the XML bytes (kept for conflicts)
  // The payload as received (zip / gzip / XML, before unpacking), kept for
  // `dmarcq reprocess`; empty = not kept (--no-keep-raw).
  std::string_view raw_payload;
  std::string raw_payload_sha256;
  // content_fingerprint(*report), when the caller computed it already (the
  // batch import does, in its parse workers); empty = the store computes it.
  std::string content_sha256;
  // encode_records(*report), likewise; nullptr = the store encodes.
  std::shared_ptr<const EncodedRecords> encoded;
};

// A failure report to store (already redacted / stripped of its body as asked).
struct IncomingFailure {
  const FailureReport* report = nullptr;
  std::string sha256;       // dedup key: same feedback part and original headers = same report
  std::string source_file;
};

struct StoredFailure {
  std::int64_t id = 0;
  std::int64_t ingested_at = 0;
  std::string source_file;
  FailureReport report;
};

struct FailureFilter {
  std::vector<std::string> domains;      // Reported-Domain; empty = all
  std::optional<std::int64_t> since;     // Arrival-Date >= since
  std::optional<std::int64_t> until;     // Arrival-Date < until
  std::optional<std::array<std::uint8_t, 16>> ip_first, ip_last;  // Source-IP range
  std::optional<std::int64_t> limit;
};

// An input that carried no report, or a broken one: kept whole.
struct RejectedInput {
  std::string source;                     // path, Maildir file, "-" for stdin
  std::optional<std::string> message_id;
  std::string reason_kind;                // to_string(ErrorKind)
  std::string reason;                     // the one-line error
  std::string_view bytes;
  std::string sha256;
};

struct RejectedInfo {
  std::int64_t id = 0;
  std::string source;
  std::optional<std::string> message_id;
  std::string reason_kind, reason;
  std::int64_t size = 0, received_at = 0, last_tried_at = 0, tries = 0;
};

// A raw payload with the provenance of the reports that came from it.
struct RawPayload {
  std::int64_t id = 0;
  std::string bytes;
  Provenance provenance;  // of the first report stored from it
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

// An open write transaction. Inputs added to it become visible together at
// commit(); destroying it uncommitted rolls everything back. Batch imports
// commit many inputs per transaction (insert speed). An add_* call that
// throws may have written part of its input: the transaction can then only
// be rolled back (commit() and further adds throw), so a failing input
// never leaves half of itself stored.
class WriteBatch {
 public:
  virtual ~WriteBatch() = default;
  virtual std::vector<AddResult> add_reports(const std::vector<IncomingReport>& reports) = 0;
  // Keeps (or, if the same bytes are kept already, re-dates) a rejected input.
  virtual void keep_rejected(const RejectedInput& input) = 0;
  virtual void forget_rejected(std::int64_t id) = 0;
  // Failure reports: stored, or duplicate when the same sha256 is stored.
  virtual std::vector<AddResult> add_failure_reports(const std::vector<IncomingFailure>& reports) = 0;
  // Replaces every report parsed from raw payload `id` by `reports` (reprocess).
  virtual std::vector<AddResult> replace_reports_of_payload(std::int64_t id,
                                                            const std::vector<IncomingReport>& reports) = 0;
  virtual void commit() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Starts a write transaction (BEGIN IMMEDIATE: waits up to the busy timeout).
  // Throws Failure (kind temporary for busy/full/I-O, database else).
  virtual std::unique_ptr<WriteBatch> begin_batch() = 0;

  // One input in its own transaction: every report is stored / recognised as
  // duplicate / kept as conflict, or nothing is written.
  std::vector<AddResult> add_reports(const std::vector<IncomingReport>& reports) {
    auto batch = begin_batch();
    auto results = batch->add_reports(reports);
    batch->commit();
    return results;
  }

  virtual std::vector<RejectedInfo> rejected() = 0;
  virtual void for_each_rejected(const std::function<void(const RejectedInfo&, std::string_view bytes)>& visit) = 0;
  virtual void for_each_raw_payload(const std::function<void(const RawPayload&)>& visit) = 0;

  // Newest first (by Arrival-Date, then id).
  virtual void for_each_failure(const FailureFilter& filter,
                                const std::function<void(const StoredFailure&)>& visit) = 0;
  virtual std::optional<StoredFailure> failure(std::int64_t id) = 0;

  virtual void for_each_report(const ReportFilter& filter,
                               const std::function<void(const StoredReport&)>& visit) = 0;
  virtual std::vector<ConflictInfo> conflicts() = 0;
  virtual StoreTotals totals() = 0;
  virtual int schema_version() = 0;
};

// Order-insensitive digest of a normalized report's content, for telling a
// true duplicate from a conflicting report that reuses a report id. Pure:
// callers may compute it ahead (IncomingReport::content_sha256).
std::string content_fingerprint(const AggregateReport& report);

// Opens (creating if needed, unless read_only) and migrates the database.
// Throws Failure: temporary (cannot open/lock), database (corrupt, newer schema).
std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options);

// `dmarcq db check`: SQLite's integrity and foreign-key checks plus dmarcq's
// own invariant (every report has exactly the records it says). Returns the
// problems found; empty when the database is sound.
std::vector<std::string> check_sqlite_database(const StoreOptions& options);

// The schema version this build migrates to.
int latest_schema_version();

}  // namespace dmarcq
