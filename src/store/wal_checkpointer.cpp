#include "wal_checkpointer.hpp"

namespace dmarcq::store {

WalCheckpointer::WalCheckpointer(Database& writer, const std::string& path, int busy_timeout_ms,
                                 int wake_pages, int restart_pages)
    : writer_(writer.get()),
      own_(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX),
      wake_pages_(wake_pages),
      restart_pages_(restart_pages) {
  sqlite3_busy_timeout(own_.get(), busy_timeout_ms);
  // A connection sees the WAL only once it has read the database: until
  // then a checkpoint through it does nothing ("not in WAL mode").
  own_.exec("SELECT 1 FROM sqlite_schema LIMIT 1");
  thread_ = std::thread([this] { run(); });
  // Last: nothing can fail after it, and the hook needs the thread.
  sqlite3_wal_hook(writer_, &WalCheckpointer::on_commit, this);  // replaces the automatic checkpoint
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_autocheckpoint(writer_, 1000);  // SQLite's default again (and this hook removed)
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char*, int wal_pages) {
  auto& checkpointer = *static_cast<WalCheckpointer*>(self);
  const std::uint64_t commit = ++checkpointer.commits_;  // this one is done, restart of the WAL included
  if (wal_pages >= checkpointer.restart_pages_) {
    // The WAL starts over only when a write transaction begins with every
    // frame checkpointed, and the writer begins its next one at once: so
    // now and then it finishes the checkpoint itself (the frames of its last
    // commit). Not while the thread runs one (the thread is not woken again,
    // and one of the next commits does it), unless the WAL has grown to
    // twice the mark meanwhile: then it waits for the thread.
    std::unique_lock running(checkpointer.checkpoint_mutex_, std::defer_lock);
    if (wal_pages >= 2 * checkpointer.restart_pages_)
      running.lock();
    else if (!running.try_lock())
      return SQLITE_OK;
    int log_frames = 0, checkpointed = 0;
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &checkpointed);
    // Complete: the next transaction restarts the WAL; the thread starts no
    // checkpoint until it has committed.
    if (log_frames >= 0 && checkpointed == log_frames) checkpointer.resume_at_ = commit + 1;
    return SQLITE_OK;
  }
  if (wal_pages < checkpointer.wake_pages_) return SQLITE_OK;
  {
    std::lock_guard lock(checkpointer.mutex_);
    checkpointer.requested_ = true;
  }
  checkpointer.wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    {
      std::lock_guard running(checkpoint_mutex_);
      // Busy or failed changes nothing: the WAL only grows until the next
      // checkpoint (or the writer's close) copies it. Skipped: a later
      // commit wakes the thread again.
      if (commits_.load() >= resume_at_) {
        int log_frames = 0, checkpointed = 0;
        sqlite3_wal_checkpoint_v2(own_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &checkpointed);
        if (log_frames >= 0 && checkpointed == log_frames) resume_at_ = commits_.load() + 2;
      }
    }
    lock.lock();
  }
}

DeliveryCheckpoints::DeliveryCheckpoints(Database& db, int busy_timeout_ms, int truncate_pages)
    : db_(db.get()), busy_timeout_ms_(busy_timeout_ms), truncate_pages_(truncate_pages) {
  sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_wal_hook(db_, &DeliveryCheckpoints::on_commit, this);  // replaces the automatic checkpoint
}

DeliveryCheckpoints::~DeliveryCheckpoints() { sqlite3_wal_hook(db_, nullptr, nullptr); }

int DeliveryCheckpoints::on_commit(void* self, sqlite3* db, const char*, int wal_pages) {
  const auto& policy = *static_cast<DeliveryCheckpoints*>(self);
  if (wal_pages < policy.truncate_pages_) return SQLITE_OK;
  // The commit is already durable (synchronous = FULL): this only keeps the
  // WAL short, so it must not make the delivery wait (busy timeout 0: with
  // another writer at work it copies what it can, as SQLite's automatic
  // checkpoint would). Not a PASSIVE checkpoint first to shorten the write
  // lock: a checkpoint starting right after a complete one, while another
  // connection's commit restarts the WAL, is the WAL-reset bug's pattern
  // (see WalCheckpointer). TRUNCATE holds the write lock as it restarts.
  sqlite3_busy_timeout(db, 0);
  sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db, policy.busy_timeout_ms_);
  return SQLITE_OK;
}

}  // namespace dmarcq::store
