#include "sqlite_handle.hpp"

#include "wal_reuse_vfs.hpp"

#include <fmt/format.h>

namespace dmarcq::store {

void throw_sqlite(sqlite3* db, int code, std::string_view context) {
  const int primary = code & 0xff;
  const char* message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  ErrorKind kind = ErrorKind::database;
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      kind = ErrorKind::temporary;
      break;
    default:
      break;
  }
  throw Failure(kind, fmt::format("{} ({})", message, sqlite3_errstr(code)), std::string(context));
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  statement_.reset(raw);
  if (rc != SQLITE_OK) throw_sqlite(db, rc, "preparing SQL");
}

Statement& Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(get(), index, value);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "binding");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  // A default-constructed view has no data pointer, and SQLite binds a null
  // pointer as NULL: an empty text must stay an empty text.
  const char* data = text.data() ? text.data() : "";
  const int rc = sqlite3_bind_text64(get(), index, data, text.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "binding");
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

Statement& Statement::bind_blob(int index, const void* data, std::size_t size) {
  const int rc = sqlite3_bind_blob64(get(), index, data, size, SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "binding");
  return *this;
}

Statement& Statement::bind_static(int index, std::string_view text) {
  const char* data = text.data() ? text.data() : "";
  const int rc = sqlite3_bind_text64(get(), index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "binding");
  return *this;
}

Statement& Statement::bind_static(int index, const std::optional<std::string>& text) {
  return text ? bind_static(index, std::string_view(*text)) : bind_null(index);
}

Statement& Statement::bind_blob_static(int index, const void* data, std::size_t size) {
  const int rc = sqlite3_bind_blob64(get(), index, data, size, SQLITE_STATIC);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "binding");
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(get(), index);
  if (rc != SQLITE_OK) throw_sqlite(db_, rc, "binding");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Leave the statement reusable: a failed step must not poison the next use.
  sqlite3_reset(get());
  const char* sql = sqlite3_sql(get());
  throw_sqlite(db_, rc, std::string("executing SQL") + (sql ? std::string(" (") + std::string(sql).substr(0, 60) + ")" : ""));
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(get());
  sqlite3_clear_bindings(get());
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(get(), index); }

std::string Statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(get(), index));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(get(), index)))
              : std::string();
}

std::optional<std::string> Statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}

std::string_view Statement::column_blob(int index) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(get(), index));
  return data ? std::string_view(data, static_cast<std::size_t>(sqlite3_column_bytes(get(), index)))
              : std::string_view();
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(get(), index) == SQLITE_NULL;
}

int Statement::column_count() const { return sqlite3_column_count(get()); }

std::string Statement::column_name(int index) const {
  const char* name = sqlite3_column_name(get(), index);
  return name ? name : "";
}

int Statement::column_type(int index) const { return sqlite3_column_type(get(), index); }

Database::Database(const std::string& path, int flags) {
  // Before SQLite initialises (the first open): no memory statistics, which
  // dmarcq never reads and which cost a global mutex on every allocation.
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, wal_reuse_vfs_name());
  db_.reset(raw);
  if (rc != SQLITE_OK) throw_sqlite(raw, rc, path);
  sqlite3_extended_result_codes(raw, 1);
}

void Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message ? message : "";
    sqlite3_free(message);
    throw_sqlite(db_.get(), rc, detail.empty() ? "executing SQL" : detail);
  }
}

std::string in_clause(std::string_view column, std::size_t count, int& next) {
  if (count == 0) return {};
  std::string sql = fmt::format(" AND {} IN (", column);
  for (std::size_t i = 0; i < count; ++i) sql += fmt::format("{}?{}", i ? ", " : "", next++);
  return sql + ")";
}

WriteTransaction::WriteTransaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

WriteTransaction::~WriteTransaction() {
  if (open_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTransaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

MultiRowInsert::MultiRowInsert(const Database& db, std::string head, int columns, std::string tail,
                               std::size_t max_rows)
    : db_(&db), head_(std::move(head)), tail_(std::move(tail)), columns_(columns) {
  std::size_t levels = 1;
  while ((std::size_t{1} << levels) <= max_rows) ++levels;
  chunks_.resize(levels);
}

std::size_t MultiRowInsert::chunk_level(std::size_t remaining) const {
  std::size_t level = 0;
  while (level + 1 < chunks_.size() && (std::size_t{2} << level) <= remaining) ++level;
  return level;
}

Statement& MultiRowInsert::chunk_statement(std::size_t level) {
  Statement& statement = chunks_[level];
  if (!statement.get()) {
    std::string row = "(";
    for (int column = 0; column < columns_; ++column) row += column ? ", ?" : "?";
    row += ')';
    std::string sql = head_ + " VALUES ";
    for (std::size_t i = 0; i < (std::size_t{1} << level); ++i) {
      if (i) sql += ", ";
      sql += row;
    }
    sql += tail_;
    statement = db_->prepare(sql);
  }
  return statement;
}

}  // namespace dmarcq::store
