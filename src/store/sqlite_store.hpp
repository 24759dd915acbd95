// SQLite implementation of dmarcq::Store.
#pragma once

#include "dmarcq/store.hpp"
#include "sqlite_handle.hpp"

namespace dmarcq::store {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const StoreOptions& options);

  std::vector<AddResult> add_reports(const std::vector<IncomingReport>& reports) override;
  void for_each_report(const ReportFilter& filter,
                       const std::function<void(const StoredReport&)>& visit) override;
  std::vector<ConflictInfo> conflicts() override;
  StoreTotals totals() override;
  int schema_version() override;

 private:
  void migrate();
  AddResult add_one(const IncomingReport& incoming, std::int64_t now);
  std::int64_t insert_report(const AggregateReport& report, const Provenance& provenance,
                             const std::string& content_sha256, std::int64_t now);
  void insert_records(const AggregateReport& report, std::int64_t report_row);

  StoreOptions options_;
  Database db_;
  // Prepared once, reused for every report (write path).
  struct WriteStatements;
  std::shared_ptr<WriteStatements> write_;
};

// Order-insensitive digest of a normalized report's content, for telling a
// true duplicate from a conflicting report that reuses a report id.
std::string content_fingerprint(const AggregateReport& report);

}  // namespace dmarcq::store
