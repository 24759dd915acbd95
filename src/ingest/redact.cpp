#include "redact.hpp"

#include <cctype>
#include <cstring>

#include "dmarcq/hash.hpp"
#include "dmarcq/ingest.hpp"

namespace dmarcq {

namespace {

bool is_local_part_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || (c != 0 && std::strchr("!#$%&'*+/=?^_`{|}~.-", c) != nullptr);
}
bool is_domain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '[';
}

void redact(std::string& text) { text = redact_addresses(text); }
void redact(std::optional<std::string>& text) {
  if (text) *text = redact_addresses(*text);
}
void redact(std::vector<std::string>& texts) {
  for (auto& text : texts) redact(text);
}

}  // namespace

std::string redact_addresses(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    if (at + 1 >= text.size() || !is_domain_char(text[at + 1])) continue;
    std::size_t start = at;
    while (start > copied && is_local_part_char(text[start - 1])) --start;
    if (start == at) continue;  // no local part ("@example.org")
    out.append(text.substr(copied, start - copied));
    out += "h-";
    out += sha256_hex(text.substr(start, at - start)).substr(0, 12);
    copied = at;
  }
  out.append(text.substr(copied));
  return out;
}

void redact_failure_report(FailureReport& r) {
  redact(r.original_mail_from);
  redact(r.original_rcpt_to);
  redact(r.dkim_identity);
  redact(r.authentication_results);
  redact(r.feedback_text);
  redact(r.human_readable);
  for (auto& field : r.extra_fields) redact(field.value);
  OriginalMessage& o = r.original;
  redact(o.headers);
  redact(o.from);
  redact(o.to);
  redact(o.authentication_results);
  redact(o.body);
}

}  // namespace dmarcq
