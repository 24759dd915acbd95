// The CSV/TSV/JSON writers (src/cli/output_format.*): RowStream writes rows as
// they come, Table::write goes through it. Both are checked byte for byte
// against the writers they replaced (kept below as the reference: every cell
// as a string, nlohmann::json for JSON), on random rows of hostile text.
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "dmarcq/text.hpp"
#include "output_format.hpp"

using dmarcq::printable;
using dmarcq::cli::Cell;
using dmarcq::cli::OutputFormat;
using dmarcq::cli::RowStream;
using dmarcq::cli::Table;

namespace {

// What a FILE* received.
class CapturedFile {
 public:
  CapturedFile() : file_(std::tmpfile(), &std::fclose) { REQUIRE(file_); }
  [[nodiscard]] std::FILE* get() const { return file_.get(); }
  [[nodiscard]] std::string text() const {
    std::fflush(file_.get());
    std::rewind(file_.get());
    std::string text;
    char chunk[4096];
    std::size_t read = 0;
    while ((read = std::fread(chunk, 1, sizeof chunk, file_.get())) > 0) text.append(chunk, read);
    return text;
  }

 private:
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file_;
};

// --- The reference: the writers of commit 6247468 -------------------------

std::string reference_cell_text(const Cell& cell) {
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

std::string reference_csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string reference_tsv_field(std::string_view text) {
  std::string out;
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

using Rows = std::vector<std::vector<Cell>>;

std::string reference_separated(const std::vector<std::string>& keys, const Rows& rows, char separator) {
  const std::string end = separator == ',' ? "\r\n" : "\n";
  auto field = [separator](std::string_view text) {
    return separator == ',' ? reference_csv_field(text) : reference_tsv_field(text);
  };
  std::string out;
  for (std::size_t c = 0; c < keys.size(); ++c) {
    if (c) out += separator;
    out += field(keys[c]);
  }
  out += end;
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c) out += separator;
      out += field(reference_cell_text(row[c]));
    }
    out += end;
  }
  return out;
}

std::string reference_json(const std::vector<std::string>& keys, const Rows& rows) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const auto& row : rows) {
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
      object[keys[c]] = std::move(value);
    }
    array.push_back(std::move(object));
  }
  return array.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string reference(OutputFormat format, const std::vector<std::string>& keys, const Rows& rows) {
  if (format == OutputFormat::json) return reference_json(keys, rows);
  return reference_separated(keys, rows, format == OutputFormat::csv ? ',' : '\t');
}

// --- Random rows -----------------------------------------------------------

// Pieces of text a report may carry: separators, quotes, escapes, controls,
// C1 controls, UTF-8, invalid and truncated UTF-8.
const std::vector<std::string> kPieces = {
    "a",  "example.org", "Z",    ",",        "\"",       "\\",       "\t",       "\n",  "\r", " ",
    "/",  "\xc3\xa9",    "\x01", "\x7f",     "\xc2\x9b", "\xff",     "\xe2\x82", "", "{", "\u00e9t\u00e9"};

struct RandomRows {
  std::mt19937 random{20261127};

  std::string text() {
    std::string text;
    const int pieces = std::uniform_int_distribution<int>(0, 6)(random);
    for (int i = 0; i < pieces; ++i)
      text += kPieces[std::uniform_int_distribution<std::size_t>(0, kPieces.size() - 1)(random)];
    return text;
  }
  std::vector<std::string> list() {
    std::vector<std::string> items(std::uniform_int_distribution<std::size_t>(0, 4)(random));
    for (auto& item : items) item = text();
    return items;
  }
  double number() {
    switch (std::uniform_int_distribution<int>(0, 5)(random)) {
      case 0: return 100.0;
      case 1: return 0.0;
      case 2: return std::uniform_real_distribution<double>(-1e6, 1e6)(random);
      default: return std::round(std::uniform_real_distribution<double>(0, 1000)(random) * 10) / 10;
    }
  }
  std::int64_t integer() {
    switch (std::uniform_int_distribution<int>(0, 3)(random)) {
      case 0: return std::numeric_limits<std::int64_t>::min();
      case 1: return std::numeric_limits<std::int64_t>::max();
      default: return std::uniform_int_distribution<std::int64_t>(-1000000, 1000000)(random);
    }
  }
};

const std::vector<std::string> kKeys = {"source", "messages", "stopped_pct", "header_from", "note", "missing"};

}  // namespace

TEST_CASE("RowStream writes what the Table writers wrote, in every format", "[output]") {
  RandomRows make;
  for (const OutputFormat format : {OutputFormat::csv, OutputFormat::tsv, OutputFormat::json}) {
    INFO("format " << static_cast<int>(format));
    for (int round = 0; round < 30; ++round) {
      // The same rows through RowStream (raw text, made printable inside)
      // and through a Table (printable when added), against the reference.
      CapturedFile streamed, tabled;
      RowStream stream(streamed.get(), format, kKeys);
      Table table(kKeys);
      Rows expected;
      const int rows = std::uniform_int_distribution<int>(0, 40)(make.random);
      for (int r = 0; r < rows; ++r) {
        const std::string source = make.text(), note = make.text();
        const std::vector<std::string> header_from = make.list();
        const std::int64_t messages = make.integer();
        const double pct = make.number();
        stream.row().text(source).integer(messages).number(pct).list(header_from).text(note).null();
        table.row().text(source).integer(messages).number(pct).list(header_from).text(note).null();
        std::vector<std::string> safe_list;
        for (const auto& item : header_from) safe_list.push_back(printable(item));
        expected.push_back({Cell{printable(source)}, Cell{messages}, Cell{pct}, Cell{safe_list},
                            Cell{printable(note)}, Cell{}});
      }
      stream.finish();
      table.write(tabled.get(), format, false);
      const std::string want = reference(format, kKeys, expected);
      CHECK(streamed.text() == want);
      CHECK(tabled.text() == want);
      CHECK(stream.rows() == static_cast<std::size_t>(rows));
    }
  }
}

TEST_CASE("A streamed JSON listing parses back to its rows", "[output]") {
  CapturedFile out;
  RowStream stream(out.get(), OutputFormat::json, {"source", "messages", "stopped_pct", "domains"});
  const std::vector<std::string_view> domains = {"a.example", "b\"q\\uote.example"};
  for (int r = 0; r < 1000; ++r)  // more than one 64 KB buffer
    stream.row().text("192.0.2." + std::to_string(r % 256)).integer(r).number(r / 10.0).list(domains);
  stream.finish();
  const auto parsed = nlohmann::json::parse(out.text());
  REQUIRE(parsed.size() == 1000);
  CHECK(parsed[999]["source"] == "192.0.2.231");
  CHECK(parsed[999]["messages"] == 999);
  CHECK(parsed[999]["stopped_pct"] == 99.9);
  CHECK(parsed[0]["domains"] == nlohmann::json::array({"a.example", "b\"q\\uote.example"}));
}

TEST_CASE("Empty listings: the CSV/TSV header, JSON []", "[output]") {
  for (const auto& [format, want] : std::vector<std::pair<OutputFormat, std::string>>{
           {OutputFormat::csv, "a,\"b,c\"\r\n"}, {OutputFormat::tsv, "a\tb,c\n"}, {OutputFormat::json, "[]\n"}}) {
    CapturedFile out;
    RowStream stream(out.get(), format, {"a", "b,c"});
    stream.finish();
    CHECK(out.text() == want);
    CHECK(stream.rows() == 0);
  }
}

TEST_CASE("Numbers in JSON as the JSON library writes them", "[output]") {
  // Every percentage with one decimal a query prints, and odd values.
  for (std::int64_t tenths = 0; tenths <= 1'000'000; ++tenths) {
    const double value = static_cast<double>(tenths) / 10;
    if (dmarcq::cli::json_number(value) != nlohmann::json(value).dump()) {
      FAIL("k/10 for k = " << tenths << ": " << dmarcq::cli::json_number(value));
    }
  }
  for (const double value : {-0.0, -1.5, 0.1 + 0.2, 1e-7, 1e15, 1e16, 1e300, 123456.789,
                             std::numeric_limits<double>::infinity(), std::nan(""),
                             std::numeric_limits<double>::denorm_min()})
    CHECK(dmarcq::cli::json_number(value) == nlohmann::json(value).dump());
}

TEST_CASE("Strings in JSON as the JSON library writes them", "[output]") {
  RandomRows make;
  for (int i = 0; i < 2000; ++i) {
    const std::string text = make.text();
    CHECK(dmarcq::cli::json_string(text) ==
          nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

TEST_CASE("A repeated key keeps its first place and last value in JSON (sql)", "[output]") {
  Table table({"a", "a", "b"});
  table.row().integer(1).integer(2).text("x");
  CapturedFile json, csv;
  table.write(json.get(), OutputFormat::json, false);
  table.write(csv.get(), OutputFormat::csv, false);
  CHECK(json.text() == "[\n {\n  \"a\": 2,\n  \"b\": \"x\"\n }\n]\n");
  CHECK(csv.text() == "a,a,b\r\n1,2,x\r\n");
}
