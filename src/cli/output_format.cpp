#include "output_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dmarcq/text.hpp"

namespace dmarcq::cli {

using namespace std::string_view_literals;

std::optional<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "table") return OutputFormat::table;
  if (name == "csv") return OutputFormat::csv;
  if (name == "tsv") return OutputFormat::tsv;
  if (name == "json") return OutputFormat::json;
  return std::nullopt;
}

Table::Table(std::vector<std::string> keys, std::vector<std::string> titles)
    : keys_(std::move(keys)), titles_(titles.empty() ? keys_ : std::move(titles)),
      hidden_(keys_.size(), false) {}

Table& Table::hide_in_table(std::string_view key) {
  for (std::size_t c = 0; c < keys_.size(); ++c)
    if (keys_[c] == key) hidden_[c] = true;
  return *this;
}

Table& Table::row() {
  rows_.emplace_back();
  rows_.back().reserve(keys_.size());
  return *this;
}
Table& Table::null() {
  rows_.back().push_back(Cell{});
  return *this;
}
// Built in place: moving a temporary Cell in trips GCC 12's
// -Wmaybe-uninitialized on the variant's unused string/vector members (-O2).
Table& Table::integer(std::int64_t value) {
  rows_.back().emplace_back().value.emplace<std::int64_t>(value);
  return *this;
}
Table& Table::number(double value) {
  rows_.back().emplace_back().value.emplace<double>(value);
  return *this;
}
Table& Table::text(std::string_view value) {
  rows_.back().push_back(Cell{printable(value)});
  return *this;
}
Table& Table::list(const std::vector<std::string>& values) {
  std::vector<std::string> safe;
  safe.reserve(values.size());
  for (const auto& value : values) safe.push_back(printable(value));
  rows_.back().push_back(Cell{std::move(safe)});
  return *this;
}
Table& Table::list(std::span<const std::string_view> values) {
  std::vector<std::string> safe;
  safe.reserve(values.size());
  for (const auto& value : values) safe.push_back(printable(value));
  rows_.back().push_back(Cell{std::move(safe)});
  return *this;
}

std::string cell_text(const Cell& cell) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{:.1f}", v); }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const std::vector<std::string>& v) const {
      std::string joined;
      for (const auto& item : v) {
        if (!joined.empty()) joined += ", ";
        joined += item;
      }
      return joined;
    }
  };
  return std::visit(Visitor{}, cell.value);
}

namespace {

// What each byte asks of each format, looked up once per byte: the fields
// of a full listing are ~30 MB.
enum ByteNeeds : std::uint8_t {
  kNotPlainAscii = 1,  // printable() may change it: control or non-ASCII
  kCsvQuote = 2,       // , " CR LF
  kTsvEscape = 4,      // \ TAB CR LF
  kJsonEscape = 8,     // " \ (controls are kNotPlainAscii)
};

constexpr std::array<std::uint8_t, 256> kByteNeeds = [] {
  std::array<std::uint8_t, 256> needs{};
  for (int c = 0; c < 256; ++c)
    if (c < 0x20 || c >= 0x7F) needs[static_cast<std::size_t>(c)] |= kNotPlainAscii;
  for (const char c : {',', '"', '\r', '\n'}) needs[static_cast<unsigned char>(c)] |= kCsvQuote;
  for (const char c : {'\\', '\t', '\r', '\n'}) needs[static_cast<unsigned char>(c)] |= kTsvEscape;
  for (const char c : {'"', '\\'}) needs[static_cast<unsigned char>(c)] |= kJsonEscape;
  return needs;
}();

// The union of what the bytes of `text` need.
std::uint8_t needs_of(std::string_view text) {
  std::uint8_t needs = 0;
  for (const char c : text) needs |= kByteNeeds[static_cast<unsigned char>(c)];
  return needs;
}

// `needs`: needs_of(text), when the caller knows it already.
template <typename Out>
void append_csv_field(Out& out, std::string_view text, std::uint8_t needs) {
  if ((needs & kCsvQuote) == 0) {
    out += text;
    return;
  }
  out += '"';
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

template <typename Out>
void append_tsv_field(Out& out, std::string_view text, std::uint8_t needs) {
  if ((needs & kTsvEscape) == 0) {
    out += text;
    return;
  }
  for (const char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

template <typename Out>
void append_json_string(Out& out, std::string_view text, std::uint8_t needs) {
  // Printable ASCII without " or \ : the JSON library writes it unchanged.
  if ((needs & (kNotPlainAscii | kJsonEscape)) == 0) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  // Escapes and invalid UTF-8 exactly as the JSON library does.
  out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename Out>
void append_json_number(Out& out, double value) {
  // The query commands' numbers are percentages with one decimal: k / 10.
  // For those (tested for every k up to 10^6) "k/10.k%10" is what the JSON
  // library writes; anything else is left to it.
  const double tenths = std::round(value * 10);
  if (tenths >= 0 && tenths <= 1e6 && tenths / 10 == value && !std::signbit(value)) {
    const auto whole = static_cast<std::int64_t>(tenths);
    char digits[24];
    char* end = std::to_chars(std::begin(digits), std::end(digits) - 2, whole / 10).ptr;
    *end++ = '.';
    *end++ = static_cast<char>('0' + whole % 10);
    out += std::string_view(digits, static_cast<std::size_t>(end - digits));
    return;
  }
  out += nlohmann::json(value).dump();
}

}  // namespace

std::string csv_field(std::string_view text) {
  std::string out;
  append_csv_field(out, text, needs_of(text));
  return out;
}

std::string tsv_field(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_tsv_field(out, text, needs_of(text));
  return out;
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text, needs_of(text));
  return out;
}

std::string json_number(double value) {
  std::string out;
  append_json_number(out, value);
  return out;
}

void Table::write(std::FILE* out, OutputFormat format, bool color) const {
  if (format == OutputFormat::table) {
    write_table(out, color);
    return;
  }
  // JSON objects hold a key once: a repeated key (`dmarcq sql "SELECT 1 AS a,
  // 2 AS a"`) keeps its first place and its last value, as it always did.
  std::vector<std::string> keys;
  std::vector<std::size_t> columns;
  for (std::size_t c = 0; c < keys_.size(); ++c) {
    const auto first = std::find(keys.begin(), keys.end(), keys_[c]);
    if (format != OutputFormat::json || first == keys.end()) {
      keys.push_back(keys_[c]);
      columns.push_back(c);
    } else {
      columns[static_cast<std::size_t>(first - keys.begin())] = c;
    }
  }
  RowStream stream(out, format, std::move(keys));
  for (const auto& row : rows_) {
    stream.row();
    for (const std::size_t c : columns)
      if (c < row.size()) stream.cell(row[c]);
  }
  stream.finish();
}

namespace {

// Display width: UTF-8 code points (good enough for domains and labels).
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool is_numeric(const Cell& cell) {
  return std::holds_alternative<std::int64_t>(cell.value) || std::holds_alternative<double>(cell.value);
}

}  // namespace

void Table::write_table(std::FILE* out, bool color) const {
  std::vector<std::size_t> shown;
  for (std::size_t c = 0; c < titles_.size(); ++c)
    if (!hidden_[c]) shown.push_back(c);
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> texts;
  std::vector<std::size_t> widths;
  for (const std::size_t c : shown) {
    titles.push_back(titles_[c]);
    widths.push_back(display_width(titles_[c]));
  }
  for (const auto& row : rows_) {
    auto& line = texts.emplace_back();
    for (std::size_t i = 0; i < shown.size(); ++i) {
      line.push_back(cell_text(row[shown[i]]));
      widths[i] = std::max(widths[i], display_width(line.back()));
    }
  }
  auto pad = [](std::string_view text, std::size_t width, bool right) {
    const std::string fill(width - std::min(width, display_width(text)), ' ');
    return right ? fill + std::string(text) : std::string(text) + fill;
  };
  auto emit = [&](const std::vector<std::string>& parts, const std::vector<Cell>* row) {
    std::string line;
    for (std::size_t c = 0; c < parts.size(); ++c) {
      const bool right = row && is_numeric((*row)[shown[c]]);
      const bool last = c + 1 == parts.size();
      line += last && !right ? std::string(parts[c]) : pad(parts[c], widths[c], right);
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
  };
  const std::string header = emit(titles, nullptr);
  if (color) std::fprintf(out, "\x1b[1m%s\x1b[0m\n", header.c_str());
  else std::fprintf(out, "%s\n", header.c_str());
  for (std::size_t r = 0; r < texts.size(); ++r) std::fprintf(out, "%s\n", emit(texts[r], &rows_[r]).c_str());
}

void OutputBuffer::flush() {
  std::fwrite(data_.get(), 1, used_, out_);
  flushed_ += used_;
  used_ = 0;
}

OutputBuffer& OutputBuffer::append_large(std::string_view text) {
  while (!text.empty()) {
    if (used_ == kSize) flush();
    const std::size_t part = std::min(text.size(), kSize - used_);
    std::memcpy(data_.get() + used_, text.data(), part);
    used_ += part;
    text.remove_prefix(part);
  }
  return *this;
}

RowStream::RowStream(std::FILE* out, OutputFormat format, std::vector<std::string> keys)
    : buffer_(out), format_(format), keys_(std::move(keys)) {}

void RowStream::start() {
  started_ = true;
  if (format_ == OutputFormat::json) {
    for (const auto& key : keys_) {
      std::string prefix = "  ";
      append_json_string(prefix, key, needs_of(key));
      prefix += ": ";
      json_keys_.push_back(std::move(prefix));
    }
    return;
  }
  for (std::size_t c = 0; c < keys_.size(); ++c) {
    if (c) buffer_ += format_ == OutputFormat::csv ? ',' : '\t';
    put_escaped(keys_[c], needs_of(keys_[c]));
  }
  buffer_ += format_ == OutputFormat::csv ? "\r\n"sv : "\n"sv;
}

void RowStream::end_row() {
  if (!in_row_) return;
  in_row_ = false;
  switch (format_) {
    case OutputFormat::csv: buffer_ += "\r\n"sv; break;
    case OutputFormat::json: buffer_ += column_ == 0 ? "}"sv : "\n }"sv; break;
    default: buffer_ += '\n'; break;
  }
}

RowStream& RowStream::row() {
  end_row();
  if (!started_) start();
  if (format_ == OutputFormat::json) buffer_ += rows_ == 0 ? "[\n {"sv : ",\n {"sv;
  ++rows_;
  column_ = 0;
  in_row_ = true;
  return *this;
}

void RowStream::begin_cell() {
  if (format_ == OutputFormat::json) {
    buffer_ += column_ == 0 ? "\n"sv : ",\n"sv;
    // A row with more cells than keys cannot be written as an object.
    buffer_ += column_ < json_keys_.size() ? std::string_view(json_keys_[column_]) : "  \"\": "sv;
  } else if (column_ > 0) {
    buffer_ += format_ == OutputFormat::csv ? ',' : '\t';
  }
  ++column_;
}

RowStream& RowStream::null() {
  begin_cell();
  if (format_ == OutputFormat::json) buffer_ += "null"sv;
  return *this;
}

RowStream& RowStream::integer(std::int64_t value) {
  begin_cell();
  char digits[24];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
  buffer_ += std::string_view(digits, static_cast<std::size_t>(end - digits));
  return *this;
}

RowStream& RowStream::number(double value) {
  begin_cell();
  if (format_ == OutputFormat::json) append_json_number(buffer_, value);
  else {
    fmt::memory_buffer text;
    fmt::format_to(std::back_inserter(text), "{:.1f}", value);
    buffer_ += std::string_view(text.data(), text.size());
  }
  return *this;
}

RowStream& RowStream::text(std::string_view value) {
  put_text(value, false);
  return *this;
}

RowStream& RowStream::list(const std::vector<std::string>& values) {
  put_list(std::span<const std::string>(values), false);
  return *this;
}

RowStream& RowStream::list(std::span<const std::string_view> values) {
  put_list(values, false);
  return *this;
}

RowStream& RowStream::cell(const Cell& cell) {
  std::visit(
      [this](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) null();
        else if constexpr (std::is_same_v<T, std::int64_t>) integer(v);
        else if constexpr (std::is_same_v<T, double>) number(v);
        else if constexpr (std::is_same_v<T, std::string>) put_text(v, true);
        else put_list(std::span<const std::string>(v), true);
      },
      cell.value);
  return *this;
}

void RowStream::put_text(std::string_view text, bool already_printable) {
  begin_cell();
  std::uint8_t needs = needs_of(text);
  if (!already_printable && (needs & kNotPlainAscii)) {
    printable_ = printable(text);
    text = printable_;
    needs = needs_of(text);
  }
  put_escaped(text, needs);
}

void RowStream::put_escaped(std::string_view text, std::uint8_t needs) {
  switch (format_) {
    case OutputFormat::csv: append_csv_field(buffer_, text, needs); break;
    case OutputFormat::json: append_json_string(buffer_, text, needs); break;
    default: append_tsv_field(buffer_, text, needs); break;
  }
}

template <typename Text>
void RowStream::put_list(std::span<const Text> values, bool already_printable) {
  begin_cell();
  if (format_ == OutputFormat::json) {
    if (values.empty()) {
      buffer_ += "[]"sv;
      return;
    }
    buffer_ += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
      buffer_ += i ? ",\n   "sv : "\n   "sv;
      std::string_view value = values[i];
      std::uint8_t needs = needs_of(value);
      if (!already_printable && (needs & kNotPlainAscii)) {
        printable_ = printable(value);
        value = printable_;
        needs = needs_of(value);
      }
      append_json_string(buffer_, value, needs);
    }
    buffer_ += "\n  ]"sv;
    return;
  }
  // Joined with ", " as cell_text() does: a separator only after something
  // non-empty (leading empty items leave none).
  std::uint8_t needs = 0;
  bool separated = false;
  std::size_t length = 0;
  for (const auto& value : values) {
    needs |= needs_of(value);
    if (length > 0 && !separated) separated = true;
    length += std::string_view(value).size();
  }
  if (!already_printable && (needs & kNotPlainAscii)) {
    // Rare: a control or non-ASCII byte. Joined first, then escaped.
    joined_.clear();
    for (const auto& value : values) {
      if (!joined_.empty()) joined_ += ", ";
      joined_ += printable(value);
    }
    put_escaped(joined_, needs_of(joined_));
    return;
  }
  if (format_ == OutputFormat::csv && separated) needs |= kCsvQuote;  // the ", "
  const bool quoted = format_ == OutputFormat::csv && (needs & kCsvQuote);
  if (quoted) buffer_ += '"';
  const std::size_t start = buffer_.size();
  for (const auto& value : values) {
    if (buffer_.size() > start) buffer_ += ", "sv;
    const std::string_view text = value;
    if (quoted && text.find('"') != std::string_view::npos) {
      for (const char c : text) {
        if (c == '"') buffer_ += '"';  // doubled, RFC 4180
        buffer_ += c;
      }
    } else if (format_ == OutputFormat::tsv) {
      append_tsv_field(buffer_, text, needs);
    } else {
      buffer_ += text;
    }
  }
  if (quoted) buffer_ += '"';
}

void RowStream::finish() {
  end_row();
  if (!started_) start();
  if (format_ == OutputFormat::json) buffer_ += rows_ == 0 ? "[]\n"sv : "\n]\n"sv;
  buffer_.flush();
}

}  // namespace dmarcq::cli
