// Tests for src/xml: parse_aggregate_report on hand-written reports, every
// encoding and quirk we accept, hostile inputs we must reject without
// crashing, and (when /work/shared/corpus exists) the real-world corpus.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "dmarcq/xml.hpp"

using namespace dmarcq;
using namespace std::string_literals;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string test_file(const std::string& name) {
  return read_file(std::filesystem::path(DMARCQ_TEST_DATA) / "xml" / name);
}

const std::string kMetadata =
    "<report_metadata><org_name>r.example</org_name><report_id>id-1</report_id>"
    "<date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>";
const std::string kPolicy = "<policy_published><domain>s.example</domain><p>none</p></policy_published>";
const std::string kRecord =
    "<record><row><source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated>"
    "<disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>"
    "<identifiers><header_from>s.example</header_from></identifiers>"
    "<auth_results><spf><domain>s.example</domain><result>pass</result></spf></auth_results>"
    "</record>";

// A small valid report with pieces replaceable per test.
std::string report(const std::string& records = kRecord, const std::string& metadata = kMetadata,
                   const std::string& policy = kPolicy, const std::string& open = "<feedback>",
                   const std::string& close = "</feedback>") {
  return open + metadata + policy + records + close;
}

std::string record_with_row(const std::string& row) {
  return "<record><row>" + row + "</row><identifiers><header_from>s.example</header_from>"
         "</identifiers></record>";
}

std::string metadata_with(const std::string& inner) {
  return "<report_metadata>" + inner + "</report_metadata>";
}

Expected<AggregateReport> parse(std::string_view xml, const Limits& limits = {}) {
  return parse_aggregate_report(xml, limits);
}

AggregateReport parse_ok(std::string_view xml) {
  auto result = parse(xml);
  if (!result) FAIL("unexpected error: " << result.error().describe());
  return std::move(result).value();
}

Error parse_error(std::string_view xml, const Limits& limits = {}) {
  auto result = parse(xml, limits);
  if (result) FAIL("parsed, but an error was expected");
  return result.error();
}

}  // namespace

TEST_CASE("RFC 7489 report: every field, any order, extensions ignored", "[xml]") {
  const AggregateReport r = parse_ok(test_file("rfc7489_full.xml"));
  CHECK(r.xml_namespace.empty());
  CHECK(r.version == "1.0");
  CHECK(r.org_name == "Receiver Example Inc.");
  CHECK(r.email == "dmarc-reports@receiver.example");
  CHECK(r.extra_contact_info == "https://receiver.example/dmarc");
  CHECK(r.report_id == "rpt-0001&x");
  CHECK(r.begin == 1700000000);
  CHECK(r.end == 1700086399);
  CHECK(r.errors == std::vector<std::string>{"first problem", "second problem"});
  CHECK_FALSE(r.generator);

  const PolicyPublished& p = r.policy;
  CHECK(p.domain == "Sender.Example");  // lowercasing is the normalize module's job
  CHECK(p.adkim.value == AlignmentMode::relaxed);
  CHECK(p.aspf.value == AlignmentMode::strict);
  CHECK(p.p.value == Policy::quarantine);
  CHECK(p.sp.value == Policy::none);
  CHECK_FALSE(p.np.present());
  CHECK(p.pct == 50);
  CHECK(p.fo == "1:d");
  CHECK_FALSE(p.testing.present());
  CHECK_FALSE(p.psd);

  REQUIRE(r.records.size() == 2);
  const Record& a = r.records[0];
  CHECK(a.source_ip == "192.0.2.10");
  CHECK(a.count == 12);
  CHECK(a.disposition.value == Disposition::none);
  CHECK(a.policy_evaluated_dkim.value == DmarcResult::pass);
  CHECK(a.policy_evaluated_spf.value == DmarcResult::fail);
  REQUIRE(a.reasons.size() == 2);
  CHECK(a.reasons[0].type.value == ReasonType::forwarded);
  CHECK(a.reasons[0].comment == "known forwarder");
  CHECK(a.reasons[1].type.value == ReasonType::local_policy);
  CHECK_FALSE(a.reasons[1].comment);
  CHECK(a.header_from == "sender.example");
  CHECK(a.envelope_from == "bounce.sender.example");
  CHECK(a.envelope_to == "rcpt.example");
  REQUIRE(a.dkim.size() == 2);
  CHECK(a.dkim[0] == DkimAuthResult{"sender.example", "s1", {DkimResult::pass, ""}, "good signature"});
  CHECK(a.dkim[1] == DkimAuthResult{"esp.example", "esp", {DkimResult::fail, ""}, std::nullopt});
  REQUIRE(a.spf.size() == 2);
  CHECK(a.spf[0].domain == "bounce.sender.example");
  CHECK(a.spf[0].scope.value == SpfScope::mfrom);
  CHECK(a.spf[0].result.value == SpfResult::softfail);
  CHECK(a.spf[1].scope.value == SpfScope::helo);
  CHECK_FALSE(a.spf[0].human_result);

  const Record& b = r.records[1];
  CHECK(b.source_ip == "2001:DB8::1");  // canonicalised later, not here
  CHECK(b.count == 3);
  CHECK(b.disposition.value == Disposition::reject);
  CHECK(b.reasons.empty());
  CHECK_FALSE(b.envelope_from);
  CHECK(b.dkim.empty());
  REQUIRE(b.spf.size() == 1);
  CHECK_FALSE(b.spf[0].scope.present());
  CHECK(r.diagnostics.empty());
}

TEST_CASE("RFC 9990 (DMARCbis) report with namespace", "[xml]") {
  const AggregateReport r = parse_ok(test_file("dmarcbis.xml"));
  CHECK(r.xml_namespace == "urn:ietf:params:xml:ns:dmarc-2.0");
  CHECK(r.generator == "BisReporter 2.1");
  CHECK(r.policy.np.value == Policy::reject);
  CHECK(r.policy.testing.value == Testing::yes);
  CHECK(r.policy.discovery_method.value == DiscoveryMethod::treewalk);
  CHECK(r.policy.psd == "n");
  CHECK(r.policy.t == "y");
  CHECK_FALSE(r.policy.pct);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].disposition.value == Disposition::pass);
}

TEST_CASE("prefixed namespace: elements matched by local name", "[xml]") {
  // Prefix every element of a plain report: <x> -> <d:x>, </x> -> </d:x>.
  const std::string plain = report();
  std::string prefixed;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    prefixed += plain[i];
    if (plain[i] != '<') continue;
    if (plain[i + 1] == '/') prefixed += plain[++i];
    prefixed += "d:";
  }
  prefixed.replace(0, 12, "<d:feedback xmlns:d='urn:ietf:params:xml:ns:dmarc-2.0'>");
  const AggregateReport r = parse_ok(prefixed);
  CHECK(r.xml_namespace == "urn:ietf:params:xml:ns:dmarc-2.0");
  CHECK(r.report_id == "id-1");
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].spf.size() == 1);
}

TEST_CASE("missing optional elements vs present-but-empty", "[xml]") {
  const std::string metadata = metadata_with(
      "<org_name/><email></email><report_id>x</report_id>"
      "<date_range><begin>1</begin><end>1</end></date_range>");
  const std::string record =
      "<record><row><source_ip/><count>0</count><policy_evaluated><reason><type/><comment/>"
      "</reason><reason/></policy_evaluated></row><identifiers><header_from>h</header_from>"
      "<envelope_from> </envelope_from></identifiers><auth_results><dkim><domain/><selector/>"
      "<result/><human_result/></dkim></auth_results></record>";
  const AggregateReport r = parse_ok(report(record, metadata));
  CHECK(r.org_name.empty());
  CHECK(r.email == "");
  CHECK_FALSE(r.extra_contact_info);
  CHECK_FALSE(r.version);
  CHECK(r.xml_namespace.empty());
  CHECK(r.begin == 1);
  CHECK(r.end == 1);  // begin == end is allowed
  REQUIRE(r.records.size() == 1);
  const Record& rec = r.records[0];
  CHECK(rec.source_ip.empty());
  CHECK(rec.count == 0);
  CHECK_FALSE(rec.disposition.present());
  REQUIRE(rec.reasons.size() == 2);
  CHECK_FALSE(rec.reasons[0].type.present());
  CHECK(rec.reasons[0].comment == "");
  CHECK_FALSE(rec.reasons[1].comment);
  CHECK(rec.envelope_from == "");
  CHECK_FALSE(rec.envelope_to);
  REQUIRE(rec.dkim.size() == 1);
  CHECK(rec.dkim[0] == DkimAuthResult{"", "", {}, ""});
  CHECK(rec.spf.empty());
}

TEST_CASE("text: entities, CDATA, comments inside values, whitespace", "[xml]") {
  const std::string metadata = metadata_with(
      "<org_name>\t A &amp; B &lt;x&gt;\r\n</org_name><email><![CDATA[ a@b.example ]]></email>"
      "<report_id>id<!-- split -->-2</report_id>"
      "<date_range><begin> 10 </begin><end>\n20\n</end></date_range>");
  const AggregateReport r = parse_ok(report(kRecord, metadata));
  CHECK(r.org_name == "A & B <x>");
  CHECK(r.email == "a@b.example");
  CHECK(r.report_id == "id-2");
  CHECK(r.begin == 10);
  CHECK(r.end == 20);
}

TEST_CASE("unknown enum values are kept and noted", "[xml]") {
  const std::string bad =
      "<record><row><source_ip>192.0.2.2</source_ip><count>1</count><policy_evaluated>"
      "<disposition>foo</disposition><dkim>PASS</dkim><spf>hardfail</spf></policy_evaluated>"
      "</row><auth_results><spf><domain>d</domain><scope>bogus</scope><result>HardFail</result>"
      "</spf></auth_results></record>";
  const std::string policy = "<policy_published><domain>s.example</domain><p>monitor</p></policy_published>";
  const AggregateReport r = parse_ok(report(kRecord + bad, kMetadata, policy));
  REQUIRE(r.records.size() == 2);
  const Record& rec = r.records[1];
  CHECK(rec.disposition.value == Disposition::unknown);
  CHECK(rec.disposition.raw == "foo");
  CHECK(rec.policy_evaluated_dkim.value == DmarcResult::pass);
  CHECK(rec.policy_evaluated_spf.value == DmarcResult::unknown);
  CHECK(rec.spf[0].result.value == SpfResult::fail);  // alias folded by parse_spf_result
  CHECK(r.policy.p.raw == "monitor");
  const auto& d = r.diagnostics;
  auto has = [&](const std::string& note) { return std::find(d.begin(), d.end(), note) != d.end(); };
  CHECK(has("record[2]/row/policy_evaluated/disposition: unknown value \"foo\""));
  CHECK(has("record[2]/row/policy_evaluated/spf: unknown value \"hardfail\""));
  CHECK(has("record[2]/auth_results/spf[1]/scope: unknown value \"bogus\""));
  CHECK(has("policy_published/p: unknown value \"monitor\""));
  CHECK(has("record[2]/identifiers/header_from: missing"));
}

TEST_CASE("encodings are converted to UTF-8", "[xml][encoding]") {
  const std::string body = report(kRecord, metadata_with(
      "<org_name>Caf\xE9 \x80 \x93q\x94</org_name><report_id>e</report_id>"
      "<date_range><begin>1</begin><end>2</end></date_range>"));
  SECTION("windows-1252 declaration") {
    auto r = parse_ok("<?xml version='1.0' encoding='windows-1252'?>" + body);
    CHECK(r.org_name == "Caf\u00e9 \u20ac \u201cq\u201d");
    CHECK(parse_ok("<?xml version=\"1.0\" encoding=\"CP1252\" ?>\n" + body).org_name == r.org_name);
  }
  SECTION("ISO-8859-1 and latin1 declarations") {
    const std::string latin = "Caf\u00e9 \u0080 \u0093q\u0094";  // C1 controls, not cp1252
    CHECK(parse_ok("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + body).org_name == latin);
    CHECK(parse_ok("<?xml version=\"1.0\" encoding=\"latin1\"?>" + body).org_name == latin);
  }
  SECTION("UTF-8 with BOM, without declaration, us-ascii") {
    const std::string utf8 = report(kRecord, metadata_with(
        "<org_name>Caf\xC3\xA9</org_name><report_id>e</report_id>"
        "<date_range><begin>1</begin><end>2</end></date_range>"));
    CHECK(parse_ok("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + utf8).org_name == "Caf\u00e9");
    CHECK(parse_ok("\xEF\xBB\xBF" + utf8).org_name == "Caf\u00e9");
    CHECK(parse_ok("\n  " + utf8).org_name == "Caf\u00e9");
    CHECK(parse_ok("<?xml version=\"1.0\" encoding=\"us-ascii\"?>" + report())
              .org_name == "r.example");
  }
  SECTION("UTF-16 with byte order mark, both endians") {
    const std::u16string text = u"<?xml version=\"1.0\" encoding=\"UTF-16\"?><feedback>"
                                u"<report_metadata><org_name>\u00c5sa \u20ac \U0001F600</org_name>"
                                u"<report_id>u</report_id><date_range><begin>1</begin><end>2</end>"
                                u"</date_range></report_metadata><policy_published><domain>d"
                                u"</domain></policy_published></feedback>";
    std::string le = "\xFF\xFE", be = "\xFE\xFF";
    for (char16_t unit : text) {
      le += static_cast<char>(unit & 0xFF);
      le += static_cast<char>(unit >> 8);
      be += static_cast<char>(unit >> 8);
      be += static_cast<char>(unit & 0xFF);
    }
    CHECK(parse_ok(le).org_name == "\u00c5sa \u20ac \U0001F600");
    CHECK(parse_ok(be).org_name == "\u00c5sa \u20ac \U0001F600");
    CHECK(parse_ok(le.substr(2)).org_name == "\u00c5sa \u20ac \U0001F600");  // no BOM
    CHECK(parse_error(le.substr(0, le.size() - 1)).kind == ErrorKind::malformed);  // odd length
  }
  SECTION("error offsets refer to the original bytes") {
    // 3 cp1252 bytes that become 3 bytes each, then a broken tag.
    const std::string xml = "<?xml version='1.0' encoding='windows-1252'?><feedback>\x80\x80\x80<a</feedback>";
    const Error e = parse_error(xml);
    CHECK(e.kind == ErrorKind::malformed);
    const auto offset = std::stoul(e.where.substr(5));
    CHECK(offset >= xml.find("<a"));
    CHECK(offset <= xml.size());
  }
}

TEST_CASE("not a report", "[xml][errors]") {
  CHECK(parse_error("").kind == ErrorKind::not_a_report);
  CHECK(parse_error(" \r\n\t ").kind == ErrorKind::not_a_report);
  CHECK(parse_error("\xEF\xBB\xBF  \n").kind == ErrorKind::not_a_report);
  CHECK(parse_error("hello, this is mail").kind == ErrorKind::not_a_report);
  const Error e = parse_error("<?xml version='1.0'?><html><body/></html>");
  CHECK(e.kind == ErrorKind::not_a_report);
  CHECK(e.message == "root element is <html>, not <feedback>");
}

TEST_CASE("broken XML is rejected with a byte offset", "[xml][errors]") {
  const std::string full = report();
  for (const std::string& xml : {full.substr(0, full.size() / 2),           // truncated
                                 full.substr(0, full.size() - 3),           // unclosed root
                                 "<feedback><a></b></feedback>"s,           // mismatched
                                 "<feedback><email><x@y.example></email></feedback>"s,
                                 full + "<feedback/>",                      // second root
                                 full + "trailing text"}) {
    const Error e = parse_error(xml);
    INFO(xml << " -> " << e.describe());
    CHECK(e.kind == ErrorKind::malformed);
  }
  const Error e = parse_error("<feedback>\n<report_metadata>\n</feedback>");
  CHECK(e.where.starts_with("byte "));
  CHECK(e.message.starts_with("invalid XML: "));
}

TEST_CASE("invalid UTF-8 and NUL bytes are rejected", "[xml][errors]") {
  const std::string full = report();
  const std::size_t at = full.find("r.example");
  for (const std::string& bad : {"\x91"s, "\xC0\xAF"s, "\xED\xA0\x80"s, "\xF4\x90\x80\x80"s,
                                "\xE2\x82"s, std::string(1, '\0')}) {
    std::string xml = full;
    xml.insert(at, bad);
    const Error e = parse_error(xml);
    CHECK(e.kind == ErrorKind::malformed);
    CHECK(e.where == "byte " + std::to_string(at));
  }
  std::string nul_after = full + std::string(1, '\0');
  CHECK(parse_error(nul_after).kind == ErrorKind::malformed);
}

TEST_CASE("missing required fields", "[xml][errors]") {
  struct Case {
    std::string xml;
    std::string where;
  };
  const std::string dates = "<date_range><begin>1</begin><end>2</end></date_range>";
  const std::vector<Case> cases = {
      {report(kRecord, metadata_with("<org_name>o</org_name>" + dates)),
       "feedback/report_metadata/report_id"},
      {report(kRecord, metadata_with("<report_id>  </report_id>" + dates)),
       "feedback/report_metadata/report_id"},
      {report(kRecord, ""), "feedback/report_metadata/report_id"},
      {report(kRecord, metadata_with("<report_id>i</report_id>")),
       "feedback/report_metadata/date_range"},
      {report(kRecord, metadata_with("<report_id>i</report_id><date_range><end>2</end></date_range>")),
       "feedback/report_metadata/date_range/begin"},
      {report(kRecord, metadata_with("<report_id>i</report_id><date_range><begin>1</begin></date_range>")),
       "feedback/report_metadata/date_range/end"},
      {report(kRecord, kMetadata, "<policy_published><p>none</p></policy_published>"),
       "feedback/policy_published/domain"},
      {report(kRecord, kMetadata, "<policy_published><domain/></policy_published>"),
       "feedback/policy_published/domain"},
      {report(kRecord, kMetadata, ""), "feedback/policy_published/domain"},
      {report(kRecord + record_with_row("<source_ip>1.2.3.4</source_ip>")), "feedback/record[2]/row/count"},
      {report(kRecord + "<record/>"), "feedback/record[2]/row/count"},
  };
  for (const Case& c : cases) {
    const Error e = parse_error(c.xml);
    INFO(c.xml << " -> " << e.describe());
    CHECK(e.kind == ErrorKind::malformed);
    CHECK(e.where == c.where);
  }
}

TEST_CASE("bad counts", "[xml][errors]") {
  for (const std::string& count : std::vector<std::string>{"-1", "abc", "9223372036854775808", "1.5", "", "0x10", "1 2"}) {
    const std::string xml = report(kRecord + kRecord + record_with_row("<count>" + count + "</count>"));
    const Error e = parse_error(xml);
    INFO(count << " -> " << e.describe());
    CHECK(e.kind == ErrorKind::malformed);
    CHECK(e.where == "feedback/record[3]/row/count");
  }
  CHECK(parse_ok(report(record_with_row("<count>9223372036854775807</count>"))).records[0].count ==
        9223372036854775807);
  CHECK(parse_ok(report(record_with_row("<count> +7 </count>"))).records[0].count == 7);
}

TEST_CASE("bad dates", "[xml][errors]") {
  auto with_dates = [](const std::string& begin, const std::string& end) {
    return report(kRecord, metadata_with("<report_id>i</report_id><date_range><begin>" + begin +
                                         "</begin><end>" + end + "</end></date_range>"));
  };
  CHECK(parse_error(with_dates("abc", "2")).where == "feedback/report_metadata/date_range/begin");
  CHECK(parse_error(with_dates("1", "1e9")).where == "feedback/report_metadata/date_range/end");
  CHECK(parse_error(with_dates("-1", "2")).where == "feedback/report_metadata/date_range/begin");
  CHECK(parse_error(with_dates("1", "4102444801")).where == "feedback/report_metadata/date_range/end");
  CHECK(parse_error(with_dates("99999999999999999999", "2")).kind == ErrorKind::malformed);
  CHECK(parse_error(with_dates("200", "100")).where == "feedback/report_metadata/date_range");
  CHECK(parse_ok(with_dates("0", "4102444800")).end == 4102444800);
}

TEST_CASE("limits: records per report and nesting depth", "[xml][limits]") {
  Limits limits;
  limits.max_records_per_report = 2;
  CHECK(parse(report(kRecord + kRecord), limits));
  CHECK(parse_error(report(kRecord + kRecord + kRecord), limits).kind == ErrorKind::limit_exceeded);

  std::string deep;
  for (int i = 0; i < 10'000; ++i) deep += "<x>";
  for (int i = 0; i < 10'000; ++i) deep += "</x>";
  const Error e = parse_error(report(kRecord + "<extension>" + deep + "</extension>"));
  CHECK(e.kind == ErrorKind::limit_exceeded);
  CHECK(e.where == "feedback/extension/x/x/...");
  // Deep but unclosed: invalid XML, no crash either way.
  std::string unclosed = "<feedback>";
  for (int i = 0; i < 100'000; ++i) unclosed += "<x>";
  CHECK(parse_error(unclosed).kind == ErrorKind::malformed);

  limits = Limits{};
  limits.max_xml_depth = 5;  // feedback/record/row/policy_evaluated/dkim
  CHECK(parse(report(), limits));
  limits.max_xml_depth = 4;
  CHECK(parse_error(report(), limits).kind == ErrorKind::limit_exceeded);

  // Text limits: an element's own text, a CDATA section beside a child
  // element, each named by its element; a long comment is never read.
  limits = Limits{};
  limits.max_field_bytes = 100;
  const std::string long_text(101, 'a');
  auto with_org_name = [](const std::string& name) {
    return metadata_with("<org_name>" + name + "</org_name><report_id>id-1</report_id><date_range>"
                         "<begin>1700000000</begin><end>1700086399</end></date_range>");
  };
  CHECK(parse(report(kRecord, with_org_name(std::string(100, 'a'))), limits));
  Error text = parse_error(report(kRecord, with_org_name(long_text)), limits);
  CHECK(text.kind == ErrorKind::limit_exceeded);
  CHECK(text.where == "org_name");
  text = parse_error(report(kRecord + "<extension><x/><![CDATA[" + long_text + "]]></extension>"), limits);
  CHECK(text.kind == ErrorKind::limit_exceeded);
  CHECK(text.where == "extension");
  CHECK(parse(report(kRecord + "<extension><!--" + long_text + "--></extension>"), limits));
}

TEST_CASE("hostile DTDs: no entity expansion, nothing fetched", "[xml][security]") {
  std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n<!ENTITY lol \"lol\">\n";
  laughs += "<!ENTITY lol0 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 1; i < 10; ++i)
    laughs += "<!ENTITY lol" + std::to_string(i) + " \"" + [&] {
      std::string refs;
      for (int k = 0; k < 10; ++k) refs += "&lol" + std::to_string(i - 1) + ";";
      return refs;
    }() + "\">\n";
  laughs += "]>\n";
  const std::string laughs_report = laughs + report(kRecord, metadata_with(
      "<org_name>&lol9;</org_name><report_id>i</report_id>"
      "<date_range><begin>1</begin><end>2</end></date_range>"));
  // The DOCTYPE is skipped; the undeclared-for-us entity stays literal text.
  const AggregateReport r = parse_ok(laughs_report);
  CHECK(r.org_name == "&lol9;");
  CHECK(r.diagnostics.at(0).starts_with("DOCTYPE ignored"));

  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>" +
      report(kRecord, metadata_with("<org_name>&xxe;</org_name><report_id>i</report_id>"
                                    "<date_range><begin>1</begin><end>2</end></date_range>"));
  CHECK(parse_ok(xxe).org_name == "&xxe;");  // never fetched, never expanded
}

// Speed is measured by tools/bench, never asserted in tests.
TEST_CASE("a large report parses completely", "[xml]") {
  std::string records;
  constexpr int kRecords = 50'000;
  records.reserve(kRecords * kRecord.size());
  for (int i = 0; i < kRecords; ++i) records += kRecord;
  const AggregateReport r = parse_ok(report(records));
  CHECK(r.records.size() == kRecords);
}

// ---- the real-world corpus (skipped when /work/shared/corpus is absent) ----

namespace {

using Json = nlohmann::json;

std::optional<std::string> json_string(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Compares what we parsed with the corpus's independently computed facts;
// returns one line per difference.
class CorpusComparison {
 public:
  std::vector<std::string> differences;

  void text(const std::string& field, const std::optional<std::string>& expected,
            const std::optional<std::string>& actual) {
    if (expected != actual)
      differences.push_back(field + ": expected " + show(expected) + ", got " + show(actual));
  }
  // Required strings in our model: a missing element is "".
  void required_text(const std::string& field, const std::optional<std::string>& expected,
                     const std::string& actual) {
    text(field, expected.value_or(""), actual);
  }
  // Enums: the expected text goes through the same case-insensitive parse.
  template <typename E>
  void enumerated(const std::string& field, const std::optional<std::string>& expected,
                  const Enumerated<E>& actual, Enumerated<E> (*parse_fn)(std::string_view)) {
    if (parse_fn(expected.value_or("")) != actual)
      differences.push_back(field + ": expected " + show(expected) + ", got \"" +
                            std::string(actual.text()) + "\"");
  }

 private:
  static std::string show(const std::optional<std::string>& value) {
    return value ? "\"" + *value + "\"" : "null";
  }
};

void compare_record(const Json& expected, const Record& actual, const std::string& prefix,
                    CorpusComparison& cmp) {
  cmp.required_text(prefix + "source_ip", json_string(expected, "source_ip"), actual.source_ip);
  cmp.text(prefix + "count", json_string(expected, "count"), std::to_string(actual.count));
  cmp.enumerated(prefix + "disposition", json_string(expected, "disposition"), actual.disposition,
                 parse_disposition);
  cmp.enumerated(prefix + "dkim", json_string(expected, "policy_evaluated_dkim"),
                 actual.policy_evaluated_dkim, parse_dmarc_result);
  cmp.enumerated(prefix + "spf", json_string(expected, "policy_evaluated_spf"),
                 actual.policy_evaluated_spf, parse_dmarc_result);
  const Json reasons = expected.value("reasons", Json::array());
  cmp.text(prefix + "reasons", std::to_string(reasons.size()), std::to_string(actual.reasons.size()));
  for (std::size_t i = 0; i < std::min(reasons.size(), actual.reasons.size()); ++i) {
    cmp.enumerated(prefix + "reason.type", json_string(reasons[i], "type"), actual.reasons[i].type,
                   parse_reason_type);
    cmp.text(prefix + "reason.comment", json_string(reasons[i], "comment"), actual.reasons[i].comment);
  }
  cmp.required_text(prefix + "header_from", json_string(expected, "header_from"), actual.header_from);
  cmp.text(prefix + "envelope_from", json_string(expected, "envelope_from"), actual.envelope_from);
  cmp.text(prefix + "envelope_to", json_string(expected, "envelope_to"), actual.envelope_to);
  const Json& auth = expected.at("auth_results");
  const Json& dkim = auth.at("dkim");
  const Json& spf = auth.at("spf");
  cmp.text(prefix + "dkim count", std::to_string(dkim.size()), std::to_string(actual.dkim.size()));
  cmp.text(prefix + "spf count", std::to_string(spf.size()), std::to_string(actual.spf.size()));
  for (std::size_t i = 0; i < std::min(dkim.size(), actual.dkim.size()); ++i) {
    const std::string at = prefix + "dkim[" + std::to_string(i + 1) + "].";
    cmp.required_text(at + "domain", json_string(dkim[i], "domain"), actual.dkim[i].domain);
    cmp.text(at + "selector", json_string(dkim[i], "selector"), actual.dkim[i].selector);
    cmp.enumerated(at + "result", json_string(dkim[i], "result"), actual.dkim[i].result,
                   parse_dkim_result);
    if (dkim[i].contains("human_result"))
      cmp.text(at + "human_result", json_string(dkim[i], "human_result"), actual.dkim[i].human_result);
  }
  for (std::size_t i = 0; i < std::min(spf.size(), actual.spf.size()); ++i) {
    const std::string at = prefix + "spf[" + std::to_string(i + 1) + "].";
    cmp.required_text(at + "domain", json_string(spf[i], "domain"), actual.spf[i].domain);
    cmp.enumerated(at + "scope", json_string(spf[i], "scope"), actual.spf[i].scope, parse_spf_scope);
    cmp.enumerated(at + "result", json_string(spf[i], "result"), actual.spf[i].result,
                   parse_spf_result);
  }
}

void compare_report(const Json& expected, const AggregateReport& actual, CorpusComparison& cmp) {
  cmp.required_text("namespace", json_string(expected, "namespace"), actual.xml_namespace);
  cmp.text("version", json_string(expected, "version"), actual.version);
  cmp.required_text("org_name", json_string(expected, "org_name"), actual.org_name);
  cmp.text("email", json_string(expected, "email"), actual.email);
  cmp.required_text("report_id", json_string(expected, "report_id"), actual.report_id);
  cmp.text("begin", json_string(expected, "begin"), std::to_string(actual.begin));
  cmp.text("end", json_string(expected, "end"), std::to_string(actual.end));
  const Json& policy = expected.at("policy_published");
  const PolicyPublished& p = actual.policy;
  cmp.required_text("policy.domain", json_string(policy, "domain"), p.domain);
  cmp.enumerated("policy.adkim", json_string(policy, "adkim"), p.adkim, parse_alignment_mode);
  cmp.enumerated("policy.aspf", json_string(policy, "aspf"), p.aspf, parse_alignment_mode);
  cmp.enumerated("policy.p", json_string(policy, "p"), p.p, parse_policy);
  cmp.enumerated("policy.sp", json_string(policy, "sp"), p.sp, parse_policy);
  cmp.enumerated("policy.np", json_string(policy, "np"), p.np, parse_policy);
  cmp.enumerated("policy.testing", json_string(policy, "testing"), p.testing, parse_testing);
  cmp.enumerated("policy.discovery_method", json_string(policy, "discovery_method"),
                 p.discovery_method, parse_discovery_method);
  const auto pct = json_string(policy, "pct");
  cmp.text("policy.pct", pct && !pct->empty() ? pct : std::nullopt,
           p.pct ? std::optional(std::to_string(*p.pct)) : std::nullopt);
  cmp.text("policy.fo", json_string(policy, "fo"), p.fo);
  cmp.text("policy.psd", json_string(policy, "psd"), p.psd);
  cmp.text("policy.t", json_string(policy, "t"), p.t);
  const Json& records = expected.at("records");
  cmp.text("record_count", std::to_string(records.size()), std::to_string(actual.records.size()));
  for (std::size_t i = 0; i < std::min(records.size(), actual.records.size()); ++i)
    compare_record(records[i], actual.records[i], "record[" + std::to_string(i + 1) + "].", cmp);
}

// The corpus's facts include reports we reject on purpose (no usable date
// range, a count that is not a number): those must fail, not match.
bool expected_to_be_rejected(const Json& report) {
  if (!report.at("begin").is_number_integer() || !report.at("end").is_number_integer()) return true;
  for (const Json& record : report.at("records"))
    if (!record.contains("count") || !record.at("count").is_number_integer()) return true;
  return false;
}

}  // namespace

TEST_CASE("real-world corpus: aggregate XML files", "[xml][corpus]") {
  const std::filesystem::path corpus = std::filesystem::path(DMARCQ_SHARED_DIR) / "corpus";
  std::ifstream manifest(corpus / "MANIFEST.tsv");
  if (!manifest) {
    WARN("no corpus at " << corpus << ": skipped");
    return;
  }
  int matched = 0, rejected_as_expected = 0, invalid_rejected = 0;
  std::string line;
  std::getline(manifest, line);  // header
  while (std::getline(manifest, line)) {
    std::vector<std::string> columns;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, '\t');) columns.push_back(field);
    if (columns.size() < 7 || columns[5] != "aggregate" || columns[6] != "xml") continue;
    const std::string& path = columns[0];
    INFO(path);
    const auto result = parse(read_file(corpus / path));
    std::ifstream expected_file(corpus / "expected" / (path + ".json"));
    if (!expected_file) {
      CHECK_FALSE(result.has_value());  // no facts: the XML is not well-formed
      if (!result) {
        INFO(result.error().describe());
        ++invalid_rejected;
      }
      continue;
    }
    const Json expected = Json::parse(expected_file).at("reports").at(0);
    if (expected_to_be_rejected(expected)) {
      CHECK_FALSE(result.has_value());
      if (!result) {
        WARN(path << ": rejected as intended: " << result.error().describe());
        ++rejected_as_expected;
      }
      continue;
    }
    if (!result) FAIL_CHECK("rejected: " << result.error().describe());
    if (!result) continue;
    CorpusComparison comparison;
    compare_report(expected, *result, comparison);
    for (const std::string& difference : comparison.differences) FAIL_CHECK(difference);
    if (comparison.differences.empty()) ++matched;
  }
  WARN("corpus: " << matched << " reports matched, " << rejected_as_expected
                  << " rejected as intended (unusable dates/counts), " << invalid_rejected
                  << " invalid files rejected");
}
