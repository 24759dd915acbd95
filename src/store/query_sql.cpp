// `dmarcq sql`: read-only raw SQL. Four locks: the connection is opened
// read-only, PRAGMA query_only is on, extension loading is disabled, and an
// authorizer denies everything that is not a read (writes, ATTACH, PRAGMAs
// that set something, transactions, load_extension()).
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "dmarcq/text.hpp"
#include "query_store.hpp"

namespace dmarcq::store {

namespace {

// PRAGMAs whose argument only names what to describe.
constexpr std::array<const char*, 7> kInfoPragmas = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list"};
// PRAGMAs that report a setting, allowed without an argument (with one they set it).
constexpr std::array<const char*, 5> kReadPragmas = {
    "user_version", "schema_version", "page_count", "page_size", "compile_options"};

int authorize(void* user, int action, const char* arg1, const char* arg2, const char*, const char*) {
  auto* denied = static_cast<std::string*>(user);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (arg2 && (std::strcmp(arg2, "load_extension") == 0 || std::strcmp(arg2, "readfile") == 0 ||
                   std::strcmp(arg2, "writefile") == 0 || std::strcmp(arg2, "edit") == 0 ||
                   std::strcmp(arg2, "fts3_tokenizer") == 0)) {
        *denied = fmt::format("function {}()", arg2);
        return SQLITE_DENY;
      }
      return SQLITE_OK;
    case SQLITE_PRAGMA:
      if (arg1) {
        for (const char* name : kInfoPragmas)
          if (sqlite3_stricmp(arg1, name) == 0) return SQLITE_OK;
        if (!arg2)
          for (const char* name : kReadPragmas)
            if (sqlite3_stricmp(arg1, name) == 0) return SQLITE_OK;
      }
      *denied = fmt::format("PRAGMA {}{}{}", arg1 ? arg1 : "", arg2 ? " = " : "", arg2 ? arg2 : "");
      return SQLITE_DENY;
    case SQLITE_ATTACH:
      *denied = "ATTACH";
      return SQLITE_DENY;
    case SQLITE_DETACH:
      *denied = "DETACH";
      return SQLITE_DENY;
    default:
      *denied = "anything but reading (INSERT, UPDATE, DELETE, CREATE, DROP, transactions, ...)";
      return SQLITE_DENY;
  }
}

}  // namespace

void SqliteQueries::sql(const std::string& statement,
                        const std::function<void(const std::vector<SqlColumn>&)>& header,
                        const std::function<void(const std::vector<SqlValue>&)>& row) {
  // A connection of its own, so that the locks never touch the query layer's.
  Database db(options_.path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(db.get(), options_.busy_timeout_ms);
  int previous = 0;
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, &previous);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, &previous);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &previous);
  sqlite3_limit(db.get(), SQLITE_LIMIT_ATTACHED, 0);
  db.exec("PRAGMA query_only = ON");

  std::string denied;
  sqlite3_set_authorizer(db.get(), authorize, &denied);

  const char* tail = nullptr;
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db.get(), statement.c_str(), static_cast<int>(statement.size()), &raw, &tail);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> prepared(raw, &sqlite3_finalize);
  if (rc != SQLITE_OK) {
    if (!denied.empty())
      throw Failure(ErrorKind::usage, fmt::format("dmarcq sql is read-only: {} is refused", denied));
    throw Failure(ErrorKind::usage, fmt::format("SQL error: {}", sqlite3_errmsg(db.get())));
  }
  if (!raw) throw Failure(ErrorKind::usage, "no SQL statement given");
  for (const char* p = tail; p && *p; ++p)
    if (*p != ';' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
      throw Failure(ErrorKind::usage, "one SQL statement at a time, please");
  if (!sqlite3_stmt_readonly(raw))
    throw Failure(ErrorKind::usage, "dmarcq sql is read-only: only SELECT (and read-only PRAGMAs) are allowed");

  std::vector<SqlColumn> columns;
  const int count = sqlite3_column_count(raw);
  for (int i = 0; i < count; ++i) {
    const char* name = sqlite3_column_name(raw, i);
    columns.push_back({name ? name : ""});
  }
  header(columns);
  std::vector<SqlValue> values(static_cast<std::size_t>(count));
  for (;;) {
    const int step = sqlite3_step(raw);
    if (step == SQLITE_DONE) break;
    if (step != SQLITE_ROW) {
      if (!denied.empty())
        throw Failure(ErrorKind::usage, fmt::format("dmarcq sql is read-only: {} is refused", denied));
      throw_sqlite(db.get(), step, "executing SQL");
    }
    for (int i = 0; i < count; ++i) {
      SqlValue& v = values[static_cast<std::size_t>(i)];
      v.text.clear();
      switch (sqlite3_column_type(raw, i)) {
        case SQLITE_INTEGER:
          v.type = SqlValue::Type::integer;
          v.integer = sqlite3_column_int64(raw, i);
          break;
        case SQLITE_FLOAT:
          v.type = SqlValue::Type::real;
          v.real = sqlite3_column_double(raw, i);
          break;
        case SQLITE_TEXT: {
          v.type = SqlValue::Type::text;
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, i));
          v.text.assign(text, static_cast<std::size_t>(sqlite3_column_bytes(raw, i)));
          break;
        }
        case SQLITE_BLOB: {
          v.type = SqlValue::Type::blob;
          const auto* blob = static_cast<const char*>(sqlite3_column_blob(raw, i));
          if (blob) v.text.assign(blob, static_cast<std::size_t>(sqlite3_column_bytes(raw, i)));
          break;
        }
        default:
          v.type = SqlValue::Type::null;
      }
    }
    row(values);
  }
}

}  // namespace dmarcq::store
