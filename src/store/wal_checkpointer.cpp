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
  sqlite3_wal_hook(writer_, &WalCheckpointer::on_commit, this);  // replaces the automatic checkpoint
  thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_wal_autocheckpoint(writer_, 1000);  // SQLite's default again (and the hook removed)
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char*, int wal_pages) {
  auto& checkpointer = *static_cast<WalCheckpointer*>(self);
  if (wal_pages >= checkpointer.restart_pages_) {
    // The WAL starts over only when a write transaction begins with every
    // frame checkpointed, and the writer begins its next one at once: so
    // now and then it finishes the checkpoint itself (the frames of its last
    // commit). Not while the background one runs, and that one is not woken
    // again: it is done by one of the next commits.
    std::unique_lock running(checkpointer.checkpoint_mutex_, std::try_to_lock);
    if (running.owns_lock())
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
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
      // Busy or failed changes nothing: the WAL only grows until the next
      // checkpoint (or the writer's close) copies it.
      std::lock_guard running(checkpoint_mutex_);
      sqlite3_wal_checkpoint_v2(own_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
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
  // WAL short, so it must not make the delivery wait for a reader.
  sqlite3_busy_timeout(db, 0);
  sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db, policy.busy_timeout_ms_);
  return SQLITE_OK;
}

}  // namespace dmarcq::store
