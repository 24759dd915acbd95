// Tabular output for the query commands: one Table, four writers (aligned
// text table for people, RFC 4180 CSV, TSV, JSON array of objects with
// stable keys). Every text cell goes through printable() when it is added,
// so nothing a reporter wrote can reach a terminal as an escape sequence.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
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

// Where a command puts its rows, cell by cell in the order of the keys: a
// Table (kept, for the column widths of the text table) or a RowStream
// (written as they come). Every text goes through printable().
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual RowSink& row() = 0;  // starts a row
  virtual RowSink& null() = 0;
  virtual RowSink& integer(std::int64_t value) = 0;
  virtual RowSink& number(double value) = 0;
  virtual RowSink& text(std::string_view value) = 0;
  virtual RowSink& list(const std::vector<std::string>& values) = 0;
  virtual RowSink& list(std::span<const std::string_view> values) = 0;
};

class Table final : public RowSink {
 public:
  // `keys` are the JSON keys and CSV/TSV header; `titles` the table header
  // (defaults to the keys).
  explicit Table(std::vector<std::string> keys, std::vector<std::string> titles = {});

  Table& row() override;
  Table& null() override;
  Table& integer(std::int64_t value) override;
  Table& number(double value) override;
  Table& text(std::string_view value) override;
  Table& list(const std::vector<std::string>& values) override;
  Table& list(std::span<const std::string_view> values) override;

  // Keeps a column out of the text table (people); CSV/TSV/JSON keep it.
  Table& hide_in_table(std::string_view key);

  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  [[nodiscard]] const std::vector<std::string>& keys() const { return keys_; }

  void write(std::FILE* out, OutputFormat format, bool color) const;

 private:
  void write_table(std::FILE* out, bool color) const;

  std::vector<std::string> keys_, titles_;
  std::vector<bool> hidden_;
  std::vector<std::vector<Cell>> rows_;
};

// CSV, TSV or JSON written row by row through one buffer: a listing of
// 300,000 sources is never held. The bytes equal what Table::write gave
// (it writes through a RowStream too). The header (or the JSON array's
// opening) comes with the first row or finish(), so a query that fails
// before its first row prints nothing.
// Bytes on their way to a FILE*, in 64 KB blocks: an append is a bounds
// check and a copy (std::string's appends were calls, per character too).
class OutputBuffer {
 public:
  explicit OutputBuffer(std::FILE* out) : out_(out), data_(std::make_unique<char[]>(kSize)) {}
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  [[gnu::always_inline]] OutputBuffer& operator+=(char c) {
    if (used_ == kSize) flush();
    data_[used_++] = c;
    return *this;
  }
  [[gnu::always_inline]] OutputBuffer& operator+=(std::string_view text) {
    if (text.size() > kSize - used_) return append_large(text);
    std::memcpy(data_.get() + used_, text.data(), text.size());
    used_ += text.size();
    return *this;
  }
  // Bytes appended so far (written or not).
  [[nodiscard]] std::size_t size() const { return flushed_ + used_; }
  void flush();

 private:
  static constexpr std::size_t kSize = 1 << 16;
  OutputBuffer& append_large(std::string_view text);

  std::FILE* out_;
  std::unique_ptr<char[]> data_;
  std::size_t used_ = 0, flushed_ = 0;
};

class RowStream final : public RowSink {
 public:
  RowStream(std::FILE* out, OutputFormat format, std::vector<std::string> keys);  // format: not table
  RowStream(const RowStream&) = delete;
  RowStream& operator=(const RowStream&) = delete;
  ~RowStream() override = default;  // finish() flushes; an abandoned stream writes no more

  RowStream& row() override;
  RowStream& null() override;
  RowStream& integer(std::int64_t value) override;
  RowStream& number(double value) override;
  RowStream& text(std::string_view value) override;
  RowStream& list(const std::vector<std::string>& values) override;
  RowStream& list(std::span<const std::string_view> values) override;
  // A cell whose texts went through printable() already (a Table's).
  RowStream& cell(const Cell& cell);

  // Ends the last row (an empty result: the CSV/TSV header, JSON `[]`) and flushes.
  void finish();
  [[nodiscard]] std::size_t rows() const { return rows_; }

 private:
  void start();  // the CSV/TSV header; JSON's keys
  void begin_cell();
  void end_row();
  void put_text(std::string_view text, bool already_printable);
  void put_escaped(std::string_view text, std::uint8_t needs);  // needs: see output_format.cpp
  template <typename Text>
  void put_list(std::span<const Text> values, bool already_printable);

  OutputBuffer buffer_;
  OutputFormat format_;
  std::vector<std::string> keys_;
  std::vector<std::string> json_keys_;  // `  "key": `
  std::string joined_, printable_;
  std::size_t rows_ = 0, column_ = 0;
  bool started_ = false, in_row_ = false;
};

// The text of a cell as the table/CSV/TSV writers print it.
std::string cell_text(const Cell& cell);

// A JSON number as nlohmann::json writes it (`12.5`, `100.0`; null when not finite).
std::string json_number(double value);
// A JSON string as nlohmann::json writes it (UTF-8 kept, invalid bytes replaced by U+FFFD).
std::string json_string(std::string_view text);

// RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled.
std::string csv_field(std::string_view text);
// TSV: backslash, tab, CR and LF escaped as \\ \t \r \n.
std::string tsv_field(std::string_view text);

}  // namespace dmarcq::cli
