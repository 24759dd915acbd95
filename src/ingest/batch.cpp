#include "dmarcq/batch.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dmarcq {

namespace {

// A bounded multi-producer multi-consumer queue: keeps memory flat however
// many inputs there are. Bounded by a count and, when given a weight
// function, by the weights' sum (bytes): a queue of giant reports must not
// hold as many of them as of ordinary ones. It always takes one item, however
// heavy. Hand-offs are batched: a sleeping consumer is woken once
// `wake_batch` items wait (or at its timeout, or at close), a blocked
// producer once the queue has drained to half. Waking a thread per item cost
// ~7% of a batch import's CPU in futex calls and context switches (VM).
template <typename T>
class BoundedQueue {
 public:
  using Weigh = std::size_t (*)(const T&);

  BoundedQueue(std::size_t capacity, std::size_t wake_batch, std::size_t max_weight = SIZE_MAX,
               Weigh weigh = nullptr)
      : capacity_(std::max<std::size_t>(capacity, 1)),
        wake_batch_(std::clamp<std::size_t>(wake_batch, 1, capacity_)),
        max_weight_(max_weight),
        weigh_(weigh) {}

  // False when the queue was closed (the consumer gave up).
  bool push(T value) {
    const std::size_t weight = weigh_ ? weigh_(value) : 0;
    std::unique_lock lock(mutex_);
    if (full(weight) && !closed_) {
      ++producers_waiting_;
      // Full by weight, it may hold fewer items than wake a consumer.
      if (consumers_waiting_) not_empty_.notify_one();
      // Drained to half (fewer wake-ups), and room for this item: several
      // producers woken at once each check again under the lock.
      not_full_.wait(lock, [&] { return (drained() && !full(weight)) || closed_; });
      --producers_waiting_;
    }
    if (closed_) return false;
    items_.push_back(Weighed{std::move(value), weight});
    weight_ += weight;
    if (consumers_waiting_ && items_.size() >= wake_batch_) not_empty_.notify_one();
    return true;
  }

  // Moves up to `most` items into `out` (cleared first). Waits up to
  // `timeout` for a batch, then takes what there is. Returns false once the
  // queue is closed and drained.
  bool pop(std::vector<T>& out, std::size_t most, std::chrono::milliseconds timeout) {
    out.clear();
    std::unique_lock lock(mutex_);
    if (items_.size() < wake_batch_ && !producers_waiting_ && !closed_) {
      ++consumers_waiting_;
      not_empty_.wait_for(lock, timeout,
                          [&] { return items_.size() >= wake_batch_ || producers_waiting_ || closed_; });
      --consumers_waiting_;
    }
    if (items_.empty()) return !closed_;
    const std::size_t taken = std::min(most, items_.size());
    // Room first: a reallocation would copy, not move, an item whose move may
    // throw (Parsed), and a parsed report's views point into its input's bytes.
    out.reserve(taken);
    for (std::size_t i = 0; i < taken; ++i) {
      out.push_back(std::move(items_.front().value));
      weight_ -= items_.front().weight;
      items_.pop_front();
    }
    if (producers_waiting_ && drained()) not_full_.notify_all();
    // Another consumer may take the rest.
    if (consumers_waiting_ && items_.size() >= wake_batch_) not_empty_.notify_one();
    return true;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  struct Weighed {
    T value;
    std::size_t weight;
  };
  bool full(std::size_t incoming) const {
    return items_.size() >= capacity_ || (!items_.empty() && weight_ + incoming > max_weight_);
  }
  bool drained() const { return items_.size() <= capacity_ / 2 && weight_ <= max_weight_ / 2; }

  std::size_t capacity_, wake_batch_, max_weight_;
  Weigh weigh_;
  std::size_t weight_ = 0;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Weighed> items_;
  std::size_t producers_waiting_ = 0, consumers_waiting_ = 0;
  bool closed_ = false;
};

// Items handed over per wake-up (see BoundedQueue).
constexpr std::size_t kParseBatch = 4, kStoreBatch = 8;

struct Parsed {
  BatchItem item;
  Expected<Extraction> extraction;
};

// About what a parsed input holds in memory: its bytes, its reports' XML
// payloads, and ~1 KB per record (a Record is 440 bytes, plus its auth
// results and their encoded JSON). ~47 KB for an email of 25 records, as
// the 10k batch's peak RSS grew per queued input.
std::size_t weight_of(const Parsed& parsed) {
  std::size_t bytes = parsed.item.bytes.size();
  if (parsed.extraction) {
    for (const ParsedReport& report : parsed.extraction->reports)
      bytes += report.payload.size() + 1000 * report.report.records.size();
  }
  return bytes;
}

std::size_t weight_of_input(const BatchItem& item) { return item.bytes.size(); }

// What the writer keeps of an input until its transaction commits.
struct Pending {
  BatchItem item;  // bytes released
  InputOutcome outcome;
};

// Inputs whose transaction committed, handed from the writer to the calling
// thread, which runs their after-commit actions (Maildir moves: ~6% of the
// writer thread's time as renames) and on_outcome, in commit order.
class CommittedInputs {
 public:
  void add(std::vector<Pending>& done) {
    {
      std::lock_guard lock(mutex_);
      for (Pending& input : done) inputs_.push_back(std::move(input));
      waiting_ = true;
    }
    done.clear();
    changed_.notify_one();
  }

  void finish() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
      waiting_ = true;
    }
    changed_.notify_one();
  }

  // Moves what is there into `out`; with `wait`, waits for something first.
  // False once the writer finished and everything was taken.
  bool take(std::vector<Pending>& out, bool wait) {
    out.clear();
    if (!wait && !waiting_.load(std::memory_order_relaxed)) return true;
    std::unique_lock lock(mutex_);
    if (wait) changed_.wait(lock, [&] { return !inputs_.empty() || finished_; });
    for (Pending& input : inputs_) out.push_back(std::move(input));
    inputs_.clear();
    waiting_ = finished_;
    return !(finished_ && out.empty());
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Pending> inputs_;
  std::atomic<bool> waiting_{false};
  bool finished_ = false;
};

// Parsed models the writer has stored, handed back to the parse workers to
// be freed there. Freed by the writer, their blocks went back to the parse
// worker's malloc arena under its lock, which both threads then waited on:
// handing them back cut the 10k batch's CPU by ~6% (README, "Performance").
class UsedExtractions {
 public:
  void give(std::vector<Expected<Extraction>>& used) {
    {
      std::lock_guard lock(mutex_);
      if (used_.empty()) {
        used_.swap(used);
      } else {
        for (auto& extraction : used) used_.push_back(std::move(extraction));
      }
    }
    used.clear();
  }

  // Moves what was given into `out`, to be destroyed outside the lock.
  void take(std::vector<Expected<Extraction>>& out) {
    out.clear();
    std::lock_guard lock(mutex_);
    out.swap(used_);
  }

 private:
  std::mutex mutex_;
  std::vector<Expected<Extraction>> used_;
};

}  // namespace

BatchTotals run_batch(Store& store, const ItemSource& source, const BatchSettings& settings,
                      const std::function<void(const BatchItem&, const InputOutcome&)>& on_outcome) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers = settings.workers ? settings.workers : std::max(1u, cores - 1);
  // Inputs read ahead: 16 per worker, and no more than 16 MB of big ones.
  BoundedQueue<BatchItem> to_parse(workers * 16, kParseBatch, std::size_t{16} << 20, weight_of_input);
  // Room for the parse workers to keep going while the writer commits: with
  // 64, the worker waited ~19 ms at each of a 10k batch's 10 commits and a
  // core idled. A parsed input holds ~47 KB: 192 of them take ~9 MB of the
  // batch's 64 MB budget; no more than 16 MB of bigger ones.
  BoundedQueue<Parsed> to_store(std::max(192u, workers * 48), kStoreBatch, std::size_t{16} << 20, weight_of);
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  BatchTotals totals;
  CommittedInputs committed;
  UsedExtractions used_extractions;

  std::vector<std::thread> parsers;
  std::atomic<unsigned> parsers_left{workers};
  for (unsigned i = 0; i < workers; ++i) {
    parsers.emplace_back([&] {
      std::vector<BatchItem> items;
      std::vector<Expected<Extraction>> used;
      bool open = true;
      while (open && to_parse.pop(items, kParseBatch, std::chrono::milliseconds(200))) {
        used_extractions.take(used);
        used.clear();
        for (BatchItem& item : items) {
          auto extraction = extract_reports(item.bytes, item.name, settings.ingest.limits);
          // Before a push that may wait: what the writer gave back meanwhile
          // is freed now, not after it.
          used_extractions.take(used);
          used.clear();
          if (!to_store.push(Parsed{std::move(item), std::move(extraction)})) {
            open = false;
            break;
          }
        }
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
        committed.add(pending);
      };
      std::vector<Parsed> arrived;
      std::vector<Expected<Extraction>> used;
      bool open = true;
      while (open) {
        open = to_store.pop(arrived, kStoreBatch, std::chrono::milliseconds(50));
        for (Parsed& parsed : arrived) {
          if (!batch) {
            batch = store.begin_batch();
            opened_at = std::chrono::steady_clock::now();
          }
          IngestSettings input_settings = settings.ingest;
          input_settings.keep_rejected = parsed.item.keep_if_rejected && settings.ingest.keep_rejected;
          InputOutcome outcome = store_extraction(*batch, parsed.item.bytes, parsed.item.name,
                                                  parsed.extraction, input_settings);
          ++totals.inputs;
          totals.reports += outcome.reports_stored;
          totals.records += outcome.records_stored;
          totals.duplicates += outcome.duplicates;
          totals.failures += outcome.failures_stored;
          totals.failure_duplicates += outcome.failure_duplicates;
          totals.conflicts += outcome.conflicts;
          if (outcome.status == InputStatus::rejected) ++totals.rejected;
          if (outcome.kept) ++totals.kept;
          parsed.item.bytes = std::string();  // nothing but the outcome waits for the commit
          pending.push_back(Pending{std::move(parsed.item), std::move(outcome)});
          used.push_back(std::move(parsed.extraction));
          if (pending.size() >= settings.commit_every_inputs) commit();
        }
        // Once no parse worker is left to free them, the writer does.
        if (parsers_left.load() == 0)
          used.clear();
        else
          used_extractions.give(used);
        if (batch && std::chrono::steady_clock::now() - opened_at >= settings.commit_every) commit();
      }
      commit();
    } catch (...) {
      failure = std::current_exception();
      failed = true;
      to_store.close();
      to_parse.close();
    }
    committed.finish();
  });

  std::vector<Pending> done;
  std::exception_ptr finish_failure;
  // False (and the import stopping) when an after-commit action or on_outcome threw.
  auto finish_committed = [&](bool wait) {
    try {
      const bool more = committed.take(done, wait);
      for (Pending& input : done) {
        if (input.item.after_commit) input.item.after_commit(input.outcome);
        on_outcome(input.item, input.outcome);
      }
      return more;
    } catch (...) {
      finish_failure = std::current_exception();
      failed = true;
      to_parse.close();
      to_store.close();
      return false;
    }
  };

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
    finish_committed(false);
  }
  to_parse.close();
  while (!finish_failure && finish_committed(true)) {
  }
  for (auto& parser : parsers) parser.join();
  writer.join();
  if (failure) std::rethrow_exception(failure);
  if (source_failure) std::rethrow_exception(source_failure);
  if (finish_failure) std::rethrow_exception(finish_failure);
  return totals;
}

}  // namespace dmarcq
