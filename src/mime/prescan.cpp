#include "prescan.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "dmarcq/text.hpp"

namespace dmarcq::mime {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_whitespace_only(std::string_view line) {
  return std::all_of(line.begin(), line.end(), is_blank);
}

// Splits at CR, LF or CRLF, the line ends mimetic's parser accepts.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  // Next line without its end; `with_end` includes it. False at the end.
  bool next(std::string_view& line, std::string_view& with_end) {
    if (position_ >= text_.size()) return false;
    const std::size_t start = position_;
    std::size_t end = start;
    while (end < text_.size() && text_[end] != '\n' && text_[end] != '\r') ++end;
    std::size_t after = end;
    if (after < text_.size()) {
      if (text_[after] == '\r' && after + 1 < text_.size() && text_[after + 1] == '\n') ++after;
      ++after;
    }
    line = text_.substr(start, end - start);
    with_end = text_.substr(start, after - start);
    position_ = after;
    ++line_number_;
    return true;
  }
  [[nodiscard]] std::uint64_t line_number() const { return line_number_; }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
  std::uint64_t line_number_ = 0;
};

bool is_content_type_field(std::string_view line) {
  // "ContentType:" is a typo seen in the wild that this module accepts, so
  // it counts for nesting too.
  return istarts_with(line, "content-type:") || istarts_with(line, "contenttype:");
}

bool declares_nesting(std::string_view unfolded_value) {
  const std::string lower = to_lower_ascii(unfolded_value);
  return lower.find("multipart") != std::string::npos || lower.find("message") != std::string::npos;
}

// Extracts boundary="..." / boundary=token from a Content-Type value, roughly:
// only used to spot a part header that runs into a boundary.
std::string boundary_parameter(std::string_view unfolded_value) {
  const std::string lower = to_lower_ascii(unfolded_value);
  const std::size_t key = lower.find("boundary=");
  if (key == std::string::npos) return {};
  std::string_view value = unfolded_value.substr(key + 9);
  if (!value.empty() && value.front() == '"') {
    value.remove_prefix(1);
    return std::string(value.substr(0, value.find('"')));
  }
  return std::string(trim(value.substr(0, value.find_first_of("; \t"))));
}

// State of the one pass. "Header state" is a superset of where mimetic reads
// header fields: the top, after any line starting with "--", and after a
// header block that declared a message/* type. Field limits apply there.
class Prescanner {
 public:
  Prescanner(const Limits& limits, PrescanOptions options) : limits_(limits), options_(options) {}

  // Parts mimetic can build at most: one per "--" line, one per nesting.
  [[nodiscard]] std::uint64_t part_estimate() const { return 1 + dash_lines_ + nesting_; }

  Expected<std::string> run(std::string_view raw) {
    if (raw.size() > limits_.max_message_bytes)
      return limit("message is " + std::to_string(raw.size()) + " bytes, limit " +
                   std::to_string(limits_.max_message_bytes));
    if (raw.starts_with("From ")) raw.remove_prefix(std::min(raw.size(), raw.find('\n') + 1));

    prepared_.reserve(raw.size() + 4);
    LineReader reader(raw);
    std::string_view line;
    std::string_view with_end;
    while (reader.next(line, with_end)) {
      if (line.size() > limits_.max_header_line_bytes)
        return limit("line " + std::to_string(reader.line_number()) + " is " +
                     std::to_string(line.size()) + " bytes, limit " +
                     std::to_string(limits_.max_header_line_bytes));
      // IBM Domino relays write a line of spaces where a header block ends.
      // Strictly that is folding whitespace (the header would run on into
      // the body), so in header state it is read as the blank line it means.
      if (in_header_ && !line.empty() && is_whitespace_only(line)) {
        with_end.remove_prefix(line.size());
        line = {};
      }
      if (auto error = scan_line(line, reader.line_number())) return *error;
      prepared_ += with_end;
    }
    if (auto error = finish_field()) return *error;
    if (in_top_header_) prepared_ += "\r\n\r\n";
    return std::move(prepared_);
  }

 private:
  static Error limit(std::string message) {
    return make_error(ErrorKind::limit_exceeded, std::move(message));
  }

  std::optional<Error> scan_line(std::string_view line, std::uint64_t line_number) {
    const bool continuation = !line.empty() && is_blank(line.front());
    if (continuation && field_open_) {
      field_bytes_ += line.size();
      if (in_header_ && field_bytes_ > limits_.max_header_line_bytes)
        return limit("header field ending at line " + std::to_string(line_number) +
                     " is over " + std::to_string(limits_.max_header_line_bytes) +
                     " bytes unfolded");
      if (collecting_content_type_ && content_type_.size() < limits_.max_header_line_bytes)
        content_type_.append(line);
      return std::nullopt;
    }
    if (auto error = finish_field()) return error;

    if (line.starts_with("--")) {
      ++dash_lines_;
      if (in_header_ && header_lines_ > 0 && is_known_boundary(line))
        prepared_ += "\r\n";  // part header ran into the boundary: end it here
      in_top_header_ = false;
      start_header_block();
      return std::nullopt;
    }
    if (line.empty()) {
      in_top_header_ = false;
      // After a header that declared message/*, the body is itself a header.
      if (in_header_ && !block_declares_message_) in_header_ = false;
      else if (in_header_) start_header_block();
      return std::nullopt;
    }
    if (in_header_) ++header_lines_;
    field_open_ = true;
    field_bytes_ = line.size();
    collecting_content_type_ = is_content_type_field(line);
    if (collecting_content_type_) content_type_.assign(line.substr(line.find(':') + 1));
    return std::nullopt;
  }

  std::optional<Error> finish_field() {
    if (!field_open_) return std::nullopt;
    field_open_ = false;
    if (!collecting_content_type_) return std::nullopt;
    collecting_content_type_ = false;
    if (!declares_nesting(content_type_)) return std::nullopt;
    // Only message/* bodies are headers again; a multipart preamble is not.
    if (in_header_ && to_lower_ascii(content_type_).find("message") != std::string::npos)
      block_declares_message_ = true;
    ++nesting_;
    if (options_.depth_used + nesting_ > limits_.max_mime_depth)
      return limit("more than " + std::to_string(limits_.max_mime_depth) +
                   " nested multipart/message parts");
    if (std::string boundary = boundary_parameter(content_type_);
        !boundary.empty() && known_boundaries_.size() < limits_.max_mime_depth)
      known_boundaries_.push_back("--" + boundary);
    return std::nullopt;
  }

  bool is_known_boundary(std::string_view line) const {
    return std::any_of(known_boundaries_.begin(), known_boundaries_.end(),
                       [&](const std::string& boundary) { return line.starts_with(boundary); });
  }

  void start_header_block() {
    in_header_ = true;
    header_lines_ = 0;
    block_declares_message_ = false;
  }

  const Limits& limits_;
  PrescanOptions options_;
  std::string prepared_;

  bool in_top_header_ = true;
  bool in_header_ = true;
  bool block_declares_message_ = false;
  std::uint64_t header_lines_ = 0;

  bool field_open_ = false;
  std::uint64_t field_bytes_ = 0;
  bool collecting_content_type_ = false;
  std::string content_type_;

  std::uint64_t dash_lines_ = 0;
  std::uint64_t nesting_ = 0;
  std::vector<std::string> known_boundaries_;
};

}  // namespace

Expected<std::string> prepare_for_mimetic(std::string_view raw, const Limits& limits,
                                          PrescanOptions options) {
  Prescanner scanner(limits, options);
  auto prepared = scanner.run(raw);
  if (!prepared) return prepared;
  if (scanner.part_estimate() > limits.max_mime_parts)
    return make_error(ErrorKind::limit_exceeded,
                      "about " + std::to_string(scanner.part_estimate()) + " MIME parts, limit " +
                          std::to_string(limits.max_mime_parts));
  return prepared;
}

}  // namespace dmarcq::mime
