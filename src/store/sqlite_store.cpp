#include "sqlite_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "query_rollup.hpp"
#include "schema_migrations.hpp"

namespace dmarcq {

int latest_schema_version() {
  const auto& all = store::migrations();
  return all.empty() ? 0 : all.back().version;
}

std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options) {
  return std::make_unique<store::SqliteStore>(options);
}

std::vector<std::string> check_sqlite_database(const StoreOptions& options) {
  StoreOptions read_only = options;
  read_only.read_only = true;
  store::SqliteStore opened(read_only);  // also checks the schema version
  store::Database db(options.path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  std::vector<std::string> problems;
  store::Statement integrity = db.prepare("PRAGMA integrity_check");
  while (integrity.step())
    if (integrity.column_text(0) != "ok") problems.push_back("integrity: " + integrity.column_text(0));
  store::Statement foreign = db.prepare("PRAGMA foreign_key_check");
  while (foreign.step())
    problems.push_back(fmt::format("foreign key: row {} of {} points to a missing {} row",
                                   foreign.column_int(1), foreign.column_text(0), foreign.column_text(2)));
  store::Statement incomplete = db.prepare(
      "SELECT id, record_count, (SELECT count(*) FROM records WHERE report = r.id) FROM reports r "
      "WHERE record_count != (SELECT count(*) FROM records WHERE report = r.id)");
  while (incomplete.step())
    problems.push_back(fmt::format("report {} says {} records but has {}", incomplete.column_int(0),
                                   incomplete.column_int(1), incomplete.column_int(2)));
  return problems;
}

namespace store {

namespace {

// Creates the database file ourselves so that its mode is 0600 (0640): failure
// reports hold personal data. SQLite gives -wal/-shm the same mode.
void create_private_file(const std::string& path, bool group_readable) {
  std::error_code ignored;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
  const mode_t mode = group_readable ? 0640 : 0600;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd >= 0) {
    ::fchmod(fd, mode);  // umask may have narrowed it further; that is fine, widen never
    ::close(fd);
    return;
  }
  if (errno == EEXIST) return;
  throw Failure(ErrorKind::temporary, fmt::format("cannot create database: {}", std::strerror(errno)),
                path);
}

// WAL is a property of the file: set once, when the database is new.
// Setting it again on every open returned SQLITE_BUSY at once, without the
// busy handler, while another delivery was closing (8 concurrent deliveries
// saw a few exit 75): so ask first, and retry a busy set for the timeout.
void set_wal_mode(Database& db, int busy_timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (int attempt = 0;; ++attempt) {
    try {
      std::string mode;
      {
        Statement current = db.prepare("PRAGMA journal_mode");
        if (current.step()) mode = current.column_text(0);
      }  // finalized: a statement still open is a transaction, and WAL cannot be set inside one
      if (mode == "wal") return;
      Statement journal = db.prepare("PRAGMA journal_mode = WAL");
      journal.step();
      return;
    } catch (const Failure& failure) {
      if (failure.error().kind != ErrorKind::temporary || std::chrono::steady_clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2 + attempt * 2, 50)));
    }
  }
}

}  // namespace

SqliteStore::SqliteStore(const StoreOptions& options) : options_(options) {
  // Each installs its own WAL hook: refused before anything is opened.
  if (options.durable_commits && options.background_checkpoints)
    throw Failure(ErrorKind::internal, "durable commits (MDA) and background checkpoints (batch) exclude each other",
                  options.path);
  if (options.read_only) {
    if (!std::filesystem::exists(options.path))
      throw Failure(ErrorKind::io,
                    fmt::format("no database at {}; run `dmarcq ingest` first", options.path));
    db_ = Database(options.path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  } else {
    create_private_file(options.path, options.group_readable);
    db_ = Database(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  }
  sqlite3_busy_timeout(db_.get(), options.busy_timeout_ms);
  db_.exec("PRAGMA foreign_keys = ON");
  if (!options.read_only) {
    // WAL: queries run while another process writes. Batch imports use
    // NORMAL (durable across application crashes; a message is moved or
    // marked Seen only after its commit, and a re-run stores nothing twice).
    set_wal_mode(db_, options.busy_timeout_ms);
    // MDA mode asks for FULL: with NORMAL a commit reaches the disk only at
    // the checkpoint, and the closing connection skips that when another
    // one (a concurrent delivery, a query) has the database open, so an
    // acknowledged message could be lost with the power.
    db_.exec(options.durable_commits ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    // A batch transaction dirties more pages than the default 2 MiB cache
    // holds: SQLite then spills them to the WAL mid-transaction and reads
    // them back. 16 MiB keeps a 1,000-input batch in memory (pages are
    // only allocated when used, so one MDA delivery pays nothing for it).
    db_.exec("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY");
  }
  migrate();
  // 128 pages: a few deliveries' worth (measured: 32 and 512 were no faster).
  if (!options.read_only && options.durable_commits)
    delivery_checkpoints_ = std::make_unique<DeliveryCheckpoints>(db_, options.busy_timeout_ms, 128);
  if (!options.read_only && options.background_checkpoints) {
    const int wake_pages = std::clamp(options.checkpoint_pages, 1, 1 << 20);
    checkpointer_ = std::make_unique<WalCheckpointer>(db_, options.path, options.busy_timeout_ms, wake_pages,
                                                      16 * wake_pages);
  }
}

int SqliteStore::schema_version() {
  Statement statement = db_.prepare("PRAGMA user_version");
  statement.step();
  return static_cast<int>(statement.column_int(0));
}

void SqliteStore::migrate() {
  int version = schema_version();
  const int latest = latest_schema_version();
  if (version > latest)
    throw Failure(ErrorKind::database,
                  fmt::format("database schema version {} is newer than this dmarcq supports ({}); "
                              "upgrade dmarcq",
                              version, latest),
                  options_.path);
  if (version == latest) return;
  if (options_.read_only)
    throw Failure(ErrorKind::database,
                  fmt::format("database schema version {} is older than {}; run `dmarcq ingest` "
                              "or `dmarcq db migrate` once to upgrade it",
                              version, latest),
                  options_.path);
  WriteTransaction transaction(db_);
  version = schema_version();  // another process may have migrated meanwhile
  const int from = version;
  for (const Migration& migration : migrations()) {
    if (migration.version <= version) continue;
    db_.exec(migration.sql);
    db_.exec(fmt::format("PRAGMA user_version = {}", migration.version));
  }
  // Version 5 replaced the rollup tables; they are computed in C++ (the same
  // code as the write path), from the records a database already holds.
  if (from > 0 && from < 5) store::rebuild_rollups_in_transaction(db_);
  transaction.commit();
}

StoreTotals SqliteStore::totals() {
  StoreTotals totals;
  Statement reports = db_.prepare(
      "SELECT count(*), coalesce(sum(record_count), 0), coalesce(sum(message_count), 0) FROM reports");
  reports.step();
  totals.reports = reports.column_int(0);
  totals.records = reports.column_int(1);
  totals.messages = reports.column_int(2);
  Statement conflicts = db_.prepare("SELECT count(*) FROM conflicts");
  conflicts.step();
  totals.conflicts = conflicts.column_int(0);
  return totals;
}

std::vector<ConflictInfo> SqliteStore::conflicts() {
  std::vector<ConflictInfo> result;
  Statement statement = db_.prepare(
      "SELECT c.id, c.report, r.org_name, r.report_id, r.domain, r.begin_ts, r.end_ts, "
      "c.source_file, c.source_member, c.payload_sha256, c.detected_at "
      "FROM conflicts c JOIN reports r ON r.id = c.report ORDER BY c.id");
  while (statement.step()) {
    ConflictInfo info;
    info.id = statement.column_int(0);
    info.existing_report_row = statement.column_int(1);
    info.org_name = statement.column_text(2);
    info.report_id = statement.column_text(3);
    info.domain = statement.column_text(4);
    info.begin = statement.column_int(5);
    info.end = statement.column_int(6);
    info.source_file = statement.column_text(7);
    info.source_member = statement.column_text(8);
    info.payload_sha256 = statement.column_text(9);
    info.detected_at = statement.column_int(10);
    result.push_back(std::move(info));
  }
  return result;
}

}  // namespace store
}  // namespace dmarcq
