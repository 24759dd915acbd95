// Integration tests of the query commands on tests/data/query (four reports,
// hand-computed expectations in tests/data/query/README.md) and on the shared
// corpus.
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
using dmarcq::test::read_text_file;
using dmarcq::test::run_command;
using dmarcq::test::TempDir;

namespace {

const std::string kData = std::string(DMARCQ_TEST_DATA) + "/query";

// No allow-list from the environment unless a test passes one.
CommandResult run_dmarcq(const std::string& db, const std::string& arguments) {
  return run_command("XDG_CONFIG_HOME=/nonexistent DMARCQ_ALLOW_LIST= NO_COLOR= " + quote(DMARCQ_BINARY) +
                     " --db " + quote(db) + " " + arguments);
}

json query_json(const std::string& db, const std::string& arguments) {
  const CommandResult result = run_dmarcq(db, arguments + " --format json");
  INFO(arguments << "\n" << result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out);
}

// The fixture database, ingested once per test case.
struct QueryDb {
  TempDir dir;
  std::string db = dir.file("q.db");
  QueryDb() {
    const CommandResult ingest = run_dmarcq(db, "ingest " + quote(kData + "/reports"));
    INFO(ingest.err);
    REQUIRE(ingest.exit_code == 0);
    REQUIRE(ingest.out == "4 inputs: 4 reports stored (15 records), 0 duplicates, 0 conflicts, 0 rejected\n");
  }
};

std::map<std::string, json> by_key(const json& rows, const std::string& key) {
  std::map<std::string, json> map;
  for (const auto& row : rows) map[row[key].get<std::string>()] = row;
  return map;
}

std::vector<std::string> column(const json& rows, const std::string& key) {
  std::vector<std::string> values;
  for (const auto& row : rows) values.push_back(row[key].get<std::string>());
  return values;
}

}  // namespace

TEST_CASE("summary: hand-computed totals, classes, PSL and strict alignment, policy changes", "[query]") {
  QueryDb q;
  const auto rows = by_key(query_json(q.db, "summary"), "domain");
  REQUIRE(rows.size() == 2);
  const json& uk = rows.at("example.co.uk");
  CHECK(uk["reports"] == 3);
  CHECK(uk["reporters"] == 2);
  CHECK(uk["messages"] == 264);
  CHECK(uk["aligned"] == 160);      // mail.example.co.uk aligns with example.co.uk (PSL, relaxed)
  CHECK(uk["dkim_only"] == 20);     // news.example.co.uk signed by example.co.uk
  CHECK(uk["spf_only"] == 5);
  CHECK(uk["forwarded"] == 7);
  CHECK(uk["misaligned"] == 30);
  CHECK(uk["impersonation"] == 42);
  CHECK(uk["dmarc_pass_pct"] == 70.1);   // 185 / 264
  CHECK(uk["spf_aligned_pct"] == 62.5);  // 165 / 264
  CHECK(uk["dkim_aligned_pct"] == 68.2); // 180 / 264
  CHECK(uk["none"] == 196);
  CHECK(uk["quarantine"] == 36);
  CHECK(uk["reject"] == 32);
  CHECK(uk["receiver_disagrees"] == 12);  // 198.51.100.66: the receiver says SPF pass
  // Effective policy, the RFC's defaults left out (the reports say adkim=r aspf=r).
  CHECK(uk["policy"] == json::array({"p=reject (from 2026-01-10)", "p=quarantine (from 2026-01-20)"}));
  const json& strict = rows.at("strict.example");
  CHECK(strict["messages"] == 56);
  CHECK(strict["spf_only"] == 50);      // strict: mail.strict.example's DKIM does not align
  CHECK(strict["misaligned"] == 4);     // strict: both passed for mail.strict.example only
  CHECK(strict["impersonation"] == 2);
  CHECK(strict["dkim_aligned_pct"] == 0.0);
  CHECK(strict["receiver_disagrees"] == 4);
  CHECK(strict["policy"] == json::array({"p=none adkim=s aspf=s"}));
}

TEST_CASE("time-window edges use the overlap rule", "[query]") {
  QueryDb q;
  // Report a ends at 1768089599: `end > since` excludes it at since = its end.
  auto rows = by_key(query_json(q.db, "summary --since @1768089599"), "domain");
  CHECK(rows.at("example.co.uk")["messages"] == 73 + 14);
  CHECK(rows.at("strict.example")["messages"] == 56);  // b ends at 1768089600
  // Report c begins at 1768089600: `begin < until` excludes it.
  rows = by_key(query_json(q.db, "summary --until @1768089600"), "domain");
  CHECK(rows.at("example.co.uk")["messages"] == 177);
  CHECK(rows.at("strict.example")["messages"] == 56);
  rows = by_key(query_json(q.db, "summary --since 2026-01-20 --until 2026-01-21"), "domain");
  REQUIRE(rows.size() == 1);
  CHECK(rows.at("example.co.uk")["messages"] == 14);
  CHECK(rows.at("example.co.uk")["reports"] == 1);

  const CommandResult empty = run_dmarcq(q.db, "summary --domain example.co.uk --since 2027-01-01");
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.empty());
  CHECK(empty.err == "dmarcq: no reports for example.co.uk since 2027-01-01T00:00:00Z\n");
}

TEST_CASE("sources: per IP, --failing, --ip, --reporter, --by network, --min-count, --limit", "[query]") {
  QueryDb q;
  const json all = query_json(q.db, "sources");
  CHECK(column(all, "source") ==
        std::vector<std::string>{"192.0.2.1", "192.0.2.10", "2001:db8:1:2::5", "198.51.100.66", "192.0.2.2",
                                 "2001:db8:1:2::77", "203.0.113.9", "198.51.100.200", "198.51.100.7",
                                 "192.0.2.3", "203.0.113.50", "2001:db8:1:3::9"});
  const auto rows = by_key(all, "source");
  const json& mx = rows.at("192.0.2.1");
  CHECK(mx["messages"] == 150);
  CHECK(mx["spf_aligned_pass"] == 150);
  CHECK(mx["dkim_aligned_pass"] == 100);
  CHECK(mx["dkim_aligned_fail"] == 50);
  CHECK(mx["failing"] == "dkim");
  CHECK(mx["classes"] == json::array({"aligned:100", "spf-only:50"}));
  CHECK(mx["reporters"] == json::array({"Receiver One", "Receiver Two"}));
  CHECK(mx["dkim_domains"] == json::array({"mail.example.co.uk/s1", "mail.strict.example/s1"}));
  CHECK(mx["domains"] == json::array({"example.co.uk", "strict.example"}));
  CHECK(rows.at("2001:db8:1:2::5")["unaligned_pass_domains"] == json::array({"esp.example"}));
  CHECK(rows.at("198.51.100.66")["receiver_disagrees"] == 12);
  CHECK(rows.at("198.51.100.66")["first_seen"] == "2026-01-10");
  CHECK(rows.at("198.51.100.66")["last_seen"] == "2026-01-20");

  // --failing drops only 192.0.2.10 (aligned throughout); dkim-only/spf-only stay.
  const auto failing = by_key(query_json(q.db, "sources --failing"), "source");
  CHECK(failing.size() == 11);
  CHECK(failing.count("192.0.2.10") == 0);
  CHECK(failing.at("192.0.2.2")["failing"] == "spf");
  CHECK(failing.at("198.51.100.7")["failing"] == "dkim");

  CHECK(column(query_json(q.db, "sources --ip 2001:db8:1::/48"), "source") ==
        std::vector<std::string>{"2001:db8:1:2::5", "2001:db8:1:2::77", "2001:db8:1:3::9"});
  CHECK(column(query_json(q.db, "sources --ip 198.51.100.66"), "source") == std::vector<std::string>{"198.51.100.66"});

  // --reporter reads the base tables (the rollup sums reporters).
  const json two = query_json(q.db, "sources --reporter 'Receiver Two'");
  CHECK(column(two, "source") == std::vector<std::string>{"192.0.2.1", "192.0.2.3", "198.51.100.66"});
  CHECK(two[0]["messages"] == 50);
  CHECK(two[0]["reporters"] == json::array({"Receiver Two"}));

  const auto networks = by_key(query_json(q.db, "sources --by network"), "source");
  CHECK(networks.at("2001:db8:1::/48")["messages"] == 42);
  CHECK(networks.at("2001:db8:1::/48")["addresses"] == 3);
  CHECK(networks.at("192.0.2.0/24")["messages"] == 234);
  const auto wide = by_key(query_json(q.db, "sources --by network --v6-prefix 32 --v4-prefix 16"), "source");
  CHECK(wide.at("2001:db8::/32")["messages"] == 42);
  CHECK(wide.at("198.51.0.0/16")["messages"] == 33);

  CHECK(query_json(q.db, "sources --min-count 30").size() == 3);
  CHECK(column(query_json(q.db, "sources --limit 2 --sort source"), "source") ==
        std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
}

TEST_CASE("impersonators, allow-list, --include-misaligned, --by network", "[query]") {
  QueryDb q;
  const json plain = query_json(q.db, "impersonators");
  CHECK(column(plain, "source") == std::vector<std::string>{"198.51.100.66", "2001:db8:1:2::77",
                                                           "198.51.100.200", "203.0.113.50", "2001:db8:1:3::9"});
  CHECK(plain[0]["messages"] == 22);
  CHECK(plain[0]["reject"] == 20);
  CHECK(plain[0]["none"] == 2);
  CHECK(plain[0]["reporters"] == json::array({"Receiver One", "Receiver Three", "Receiver Two"}));

  const json misaligned = query_json(q.db, "impersonators --include-misaligned");
  CHECK(column(misaligned, "source") ==
        std::vector<std::string>{"2001:db8:1:2::5", "198.51.100.66", "2001:db8:1:2::77", "198.51.100.200",
                                 "192.0.2.3", "203.0.113.50", "2001:db8:1:3::9"});
  CHECK(misaligned[0]["class"] == "misaligned");
  CHECK(misaligned[0]["unaligned_pass_domains"] == json::array({"esp.example"}));

  // Known senders are never impersonators, from --allow-list, $DMARCQ_ALLOW_LIST or XDG_CONFIG_HOME.
  const std::string senders = kData + "/senders";
  const std::vector<std::string> expected{"198.51.100.66", "2001:db8:1:2::77", "198.51.100.200", "2001:db8:1:3::9"};
  CHECK(column(query_json(q.db, "impersonators --include-misaligned --allow-list " + quote(senders)), "source") ==
        expected);
  const CommandResult env = run_command("DMARCQ_ALLOW_LIST=" + quote(senders) + " " + quote(DMARCQ_BINARY) +
                                        " --db " + quote(q.db) + " impersonators --include-misaligned --format json");
  REQUIRE(env.exit_code == 0);
  CHECK(column(json::parse(env.out), "source") == expected);
  fs::create_directories(q.dir.file("config/dmarcq"));
  fs::copy_file(senders, q.dir.file("config/dmarcq/senders"));
  const CommandResult xdg = run_command("DMARCQ_ALLOW_LIST= XDG_CONFIG_HOME=" + quote(q.dir.file("config")) + " " +
                                        quote(DMARCQ_BINARY) + " --db " + quote(q.db) +
                                        " impersonators --include-misaligned --format json");
  REQUIRE(xdg.exit_code == 0);
  CHECK(column(json::parse(xdg.out), "source") == expected);
  // ... and labelled in sources.
  const auto labelled = by_key(query_json(q.db, "sources --allow-list " + quote(senders)), "source");
  CHECK(labelled.at("192.0.2.1")["label"] == "our mail servers");
  CHECK(labelled.at("203.0.113.50")["label"] == "crm-vendor");
  CHECK(labelled.at("2001:db8:1:2::5")["label"] == "esp");
  CHECK(labelled.at("198.51.100.66")["label"] == "");

  const auto networks = by_key(query_json(q.db, "impersonators --by network"), "source");
  CHECK(networks.size() == 3);
  CHECK(networks.at("198.51.100.0/24")["messages"] == 28);
  CHECK(networks.at("198.51.100.0/24")["addresses"] == 2);
  CHECK(networks.at("2001:db8:1::/48")["messages"] == 12);
  CHECK(networks.at("203.0.113.0/24")["messages"] == 4);

  const CommandResult bad = run_dmarcq(q.db, "impersonators --allow-list " + quote(kData + "/reports/a-receiver-one-2026-01-10.xml"));
  CHECK(bad.exit_code == 64);
}

TEST_CASE("impersonators --new-since and --exit-status for cron", "[query]") {
  QueryDb q;
  // Report d (2026-01-20) has 198.51.100.66 (seen on 2026-01-10 already) and 198.51.100.200 (new).
  const CommandResult fresh = run_dmarcq(q.db, "impersonators --new-since @1768867200 --exit-status --format json");
  CHECK(fresh.exit_code == 1);
  CHECK(column(json::parse(fresh.out), "source") == std::vector<std::string>{"198.51.100.200"});
  const CommandResult none = run_dmarcq(q.db, "impersonators --new-since @1768953599 --exit-status");
  CHECK(none.exit_code == 0);
  CHECK(none.out.empty());
  const CommandResult without = run_dmarcq(q.db, "impersonators --new-since @1768867200");
  CHECK(without.exit_code == 0);
}

TEST_CASE("timeline, reports, show", "[query]") {
  QueryDb q;
  const json days = query_json(q.db, "timeline");
  CHECK(column(days, "period") == std::vector<std::string>{"2026-01-10", "2026-01-11", "2026-01-20"});
  CHECK(days[0]["messages"] == 233);  // a + b (b's midpoint is on the 10th)
  CHECK(days[1]["messages"] == 73);
  CHECK(days[2]["impersonation"] == 14);
  const json weeks = query_json(q.db, "timeline --by week");
  CHECK(column(weeks, "period") == std::vector<std::string>{"2026-01-05", "2026-01-19"});
  CHECK(weeks[0]["messages"] == 306);
  const json months = query_json(q.db, "timeline --by month");
  REQUIRE(months.size() == 1);
  CHECK(months[0]["period"] == "2026-01");
  CHECK(months[0]["messages"] == 320);

  const json reports = query_json(q.db, "reports");
  CHECK(column(reports, "report_id") == std::vector<std::string>{"d-\\xc2\\x9b31m-1", "c-1", "b-1", "a-1"});
  CHECK(query_json(q.db, "reports --reporter 'Receiver One' --sort oldest").size() == 2);

  const CommandResult shown = run_dmarcq(q.db, "show b-1 --format json");
  REQUIRE(shown.exit_code == 0);
  const json report = json::parse(shown.out);
  CHECK(report["domain"] == "strict.example");
  REQUIRE(report["record_list"].size() == 3);
  CHECK(report["record_list"][0]["class"] == "spf-only");
  CHECK(report["record_list"][0]["dkim"] == json::array({"mail.strict.example/s1=pass"}));
  const CommandResult table = run_dmarcq(q.db, "show 4");
  CHECK(table.exit_code == 0);
  CHECK(table.out.find('\x1b') == std::string::npos);
  CHECK(table.out.find("\xc2\x9b") == std::string::npos);  // C1 CSI from the report id, escaped
  CHECK(table.out.find("d-\\xc2\\x9b31m-1") != std::string::npos);
  CHECK(run_dmarcq(q.db, "show no-such-report").exit_code == 65);
}

TEST_CASE("golden output in every format", "[query]") {
  QueryDb q;
  const std::string golden = kData + "/golden/";
  for (const std::string format : {"table", "csv", "tsv", "json"}) {
    INFO(format);
    const CommandResult sources = run_dmarcq(q.db, "sources --domain strict.example --format " + format);
    REQUIRE(sources.exit_code == 0);
    CHECK(sources.out == read_text_file(golden + "sources-strict." + format));
    const CommandResult summary = run_dmarcq(q.db, "summary --format " + format);
    REQUIRE(summary.exit_code == 0);
    CHECK(summary.out == read_text_file(golden + "summary." + format));
  }
  for (const std::string format : {"table", "csv", "tsv", "json"}) {
    INFO(format);
    const CommandResult imp = run_dmarcq(
        q.db, "impersonators --include-misaligned --allow-list " + quote(kData + "/senders") + " --format " + format);
    REQUIRE(imp.exit_code == 0);
    CHECK(imp.out == read_text_file(golden + "impersonators-allow-list." + format));
    const CommandResult networks = run_dmarcq(q.db, "sources --by network --format " + format);
    REQUIRE(networks.exit_code == 0);
    CHECK(networks.out == read_text_file(golden + "sources-network." + format));
  }
  // CSV per RFC 4180: CRLF line ends, the comma-holding policy quoted.
  const std::string csv = read_text_file(golden + "summary.csv");
  CHECK(csv.find("\r\n") != std::string::npos);
  CHECK(csv.find("\"p=reject (from 2026-01-10), p=quarantine (from 2026-01-20)\"") !=
        std::string::npos);
}

TEST_CASE("the rollup equals a rebuild from the records", "[query]") {
  QueryDb q;
  const std::string before = run_dmarcq(q.db, "sources --format json").out + run_dmarcq(q.db, "summary --format json").out;
  const CommandResult rebuild = run_dmarcq(q.db, "db rebuild-rollups");
  CHECK(rebuild.exit_code == 0);
  const std::string after = run_dmarcq(q.db, "sources --format json").out + run_dmarcq(q.db, "summary --format json").out;
  CHECK(before == after);
  // Ingesting the same files again changes nothing.
  run_dmarcq(q.db, "ingest " + quote(kData + "/reports"));
  CHECK(run_dmarcq(q.db, "sources --format json").out + run_dmarcq(q.db, "summary --format json").out == before);
}

TEST_CASE("dmarcq sql is read-only", "[query]") {
  QueryDb q;
  const json count = query_json(q.db, "sql \"SELECT count(*) AS n, sum(count) AS messages FROM records\"");
  CHECK(count == json::parse(R"([{"n": 15, "messages": 320}])"));
  CHECK(query_json(q.db, "sql 'PRAGMA table_info(reports)'").size() > 10);
  for (const std::string statement :
       {"INSERT INTO reporters (org_name) VALUES ('x')", "DELETE FROM records", "UPDATE records SET count = 0",
        "DROP TABLE records", "ATTACH DATABASE '/tmp/x.db' AS x", "PRAGMA writable_schema = ON",
        "PRAGMA journal_mode = DELETE", "SELECT load_extension('/tmp/x.so')", "CREATE TABLE t (x)",
        "BEGIN", "VACUUM", "SELECT 1; DELETE FROM records"}) {
    INFO(statement);
    const CommandResult result = run_dmarcq(q.db, "sql " + quote(statement));
    CHECK(result.exit_code == 64);
    CHECK(result.out.empty());
  }
  CHECK(query_json(q.db, "sql 'SELECT count(*) AS n FROM records'")[0]["n"] == 15);
}

TEST_CASE("bad option values exit 64; a missing database exits 66", "[query]") {
  QueryDb q;
  for (const std::string arguments : {"summary --since yesterday-ish", "sources --ip 300.1.1.1", "sources --format xml",
                                      "timeline --by year", "sources --limit 0", "sources --sort nothing",
                                      "impersonators --new-since soon", "sources --min-count -1"}) {
    INFO(arguments);
    const CommandResult result = run_dmarcq(q.db, arguments);
    CHECK(result.exit_code == 64);
    CHECK(!result.err.empty());
  }
  const CommandResult missing = run_dmarcq(q.dir.file("none.db"), "summary");
  CHECK(missing.exit_code == 66);
  CHECK(missing.err.find("no database at") != std::string::npos);
  CHECK(missing.err.find("run `dmarcq ingest` first") != std::string::npos);
}

TEST_CASE("queries on the shared corpus", "[query][corpus]") {
  const char* env = std::getenv("DMARCQ_CORPUS");
  const std::string corpus = env && *env ? env : std::string(DMARCQ_SHARED_DIR) + "/corpus";
  if (!fs::exists(corpus)) {
    WARN("SKIPPED: no shared corpus at " << corpus);
    return;
  }
  TempDir dir;
  const std::string db = dir.file("c.db");
  run_dmarcq(db, "ingest -q " + quote(corpus));
  // Whatever the corpus holds, the query layer must agree with the records.
  const json totals = query_json(db, "sql 'SELECT coalesce(sum(count), 0) AS m FROM records'");
  const long long messages = totals[0]["m"].get<long long>();
  long long summed = 0, by_source = 0, by_day = 0;
  for (const auto& row : query_json(db, "summary")) summed += row["messages"].get<long long>();
  for (const auto& row : query_json(db, "sources")) by_source += row["messages"].get<long long>();
  for (const auto& row : query_json(db, "timeline --by month")) by_day += row["messages"].get<long long>();
  CHECK(summed == messages);
  CHECK(by_source == messages);
  CHECK(by_day == messages);
  const json impersonation = query_json(db, "sql \"SELECT coalesce(sum(count), 0) AS m FROM records WHERE class = 'impersonation'\"");
  long long listed = 0;
  for (const auto& row : query_json(db, "impersonators")) listed += row["messages"].get<long long>();
  CHECK(listed == impersonation[0]["m"].get<long long>());
  const std::string before = query_json(db, "sources").dump();
  REQUIRE(run_dmarcq(db, "db rebuild-rollups").exit_code == 0);
  CHECK(query_json(db, "sources").dump() == before);
}
