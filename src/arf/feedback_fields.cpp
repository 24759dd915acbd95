// Header-style field blocks, unfolded here rather than by mimetic: mimetic
// loses the last field of a block with no blank line after it
// (../shared/mimetic/README.md #7), and a feedback part is exactly that.
#include <algorithm>

#include "arf_internal.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq {

namespace arf {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 ftext: printable US-ASCII except colon.
bool is_field_name_char(char c) { return c > ' ' && c < 127 && c != ':'; }

}  // namespace

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = start;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
    lines.push_back(text.substr(start, end - start));
    if (end < text.size() && text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n')
      ++end;
    start = end + 1;
  }
  return lines;
}

bool is_whitespace_only(std::string_view line) {
  return std::all_of(line.begin(), line.end(), is_blank);
}

std::optional<std::string_view> field_name_of(std::string_view line) {
  if (line.empty() || is_blank(line.front())) return std::nullopt;
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  // "Name :" (space before the colon) is obsolete syntax, still seen.
  const std::string_view name = trim(line.substr(0, colon));
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_field_name_char))
    return std::nullopt;
  return name;
}

HeaderAndBody split_header_body(std::string_view message) {
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = start;
    while (end < message.size() && message[end] != '\n' && message[end] != '\r') ++end;
    std::size_t next = end;
    if (next < message.size()) {
      if (message[next] == '\r' && next + 1 < message.size() && message[next + 1] == '\n') ++next;
      ++next;
    }
    if (is_whitespace_only(message.substr(start, end - start)))
      return {message.substr(0, start), message.substr(next)};
    start = next;
  }
  return {message, std::nullopt};
}

}  // namespace arf

std::vector<HeaderField> parse_feedback_fields(std::string_view block) {
  std::vector<HeaderField> fields;
  bool open = false;  // the last line read belongs to fields.back()
  for (const std::string_view line : arf::split_lines(block)) {
    if (arf::is_whitespace_only(line)) {
      open = false;
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!open) continue;  // stray indented line: not part of any field
      const std::string_view more = trim(line);
      std::string& value = fields.back().value;
      if (!value.empty()) value += ' ';
      value.append(more);
      continue;
    }
    const auto name = arf::field_name_of(line);
    if (!name) {
      open = false;
      continue;
    }
    fields.push_back(
        HeaderField{std::string(*name), std::string(trim(line.substr(line.find(':') + 1)))});
    open = true;
  }
  return fields;
}

}  // namespace dmarcq
