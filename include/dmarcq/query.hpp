// The query layer: what `dmarcq summary / sources / impersonators / reports /
// show / timeline / sql` ask the store. Plain result structs; every SQL
// statement stays in src/store/ (query_*.cpp), the CLI only formats.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/ip.hpp"
#include "dmarcq/store.hpp"

namespace dmarcq {

// One of the owner's own sending sources (allow-list entry).
struct KnownSender {
  IpRange range;
  std::string label;
};

struct QueryFilter {
  std::vector<std::string> domains;     // policy domains; empty = all
  std::optional<std::int64_t> since;    // a report counts when it overlaps [since, until)
  std::optional<std::int64_t> until;
  std::optional<std::string> reporter;  // org_name, exact
  std::optional<IpRange> ip;            // source address or network
  std::int64_t min_count = 0;           // drop result rows with fewer messages
  std::optional<std::size_t> limit;     // most result rows
  std::string sort;                     // per query; "" = the query's default
  std::vector<KnownSender> known;       // allow-list: labelled, never impersonators
};

// Messages per class, in README order.
struct ClassCounts {
  std::int64_t aligned = 0, dkim_only = 0, spf_only = 0, forwarded = 0, misaligned = 0,
               impersonation = 0;
  void add(std::string_view traffic_class, std::int64_t messages);
  [[nodiscard]] std::int64_t total() const;
};

// Receiver dispositions (what happened to the mail).
struct DispositionCounts {
  std::int64_t none = 0, quarantine = 0, reject = 0, other = 0;  // other: pass, unknown, absent
  void add(std::string_view disposition, std::int64_t messages);
};

struct PolicySeen {
  std::string policy;           // "p=reject sp=none adkim=r aspf=s pct=100"
  std::int64_t first_seen = 0;  // begin of the first report that published it
  std::int64_t reports = 0;
};

struct SummaryRow {
  std::string domain;
  std::int64_t reports = 0, reporters = 0, messages = 0;
  std::int64_t dmarc_pass = 0, spf_aligned = 0, dkim_aligned = 0;  // messages
  std::int64_t disagreements = 0;  // messages where the receiver's verdict differs from ours
  DispositionCounts dispositions;
  ClassCounts classes;
  std::vector<PolicySeen> policies;  // in order of first appearance
  std::int64_t first_seen = 0, last_seen = 0;
};

enum class SourceMode { all, failing, impersonators };

struct SourceQuery {
  SourceMode mode = SourceMode::all;
  bool include_misaligned = false;  // impersonators: misaligned sources too
  bool by_network = false;
  int v4_prefix = 24, v6_prefix = 48;
  // impersonators: only sources first seen in a report ending after this
  // (no report containing them ended at or before it)
  std::optional<std::int64_t> new_since;
};

// One row of `sources` / `impersonators`. Its texts are views into the
// store's caches (profiles, domain and reporter names) and the aggregate
// being printed: valid during the each_source callback only.
struct SourceRow {
  std::string_view source;     // IP, or network "a.b.c.0/24" with by_network
  std::int64_t addresses = 1;  // distinct IPs (by_network)
  std::string_view label;      // allow-list label, "" when unknown
  std::int64_t messages = 0;
  std::int64_t spf_aligned_pass = 0, spf_aligned_fail = 0;
  std::int64_t dkim_aligned_pass = 0, dkim_aligned_fail = 0;
  std::int64_t dmarc_pass = 0;
  ClassCounts classes;
  std::string_view main_class;  // the class with most messages
  DispositionCounts dispositions;
  std::int64_t disagreements = 0;
  // Each sorted, without repeats.
  std::vector<std::string_view> header_from, dkim_domains, spf_domains, reporters, domains;
  std::vector<std::string_view> unaligned_domains;  // passed SPF/DKIM without alignment (misaligned)
  std::int64_t first_seen = 0, last_seen = 0;  // begin / end of the reports within the period
  // Failure (forensic) reports from this source (address or network) that
  // arrived within the period, for the same policy domains: `dmarcq failures --ip`.
  std::int64_t failure_reports = 0;
};

enum class Period { day, week, month };

struct TimelineRow {
  std::int64_t start = 0;  // UTC epoch of the period's first day
  std::int64_t messages = 0;
  ClassCounts classes;
};

struct ReportRow {
  std::int64_t id = 0;
  std::string org_name, report_id, domain, policy;
  std::int64_t begin = 0, end = 0, records = 0, messages = 0;
  std::int64_t dmarc_pass = 0;  // messages
  std::int64_t ingested_at = 0;
};

struct ShowRecord {
  std::string source_ip, header_from, envelope_from, disposition, dkim_evaluated, spf_evaluated,
      traffic_class, unaligned_dkim_domain, unaligned_spf_domain;
  std::int64_t count = 0;
  bool dkim_aligned = false, spf_aligned = false, dmarc_pass = false;
  std::vector<std::string> dkim, spf, reasons;  // "domain/selector=result", "domain(scope)=result", "type: comment"
};

struct ReportDetail {
  ReportRow report;
  std::string email, source_file, source_member, payload_sha256;
  std::vector<ShowRecord> records;
};

// A read-only raw SQL result, row by row.
struct SqlColumn {
  std::string name;
};
struct SqlValue {
  enum class Type { null, integer, real, text, blob } type = Type::null;
  std::int64_t integer = 0;
  double real = 0;
  std::string text;  // text, or the blob's bytes
};

class Queries {
 public:
  virtual ~Queries() = default;
  virtual std::vector<SummaryRow> summary(const QueryFilter& filter) = 0;
  // Calls `row` for each result row, in order, and returns how many. One
  // SourceRow is reused for every row and holds views (see there): a full
  // listing (~150,000 rows for a month of a large site) is written as it
  // comes, nothing is kept per row.
  virtual std::size_t each_source(const QueryFilter& filter, const SourceQuery& query,
                                  const std::function<void(const SourceRow&)>& row) = 0;
  virtual std::vector<TimelineRow> timeline(const QueryFilter& filter, Period period) = 0;
  virtual std::vector<ReportRow> reports(const QueryFilter& filter) = 0;
  // By row id ("42") or by the reporter's report_id; nullopt when none.
  virtual std::optional<ReportDetail> show(const std::string& report) = 0;
  // Read-only SQL: anything but a read is refused (Failure usage). `header`
  // is called once with the column names, `row` per row.
  virtual void sql(const std::string& statement,
                   const std::function<void(const std::vector<SqlColumn>&)>& header,
                   const std::function<void(const std::vector<SqlValue>&)>& row) = 0;
};

// Opens the database read-only for queries. Throws Failure (io: no database).
std::unique_ptr<Queries> open_sqlite_queries(const StoreOptions& options);

// Recomputes the rollup tables from the stored records (`dmarcq db rebuild-rollups`).
// Returns the number of rollup rows.
std::int64_t rebuild_sqlite_rollups(const StoreOptions& options);

}  // namespace dmarcq
