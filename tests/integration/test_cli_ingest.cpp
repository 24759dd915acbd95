// Integration tests: the real dmarcq binary on samples/ and tests/data/hostile.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using dmarcq::test::CommandResult;
using dmarcq::test::quote;
using dmarcq::test::run_command;
using dmarcq::test::TempDir;

namespace {

const std::string kSamples = DMARCQ_SAMPLES;
const std::string kHostile = std::string(DMARCQ_TEST_DATA) + "/hostile";

CommandResult run_dmarcq(const std::string& db, const std::string& arguments, const std::string& stdin_file = {}) {
  return run_command(quote(DMARCQ_BINARY) + " --db " + quote(db) + " " + arguments, stdin_file);
}

json export_all(const std::string& db) {
  const CommandResult exported = run_dmarcq(db, "export --format json");
  REQUIRE(exported.exit_code == 0);
  return json::parse(exported.out);
}

long long count_sum(const json& reports) {
  long long total = 0;
  for (const auto& report : reports)
    for (const auto& record : report["records"]) total += record["count"].get<long long>();
  return total;
}

}  // namespace

TEST_CASE("samples/ ingest with the hand-computed ground truth", "[integration]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  const CommandResult first = run_dmarcq(db, "ingest " + quote(kSamples));
  INFO(first.out << first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.out == "10 inputs: 10 reports stored (40 records), 0 duplicates, 0 conflicts, 0 rejected\n");
  CHECK(first.err.empty());

  const json reports = export_all(db);
  REQUIRE(reports.size() == 10);
  CHECK(count_sum(reports) == 9068);

  // Messages per traffic class, from tools/make-samples.md (computed independently).
  std::map<std::string, long long> by_class;
  std::map<std::string, long long> by_domain;
  for (const auto& report : reports)
    for (const auto& record : report["records"]) {
      by_class[record["class"].get<std::string>()] += record["count"].get<long long>();
      by_domain[report["policy_published"]["domain"].get<std::string>()] += record["count"].get<long long>();
    }
  CHECK(by_class["aligned"] == 6400);
  CHECK(by_class["dkim-only"] == 393);
  CHECK(by_class["spf-only"] == 46);
  CHECK(by_class["forwarded"] == 6);
  CHECK(by_class["misaligned"] == 1501);
  CHECK(by_class["impersonation"] == 722);
  CHECK(by_domain["example.org"] == 5964);
  CHECK(by_domain["example.net"] == 3104);

  SECTION("a second run stores nothing and changes nothing") {
    const CommandResult second = run_dmarcq(db, "ingest " + quote(kSamples));
    CHECK(second.exit_code == 0);
    CHECK(second.out == "10 inputs: 0 reports stored (0 records), 10 duplicates, 0 conflicts, 0 rejected\n");
    CHECK(export_all(db) == reports);
  }
  SECTION("export filters by domain and time") {
    const CommandResult org = run_dmarcq(db, "export --format json --domain EXAMPLE.NET");
    CHECK(json::parse(org.out).size() == 4);
    const CommandResult since = run_dmarcq(db, "export --format json --since 2026-03-15");
    for (const auto& report : json::parse(since.out)) CHECK(report["end"].get<long long>() > 1773532800);
    const CommandResult bad = run_dmarcq(db, "export --since yesterday-ish");
    CHECK(bad.exit_code == 64);
    CHECK(bad.err.find("--since") != std::string::npos);
  }
}

TEST_CASE("a batch of big reports: every one stored, however few fit the queue at once", "[integration]") {
  // ~5 MB of XML each, ~13 MB once parsed: the writer's queue (16 MB) holds
  // one or two at a time, where it holds 192 ordinary ones.
  TempDir dir;
  const std::string inputs = dir.file("big");
  fs::create_directories(inputs);
  constexpr int kReports = 5, kRecords = 20'000;
  for (int report = 0; report < kReports; ++report) {
    std::ofstream xml(inputs + "/big-" + std::to_string(report) + ".xml");
    xml << "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>big.example</org_name>"
           "<email>dmarc@big.example</email><report_id>big-" << report << "</report_id><date_range><begin>"
        << 1768003200 + 86400 * report << "</begin><end>" << 1768089599 + 86400 * report
        << "</end></date_range></report_metadata><policy_published><domain>example.org</domain><p>reject</p>"
           "</policy_published>\n";
    for (int i = 0; i < kRecords; ++i) {
      xml << "<record><row><source_ip>10." << report << "." << i / 256 % 256 << "." << i % 256
          << "</source_ip><count>" << i % 9 + 1 << "</count><policy_evaluated><disposition>none</disposition>"
             "<dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.org"
             "</header_from></identifiers><auth_results><dkim><domain>example.org</domain><selector>s1"
             "</selector><result>pass</result></dkim><spf><domain>example.org</domain><result>pass</result>"
             "</spf></auth_results></record>\n";
    }
    xml << "</feedback>\n";
  }
  const std::string db = dir.file("d.db");
  const CommandResult ingest = run_dmarcq(db, "ingest -q -j1 " + quote(inputs));
  REQUIRE(ingest.exit_code == 0);
  const CommandResult totals =
      run_command("sqlite3 " + quote(db) + " " + quote("SELECT count(*), sum(record_count) FROM reports"));
  CHECK(totals.out == std::to_string(kReports) + "|" + std::to_string(kReports * kRecords) + "\n");
}

TEST_CASE("the database is created private (0600)", "[integration]") {
  TempDir dir;
  const std::string db = dir.file("sub/dir/d.db");
  REQUIRE(run_dmarcq(db, "ingest " + quote(kSamples + "/yahoo.com!example.net!1773532800!1773619199.xml")).exit_code == 0);
  struct stat info {};
  REQUIRE(::stat(db.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  const std::string shared = dir.file("shared.db");
  REQUIRE(run_command(quote(DMARCQ_BINARY) + " --db " + quote(shared) + " --group-readable ingest -q " +
                      quote(kSamples)).exit_code == 0);
  REQUIRE(::stat(shared.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0640);
}

TEST_CASE("hostile inputs are rejected with one clear line and store nothing", "[integration][hostile]") {
  const char* rejected[] = {
      "empty.xml", "whitespace-only.xml", "binary-junk.xml", "truncated.xml", "invalid-xml.xml",
      "not-feedback-root.xml", "not-feedback-html.xml", "missing-report-id.xml",
      "missing-date-range.xml", "missing-policy-domain.xml", "count-negative.xml",
      "count-non-numeric.xml", "count-2pow63.xml", "end-before-begin.xml", "begin-before-1970.xml",
      "corrupt.zip", "truncated.zip", "corrupt.xml.gz", "truncated.xml.gz", "gzip-of-text.xml.gz"};
  for (const char* name : rejected) {
    INFO("hostile file " << name);
    TempDir dir;
    const std::string db = dir.file("d.db");
    const std::string path = kHostile + "/" + name;
    const CommandResult result = run_dmarcq(db, "ingest " + quote(path));
    INFO(result.err);
    CHECK(result.exit_code == 65);
    CHECK(result.err.rfind("dmarcq: rejected " + path + ": ", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    CHECK(result.out == "1 input: 0 reports stored (0 records), 0 duplicates, 0 conflicts, 1 rejected\n");
    CHECK(export_all(db).empty());
  }
}

TEST_CASE("hostile but valid reports are stored verbatim, nothing expanded or fetched", "[integration][hostile]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  const CommandResult result = run_dmarcq(
      db, "ingest " + quote(kHostile + "/billion-laughs.xml") + " " + quote(kHostile + "/xxe-file.xml") + " " +
              quote(kHostile + "/invalid-source-ip.xml") + " " + quote(kHostile + "/sql-and-terminal-escapes.xml") +
              " " + quote(kHostile + "/zip-slip.zip") + " " + quote(kHostile + "/huge-domain-name.xml"));
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  const json reports = export_all(db);
  CHECK(reports.size() == 7);
  const std::string everything = reports.dump();
  bool found_long_domain = false;  // a 100 KB domain name, stored verbatim (lowercased)
  for (const auto& report : reports)
    if (report["policy_published"]["domain"].get<std::string>().size() > 100'000) found_long_domain = true;
  CHECK(found_long_domain);
  CHECK(everything.find("root:") == std::string::npos);  // /etc/passwd never read
  CHECK(everything.find("&lol9;") != std::string::npos);
  CHECK(everything.find("DROP TABLE reports") != std::string::npos);
  CHECK(everything.find("\\u001b[31m") != std::string::npos);  // stored verbatim, JSON-escaped
  CHECK(!fs::exists(dir.file("../evil.xml")));
  bool found_invalid_ip = false;
  for (const auto& report : reports)
    for (const auto& record : report["records"])
      if (record["source_ip"] == "not-an-ip 999.1.2.3") found_invalid_ip = true;
  CHECK(found_invalid_ip);
}

TEST_CASE("a bad file does not stop the good ones", "[integration]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  const CommandResult result =
      run_dmarcq(db, "ingest " + quote(kHostile + "/truncated.xml") + " " + quote(kSamples) + " " + quote(dir.file("missing.xml")));
  CHECK(result.exit_code == 65);
  CHECK(result.out == "12 inputs: 10 reports stored (40 records), 0 duplicates, 0 conflicts, 2 rejected\n");
  CHECK(result.err.find("missing.xml: no such file or directory") != std::string::npos);
  CHECK(export_all(db).size() == 10);
}

TEST_CASE("a report on stdin (MDA mode)", "[integration]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  const std::string sample = kSamples + "/google.com!example.org!1768003200!1768089599.zip";
  CHECK(run_dmarcq(db, "ingest", sample).exit_code == 0);
  CHECK(run_dmarcq(db, "ingest", sample).exit_code == 0);  // duplicate: still success
  CHECK(export_all(db).size() == 1);
  // A broken report is kept whole and the MTA gets success (no bounce to the reporter) ...
  const CommandResult bad = run_dmarcq(db, "ingest", kHostile + "/truncated.xml");
  CHECK(bad.exit_code == 0);
  CHECK(bad.err.rfind("dmarcq: rejected stdin: ", 0) == 0);
  CHECK(bad.err.find("(kept; see `dmarcq rejected`)") != std::string::npos);
  const CommandResult listed = run_dmarcq(db, "rejected");
  CHECK(listed.out.find("#1 ") == 0);
  CHECK(listed.out.find("invalid XML") != std::string::npos);
  // ... byte for byte.
  const CommandResult raw = run_dmarcq(db, "rejected --raw 1");
  CHECK(raw.out == dmarcq::test::read_text_file(kHostile + "/truncated.xml"));
  // ... once, however often it is delivered; --strict reports it as a data error.
  CHECK(run_dmarcq(db, "ingest --strict", kHostile + "/truncated.xml").exit_code == 65);
  CHECK(run_dmarcq(db, "rejected").out.find("#2 ") == std::string::npos);
}

TEST_CASE("database problems are clear errors", "[integration]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  REQUIRE(run_dmarcq(db, "ingest " + quote(kSamples)).exit_code == 0);

  SECTION("a newer schema version is refused") {
    // PRAGMA user_version lives at byte 60 of the header, big-endian.
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(60);
    const char version[4] = {0, 0, 0x03, 0x15};  // 789
    file.write(version, 4);
    file.close();
    const CommandResult result = run_dmarcq(db, "export");
    CHECK(result.exit_code == 70);
    CHECK(result.err.find("schema version 789 is newer") != std::string::npos);
  }
  SECTION("a truncated database") {
    fs::resize_file(db, 1000);
    fs::remove(db + "-wal");
    fs::remove(db + "-shm");
    const CommandResult result = run_dmarcq(db, "ingest " + quote(kSamples));
    CHECK(result.exit_code != 0);
    CHECK(result.exit_code < 128);  // no crash
    CHECK(result.err.rfind("dmarcq: error: ", 0) == 0);
  }
  SECTION("db migrate creates or upgrades, and says to which version") {
    CHECK(run_dmarcq(db, "db migrate").out == "schema version 6\n");
    CHECK(run_dmarcq(dir.file("new.db"), "db migrate").out == "schema version 6\n");
    CHECK(run_dmarcq(dir.file("new.db"), "db check").out == "ok\n");
  }
  SECTION("upgrading a version 4 database: auth results move into records, the rollup is computed") {
    const std::vector<std::string> queries = {"export --format ndjson", "show 3",
        "summary --format json --since 2000-01-01", "sources --format json --since 2000-01-01",
        "impersonators --format json --since 2000-01-01", "timeline --format json --since 2000-01-01",
        "sources --format json --since 2000-01-01 --reporter Mail.Ru"};
    std::vector<std::string> before;
    for (const auto& query : queries) {
      const CommandResult result = run_dmarcq(db, query);
      REQUIRE(result.exit_code == 0);
      before.push_back(result.out);
    }
    // Back to version 4's tables: auth results in tables of their own (6),
    // daily_sources as the rollup (5).
    const std::string downgrade =
        "DROP VIEW dkim_results; DROP VIEW spf_results; DROP VIEW reasons; "
        "CREATE TABLE dkim_results (record INTEGER NOT NULL, seq INTEGER NOT NULL, domain TEXT NOT NULL, "
        "selector TEXT, result TEXT, result_raw TEXT, human_result TEXT, PRIMARY KEY (record, seq)) STRICT, "
        "WITHOUT ROWID; "
        "INSERT INTO dkim_results SELECT r.id, j.key, json_extract(j.value, '$.domain'), "
        "json_extract(j.value, '$.selector'), json_extract(j.value, '$.result'), "
        "json_extract(j.value, '$.result_raw'), json_extract(j.value, '$.human_result') "
        "FROM records r, json_each(r.dkim) j; "
        "CREATE TABLE spf_results (record INTEGER NOT NULL, seq INTEGER NOT NULL, domain TEXT NOT NULL, "
        "scope TEXT, scope_raw TEXT, result TEXT, result_raw TEXT, human_result TEXT, "
        "PRIMARY KEY (record, seq)) STRICT, WITHOUT ROWID; "
        "INSERT INTO spf_results SELECT r.id, j.key, json_extract(j.value, '$.domain'), "
        "json_extract(j.value, '$.scope'), json_extract(j.value, '$.scope_raw'), "
        "json_extract(j.value, '$.result'), json_extract(j.value, '$.result_raw'), "
        "json_extract(j.value, '$.human_result') FROM records r, json_each(r.spf) j; "
        "CREATE TABLE reasons (record INTEGER NOT NULL, seq INTEGER NOT NULL, type TEXT, type_raw TEXT, "
        "comment TEXT, PRIMARY KEY (record, seq)) STRICT, WITHOUT ROWID; "
        "INSERT INTO reasons SELECT r.id, j.key, json_extract(j.value, '$.type'), "
        "json_extract(j.value, '$.type_raw'), json_extract(j.value, '$.comment') "
        "FROM records r, json_each(r.reasons) j; "
        "ALTER TABLE records DROP COLUMN dkim; ALTER TABLE records DROP COLUMN spf; "
        "ALTER TABLE records DROP COLUMN reasons; "
        "DROP TABLE source_windows; DROP TABLE source_months; "
        "DROP TABLE rollup_profiles; DROP TABLE rollup_sources; DROP TABLE rollup_domains; "
        "DELETE FROM report_spans; CREATE TABLE daily_sources (end_ts INTEGER); "
        "CREATE INDEX records_ip ON records(ip); PRAGMA user_version = 4;";
    REQUIRE(run_command("sqlite3 " + quote(db) + " " + quote(downgrade)).exit_code == 0);
    CHECK(run_dmarcq(db, "summary").exit_code == 70);  // read-only: says to migrate
    CHECK(run_dmarcq(db, "db migrate").out == "schema version 6\n");
    for (std::size_t i = 0; i < queries.size(); ++i) CHECK(run_dmarcq(db, queries[i]).out == before[i]);
    CHECK(run_dmarcq(db, "db check").out == "ok\n");
  }
  SECTION("no database yet") {
    const CommandResult result = run_dmarcq(dir.file("none.db"), "export");
    CHECK(result.exit_code == 66);
    CHECK(result.err.find("run `dmarcq ingest` first") != std::string::npos);
  }
}

TEST_CASE("command line usage", "[integration]") {
  TempDir dir;
  CHECK(run_dmarcq(dir.file("d.db"), "--help").exit_code == 0);
  const CommandResult unknown = run_dmarcq(dir.file("d.db"), "frobnicate");
  CHECK(unknown.exit_code == 64);
  CHECK(run_dmarcq(dir.file("d.db"), "export --format xml").exit_code == 64);
  CHECK(run_dmarcq(dir.file("d.db"), "").exit_code == 64);
}

// Only the subcommand the command line names is built with its options
// (CommandSelection); every other one is listed by name.
TEST_CASE("the subcommand named is found past the global options and their values", "[integration]") {
  TempDir dir;
  const std::string sample = kSamples + "/google.com!example.org!1768003200!1768089599.zip";
  REQUIRE(fs::exists(sample));
  const std::string dmarcq = quote(DMARCQ_BINARY);
  // --db's value is a subcommand's name: the subcommand is the word after it.
  const CommandResult stored =
      run_command("cd " + quote(dir.path()) + " && " + dmarcq + " --busy-timeout 100 --group-readable --db summary ingest -q", sample);
  CHECK(stored.exit_code == 0);
  CHECK(fs::exists(dir.file("summary")));
  const CommandResult listed = run_command("cd " + quote(dir.path()) + " && " + dmarcq + " --db=summary reports");
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("google.com") != std::string::npos);

  const CommandResult help = run_command(dmarcq + " --help");
  REQUIRE(help.exit_code == 0);
  for (const char* name : {"ingest", "export", "conflicts", "rejected", "reprocess", "failures", "show-failure",
                           "summary", "sources", "impersonators", "timeline", "reports", "show", "sql", "db"})
    CHECK(help.out.find(std::string("\n  ") + name + " ") != std::string::npos);
  // A subcommand's own options are there when it is the one named.
  const CommandResult sources_help = run_command(dmarcq + " --db " + quote(dir.file("x.db")) + " sources --help");
  CHECK(sources_help.exit_code == 0);
  CHECK(sources_help.out.find("--failing") != std::string::npos);
  const CommandResult check = run_command(dmarcq + " --db=" + quote(dir.file("summary")) + " db check");
  CHECK(check.exit_code == 0);

  // "--db= PATH": CLI11 takes the next word as the value.
  const CommandResult spaced = run_command(dmarcq + " --db= " + quote(dir.file("summary")) + " reports --format json");
  CHECK(spaced.exit_code == 0);
  CHECK(spaced.out.find("google.com") != std::string::npos);
  const CommandResult delivered =
      run_command(dmarcq + " --db= " + quote(dir.file("other.db")) + " ingest",
                  kSamples + "/yahoo.com!example.org!1770076800!1770163199.xml");
  CHECK(delivered.exit_code == 0);
  CHECK(fs::exists(dir.file("other.db")));
  // A usage error names the problem, as with every subcommand built.
  const CommandResult unknown_option = run_command(dmarcq + " --db " + quote(dir.file("x.db")) + " summary --bogus");
  CHECK(unknown_option.exit_code == 64);
  CHECK(unknown_option.err.find("--bogus") != std::string::npos);
}
