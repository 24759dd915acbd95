// Failure reports without a message/feedback-report part (e.g. Exim's
// "DMARC Forensic Report"): what the human-readable text says, read
// conservatively. Only "Key: value" lines with a known key are taken, and
// only before the copy of the original headers that such reports append.
#include <array>
#include <cctype>

#include "arf_internal.hpp"
#include "dmarcq/ip.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq::arf {

namespace {

struct Line {
  std::string_view text;
  std::size_t offset;  // of the line start in the whole text
};

std::vector<Line> lines_with_offsets(std::string_view text) {
  std::vector<Line> lines;
  std::size_t offset = 0;
  for (const std::string_view line : split_lines(text)) {
    offset = static_cast<std::size_t>(line.data() - text.data());
    lines.push_back({line, offset});
  }
  return lines;
}

bool is_original_header_name(std::string_view name) {
  static constexpr std::array<std::string_view, 14> names = {
      "received",   "return-path",  "from",           "to",
      "subject",    "date",         "message-id",     "dkim-signature",
      "reply-to",   "mime-version", "delivered-to",   "authentication-results",
      "x-original-to", "content-type"};
  for (const std::string_view known : names)
    if (iequals(name, known)) return true;
  return false;
}

bool is_identifying_header_name(std::string_view name) {
  return iequals(name, "from") || iequals(name, "date") || iequals(name, "subject") ||
         iequals(name, "message-id");
}

// Index of the first line of a copied header block: a run of at least three
// fields (continuation lines allowed) up to a blank line or the end, that
// starts with a usual message header and names From, Date, Subject or
// Message-ID. lines.size() when there is none.
std::size_t find_header_block(const std::vector<Line>& lines) {
  for (std::size_t start = 0; start < lines.size(); ++start) {
    const auto first = field_name_of(lines[start].text);
    if (!first || !is_original_header_name(*first)) continue;
    std::size_t fields = 0;
    bool identifying = false;
    bool clean = true;
    std::size_t i = start;
    for (; i < lines.size() && !is_whitespace_only(lines[i].text); ++i) {
      const std::string_view line = lines[i].text;
      if (line.front() == ' ' || line.front() == '\t') continue;
      const auto name = field_name_of(line);
      if (!name) {
        clean = false;
        break;
      }
      ++fields;
      identifying = identifying || is_identifying_header_name(*name);
    }
    if (clean && fields >= 3 && identifying) return start;
    // A later start inside this run sees a subset of it (or the same
    // non-field line): it fails too, so go on after the run. Keeps it linear.
    start = i;
  }
  return lines.size();
}

// "Sender IP Address" -> "sender ip address".
std::string key_of(std::string_view key) {
  std::string out;
  for (const char c : trim(key)) out += (c == '-' || c == '_') ? ' ' : c;
  return to_lower_ascii(out);
}

// The feedback field a human-readable key stands for, "" when none.
std::string_view field_for_key(const std::string& key) {
  struct Alias {
    std::string_view key;
    std::string_view field;
  };
  static constexpr std::array<Alias, 18> aliases = {{
      {"source ip", "Source-IP"},
      {"source ip address", "Source-IP"},
      {"sender ip", "Source-IP"},
      {"sender ip address", "Source-IP"},
      {"ip address", "Source-IP"},
      {"client ip", "Source-IP"},
      {"reported domain", "Reported-Domain"},
      {"sender domain", "Reported-Domain"},
      {"arrival date", "Arrival-Date"},
      {"received date", "Arrival-Date"},
      {"original mail from", "Original-Mail-From"},
      {"envelope from", "Original-Mail-From"},
      {"original rcpt to", "Original-Rcpt-To"},
      {"envelope to", "Original-Rcpt-To"},
      {"feedback type", "Feedback-Type"},
      {"auth failure", "Auth-Failure"},
      {"delivery result", "Delivery-Result"},
      {"reporting mta", "Reporting-MTA"},
  }};
  for (const Alias& alias : aliases)
    if (alias.key == key) return alias.field;
  return {};
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The first address written after the word "IP" ("IP 192.0.2.1",
// "ip=192.0.2.1", "IP:192.0.2.1", "IP address [2001:db8::1]").
std::optional<IpAddress> ip_after_word_ip(std::string_view text) {
  const std::string lower = to_lower_ascii(text);
  for (std::size_t at = lower.find("ip"); at != std::string::npos; at = lower.find("ip", at + 2)) {
    if (at > 0 && is_alnum(lower[at - 1])) continue;
    std::size_t i = at + 2;
    if (i < lower.size() && is_alnum(lower[i])) continue;
    while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t')) ++i;
    if (lower.compare(i, 7, "address") == 0) i += 7;
    while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t' || lower[i] == ':' ||
                                lower[i] == '=' || lower[i] == '[')) ++i;
    const std::size_t start = i;
    while (i < lower.size() && (std::isxdigit(static_cast<unsigned char>(lower[i])) != 0 ||
                                lower[i] == '.' || lower[i] == ':')) ++i;
    std::string_view token = text.substr(start, i - start);
    while (!token.empty() && (token.back() == '.' || token.back() == ':'))  // end of sentence
      token.remove_suffix(1);
    if (auto ip = parse_ip(token)) return ip;
  }
  return std::nullopt;
}

}  // namespace

std::string_view recover_from_text(FailureReport& report, std::string_view text,
                                   std::string_view subject) {
  const std::vector<Line> lines = lines_with_offsets(text);
  const std::size_t block = find_header_block(lines);
  const std::string_view description =
      block < lines.size() ? text.substr(0, lines[block].offset) : text;

  for (std::size_t i = 0; i < block; ++i) {
    const std::string_view line = lines[i].text;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view field = field_for_key(key_of(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (field.empty() || value.empty()) continue;
    if (field == "Source-IP" && (report.source_ip || !parse_source_ip(value).valid)) continue;
    apply_feedback_field(report, HeaderField{std::string(field), std::string(value)});
  }
  if (!report.source_ip) {
    auto ip = ip_after_word_ip(description);
    if (!ip) ip = ip_after_word_ip(subject);
    if (ip) report.source_ip = parse_source_ip(ip->to_string());
  }

  if (block == lines.size()) return {};
  std::size_t end = block;
  while (end < lines.size() && !is_whitespace_only(lines[end].text)) ++end;
  const std::size_t end_offset = end < lines.size() ? lines[end].offset : text.size();
  return text.substr(lines[block].offset, end_offset - lines[block].offset);
}

}  // namespace dmarcq::arf
