#include "output_format.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dmarcq/text.hpp"

namespace dmarcq::cli {

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
Table& Table::integer(std::int64_t value) {
  rows_.back().push_back(Cell{value});
  return *this;
}
Table& Table::number(double value) {
  rows_.back().push_back(Cell{value});
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

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string tsv_field(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

void Table::write(std::FILE* out, OutputFormat format, bool color) const {
  switch (format) {
    case OutputFormat::table: write_table(out, color); break;
    case OutputFormat::csv: write_separated(out, ','); break;
    case OutputFormat::tsv: write_separated(out, '\t'); break;
    case OutputFormat::json: write_json(out); break;
  }
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
  std::vector<std::vector<Cell>> cells;
  std::vector<std::size_t> widths;
  for (const std::size_t c : shown) {
    titles.push_back(titles_[c]);
    widths.push_back(display_width(titles_[c]));
  }
  for (const auto& row : rows_) {
    auto& line = texts.emplace_back();
    auto& kept = cells.emplace_back();
    for (std::size_t i = 0; i < shown.size(); ++i) {
      kept.push_back(row[shown[i]]);
      line.push_back(cell_text(kept.back()));
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
      const bool right = row && is_numeric((*row)[c]);
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
  for (std::size_t r = 0; r < texts.size(); ++r) std::fprintf(out, "%s\n", emit(texts[r], &cells[r]).c_str());
}

void Table::write_separated(std::FILE* out, char separator) const {
  const char* end = separator == ',' ? "\r\n" : "\n";
  auto field = [separator](std::string_view text) { return separator == ',' ? csv_field(text) : tsv_field(text); };
  std::string line;
  for (std::size_t c = 0; c < keys_.size(); ++c) {
    if (c) line += separator;
    line += field(keys_[c]);
  }
  std::fprintf(out, "%s%s", line.c_str(), end);
  for (const auto& row : rows_) {
    line.clear();
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c) line += separator;
      line += field(cell_text(row[c]));
    }
    std::fprintf(out, "%s%s", line.c_str(), end);
  }
}

void Table::write_json(std::FILE* out) const {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const auto& row : rows_) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (std::size_t c = 0; c < row.size(); ++c) {
      nlohmann::ordered_json value;
      std::visit(
          [&value](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) value = nullptr;
            else value = v;
          },
          row[c].value);
      object[keys_[c]] = std::move(value);
    }
    array.push_back(std::move(object));
  }
  const std::string text = array.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::fprintf(out, "%s\n", text.c_str());
}

}  // namespace dmarcq::cli
