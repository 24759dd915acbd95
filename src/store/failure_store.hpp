// Failure (forensic) reports in SQLite: the write statements, prepared once
// per store, and the row <-> FailureReport mapping.
#pragma once

#include <cstdint>
#include <vector>

#include "dmarcq/store.hpp"
#include "sqlite_handle.hpp"

namespace dmarcq::store {

class FailureWriter {
 public:
  explicit FailureWriter(const Database& db);
  // Inside the caller's transaction.
  std::vector<AddResult> add(Database& db, const std::vector<IncomingFailure>& reports, std::int64_t now);

 private:
  LazyStatement find_, insert_;  // most deliveries carry no failure report
};

}  // namespace dmarcq::store
