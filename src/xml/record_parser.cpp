#include "record_parser.hpp"

#include <concepts>
#include <string>
#include <string_view>

#include "dmarcq/text.hpp"

namespace dmarcq::xml_detail {

namespace {

// Everything a record's parse needs, plus path building for messages.
struct RecordScope {
  TextReader& reader;
  Diagnostics& diagnostics;
  std::size_t index;

  // "record[3]/row/count": the form used in diagnostics.
  [[nodiscard]] std::string path(std::string_view suffix) const {
    std::string out = indexed("record", index);
    out += '/';
    out += suffix;
    return out;
  }
  template <typename E>
  Enumerated<E> read(pugi::xml_node element, Enumerated<E> (*parse)(std::string_view),
                     std::string_view suffix) {
    return read_enum(reader, element, parse, diagnostics, [&] { return path(suffix); });
  }
  // For indexed paths: `suffix()` builds the suffix only when a note is made.
  template <typename E, std::invocable SuffixFn>
  Enumerated<E> read(pugi::xml_node element, Enumerated<E> (*parse)(std::string_view),
                     SuffixFn&& suffix) {
    return read_enum(reader, element, parse, diagnostics, [&] { return path(suffix()); });
  }
  std::string text(pugi::xml_node element) { return reader.string(element); }
};

// Quotes a bad value for an error message, harmless on a terminal and short.
std::string quoted(std::string_view value) {
  constexpr std::size_t kMaxShown = 64;
  std::string shown = printable(value.substr(0, kMaxShown));
  if (value.size() > kMaxShown) shown += "...";
  return "\"" + shown + "\"";
}

bool all_digits(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<Error> parse_count(std::string_view text, Record& out, const RecordScope& scope) {
  auto fail = [&](std::string message) {
    return make_error(ErrorKind::malformed, std::move(message), "feedback/" + scope.path("row/count"));
  };
  if (text.empty()) return fail("count is empty");
  const std::optional<std::int64_t> count = parse_int64(text);
  if (!count) {
    return fail(all_digits(text) ? "count is out of range: " + quoted(text)
                                 : "count is not an integer: " + quoted(text));
  }
  if (*count < 0) return fail("count is negative: " + quoted(text));
  out.count = *count;
  return std::nullopt;
}

PolicyOverrideReason parse_reason(pugi::xml_node element, std::size_t reason_index,
                                  RecordScope& scope) {
  PolicyOverrideReason reason;
  enum : unsigned { kType, kComment };
  std::uint32_t seen = 0;
  for (auto child = first_child_element(element); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "type" && first_time(seen, kType)) {
      reason.type = scope.read(child, parse_reason_type, [&] {
        return "row/policy_evaluated/" + indexed("reason", reason_index) + "/type";
      });
    } else if (name == "comment" && first_time(seen, kComment)) {
      reason.comment = scope.text(child);
    }
  }
  return reason;
}

void parse_policy_evaluated(pugi::xml_node element, Record& out, RecordScope& scope) {
  enum : unsigned { kDisposition, kDkim, kSpf };
  std::uint32_t seen = 0;
  for (auto child = first_child_element(element); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "disposition" && first_time(seen, kDisposition)) {
      out.disposition = scope.read(child, parse_disposition, "row/policy_evaluated/disposition");
    } else if (name == "dkim" && first_time(seen, kDkim)) {
      out.policy_evaluated_dkim = scope.read(child, parse_dmarc_result, "row/policy_evaluated/dkim");
    } else if (name == "spf" && first_time(seen, kSpf)) {
      out.policy_evaluated_spf = scope.read(child, parse_dmarc_result, "row/policy_evaluated/spf");
    } else if (name == "reason") {
      out.reasons.push_back(parse_reason(child, out.reasons.size() + 1, scope));
    }
  }
}

// <row>: returns the count's error, or nullopt; `count_seen` tells whether
// a <count> was there at all.
std::optional<Error> parse_row(pugi::xml_node element, Record& out, bool& count_seen,
                               RecordScope& scope) {
  enum : unsigned { kSourceIp, kCount, kPolicyEvaluated };
  std::uint32_t seen = 0;
  for (auto child = first_child_element(element); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "source_ip" && first_time(seen, kSourceIp)) {
      out.source_ip = scope.text(child);  // canonicalised by the normalize module
    } else if (name == "count" && first_time(seen, kCount)) {
      count_seen = true;
      if (auto error = parse_count(scope.reader.text(child), out, scope)) return error;
    } else if (name == "policy_evaluated" && first_time(seen, kPolicyEvaluated)) {
      parse_policy_evaluated(child, out, scope);
    }
  }
  return std::nullopt;
}

void parse_identifiers(pugi::xml_node element, Record& out, bool& header_from_seen,
                       RecordScope& scope) {
  for (auto child = first_child_element(element); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "header_from" && !header_from_seen) {
      header_from_seen = true;
      out.header_from = scope.text(child);
    } else if (name == "envelope_from" && !out.envelope_from) {
      out.envelope_from = scope.text(child);
    } else if (name == "envelope_to" && !out.envelope_to) {
      out.envelope_to = scope.text(child);
    }
  }
}

DkimAuthResult parse_dkim(pugi::xml_node element, std::size_t dkim_index, RecordScope& scope) {
  DkimAuthResult dkim;
  enum : unsigned { kDomain, kResult };
  std::uint32_t seen = 0;
  for (auto child = first_child_element(element); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "domain" && first_time(seen, kDomain)) {
      dkim.domain = scope.text(child);
    } else if (name == "selector" && !dkim.selector) {
      dkim.selector = scope.text(child);
    } else if (name == "result" && first_time(seen, kResult)) {
      dkim.result = scope.read(child, parse_dkim_result,
                               [&] {
        return "auth_results/" + indexed("dkim", dkim_index) + "/result";
      });
    } else if (name == "human_result" && !dkim.human_result) {
      dkim.human_result = scope.text(child);
    }
  }
  return dkim;
}

SpfAuthResult parse_spf(pugi::xml_node element, std::size_t spf_index, RecordScope& scope) {
  SpfAuthResult spf;
  enum : unsigned { kDomain, kScope, kResult };
  std::uint32_t seen = 0;
  for (auto child = first_child_element(element); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "domain" && first_time(seen, kDomain)) {
      spf.domain = scope.text(child);
    } else if (name == "scope" && first_time(seen, kScope)) {
      spf.scope = scope.read(child, parse_spf_scope,
                             [&] {
        return "auth_results/" + indexed("spf", spf_index) + "/scope";
      });
    } else if (name == "result" && first_time(seen, kResult)) {
      spf.result = scope.read(child, parse_spf_result,
                              [&] {
        return "auth_results/" + indexed("spf", spf_index) + "/result";
      });
    } else if (name == "human_result" && !spf.human_result) {
      spf.human_result = scope.text(child);
    }
  }
  return spf;
}

void parse_auth_results(pugi::xml_node element, Record& out, RecordScope& scope) {
  for (auto child = first_child_element(element); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "dkim") {
      out.dkim.push_back(parse_dkim(child, out.dkim.size() + 1, scope));
    } else if (name == "spf") {
      out.spf.push_back(parse_spf(child, out.spf.size() + 1, scope));
    }
  }
}

}  // namespace

std::optional<Error> parse_record(pugi::xml_node record, std::size_t index, Record& out,
                                  TextReader& reader, Diagnostics& diagnostics) {
  RecordScope scope{reader, diagnostics, index};
  enum : unsigned { kRow, kIdentifiers, kAuthResults };
  std::uint32_t seen = 0;
  bool count_seen = false;
  bool header_from_seen = false;
  // Unknown children (<extension>, vendor additions) are skipped unread.
  for (auto child = first_child_element(record); child; child = next_sibling_element(child)) {
    const std::string_view name = local_name(child);
    if (name == "row" && first_time(seen, kRow)) {
      if (auto error = parse_row(child, out, count_seen, scope)) return error;
    } else if (name == "identifiers" && first_time(seen, kIdentifiers)) {
      parse_identifiers(child, out, header_from_seen, scope);
    } else if (name == "auth_results" && first_time(seen, kAuthResults)) {
      parse_auth_results(child, out, scope);
    }
  }
  if (!count_seen) {
    return make_error(ErrorKind::malformed, "record has no count",
                      "feedback/" + scope.path("row/count"));
  }
  if (!header_from_seen) diagnostics.add(scope.path("identifiers/header_from") + ": missing");
  return std::nullopt;
}

}  // namespace dmarcq::xml_detail
