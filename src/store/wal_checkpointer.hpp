// WAL checkpoints off the write path: a batch import's in a thread and
// connection of their own, an MDA delivery's only now and then.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "sqlite_handle.hpp"

namespace dmarcq::store {

// Replaces the writer connection's automatic checkpoint, which runs inside
// its COMMIT: copying the WAL into the database and the two fsyncs took the
// one writer thread of a batch import ~15% of its time, while the parse
// workers waited for it. Here a commit that leaves the WAL past
// `wake_pages` only wakes the checkpointer, whose PASSIVE checkpoint runs
// beside the writer's next transaction (WAL allows one checkpointer
// alongside one writer). Past `restart_pages` the writer completes the
// checkpoint itself, so that the WAL file starts over instead of growing
// with the import (past twice that it waits for the thread to do so). What
// is left at the end is checkpointed by the writer connection's close.
//
// SQLite before 3.51.3 (Debian 12 ships 3.40.1) has the "WAL-reset bug"
// (https://sqlite.org/wal.html#walresetbug): a checkpoint that starts while
// another connection's commit restarts the WAL can make a later checkpoint
// skip frames, corrupting the database. A commit restarts the WAL only in a
// transaction that began with every frame checkpointed, that is after a
// complete checkpoint. So after one, the thread starts no checkpoint until
// the transaction that may restart the WAL has committed: the next commit
// after the writer's own checkpoint (it runs in the commit hook), the second
// next after the thread's (the next may have begun before it completed).
class WalCheckpointer {
 public:
  WalCheckpointer(Database& writer, const std::string& path, int busy_timeout_ms, int wake_pages,
                  int restart_pages);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run();

  sqlite3* writer_;
  Database own_;
  int wake_pages_, restart_pages_;
  std::mutex checkpoint_mutex_;  // held by whichever connection checkpoints
  std::atomic<std::uint64_t> commits_{0};  // commit hooks entered
  std::uint64_t resume_at_ = 0;  // under checkpoint_mutex_: the thread waits for this many commits
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false, stopping_ = false;
  std::thread thread_;
};

// MDA deliveries: one process, one commit each. SQLite's close would
// checkpoint the WAL and delete it (two more fsyncs, an unlink, and the next
// delivery creating the WAL again and syncing its directory: five fsyncs per
// message in all). Instead the close leaves the WAL as it is, and a commit
// that leaves more than `truncate_pages` in it checkpoints and truncates it,
// without waiting for readers or writers (busy: a later delivery does it).
// The bound matters: every process's first open reads the whole WAL.
class DeliveryCheckpoints {
 public:
  DeliveryCheckpoints(Database& db, int busy_timeout_ms, int truncate_pages);
  ~DeliveryCheckpoints();
  DeliveryCheckpoints(const DeliveryCheckpoints&) = delete;
  DeliveryCheckpoints& operator=(const DeliveryCheckpoints&) = delete;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);

  sqlite3* db_;
  int busy_timeout_ms_, truncate_pages_;
};

}  // namespace dmarcq::store
