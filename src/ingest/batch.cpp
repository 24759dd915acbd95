#include "dmarcq/batch.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dmarcq {

namespace {

// A bounded multi-producer multi-consumer queue: keeps memory flat however
// many inputs there are.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // False when the queue was closed (the consumer gave up).
  bool push(T value) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return true;
  }

  // Waits up to `timeout`; nullopt on timeout or when closed and drained.
  std::optional<T> pop(std::chrono::milliseconds timeout, bool& finished) {
    std::unique_lock lock(mutex_);
    finished = false;
    if (!not_empty_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; })) return std::nullopt;
    if (items_.empty()) {
      finished = true;
      return std::nullopt;
    }
    T value = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return value;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

struct Parsed {
  BatchItem item;
  Expected<Extraction> extraction;
};

// What the writer keeps of an input until its transaction commits.
struct Pending {
  BatchItem item;  // bytes released
  InputOutcome outcome;
};

}  // namespace

BatchTotals run_batch(Store& store, const ItemSource& source, const BatchSettings& settings,
                      const std::function<void(const BatchItem&, const InputOutcome&)>& on_outcome) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers = settings.workers ? settings.workers : std::max(1u, cores - 1);
  BoundedQueue<BatchItem> to_parse(workers * 4);
  // Room for the parse workers to keep going while the writer commits (a
  // parsed report holds tens of KB: 64 of them stay well inside the batch's
  // 64 MB memory budget).
  BoundedQueue<Parsed> to_store(std::max(64u, workers * 4));
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  BatchTotals totals;

  std::vector<std::thread> parsers;
  std::atomic<unsigned> parsers_left{workers};
  for (unsigned i = 0; i < workers; ++i) {
    parsers.emplace_back([&] {
      bool finished = false;
      while (!finished) {
        auto item = to_parse.pop(std::chrono::milliseconds(200), finished);
        if (!item) continue;
        auto extraction = extract_reports(item->bytes, item->name, settings.ingest.limits);
        if (!to_store.push(Parsed{std::move(*item), std::move(extraction)})) break;
      }
      if (--parsers_left == 0) to_store.close();
    });
  }

  std::thread writer([&] {
    try {
      std::vector<Pending> pending;
      std::unique_ptr<WriteBatch> batch;
      auto opened_at = std::chrono::steady_clock::now();
      auto commit = [&] {
        if (!batch) return;
        batch->commit();
        batch.reset();
        for (Pending& done : pending) {
          if (done.item.after_commit) done.item.after_commit(done.outcome);
          on_outcome(done.item, done.outcome);
        }
        pending.clear();
      };
      bool finished = false;
      while (!finished) {
        auto parsed = to_store.pop(std::chrono::milliseconds(50), finished);
        if (parsed) {
          if (!batch) {
            batch = store.begin_batch();
            opened_at = std::chrono::steady_clock::now();
          }
          IngestSettings input_settings = settings.ingest;
          input_settings.keep_rejected = parsed->item.keep_if_rejected && settings.ingest.keep_rejected;
          InputOutcome outcome = store_extraction(*batch, parsed->item.bytes, parsed->item.name,
                                                  parsed->extraction, input_settings);
          ++totals.inputs;
          totals.reports += outcome.reports_stored;
          totals.records += outcome.records_stored;
          totals.duplicates += outcome.duplicates;
          totals.failures += outcome.failures_stored;
          totals.failure_duplicates += outcome.failure_duplicates;
          totals.conflicts += outcome.conflicts;
          if (outcome.status == InputStatus::rejected) ++totals.rejected;
          if (outcome.kept) ++totals.kept;
          parsed->item.bytes = std::string();  // nothing but the outcome waits for the commit
          pending.push_back(Pending{std::move(parsed->item), std::move(outcome)});
        }
        if (batch && (pending.size() >= settings.commit_every_inputs ||
                      std::chrono::steady_clock::now() - opened_at >= settings.commit_every))
          commit();
      }
      commit();
    } catch (...) {
      failure = std::current_exception();
      failed = true;
      to_store.close();
      to_parse.close();
    }
  });

  std::exception_ptr source_failure;
  while (!failed) {
    std::optional<BatchItem> item;
    try {
      item = source();
    } catch (...) {
      source_failure = std::current_exception();
      break;
    }
    if (!item || !to_parse.push(std::move(*item))) break;
  }
  to_parse.close();
  for (auto& parser : parsers) parser.join();
  writer.join();
  if (failure) std::rethrow_exception(failure);
  if (source_failure) std::rethrow_exception(source_failure);
  return totals;
}

}  // namespace dmarcq
