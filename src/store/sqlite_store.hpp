// SQLite implementation of dmarcq::Store.
#pragma once

#include "dmarcq/store.hpp"
#include "sqlite_handle.hpp"
#include "wal_checkpointer.hpp"

namespace dmarcq::store {

class FailureWriter;

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const StoreOptions& options);

  std::unique_ptr<WriteBatch> begin_batch() override;
  std::vector<RejectedInfo> rejected() override;
  void for_each_rejected(const std::function<void(const RejectedInfo&, std::string_view)>& visit) override;
  void for_each_raw_payload(const std::function<void(const RawPayload&)>& visit) override;
  void for_each_failure(const FailureFilter& filter,
                        const std::function<void(const StoredFailure&)>& visit) override;
  std::optional<StoredFailure> failure(std::int64_t id) override;
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
  std::shared_ptr<FailureWriter> failure_writer_;
  // After db_: stopped before the writer connection closes, so that the
  // close (the last connection) checkpoints what is left.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<DeliveryCheckpoints> delivery_checkpoints_;
};

// dmarcq::content_fingerprint (store.hpp) forwards to this one.
std::string content_fingerprint(const AggregateReport& report);

}  // namespace dmarcq::store
