// SQLite implementation of dmarcq::Store.
#pragma once

#include "dmarcq/store.hpp"
#include "sqlite_handle.hpp"

namespace dmarcq::store {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const StoreOptions& options);

  std::unique_ptr<WriteBatch> begin_batch() override;
  std::vector<RejectedInfo> rejected() override;
  void for_each_rejected(const std::function<void(const RejectedInfo&, std::string_view)>& visit) override;
  void for_each_raw_payload(const std::function<void(const RawPayload&)>& visit) override;
  void for_each_report(const ReportFilter& filter,
                       const std::function<void(const StoredReport&)>& visit) override;
  std::vector<ConflictInfo> conflicts() override;
  StoreTotals totals() override;
  int schema_version() override;

 private:
  void migrate();

  StoreOptions options_;
  Database db_;
 public:
  // The write path's statements, prepared once per store and reused for
  // every report (see report_writer.cpp).
  struct WriteStatements;

 private:
  std::shared_ptr<WriteStatements> write_;
};

// Order-insensitive digest of a normalized report's content, for telling a
// true duplicate from a conflicting report that reuses a report id.
std::string content_fingerprint(const AggregateReport& report);

}  // namespace dmarcq::store
