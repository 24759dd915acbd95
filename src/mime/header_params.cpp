#include "header_params.hpp"

#include <optional>
#include <vector>

#include "charset.hpp"
#include "dmarcq/mime.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq::mime {

namespace {

// A parameter as written, before RFC 2231 reassembly.
struct RawParameter {
  std::string name;  // lowercased, may carry "*", "*N" or "*N*"
  std::string value;
};

// RFC 2231 splits a long value into at most this many sections in practice;
// more is hostile and ignored rather than allocated.
constexpr int kMaxSections = 1000;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class ValueTokenizer {
 public:
  explicit ValueTokenizer(std::string_view text) : text_(text) {}

  bool at_end() { skip_blanks_and_comments(); return position_ >= text_.size(); }

  // Reads up to one of `stops` (unquoted, outside comments), trimming blanks.
  // A quoted string is unquoted, its backslash escapes resolved.
  std::string read_until(std::string_view stops) {
    skip_blanks_and_comments();
    std::string out;
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (stops.find(c) != std::string_view::npos) break;
      if (c == '"') {
        read_quoted(out);
        continue;
      }
      if (c == '(') {
        skip_comment();
        continue;
      }
      out += c;
      ++position_;
    }
    return std::string(trim(out));
  }

  // Consumes `c` if it is next; returns whether it was.
  bool consume(char c) {
    skip_blanks_and_comments();
    if (position_ < text_.size() && text_[position_] == c) {
      ++position_;
      return true;
    }
    return false;
  }

 private:
  void read_quoted(std::string& out) {
    ++position_;  // opening quote
    while (position_ < text_.size() && text_[position_] != '"') {
      if (text_[position_] == '\\' && position_ + 1 < text_.size()) ++position_;
      out += text_[position_++];
    }
    if (position_ < text_.size()) ++position_;  // closing quote (missing: tolerated)
  }

  void skip_comment() {
    int depth = 0;
    while (position_ < text_.size()) {
      const char c = text_[position_++];
      if (c == '\\' && position_ < text_.size()) {
        ++position_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        return;
      }
    }
  }

  void skip_blanks_and_comments() {
    while (position_ < text_.size()) {
      if (is_blank(text_[position_])) {
        ++position_;
      } else if (text_[position_] == '(') {
        skip_comment();
      } else {
        return;
      }
    }
  }

  std::string_view text_;
  std::size_t position_ = 0;
};

std::string percent_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// One RFC 2231 parameter name split into its parts: "filename*0*" ->
// {"filename", 0, true}; "filename*" -> {"filename", nullopt, true}.
struct ExtendedName {
  std::string base;
  std::optional<int> section;
  bool percent_encoded = false;
};

ExtendedName split_extended_name(const std::string& name) {
  ExtendedName result{name, std::nullopt, false};
  const std::size_t star = name.find('*');
  if (star == std::string::npos) return result;
  result.base = name.substr(0, star);
  std::string_view rest = std::string_view(name).substr(star + 1);
  if (!rest.empty() && rest.back() == '*') {
    result.percent_encoded = true;
    rest.remove_suffix(1);
  } else if (rest.empty()) {
    result.percent_encoded = true;  // "name*=" : extended, single section
  }
  if (!rest.empty()) {
    const auto number = parse_int64(rest);
    if (number && *number >= 0 && *number < kMaxSections) result.section = static_cast<int>(*number);
    else result.base.clear();  // junk after '*': ignore this parameter
  }
  return result;
}

// Reassembles RFC 2231 sections of one base name into a UTF-8 value.
std::string assemble_extended(const std::map<int, std::pair<std::string, bool>>& sections) {
  std::string charset;
  std::string bytes;
  bool first = true;
  for (const auto& [index, section] : sections) {
    const auto& [value, percent_encoded] = section;
    std::string_view text = value;
    if (first && percent_encoded) {
      // charset'language'text; both prefixes may be empty.
      const std::size_t quote1 = text.find('\'');
      const std::size_t quote2 = quote1 == std::string_view::npos ? quote1 : text.find('\'', quote1 + 1);
      if (quote2 != std::string_view::npos) {
        charset = std::string(text.substr(0, quote1));
        text.remove_prefix(quote2 + 1);
      }
    }
    first = false;
    bytes += percent_encoded ? percent_decode(text) : std::string(text);
  }
  return to_utf8(bytes, charset);
}

}  // namespace

std::string ParameterizedValue::param(const std::string& name) const {
  const auto found = params.find(name);
  return found == params.end() ? std::string() : found->second;
}

ParameterizedValue parse_parameterized_value(std::string_view raw) {
  ParameterizedValue result;
  ValueTokenizer tokens(raw);
  result.token = to_lower_ascii(tokens.read_until(";"));

  std::vector<RawParameter> raw_params;
  while (!tokens.at_end()) {
    if (!tokens.consume(';')) {
      tokens.read_until(";");  // junk between parameters
      continue;
    }
    std::string name = to_lower_ascii(tokens.read_until("=;"));
    if (!tokens.consume('=')) continue;  // "; flag;" without a value
    std::string value = tokens.read_until(";");
    if (!name.empty()) raw_params.push_back({std::move(name), std::move(value)});
  }

  // base name -> section index -> (text, percent-encoded)
  std::map<std::string, std::map<int, std::pair<std::string, bool>>> extended;
  for (auto& parameter : raw_params) {
    const ExtendedName name = split_extended_name(parameter.name);
    if (name.base.empty()) continue;
    if (parameter.name.find('*') == std::string::npos) {
      // Plain value; may hold RFC 2047 words (non-standard, common).
      result.params.emplace(name.base, decode_rfc2047(parameter.value));
      continue;
    }
    auto& sections = extended[name.base];
    sections.emplace(name.section.value_or(0), std::make_pair(parameter.value, name.percent_encoded));
  }
  // RFC 2231 values win over plain ones of the same name.
  for (const auto& [base, sections] : extended) result.params[base] = assemble_extended(sections);
  return result;
}

}  // namespace dmarcq::mime
