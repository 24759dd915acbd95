// Failure (forensic) reports through the binary: linked to the aggregate
// sources, listed, shown, exported; personal data handling (--redact,
// --keep-bodies).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/process.hpp"

using nlohmann::json;
using dmarcq::test::CommandResult;
using dmarcq::test::quote;
using dmarcq::test::run_command;
using dmarcq::test::TempDir;

namespace {

const std::string kData = DMARCQ_TEST_DATA;
const std::string kArf = kData + "/failure/arf-strict-example.eml";

CommandResult run_dmarcq(const std::string& db, const std::string& arguments, const std::string& stdin_file = {}) {
  return run_command(quote(DMARCQ_BINARY) + " --db " + quote(db) + " " + arguments, stdin_file);
}

}  // namespace

TEST_CASE("failure reports are linked to the sources that sent the mail", "[integration][failure]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  REQUIRE(run_dmarcq(db, "ingest -q " + quote(kData + "/query/reports")).exit_code == 0);
  const CommandResult stored = run_dmarcq(db, "ingest", kArf);
  CHECK(stored.exit_code == 0);

  const json impersonators = json::parse(run_dmarcq(db, "impersonators --domain strict.example --format json").out);
  bool linked = false;
  for (const auto& row : impersonators)
    if (row["source"] == "198.51.100.66") linked = row["failure_reports"] == 1;
  CHECK(linked);
  const json networks = json::parse(run_dmarcq(db, "sources --by network --format json").out);
  for (const auto& row : networks)
    if (row["source"] == "198.51.100.0/24") CHECK(row["failure_reports"] == 1);

  const json listed = json::parse(run_dmarcq(db, "failures --ip 198.51.100.0/24 --format json").out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["source_ip"] == "198.51.100.66");
  CHECK(listed[0]["reported_domain"] == "strict.example");
  CHECK(listed[0]["subject"] == "Urgent wire transfer");
  CHECK(listed[0]["auth_failure"] == json::array({"dmarc"}));
  CHECK(listed[0]["arrival_date"] == "2026-01-10T12:34:56Z");
  CHECK(json::parse(run_dmarcq(db, "failures --ip 192.0.2.0/24 --format json").out).empty());
  CHECK(json::parse(run_dmarcq(db, "failures --since 2026-01-11 --format json").out).empty());

  const CommandResult shown = run_dmarcq(db, "show-failure 1");
  CHECK(shown.out.find("Source-IP                    198.51.100.66 (spoofer.example.net)") != std::string::npos);
  CHECK(shown.out.find("Identity-Alignment           none") != std::string::npos);
  CHECK(run_dmarcq(db, "show-failure 99").exit_code == 64);

  // The same report again: stored once.
  CHECK(run_dmarcq(db, "ingest -v", kArf).err.find("1 failure report") != std::string::npos);
  CHECK(json::parse(run_dmarcq(db, "export --kind failure --format json").out).size() == 1);
}

TEST_CASE("personal data: bodies only on request, addresses redacted on request", "[integration][failure]") {
  TempDir dir;
  SECTION("by default the original body is not kept") {
    REQUIRE(run_dmarcq(dir.file("a.db"), "ingest", kArf).exit_code == 0);
    const json exported = json::parse(run_dmarcq(dir.file("a.db"), "export --kind failure --format json").out);
    CHECK(exported[0]["original"]["body"].is_null());
    CHECK(exported[0]["original"]["headers"].get<std::string>().find("Subject: Urgent wire transfer") !=
          std::string::npos);
  }
  SECTION("--keep-bodies keeps it") {
    REQUIRE(run_dmarcq(dir.file("b.db"), "ingest --keep-bodies", kArf).exit_code == 0);
    const json exported = json::parse(run_dmarcq(dir.file("b.db"), "export --kind failure --format json").out);
    CHECK(exported[0]["original"]["body"].get<std::string>().find("wire the money") != std::string::npos);
  }
  SECTION("--redact hashes every local part, the same way every time") {
    REQUIRE(run_dmarcq(dir.file("c.db"), "ingest --redact", kArf).exit_code == 0);
    const std::string exported = run_dmarcq(dir.file("c.db"), "export --kind failure").out;
    CHECK(exported.find("ceo.office") == std::string::npos);
    CHECK(exported.find("victim.person") == std::string::npos);
    CHECK(exported.find("@strict.example") != std::string::npos);
    const json report = json::parse(exported);
    const std::string from = report["original_mail_from"];
    CHECK(from.rfind("<h-", 0) == 0);
    CHECK(report["original"]["from"].get<std::string>().find(from.substr(1, 14)) != std::string::npos);
  }
}
