// parse_aggregate_report: bytes -> UTF-8 (encoding.cpp) -> pugixml DOM ->
// AggregateReport. The DOM is walked once, child by child, matching local
// names; no XPath. Report-level fields live here, records in record_parser.cpp.
#include "dmarcq/xml.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "dmarcq/text.hpp"
#include "encoding.hpp"
#include "record_parser.hpp"
#include "xml_access.hpp"

namespace dmarcq {

namespace {

using namespace xml_detail;

// Report periods outside [1970-01-01, 2100-01-01) are junk, not history.
constexpr std::int64_t kLatestTimestamp = 4'102'444'800;  // 2100-01-01T00:00:00Z

// pugixml's defaults (entity escapes, CDATA, EOL normalisation) plus doctype,
// so that a DOCTYPE is seen and reported. pugixml never processes a DTD:
// entities other than the five predefined stay literal text, nothing is
// fetched, so billion-laughs and external entities are inert.
// parse_embed_pcdata stores an element's text in the element node itself
// instead of a child node of its own: about 40% fewer DOM nodes (64 bytes
// each) for reports, which are almost all leaf elements with text.
constexpr unsigned kParseOptions = pugi::parse_default | pugi::parse_doctype | pugi::parse_embed_pcdata;

Error malformed(std::string message, std::string where) {
  return make_error(ErrorKind::malformed, std::move(message), std::move(where));
}

// Depth-first walk without recursion, so 10,000 nested elements cost a loop,
// not the stack. Depth 1 is the root element. Checks text sizes on the way:
// a text value longer than the limit (a 200 MB org_name) is refused before
// anything copies it (unless max_text is the uint64 maximum: not checked).
// One visit per node (this walk was ~10% of a parse worker's time when it
// re-scanned each element's children for text).
std::optional<Error> check_depth(pugi::xml_node root, std::uint32_t max_depth, std::uint64_t max_text) {
  const bool check_texts = max_text != std::numeric_limits<std::uint64_t>::max();
  auto text_too_long = [&](pugi::xml_node node) -> std::optional<Error> {
    if (!check_texts) return std::nullopt;
    const pugi::xml_node_type type = node.type();
    if (type != pugi::node_element && type != pugi::node_pcdata && type != pugi::node_cdata)
      return std::nullopt;  // comments and processing instructions are never read
    const char* text = node.value();  // an element's own: embedded PCDATA
    if (!*text) return std::nullopt;
    const std::size_t size = std::strlen(text);
    if (size <= max_text) return std::nullopt;
    const pugi::xml_node element = type == pugi::node_element ? node : node.parent();
    return make_error(ErrorKind::limit_exceeded,
                      "a text value of " + std::to_string(size) + " bytes, longer than the " +
                          std::to_string(max_text) + " byte limit",
                      std::string(local_name(element)));
  };
  auto too_deep = [&](pugi::xml_node node) -> Error {
    // The full path can be thousands of levels long: show its start.
    std::string where;
    std::vector<pugi::xml_node> ancestors;
    for (pugi::xml_node n = node; n != root; n = n.parent()) ancestors.push_back(n);
    ancestors.push_back(root);
    for (std::size_t shown = 0; shown < 4 && shown < ancestors.size(); ++shown) {
      if (shown) where += '/';
      where += local_name(ancestors[ancestors.size() - 1 - shown]);
    }
    return make_error(ErrorKind::limit_exceeded,
                      "XML elements nested deeper than " + std::to_string(max_depth) + " levels",
                      where + "/...");
  };
  std::uint32_t depth = 1;  // of `node`
  pugi::xml_node node = root;
  while (true) {
    if (auto error = text_too_long(node)) return error;
    if (pugi::xml_node child = node.first_child()) {
      node = child;
      ++depth;
    } else {
      while (node != root && !node.next_sibling()) {
        node = node.parent();
        --depth;
      }
      if (node == root) return std::nullopt;
      node = node.next_sibling();
    }
    if (depth > max_depth && node.type() == pugi::node_element) return too_deep(node);
  }
}

// The namespace URI bound to the root element's prefix (or the default one).
std::string root_namespace(pugi::xml_node root) {
  const std::string_view name = root.name();
  const std::size_t colon = name.rfind(':');
  const std::string attribute =
      colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  return std::string(trim(root.attribute(attribute.c_str()).value()));
}

// Fills report-level fields; records are left to parse_record.
class ReportParser {
 public:
  ReportParser(AggregateReport& report, const Limits& limits)
      : report_(report), limits_(limits), diagnostics_(report.diagnostics) {}

  std::optional<Error> run(pugi::xml_node root) {
    enum : unsigned { kVersion, kMetadata, kPolicy };
    std::uint32_t seen = 0;
    std::uint64_t record_count = 0;
    for (auto child = first_child_element(root); child; child = next_sibling_element(child)) {
      const std::string_view name = local_name(child);
      if (name == "record") {
        ++record_count;
      } else if (name == "version" && first_time(seen, kVersion)) {
        report_.version = reader_.string(child);
      } else if (name == "report_metadata" && first_time(seen, kMetadata)) {
        read_metadata(child);
      } else if (name == "policy_published" && first_time(seen, kPolicy)) {
        read_policy(child);
      }
    }
    if (record_count > limits_.max_records_per_report) {
      return make_error(ErrorKind::limit_exceeded,
                        "report has " + std::to_string(record_count) + " records, limit is " +
                            std::to_string(limits_.max_records_per_report),
                        "feedback/record");
    }
    if (auto error = check_required()) return error;

    report_.records.reserve(record_count);
    std::size_t index = 0;
    for (auto child = first_child_element(root); child;) {
      const auto next = next_sibling_element(child);
      if (local_name(child) == "record") {
        Record& record = report_.records.emplace_back();
        if (auto error = parse_record(child, ++index, record, reader_, diagnostics_)) return error;
        // Nothing reads a record's nodes again. pugixml frees a node page
        // once all of its nodes are gone, so the model of a 100k-record
        // report grows into the DOM's memory instead of beside it.
        root.remove_child(child);
      }
      child = next;
    }
    if (report_.records.empty()) diagnostics_.add("report has no records");
    diagnostics_.finish();
    return std::nullopt;
  }

 private:
  void read_metadata(pugi::xml_node metadata) {
    enum : unsigned { kOrgName, kReportId, kDateRange };
    std::uint32_t seen = 0;
    for (auto child = first_child_element(metadata); child; child = next_sibling_element(child)) {
      const std::string_view name = local_name(child);
      if (name == "org_name" && first_time(seen, kOrgName)) {
        org_name_seen_ = true;
        report_.org_name = reader_.string(child);
      } else if (name == "email" && !report_.email) {
        report_.email = reader_.string(child);
      } else if (name == "extra_contact_info" && !report_.extra_contact_info) {
        report_.extra_contact_info = reader_.string(child);
      } else if (name == "report_id" && first_time(seen, kReportId)) {
        report_.report_id = reader_.string(child);
      } else if (name == "date_range" && first_time(seen, kDateRange)) {
        date_range_seen_ = true;
        for (auto date = first_child_element(child); date; date = next_sibling_element(date)) {
          if (local_name(date) == "begin" && !begin_text_) begin_text_ = reader_.string(date);
          if (local_name(date) == "end" && !end_text_) end_text_ = reader_.string(date);
        }
      } else if (name == "error") {
        if (std::string error = reader_.string(child); !error.empty())
          report_.errors.push_back(std::move(error));
      } else if (name == "generator" && !report_.generator) {
        report_.generator = reader_.string(child);
      }
    }
  }

  void read_policy(pugi::xml_node policy) {
    PolicyPublished& out = report_.policy;
    enum : unsigned { kDomain, kAdkim, kAspf, kP, kSp, kNp, kPct, kTesting, kDiscovery };
    std::uint32_t seen = 0;
    auto enum_field = [&](pugi::xml_node element, auto parse_fn, std::string_view name) {
      return read_enum(reader_, element, parse_fn, diagnostics_,
                       [&] { return "policy_published/" + std::string(name); });
    };
    for (auto child = first_child_element(policy); child; child = next_sibling_element(child)) {
      const std::string_view name = local_name(child);
      if (name == "domain" && first_time(seen, kDomain)) {
        out.domain = reader_.string(child);
      } else if (name == "adkim" && first_time(seen, kAdkim)) {
        out.adkim = enum_field(child, parse_alignment_mode, name);
      } else if (name == "aspf" && first_time(seen, kAspf)) {
        out.aspf = enum_field(child, parse_alignment_mode, name);
      } else if (name == "p" && first_time(seen, kP)) {
        out.p = enum_field(child, parse_policy, name);
      } else if (name == "sp" && first_time(seen, kSp)) {
        out.sp = enum_field(child, parse_policy, name);
      } else if (name == "np" && first_time(seen, kNp)) {
        out.np = enum_field(child, parse_policy, name);
      } else if (name == "pct" && first_time(seen, kPct)) {
        out.pct = parse_pct(reader_.text(child));
      } else if (name == "fo" && !out.fo) {
        out.fo = reader_.string(child);
      } else if (name == "testing" && first_time(seen, kTesting)) {
        out.testing = enum_field(child, parse_testing, name);
      } else if (name == "discovery_method" && first_time(seen, kDiscovery)) {
        out.discovery_method = enum_field(child, parse_discovery_method, name);
      } else if (name == "psd" && !out.psd) {
        out.psd = reader_.string(child);
      } else if (name == "t" && !out.t) {
        out.t = reader_.string(child);
      }
    }
  }

  // pct is informational; a bad one is noted, not fatal.
  std::optional<std::int64_t> parse_pct(std::string_view text) {
    if (text.empty()) return std::nullopt;
    const std::optional<std::int64_t> pct = parse_int64(text);
    if (!pct) {
      diagnostics_.add("policy_published/pct: not an integer \"" + printable(text) + "\"");
    } else if (*pct < 0 || *pct > 100) {
      diagnostics_.add("policy_published/pct: outside 0..100: " + std::to_string(*pct));
    }
    return pct;
  }

  std::optional<Error> check_required() {
    if (report_.report_id.empty()) {
      return malformed("report has no report_id", "feedback/report_metadata/report_id");
    }
    if (!org_name_seen_) diagnostics_.add("report_metadata/org_name: missing");
    if (!date_range_seen_) {
      return malformed("report has no date_range", "feedback/report_metadata/date_range");
    }
    auto begin = parse_timestamp(begin_text_, "begin");
    if (!begin) return begin.error();
    auto end = parse_timestamp(end_text_, "end");
    if (!end) return end.error();
    if (*end < *begin) {
      return malformed("date_range end (" + std::to_string(*end) + ") is before begin (" +
                           std::to_string(*begin) + ")",
                       "feedback/report_metadata/date_range");
    }
    report_.begin = *begin;
    report_.end = *end;
    if (report_.policy.domain.empty()) {
      return malformed("report has no policy_published domain", "feedback/policy_published/domain");
    }
    return std::nullopt;
  }

  static Expected<std::int64_t> parse_timestamp(const std::optional<std::string>& text,
                                                std::string_view name) {
    const std::string where = "feedback/report_metadata/date_range/" + std::string(name);
    if (!text || text->empty()) return malformed("date_range has no " + std::string(name), where);
    const std::optional<std::int64_t> value = parse_int64(*text);
    if (!value) {
      return malformed(std::string(name) + " is not an integer timestamp: \"" +
                           printable(text->substr(0, 64)) + "\"",
                       where);
    }
    if (*value < 0 || *value > kLatestTimestamp) {
      return malformed(std::string(name) + " " + std::to_string(*value) +
                           " is outside 1970-01-01..2100-01-01",
                       where);
    }
    return *value;
  }

  AggregateReport& report_;
  const Limits& limits_;
  Diagnostics diagnostics_;
  TextReader reader_;
  bool org_name_seen_ = false;
  bool date_range_seen_ = false;
  std::optional<std::string> begin_text_;
  std::optional<std::string> end_text_;
};

// Finds the single root element, rejecting text or a second element beside it.
Expected<pugi::xml_node> find_root(const pugi::xml_document& document,
                                   std::vector<std::string>& diagnostics) {
  pugi::xml_node root;
  for (pugi::xml_node node = document.first_child(); node; node = node.next_sibling()) {
    switch (node.type()) {
      case pugi::node_element:
        if (root) {
          return malformed("more than one root element (<" + printable(root.name()) + "> and <" +
                               printable(node.name()) + ">)",
                           std::string(local_name(node)));
        }
        root = node;
        break;
      case pugi::node_pcdata:
      case pugi::node_cdata:
        if (!trim(node.value()).empty()) return malformed("text outside the root element", "");
        break;
      case pugi::node_doctype:
        diagnostics.push_back("DOCTYPE ignored: dmarcq does not process DTDs or entities");
        break;
      default:
        break;  // comments, processing instructions
    }
  }
  if (!root) return make_error(ErrorKind::not_a_report, "XML has no root element");
  return root;
}

// `own`, when given, holds the same bytes as `xml` and may be parsed in place
// when they are UTF-8 already (no copy; its content is garbage afterwards).
Expected<AggregateReport> parse_report(std::string_view xml, std::string* own, const Limits& limits) {
  if (trim(xml).empty()) return make_error(ErrorKind::not_a_report, "input is empty");
  AggregateReport report;
  auto decoded = decode_to_utf8(xml, report.diagnostics, /*copy_utf8=*/own == nullptr);
  if (!decoded) return decoded.error();
  // The UTF-8 document: decoded->utf8, or (validated, not copied) own's bytes after the BOM.
  char* utf8_data = decoded->utf8.data();
  std::size_t utf8_size = decoded->utf8.size();
  if (decoded->in_input) {
    utf8_data = own->data() + decoded->bom_bytes;
    utf8_size = own->size() - decoded->bom_bytes;
  }
  const std::string_view utf8(utf8_data, utf8_size);
  const std::string_view text = trim(utf8);
  if (text.empty()) return make_error(ErrorKind::not_a_report, "input is empty");
  if (text.front() != '<') {
    return make_error(ErrorKind::not_a_report, "input is not XML (does not start with '<')");
  }
  // pugixml silently drops text after the root element; other XML parsers
  // (and the corpus's expectations) treat it as not well-formed.
  if (text.back() != '>') {
    const std::size_t after_last_tag = utf8.rfind('>') + 1;  // npos + 1 == 0
    return malformed("text after the root element",
                     "byte " + std::to_string(source_offset(xml, *decoded, after_last_tag)));
  }

  // Parsed in place: the DOM points into the UTF-8 bytes, which outlive it.
  pugi::xml_document document;
  const pugi::xml_parse_result result =
      document.load_buffer_inplace(utf8_data, utf8_size, kParseOptions, pugi::encoding_utf8);
  if (!result) {
    const auto offset = source_offset(xml, *decoded, static_cast<std::size_t>(result.offset));
    return malformed(std::string("invalid XML: ") + result.description(),
                     "byte " + std::to_string(offset));
  }
  auto root = find_root(document, report.diagnostics);
  if (!root) return root.error();
  if (local_name(*root) != "feedback") {
    return make_error(ErrorKind::not_a_report,
                      "root element is <" + printable(root->name()) + ">, not <feedback>");
  }
  // No text value is longer than the UTF-8 document it was parsed from: most
  // documents need no text sizes checked (a strlen of every node, ~4% of a
  // batch import's parse worker).
  const std::uint64_t max_text =
      utf8_size > limits.max_field_bytes ? limits.max_field_bytes : std::numeric_limits<std::uint64_t>::max();
  if (auto error = check_depth(*root, limits.max_xml_depth, max_text)) return *error;

  report.xml_namespace = root_namespace(*root);
  ReportParser parser(report, limits);
  if (auto error = parser.run(*root)) return *error;
  return report;
}

}  // namespace

Expected<AggregateReport> parse_aggregate_report(std::string_view xml, const Limits& limits) {
  try {
    return parse_report(xml, nullptr, limits);
  } catch (const std::bad_alloc&) {
    // Bad input must never unwind past us; memory exhaustion is a limit.
    return make_error(ErrorKind::limit_exceeded, "out of memory while parsing the report");
  }
}

Expected<AggregateReport> parse_aggregate_report_in_place(std::string& xml, const Limits& limits) {
  try {
    return parse_report(xml, &xml, limits);
  } catch (const std::bad_alloc&) {
    // Bad input must never unwind past us; memory exhaustion is a limit.
    return make_error(ErrorKind::limit_exceeded, "out of memory while parsing the report");
  }
}

}  // namespace dmarcq
