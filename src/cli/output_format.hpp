// Tabular output for the query commands: one Table, four writers (aligned
// text table for people, RFC 4180 CSV, TSV, JSON array of objects with
// stable keys). Every text cell goes through printable() when it is added,
// so nothing a reporter wrote can reach a terminal as an escape sequence.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dmarcq::cli {

enum class OutputFormat { table, csv, tsv, json };

// nullopt for an unknown name.
std::optional<OutputFormat> parse_output_format(std::string_view name);

// A cell: null, integer, number, text, or a list of texts (JSON array; joined
// with ", " in the text formats).
struct Cell {
  std::variant<std::monostate, std::int64_t, double, std::string, std::vector<std::string>> value;
};

class Table {
 public:
  // `keys` are the JSON keys and CSV/TSV header; `titles` the table header
  // (defaults to the keys).
  explicit Table(std::vector<std::string> keys, std::vector<std::string> titles = {});

  Table& row();  // starts a row
  Table& null();
  Table& integer(std::int64_t value);
  Table& number(double value);
  Table& text(std::string_view value);           // made printable()
  Table& list(const std::vector<std::string>& values);  // each made printable()

  // Keeps a column out of the text table (people); CSV/TSV/JSON keep it.
  Table& hide_in_table(std::string_view key);

  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  [[nodiscard]] const std::vector<std::string>& keys() const { return keys_; }

  void write(std::FILE* out, OutputFormat format, bool color) const;

 private:
  void write_table(std::FILE* out, bool color) const;
  void write_separated(std::FILE* out, char separator) const;
  void write_json(std::FILE* out) const;

  std::vector<std::string> keys_, titles_;
  std::vector<bool> hidden_;
  std::vector<std::vector<Cell>> rows_;
};

// The text of a cell as the table/CSV/TSV writers print it.
std::string cell_text(const Cell& cell);

// RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled.
std::string csv_field(std::string_view text);
// TSV: backslash, tab, CR and LF escaped as \\ \t \r \n.
std::string tsv_field(std::string_view text);

}  // namespace dmarcq::cli
