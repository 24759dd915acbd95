// The shared corpus test: every aggregate report written by a real receiver
// (../shared/corpus) must come out of `dmarcq ingest` + `dmarcq export` with
// exactly the facts in its expected/<path>.json; every negative test and every
// file with invalid XML must be rejected cleanly, storing nothing.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/process.hpp"
#include "dmarcq/ip.hpp"
#include "dmarcq/text.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using dmarcq::test::quote;
using dmarcq::test::run_command;
using dmarcq::test::TempDir;

namespace {

struct ManifestRow {
  std::string path, kind, container, quirks;
};

std::string corpus_dir() {
  if (const char* env = std::getenv("DMARCQ_CORPUS"); env && *env) return env;
  return std::string(DMARCQ_SHARED_DIR) + "/corpus";
}

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Skips (visibly) when the corpus is absent; in CI its absence is a failure.
bool corpus_available() {
  if (fs::exists(corpus_dir() + "/MANIFEST.tsv")) return true;
  if (running_in_ci()) FAIL("CI=true but the shared corpus is missing at " << corpus_dir());
  WARN("SKIPPED: shared corpus not found at " << corpus_dir() << " (set DMARCQ_CORPUS)");
  return false;
}

std::vector<ManifestRow> read_manifest() {
  std::ifstream in(corpus_dir() + "/MANIFEST.tsv");
  std::vector<ManifestRow> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, '\t')) fields.push_back(field);
    if (fields.size() < 10) continue;
    rows.push_back({fields[0], fields[5], fields[6], fields[9]});
  }
  return rows;
}

std::string expected_path(const ManifestRow& row) {
  return corpus_dir() + "/expected/" + row.path + ".json";
}

// A missing key reads as null (expected files omit empty lists and absent fields).
const json& field(const json& object, const char* name) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  auto it = object.find(name);
  return it == object.end() ? null_value : *it;
}

// Enumerated values: dmarcq treats an empty element like a missing one.
std::string lower(const json& value) {
  if (value.is_null() || (value.is_string() && dmarcq::trim(value.get<std::string>()).empty()))
    return "<null>";
  return dmarcq::to_lower_ascii(value.get<std::string>());
}

// Domains are lowercased without a trailing dot; empty reads as missing.
std::string domain(const json& value) {
  if (value.is_null()) return "<null>";
  std::string text(dmarcq::trim(value.get<std::string>()));
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (text.empty()) return "<null>";
  return dmarcq::to_lower_ascii(text);
}

std::string text_or_null(const json& value) {
  if (value.is_null()) return "<null>";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string canonical_ip(const json& value) {
  if (value.is_null()) return "<null>";
  const std::string text = value.get<std::string>();
  auto ip = dmarcq::parse_ip(text);
  return ip ? ip->to_string() : std::string(dmarcq::trim(text));
}

// One record as a comparable string, with the normalisations dmarcq promises.
std::string record_key(const json& r) {
  std::ostringstream key;
  key << canonical_ip(field(r, "source_ip")) << '|' << field(r, "count").get<long long>() << '|'
      << lower(field(r, "disposition")) << '|' << lower(field(r, "policy_evaluated_dkim")) << '|'
      << lower(field(r, "policy_evaluated_spf")) << '|' << domain(field(r, "header_from")) << '|'
      << domain(field(r, "envelope_from")) << '|' << domain(field(r, "envelope_to")) << "|reasons:";
  for (const auto& reason : field(r, "reasons"))
    key << lower(field(reason, "type")) << '/' << text_or_null(field(reason, "comment")) << ';';
  key << "|dkim:";
  for (const auto& d : field(field(r, "auth_results"), "dkim"))
    key << domain(field(d, "domain")) << '/' << text_or_null(field(d, "selector")) << '/' << lower(field(d, "result")) << ';';
  key << "|spf:";
  for (const auto& s : field(field(r, "auth_results"), "spf"))
    key << domain(field(s, "domain")) << '/' << lower(field(s, "scope")) << '/' << lower(field(s, "result")) << ';';
  return key.str();
}

std::string policy_key(const json& p) {
  std::ostringstream key;
  key << domain(field(p, "domain"));
  for (const char* name : {"adkim", "aspf", "p", "sp", "np", "testing", "discovery_method", "psd", "t"})
    key << '|' << name << '=' << lower(field(p, name));
  key << "|pct=" << text_or_null(field(p, "pct")) << "|fo=" << text_or_null(field(p, "fo"));
  return key.str();
}

std::string report_key(const json& r) {
  return std::string(dmarcq::trim(field(r, "org_name").get<std::string>())) + " / " +
         field(r, "report_id").get<std::string>();
}

// Compares one expected report with the exported one; "" when they agree.
std::string compare_report(const json& expected, const json& actual) {
  std::ostringstream diff;
  auto check = [&](const std::string& what, const std::string& want, const std::string& got) {
    if (want != got) diff << what << ": expected " << want << ", got " << got << "\n";
  };
  check("email", text_or_null(expected["email"]), text_or_null(actual["email"]));
  check("begin", expected["begin"].dump(), actual["begin"].dump());
  check("end", expected["end"].dump(), actual["end"].dump());
  json expected_policy = expected["policy_published"];
  json actual_policy = actual["policy_published"];
  if (actual_policy["pct"].is_number()) actual_policy["pct"] = std::to_string(actual_policy["pct"].get<long long>());
  if (expected_policy["pct"].is_string()) expected_policy["pct"] = std::string(dmarcq::trim(expected_policy["pct"].get<std::string>()));
  check("policy_published", policy_key(expected_policy), policy_key(actual_policy));
  std::multiset<std::string> want, got;
  for (const auto& r : expected["records"]) want.insert(record_key(r));
  for (const auto& r : actual["records"]) got.insert(record_key(r));
  if (want != got) {
    diff << "records differ\n";
    for (const auto& k : want)
      if (!got.count(k)) diff << "  missing: " << k << "\n";
    for (const auto& k : got)
      if (!want.count(k)) diff << "  unexpected: " << k << "\n";
  }
  return diff.str();
}

std::string dmarcq_command(const std::string& db) {
  return quote(DMARCQ_BINARY) + " --db " + quote(db);
}

bool is_negative(const ManifestRow& row) { return row.quirks.find("[negative-test]") != std::string::npos; }

// Expected files whose facts have no date range (a misspelled <data_range>, a
// begin of "not-a-number") describe reports dmarcq must reject: a report
// without a usable date range cannot be placed in time (README "ingest").
bool expected_without_date_range(const ManifestRow& row) {
  if (!fs::exists(expected_path(row))) return false;
  std::ifstream in(expected_path(row));
  const json expected = json::parse(in);
  for (const auto& report : field(expected, "reports"))
    if (!field(report, "begin").is_number_integer() || !field(report, "end").is_number_integer()) return true;
  return false;
}

}  // namespace

TEST_CASE("every corpus aggregate report ingests with its expected facts", "[corpus]") {
  if (!corpus_available()) return;
  int checked = 0;
  for (const ManifestRow& row : read_manifest()) {
    if (row.kind != "aggregate" || !fs::exists(expected_path(row)) || expected_without_date_range(row)) continue;
    INFO("corpus file: " << row.path << " (" << row.container << ")");
    std::ifstream in(expected_path(row));
    const json expected = json::parse(in);
    // Some synthetic files reuse another file's report id: one database each.
    TempDir dir;
    const std::string db = dir.file("corpus.db");
    const auto ingest = run_command(dmarcq_command(db) + " ingest " + quote(corpus_dir() + "/" + row.path));
    INFO("ingest stderr: " << ingest.err);
    CHECK(ingest.exit_code == 0);
    const auto exported = run_command(dmarcq_command(db) + " export --format json");
    REQUIRE(exported.exit_code == 0);
    const json actual = json::parse(exported.out);

    std::map<std::string, json> actual_by_key;
    long long actual_total = 0;
    for (const auto& report : actual) {
      actual_by_key[report_key(report)] = report;
      for (const auto& record : report["records"]) actual_total += record["count"].get<long long>();
    }
    CHECK(actual.size() == expected["reports"].size());
    for (const auto& want : expected["reports"]) {
      const std::string key = report_key(want);
      INFO("report " << key);
      REQUIRE(actual_by_key.count(key) == 1);
      CHECK(compare_report(want, actual_by_key[key]) == "");
    }
    CHECK(actual_total == expected["count_sum_total"].get<long long>());
    ++checked;
  }
  INFO("aggregate files checked: " << checked);
  CHECK(checked >= 80);
}

TEST_CASE("corpus negative tests and invalid XML are rejected, storing nothing", "[corpus]") {
  if (!corpus_available()) return;
  int checked = 0;
  for (const ManifestRow& row : read_manifest()) {
    const bool invalid_aggregate =
        row.kind == "aggregate" && (!fs::exists(expected_path(row)) || expected_without_date_range(row));
    if (!is_negative(row) && !invalid_aggregate) continue;
    INFO("corpus file: " << row.path << " (" << row.container << ")");
    TempDir dir;
    const std::string db = dir.file("corpus.db");
    const auto ingest = run_command(dmarcq_command(db) + " ingest " + quote(corpus_dir() + "/" + row.path));
    INFO("stderr: " << ingest.err);
    CHECK(ingest.exit_code == 65);
    // One clear line naming the file.
    CHECK(ingest.err.find("dmarcq: rejected " + corpus_dir() + "/" + row.path + ": ") == 0);
    CHECK(std::count(ingest.err.begin(), ingest.err.end(), '\n') == 1);
    const auto exported = run_command(dmarcq_command(db) + " export --format json");
    CHECK(json::parse(exported.out).empty());
    ++checked;
  }
  CHECK(checked >= 15);
}

TEST_CASE("re-ingesting the whole corpus stores nothing new", "[corpus]") {
  if (!corpus_available()) return;
  TempDir dir;
  const std::string db = dir.file("corpus.db");
  const auto first = run_command(dmarcq_command(db) + " ingest " + quote(corpus_dir()));
  INFO(first.out << first.err);
  const auto before = run_command(dmarcq_command(db) + " export");
  const auto second = run_command(dmarcq_command(db) + " ingest " + quote(corpus_dir()));
  INFO(second.out);
  CHECK(second.out.find(": 0 reports stored (0 records)") != std::string::npos);
  const auto after = run_command(dmarcq_command(db) + " export");
  CHECK(before.out == after.out);
  CHECK(!before.out.empty());
}

TEST_CASE("every corpus failure report ingests and exports its expected facts", "[corpus][failure]") {
  if (!corpus_available()) return;
  int checked = 0;
  for (const ManifestRow& row : read_manifest()) {
    if (row.kind != "forensic" || !fs::exists(expected_path(row))) continue;
    std::ifstream in(expected_path(row));
    const json expected = json::parse(in);
    INFO("corpus file: " << row.path);
    TempDir dir;
    const std::string db = dir.file("corpus.db");
    const auto ingest = run_command(dmarcq_command(db) + " ingest " + quote(corpus_dir() + "/" + row.path));
    INFO(ingest.out << ingest.err);
    CHECK(ingest.exit_code == 0);
    CHECK(ingest.out.find("; 1 failure report stored") != std::string::npos);
    const auto exported = run_command(dmarcq_command(db) + " export --kind failure --format json");
    const json actual = json::parse(exported.out);
    REQUIRE(actual.size() == 1);
    const json& got = actual[0];
    const json& reports = field(expected, "feedback_reports");
    if (reports.empty()) {
      // No machine-readable part: stored all the same, and marked.
      CHECK(got["machine_readable"] == false);
    } else {
      const json& want = reports[0];
      auto joined = [](const json& list) {
        std::string out;
        for (const auto& item : list) out += (out.empty() ? "" : ", ") + item.get<std::string>();
        return out;
      };
      if (want.contains("feedback-type")) CHECK(lower(want["feedback-type"]) == lower(got["feedback_type"]));
      if (want.contains("source-ip")) CHECK(want["source-ip"] == got["source_ip"]["as_written"]);
      if (want.contains("reported-domain"))
        CHECK(domain(want["reported-domain"]) == domain(got["reported_domains"][0]));
      if (want.contains("auth-failure"))
        CHECK(dmarcq::to_lower_ascii(want["auth-failure"].get<std::string>()) == joined(got["auth_failures"]));
      if (want.contains("original-mail-from")) CHECK(want["original-mail-from"] == got["original_mail_from"]);
      if (want.contains("user-agent")) CHECK(want["user-agent"] == got["user_agent"]);
      if (want.contains("arrival-date")) CHECK(want["arrival-date"] == got["arrival_date_text"]);
    }
    // Delivered again: stored once.
    const auto again = run_command(dmarcq_command(db) + " ingest " + quote(corpus_dir() + "/" + row.path));
    CHECK(again.out.find("; 0 failure reports stored, 1 duplicate") != std::string::npos);
    ++checked;
  }
  CHECK(checked >= 10);
}
