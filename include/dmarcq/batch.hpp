// Batch imports: parse in worker threads, one writer thread committing many
// inputs per transaction. An input's after-commit action (a Maildir move)
// runs only once the transaction holding its reports has committed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "dmarcq/ingest.hpp"

namespace dmarcq {

struct BatchItem {
  std::string name;    // shown in messages and stored as provenance
  std::string bytes;
  bool keep_if_rejected = false;  // a mail message: keep it whole when rejected
  // Runs in run_batch's calling thread after the input's transaction committed.
  std::function<void(const InputOutcome&)> after_commit;
};

// Produces the inputs, in the calling thread; nullopt when done.
using ItemSource = std::function<std::optional<BatchItem>()>;

struct BatchSettings {
  IngestSettings ingest;
  unsigned workers = 0;                          // parse threads; 0 = cores - 1, at least 1
  std::size_t commit_every_inputs = 1000;        // commit after this many inputs ...
  std::chrono::milliseconds commit_every{1000};  // ... or this much time
};

struct BatchTotals {
  std::int64_t inputs = 0, reports = 0, records = 0, duplicates = 0, conflicts = 0, rejected = 0,
               kept = 0, failures = 0, failure_duplicates = 0;
};

// Runs the whole import. `on_outcome` is called (in the calling thread, as
// are the after-commit actions) for every input after its transaction
// committed, in commit order. A store failure
// (busy past the timeout, disk full) stops the import and is rethrown here;
// whatever was committed before stays committed.
BatchTotals run_batch(Store& store, const ItemSource& source, const BatchSettings& settings,
                      const std::function<void(const BatchItem&, const InputOutcome&)>& on_outcome);

}  // namespace dmarcq
