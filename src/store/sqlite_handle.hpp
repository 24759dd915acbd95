// Move-only RAII wrappers for sqlite3* and sqlite3_stmt*. Internal to the
// store module: nothing outside src/store sees sqlite3.h.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"
#include "dmarcq/model.hpp"

namespace dmarcq::store {

// Turns a SQLite result code into a Failure with the right ErrorKind:
// busy/locked/full/I-O/read-only/cannot-open are temporary (an MTA retries),
// the rest are permanent database errors.
[[noreturn]] void throw_sqlite(sqlite3* db, int code, std::string_view context);

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);

  // Binding is 1-based, like SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::optional<std::string>& text);  // NULL when nullopt
  Statement& bind_blob(int index, const void* data, std::size_t size);
  Statement& bind_null(int index);
  // The same without copying (SQLITE_STATIC): the bytes must stay alive and
  // unchanged until the statement has been stepped and reset (run() does
  // both). For the write path's values, which live in the report.
  Statement& bind_static(int index, std::int64_t value) { return bind(index, value); }
  Statement& bind_static(int index, std::string_view text);
  Statement& bind_static(int index, const std::optional<std::string>& text);
  Statement& bind_blob_static(int index, const void* data, std::size_t size);

  // Steps once: true when a row is available, false when done.
  bool step();
  // Steps to completion, expecting no rows.
  void run();
  void reset();

  [[nodiscard]] std::int64_t column_int(int index) const;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] std::optional<std::string> column_optional_text(int index) const;
  [[nodiscard]] std::string_view column_blob(int index) const;
  [[nodiscard]] bool column_is_null(int index) const;
  [[nodiscard]] int column_count() const;
  [[nodiscard]] std::string column_name(int index) const;
  [[nodiscard]] int column_type(int index) const;
  [[nodiscard]] sqlite3_stmt* get() const { return statement_.get(); }

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
  };
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, Finalizer> statement_;
};

class Database {
 public:
  Database() = default;
  Database(const std::string& path, int flags);

  void exec(std::string_view sql);
  [[nodiscard]] Statement prepare(std::string_view sql) const { return Statement(db_.get(), sql); }
  [[nodiscard]] sqlite3* get() const { return db_.get(); }
  [[nodiscard]] std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
};

// A statement prepared on first use: the write path holds statements that one
// MDA delivery never runs (conflicts, rejected inputs, reprocess, failure
// reports); preparing them all cost every invocation a parse of their SQL.
class LazyStatement {
 public:
  LazyStatement(const Database& db, std::string sql) : db_(&db), sql_(std::move(sql)) {}
  Statement& operator*() {
    if (!statement_.get()) statement_ = db_->prepare(sql_);
    return statement_;
  }
  Statement* operator->() { return &**this; }

 private:
  const Database* db_;
  std::string sql_;
  Statement statement_;
};

// One INSERT of many rows: "<head> VALUES (?, ...), (?, ...) <tail>", with a
// statement per chunk of 1, 2, 4, ... max_rows rows, each prepared on first
// use. A batch import binds a chunk of rows per step: SQLite's per-statement
// work (opening and allocating cursors, reset) then comes once per chunk, not
// once per row. `tail` (an ON CONFLICT clause) must not name parameters.
class MultiRowInsert {
 public:
  MultiRowInsert(const Database& db, std::string head, int columns, std::string tail, std::size_t max_rows);

  // Inserts rows 0 .. count-1 in chunks; bind_row(statement, first, row) binds
  // row `row` to the parameters first .. first + columns - 1.
  template <typename BindRow>
  void run(std::size_t count, BindRow&& bind_row) {
    std::size_t row = 0;
    while (row < count) {
      const std::size_t level = chunk_level(count - row);
      const std::size_t rows = std::size_t{1} << level;
      Statement& statement = chunk_statement(level);
      for (std::size_t i = 0; i < rows; ++i) bind_row(statement, static_cast<int>(i) * columns_ + 1, row + i);
      statement.run();
      row += rows;
    }
  }

 private:
  // log2 of the largest chunk that fits in `remaining` rows and max_rows.
  [[nodiscard]] std::size_t chunk_level(std::size_t remaining) const;
  Statement& chunk_statement(std::size_t level);

  const Database* db_;
  std::string head_, tail_;
  int columns_;
  std::vector<Statement> chunks_;  // [level]: 2^level rows; empty until used
};

// BEGIN IMMEDIATE ... COMMIT, rolled back on destruction unless committed.
// IMMEDIATE so that the busy timeout applies to taking the write lock (a
// deferred read-then-write transaction gets SQLITE_BUSY at once).
class WriteTransaction {
 public:
  explicit WriteTransaction(Database& db);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

// " AND column IN (?n, ?n+1, ...)" for `count` values, numbering from `next`
// (advanced past them); "" when count is 0.
std::string in_clause(std::string_view column, std::size_t count, int& next);

// An enumerated column pair (value, value_raw) as written by the store:
// 'unknown' + verbatim text, or a canonical value + an optional alias.
template <typename E>
Enumerated<E> read_enum(const Statement& s, int index, Enumerated<E> (*parse)(std::string_view)) {
  if (s.column_is_null(index)) return {};
  if (s.column_text(index) == "unknown") return {E::unknown, s.column_text(index + 1)};
  Enumerated<E> value = parse(s.column_text(index));
  value.raw = s.column_optional_text(index + 1).value_or("");
  return value;
}

}  // namespace dmarcq::store
