// The SQLite store: migrations, dedup, conflicts, round trip.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <sqlite3.h>

#include "../support/process.hpp"
#include "../support/sqlite_wal.hpp"
#include "../../src/store/wal_reuse_vfs.hpp"
#include "dmarcq/error.hpp"
#include "dmarcq/ip.hpp"
#include "dmarcq/store.hpp"

using namespace dmarcq;

namespace {

AggregateReport make_report(const std::string& report_id, std::int64_t count) {
  AggregateReport report;
  report.org_name = "receiver.example";
  report.email = "dmarc@receiver.example";
  report.report_id = report_id;
  report.begin = 1'768'003'200;
  report.end = 1'768'089'599;
  report.policy.domain = "example.org";
  report.policy.p = parse_policy("reject");
  report.policy.adkim = parse_alignment_mode("s");
  report.policy.pct = 100;
  Record record;
  record.source_ip = "192.0.2.1";
  record.source_ip_valid = true;
  record.count = count;
  record.disposition = parse_disposition("reject");
  record.policy_evaluated_dkim = parse_dmarc_result("fail");
  record.policy_evaluated_spf = parse_dmarc_result("weird-value");
  record.header_from = "example.org";
  record.envelope_from = "";
  record.dkim.push_back({"evil.example.com", "s1", parse_dkim_result("pass"), std::nullopt});
  record.spf.push_back({"evil.example.com", parse_spf_scope("mfrom"), parse_spf_result("pass"), std::nullopt});
  record.reasons.push_back({parse_reason_type("local_policy"), "arc=fail"});
  record.verdict.traffic_class = TrafficClass::misaligned;
  record.verdict.unaligned_dkim_pass_domain = "evil.example.com";
  report.records.push_back(record);
  return report;
}

IncomingReport incoming(const AggregateReport& report, const std::string& sha) {
  IncomingReport in;
  in.report = &report;
  in.provenance.file = "test.xml";
  in.provenance.payload_sha256 = sha;
  in.payload = "<feedback/>";
  return in;
}

std::vector<StoredReport> all_reports(Store& store) {
  std::vector<StoredReport> reports;
  store.for_each_report({}, [&](const StoredReport& stored) { reports.push_back(stored); });
  return reports;
}

// Stores one report named `name`, carrying a raw payload of `raw_bytes`
// (its pages are most of what the commit writes), in a batch of its own.
void store_with_raw_payload(Store& store, const AggregateReport& base, const std::string& name,
                            std::size_t raw_bytes) {
  AggregateReport report = base;
  report.report_id = name;
  const std::string raw = std::string(raw_bytes, 'r') + name;
  IncomingReport in = incoming(report, "sha-" + name);
  in.raw_payload = raw;
  in.raw_payload_sha256 = "raw-" + name;
  auto batch = store.begin_batch();
  REQUIRE(batch->add_reports({in})[0].outcome == AddOutcome::stored);
  batch->commit();
}

}  // namespace

TEST_CASE("a new database is migrated to the latest schema", "[store]") {
  test::TempDir dir;
  auto store = open_sqlite_store({dir.file("d.db")});
  CHECK(store->schema_version() == latest_schema_version());
  CHECK(latest_schema_version() >= 1);
  // Reopening is a no-op.
  store.reset();
  CHECK(open_sqlite_store({dir.file("d.db")})->schema_version() == latest_schema_version());
}

TEST_CASE("reports round-trip through the store", "[store]") {
  test::TempDir dir;
  auto store = open_sqlite_store({dir.file("d.db")});
  const AggregateReport report = make_report("r1", 5);
  const auto results = store->add_reports({incoming(report, "sha-1")});
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == AddOutcome::stored);
  const auto stored = all_reports(*store);
  REQUIRE(stored.size() == 1);
  const AggregateReport& back = stored[0].report;
  CHECK(back.org_name == report.org_name);
  CHECK(back.policy == report.policy);
  REQUIRE(back.records.size() == 1);
  CHECK(back.records[0].dkim == report.records[0].dkim);
  CHECK(back.records[0].spf == report.records[0].spf);
  CHECK(back.records[0].reasons == report.records[0].reasons);
  CHECK(back.records[0].policy_evaluated_spf.value == DmarcResult::unknown);
  CHECK(back.records[0].policy_evaluated_spf.raw == "weird-value");
  CHECK(back.records[0].envelope_from == std::optional<std::string>(""));
  CHECK(back.records[0].envelope_to == std::nullopt);
  CHECK(back.records[0].verdict.traffic_class == TrafficClass::misaligned);
  CHECK(stored[0].provenance.payload_sha256 == "sha-1");
}

TEST_CASE("multi-row inserts store exactly what one-row inserts store", "[store]") {
  // Chunks of 16, 8, 4, 2 and 1 rows (37 = 16 + 16 + 4 + 1, 15 = 8 + 4 + 2 + 1),
  // a report without records, texts that need JSON escapes, sources that are
  // not IPs, absent optional fields.
  std::vector<AggregateReport> reports;
  for (const std::size_t size : {37u, 16u, 1u, 15u, 0u}) {
    AggregateReport report = make_report("r" + std::to_string(size), 3);
    report.end += static_cast<std::int64_t>(size);  // windows of their own
    const Record first = report.records.front();
    report.records.clear();
    for (std::size_t i = 0; i < size; ++i) {
      Record record = first;
      record.source_ip = "192.0.2." + std::to_string(i % 20);
      record.source_ip_key = parse_ip(record.source_ip)->bytes;  // as normalize_report sets it
      record.count = static_cast<std::int64_t>(i + 1);
      if (i % 5 == 3) {
        record.source_ip = "not-an-ip-" + std::to_string(i % 10);
        record.source_ip_valid = false;
        record.source_ip_key = {};
      }
      if (i % 4 == 1) record.envelope_from.reset();
      if (i % 3 == 2) record.dkim.front().domain = "quote\"back\\slash\nnew\tline\x01" + std::to_string(i);
      if (i % 7 == 6) record.reasons.clear();
      report.records.push_back(record);
    }
    reports.push_back(std::move(report));
  }

  auto dump = [](const std::string& path) {
    const std::string sql =
        "SELECT report, source_ip, hex(ip), count, disposition, disposition_raw, dkim_evaluated, "
        "dkim_evaluated_raw, spf_evaluated, spf_evaluated_raw, header_from, envelope_from, envelope_to, "
        "dkim_aligned, spf_aligned, dmarc_pass, class, unaligned_dkim_domain, unaligned_spf_domain, "
        "dkim, spf, reasons FROM records ORDER BY id; "
        "SELECT * FROM source_windows ORDER BY 1, 2, 3, 4, 5, 6; "
        "SELECT * FROM source_months ORDER BY 1, 2, 3, 4, 5; SELECT * FROM rollup_sources ORDER BY id";
    const auto result = test::run_command("sqlite3 " + test::quote(path) + " " + test::quote(sql));
    REQUIRE(result.exit_code == 0);
    return result.out;
  };
  auto store_all = [&](const std::string& path, bool multi_row) {
    StoreOptions options{path};
    options.multi_row_inserts = multi_row;
    auto store = open_sqlite_store(options);
    auto batch = store->begin_batch();
    for (const AggregateReport& report : reports) {
      IncomingReport in = incoming(report, "sha-" + report.report_id);
      in.encoded = encode_records(report);  // what the batch import's parse workers hand over
      REQUIRE(batch->add_reports({in})[0].outcome == AddOutcome::stored);
    }
    batch->commit();
    return store;
  };

  test::TempDir dir;
  auto multi = store_all(dir.file("multi.db"), true);
  store_all(dir.file("single.db"), false);
  const std::string multi_rows = dump(dir.file("multi.db"));
  CHECK(multi_rows == dump(dir.file("single.db")));
  CHECK(std::count(multi_rows.begin(), multi_rows.end(), '\n') > 69);
  // 16 addresses (192.0.2.N but for N % 5 == 3) and two other sources (not-an-ip-3, -8).
  const auto sources = test::run_command("sqlite3 " + test::quote(dir.file("multi.db")) +
                                         " \"SELECT count(*), count(ip) FROM rollup_sources\"");
  CHECK(sources.out == "18|16\n");

  const auto stored = all_reports(*multi);
  REQUIRE(stored.size() == reports.size());
  for (std::size_t r = 0; r < reports.size(); ++r) {
    REQUIRE(stored[r].report.records.size() == reports[r].records.size());
    for (std::size_t i = 0; i < reports[r].records.size(); ++i) {
      const Record& back = stored[r].report.records[i];
      const Record& original = reports[r].records[i];
      CHECK(back.source_ip == original.source_ip);
      CHECK(back.count == original.count);
      CHECK(back.envelope_from == original.envelope_from);
      CHECK(back.dkim == original.dkim);
      CHECK(back.spf == original.spf);
      CHECK(back.reasons == original.reasons);
    }
  }
}

TEST_CASE("rollup sources stay right past the source id cache's capacity", "[store]") {
  // 40,000 addresses: more than the writer caches (32,768), so it empties
  // its cache and finds earlier sources in the database again (the last
  // report's, imported with an earlier end than any before it).
  auto report_with = [](const std::string& id, std::int64_t end, std::size_t first, std::size_t count) {
    AggregateReport report = make_report(id, 1);
    report.end = end;
    const Record model = report.records.front();
    report.records.clear();
    for (std::size_t i = first; i < first + count; ++i) {
      Record record = model;
      record.source_ip = "10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                         std::to_string(i & 255);
      record.source_ip_key = parse_ip(record.source_ip)->bytes;  // as normalize_report sets it
      record.count = static_cast<std::int64_t>(i % 7 + 1);
      report.records.push_back(record);
    }
    Record unusual = model;
    unusual.source_ip = "unknown-host";
    unusual.source_ip_valid = false;
    unusual.source_ip_key = {};
    report.records.push_back(unusual);
    return report;
  };
  const AggregateReport later = report_with("later", 1'768'200'000, 0, 100);
  const AggregateReport big = report_with("big", 1'768'100'000, 0, 40'000);
  const AggregateReport again = report_with("again", 1'768'300'000, 39'900, 200);
  // Sources long gone from the cache, found in the database, with an earlier end.
  const AggregateReport earliest = report_with("earliest", 1'768'000'000, 0, 100);

  test::TempDir dir;
  const std::string path = dir.file("d.db");
  StoreOptions options{path};
  options.multi_row_inserts = true;
  auto store = open_sqlite_store(options);
  for (const AggregateReport* report : {&later, &big, &again, &earliest}) {
    IncomingReport in = incoming(*report, "sha-" + report->report_id);
    in.encoded = encode_records(*report);
    auto batch = store->begin_batch();
    REQUIRE(batch->add_reports({in})[0].outcome == AddOutcome::stored);
    batch->commit();
  }
  auto query = [&](const std::string& sql) {
    const auto result = test::run_command("sqlite3 " + test::quote(path) + " " + test::quote(sql));
    REQUIRE(result.exit_code == 0);
    return result.out;
  };
  CHECK(query("SELECT count(*), count(ip) FROM rollup_sources") == "40101|40100\n");
  // Every source's messages in the rollup are its records' messages.
  CHECK(query("SELECT count(*) FROM (SELECT source_ip, sum(count) AS n FROM records GROUP BY source_ip) r "
              "FULL JOIN (SELECT s.source_ip, sum(w.messages) AS n FROM source_windows w "
              "JOIN rollup_sources s ON s.id = w.source GROUP BY s.source_ip) w USING (source_ip) "
              "WHERE r.n IS NOT w.n") == "0\n");
  // first_end: the earliest report a source is in, whatever the order of import.
  CHECK(query("SELECT count(*) FROM rollup_sources WHERE first_end = 1768000000") == "101\n");
  CHECK(query("SELECT count(*) FROM rollup_sources WHERE first_end = 1768100000") == "39900\n");
  CHECK(query("SELECT count(*) FROM rollup_sources WHERE first_end = 1768300000") == "100\n");
}

TEST_CASE("duplicates and conflicts", "[store]") {
  test::TempDir dir;
  auto store = open_sqlite_store({dir.file("d.db")});
  const AggregateReport original = make_report("r1", 5);
  REQUIRE(store->add_reports({incoming(original, "sha-1")})[0].outcome == AddOutcome::stored);

  SECTION("the same payload again") {
    CHECK(store->add_reports({incoming(original, "sha-1")})[0].outcome == AddOutcome::duplicate);
  }
  SECTION("the same report in another container (other payload bytes, same content)") {
    CHECK(store->add_reports({incoming(original, "sha-2")})[0].outcome == AddOutcome::duplicate);
  }
  SECTION("the same key with different records is a conflict, kept once") {
    const AggregateReport changed = make_report("r1", 6);
    CHECK(store->add_reports({incoming(changed, "sha-3")})[0].outcome == AddOutcome::conflict);
    CHECK(store->add_reports({incoming(changed, "sha-3")})[0].outcome == AddOutcome::duplicate);
    CHECK(store->conflicts().size() == 1);
    CHECK(store->totals().reports == 1);
    CHECK(store->totals().messages == 5);
  }
  SECTION("a different report id is a new report") {
    const AggregateReport other = make_report("r2", 5);
    CHECK(store->add_reports({incoming(other, "sha-4")})[0].outcome == AddOutcome::stored);
    CHECK(store->totals().reports == 2);
  }
}

TEST_CASE("a read-only open of a missing database says what to do", "[store]") {
  test::TempDir dir;
  StoreOptions options{dir.file("missing.db")};
  options.read_only = true;
  try {
    open_sqlite_store(options);
    FAIL("expected a Failure");
  } catch (const dmarcq::Failure& failure) {
    CHECK(failure.error().message.find("run `dmarcq ingest` first") != std::string::npos);
  }
}

TEST_CASE("an input that fails half-way leaves nothing: its transaction can only roll back", "[store]") {
  test::TempDir dir;
  const std::string path = dir.file("d.db");
  open_sqlite_store({path});  // creates the schema
  // A record the database refuses, after its report row went in.
  const auto trigger = test::run_command(
      "sqlite3 " + test::quote(path) +
      " \"CREATE TRIGGER poison BEFORE INSERT ON records WHEN NEW.source_ip = '192.0.2.66' "
      "BEGIN SELECT RAISE(ABORT, 'poisoned record'); END\"");
  REQUIRE(trigger.exit_code == 0);

  auto store = open_sqlite_store({path});
  const AggregateReport good = make_report("good", 3);
  AggregateReport bad = make_report("bad", 4);
  bad.records.push_back(bad.records.front());
  bad.records.back().source_ip = "192.0.2.66";
  {
    auto batch = store->begin_batch();
    REQUIRE(batch->add_reports({incoming(good, "sha-good")})[0].outcome == AddOutcome::stored);
    CHECK_THROWS_WITH(batch->add_reports({incoming(bad, "sha-bad")}), Catch::Contains("poisoned record"));
    CHECK_THROWS_WITH(batch->commit(), Catch::Contains("roll it back"));
    CHECK_THROWS(batch->add_reports({incoming(good, "sha-good-2")}));
  }  // destroyed uncommitted: rolled back
  CHECK(store->totals().reports == 0);
  CHECK(store->totals().records == 0);
  // The store stays usable, and the rollup holds nothing of the rolled-back inputs.
  CHECK(store->add_reports({incoming(good, "sha-good")})[0].outcome == AddOutcome::stored);
  CHECK(store->totals().reports == 1);
  const auto rollup = test::run_command("sqlite3 " + test::quote(path) +
                                        " \"SELECT count(*), sum(messages) FROM source_windows\"");
  CHECK(rollup.out == "1|3\n");
}

TEST_CASE("background checkpoints copy the WAL into the database as a batch import goes, and bound it",
          "[store]") {
  test::TempDir dir;
  StoreOptions options{dir.file("d.db")};
  options.background_checkpoints = true;
  options.checkpoint_pages = 64;  // a checkpoint per 256 KiB; the WAL starts over past 4 MiB
  auto store = open_sqlite_store(options);
  const AggregateReport report = make_report("big", 1);
  std::uintmax_t largest_wal = 0;
  auto store_one = [&](int i) {  // ~75 pages per commit
    store_with_raw_payload(*store, report, "big-" + std::to_string(i), 300 * 1024);
    std::error_code ec;
    largest_wal = std::max(largest_wal, std::filesystem::file_size(options.path + "-wal", ec));
  };
  const auto initial_size = std::filesystem::file_size(options.path);
  for (int i = 0; i < 5; ++i) store_one(i);
  // ~500 frames with the schema's: well below the writer's own checkpoint
  // (1,024), so only the checkpointer thread copies them into the database
  // file (waited for: it runs beside this thread).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // The thread's first checkpoint copies at least the first commit (~300 KiB).
  while (std::filesystem::file_size(options.path) < initial_size + 256u * 1024 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(std::filesystem::file_size(options.path) >= initial_size + 256u * 1024);
  for (int i = 5; i < 150; ++i) store_one(i);
  StoreOptions both = options;
  both.durable_commits = true;  // MDA's checkpoint policy and the batch's exclude each other
  CHECK_THROWS_WITH(open_sqlite_store(both), Catch::Contains("exclude each other"));
  // Restarted past 16 x 64 pages (4 MiB), waited for past twice that: the
  // WAL file never holds the whole import (44 MiB).
  CHECK(largest_wal < 16u * 1024 * 1024);
  CHECK(open_sqlite_store({options.path, true})->totals().reports == 150);  // a second connection sees all
  store.reset();
  CHECK(open_sqlite_store({options.path, true})->totals().reports == 150);
}

// The VFS in wal_reuse_vfs.cpp: a small WAL that a delivery's TRUNCATE
// checkpoint empties keeps its blocks; its header is made invalid.
TEST_CASE("a delivery's checkpoint empties the WAL by its header, a large WAL is truncated", "[store]") {
  test::TempDir dir;
  StoreOptions options{dir.file("d.db")};
  options.durable_commits = true;
  const AggregateReport report = make_report("delivered", 1);
  const std::string wal_path = options.path + "-wal";
  int emptied = 0;
  std::string salts;
  for (int i = 0; i < 60; ++i) {
    store_with_raw_payload(*open_sqlite_store(options), report, "delivered-" + std::to_string(i), 20 * 1024);
    CHECK(std::filesystem::file_size(wal_path) > 32u);  // never truncated
    if (test::wal_holds_no_frame(wal_path)) {
      ++emptied;
      CHECK(test::wal_salts(wal_path) != salts);  // new salts each time
      salts = test::wal_salts(wal_path);
    }
    // A new connection rebuilds its view of the WAL from the file: it sees
    // every delivery, whether the WAL was just emptied or begun again over
    // the old frames.
    CHECK(open_sqlite_store({options.path, true})->totals().reports == i + 1);
  }
  CHECK(emptied >= 5);  // ~20 pages per delivery, a checkpoint past 128
  // The next delivery writes a new header over the zeroed one; SQLite's own
  // shell reads the file the same way.
  const auto shell = test::run_command("sqlite3 " + test::quote(options.path) +
                                       " 'PRAGMA integrity_check; SELECT count(*) FROM reports'");
  CHECK(shell.out == "ok\n60\n");

  // A WAL past 4 MiB is truncated as SQLite does it: it would hold the space.
  store_with_raw_payload(*open_sqlite_store(options), report, "large", 6u << 20);
  CHECK(std::filesystem::file_size(wal_path) == 0u);
  CHECK(open_sqlite_store({options.path, true})->totals().reports == 61);
}

// wal_reuse_vfs.cpp holds a transaction's WAL appends and writes them in
// a few calls: all of a commit must be in the file when the commit returns
// (another process reads the file, not dmarcq's memory), and a page SQLite
// spills to the WAL mid-transaction must read back as written.
TEST_CASE("a commit's WAL frames are in the file when it returns, spilled pages read back", "[store]") {
  test::TempDir dir;
  StoreOptions options{dir.file("d.db")};
  auto store = open_sqlite_store(options);  // the writer stays open: nothing checkpoints at close
  const AggregateReport report = make_report("held", 1);
  const std::string wal_path = options.path + "-wal";
  auto count_in_other_process = [&] {
    return test::run_command("sqlite3 " + test::quote(options.path) + " 'SELECT count(*) FROM reports'").out;
  };
  std::size_t frames = 0;
  for (int i = 0; i < 5; ++i) {  // a few pages each, far below any write's size
    store_with_raw_payload(*store, report, "small-" + std::to_string(i), 3000);
    const std::size_t now = test::wal_committed_frames(wal_path);
    CHECK(now > frames);
    frames = now;
    CHECK(count_in_other_process() == std::to_string(i + 1) + "\n");
  }
  {  // 40 MiB in one transaction: more than the 16 MiB page cache, so SQLite
     // writes pages to the WAL before the commit and reads some back.
    auto batch = store->begin_batch();
    for (int i = 0; i < 10; ++i) {
      AggregateReport big = report;
      big.report_id = "big-" + std::to_string(i);
      IncomingReport in = incoming(big, "sha-big-" + std::to_string(i));
      const std::string raw(4u << 20, static_cast<char>('a' + i));
      in.raw_payload = raw;
      in.raw_payload_sha256 = "raw-big-" + std::to_string(i);
      REQUIRE(batch->add_reports({in})[0].outcome == AddOutcome::stored);
    }
    batch->commit();
  }
  CHECK(test::wal_committed_frames(wal_path) > frames + 10'000);
  CHECK(count_in_other_process() == "15\n");
  const auto check = test::run_command(
      "sqlite3 " + test::quote(options.path) +
      " \"PRAGMA integrity_check; SELECT count(DISTINCT substr(bytes, 1, 1)), min(length(bytes)) "
      "FROM raw_payloads WHERE sha256 LIKE 'raw-big-%'\"");
  CHECK(check.out == "ok\n10|4194304\n");
}

// The case the test above cannot show: SQLite rewrites frame headers after
// the loop that writes a transaction's frames when the transaction
// overwrote a frame of its own (pages spilled from a full cache and changed
// again), the commit frame's header last; nothing syncs at a NORMAL commit.
// A crash right after the commit must still find it: SQLite's recovery reads
// the WAL file, not the -shm, and drops a commit frame whose checksum fails.
TEST_CASE("a transaction that spilled and rewrote its frames is in the WAL file when its commit returns",
          "[store]") {
  test::TempDir dir;
  const std::string path = dir.file("w.db");
  sqlite3* opened = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 store::wal_reuse_vfs_name());
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(opened, &sqlite3_close);
  REQUIRE(rc == SQLITE_OK);
  auto exec = [&](const char* sql) {
    char* message = nullptr;
    const int status = sqlite3_exec(db.get(), sql, nullptr, nullptr, &message);
    INFO((message ? message : ""));
    sqlite3_free(message);
    REQUIRE(status == SQLITE_OK);
  };
  // The batch import's settings, a tiny cache, and no checkpoint (its reads
  // of the WAL would write out anything held).
  exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; "
       "PRAGMA cache_size = 8; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  exec("BEGIN; "
       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
       "INSERT INTO t SELECT i, randomblob(900) FROM n; "
       "UPDATE t SET v = randomblob(900) WHERE id % 5 = 0; "
       "COMMIT");
  const std::string wal = path + "-wal";
  const auto frames = (std::filesystem::file_size(wal) - 32) / (4096 + 24);
  CHECK(frames > 500);  // ~3 MB: the 8-page cache spilled it many times
  CHECK(test::wal_committed_frames(wal) == frames);  // the last frame written is the valid commit
  // The files as a crash would leave them (no -shm: the copy recovers from the WAL).
  std::filesystem::copy_file(path, dir.file("crash.db"));
  std::filesystem::copy_file(wal, dir.file("crash.db-wal"));
  const auto recovered = test::run_command("sqlite3 " + test::quote(dir.file("crash.db")) +
                                           " 'PRAGMA integrity_check; SELECT count(*) FROM t'");
  CHECK(recovered.out == "ok\n3000\n");
}

// A transaction that spilled frames and then rolled back leaves nothing of
// them to be written later: once it releases the write lock, another
// connection (an MDA delivery's) writes its own frames at those offsets.
// (With 0011b3e's VFS, the first connection's close wrote its last held
// frames over the second one's commit, and integrity_check failed.)
TEST_CASE("a rolled-back transaction's frames are never written over the next writer's", "[store]") {
  test::TempDir dir;
  const std::string path = dir.file("w.db");
  auto open = [&] {
    sqlite3* opened = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   store::wal_reuse_vfs_name());
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(opened, &sqlite3_close);
    REQUIRE(rc == SQLITE_OK);
    return db;
  };
  auto exec = [](sqlite3* db, const char* sql) {
    char* message = nullptr;
    const int status = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    INFO((message ? message : ""));
    sqlite3_free(message);
    REQUIRE(status == SQLITE_OK);
  };
  auto wal_bytes = [&] {
    std::ifstream in(path + "-wal", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto first = open();
  exec(first.get(), "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; "
                    "PRAGMA cache_size = 8; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL); "
                    "PRAGMA wal_checkpoint(TRUNCATE)");  // the WAL empty: the rollback reads nothing from it
  // Spilled from the 8-page cache as it goes, then rolled back.
  exec(first.get(), "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700) "
                    "INSERT INTO t SELECT NULL, randomblob(900) FROM n; ROLLBACK");
  auto other = open();
  exec(other.get(), "PRAGMA wal_autocheckpoint = 0; BEGIN; "
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) "
                    "INSERT INTO t SELECT i, zeroblob(900) FROM n; COMMIT");
  const std::string committed = wal_bytes();
  first.reset();  // closing (with `other` open: no checkpoint) writes nothing
  CHECK(wal_bytes() == committed);
  other.reset();
  const auto check = test::run_command("sqlite3 " + test::quote(path) +
                                       " 'PRAGMA integrity_check; SELECT count(*), sum(v = zeroblob(900)) FROM t'");
  CHECK(check.out == "ok\n1500|1500\n");
}

TEST_CASE("MDA deliveries leave the WAL to the next one, and keep it short", "[store]") {
  test::TempDir dir;
  StoreOptions options{dir.file("d.db")};
  options.durable_commits = true;
  const AggregateReport report = make_report("delivered", 1);
  std::uintmax_t largest_wal = 0;
  for (int i = 0; i < 100; ++i) {  // one store per delivery, as one process per message
    auto store = open_sqlite_store(options);
    store_with_raw_payload(*store, report, "delivered-" + std::to_string(i), 20 * 1024);  // ~6 pages
    store.reset();
    // Closed without a checkpoint: the commit is in the WAL, which stays.
    std::error_code ec;
    const auto wal = std::filesystem::file_size(options.path + "-wal", ec);
    REQUIRE_FALSE(ec);
    largest_wal = std::max(largest_wal, wal);
  }
  // Truncated past 128 pages (512 KiB): the 100 deliveries wrote ~2.4 MiB.
  CHECK(largest_wal < 1024u * 1024);

  // A reader inside a read transaction: the deliveries neither wait for it
  // nor fail (their checkpoint cannot complete), and the next delivery
  // after it truncates again.
  {
    auto reader = open_sqlite_store({options.path, true});
    int seen = 0;
    reader->for_each_report({}, [&](const StoredReport&) {
      if (seen++ > 0) return;
      for (int i = 100; i < 140; ++i)
        store_with_raw_payload(*open_sqlite_store(options), report, "delivered-" + std::to_string(i), 20 * 1024);
    });
    CHECK(seen == 100);  // its snapshot: none of the 40 deliveries made during it
  }
  // The WAL grew to ~3.5 MiB meanwhile: emptied, but not truncated below
  // the 4 MiB it may keep.
  store_with_raw_payload(*open_sqlite_store(options), report, "delivered-after", 20 * 1024);
  CHECK(test::wal_holds_no_frame(options.path + "-wal"));
  CHECK(std::filesystem::file_size(options.path + "-wal") > 32u);
  CHECK(std::filesystem::file_size(options.path + "-wal") <= 4u << 20);
  CHECK(open_sqlite_store({options.path, true})->totals().reports == 141);
  const auto check = test::run_command("sqlite3 " + test::quote(options.path) + " 'PRAGMA integrity_check'");
  CHECK(check.out == "ok\n");
}

// Stored in reports.content_sha256 and compared with later arrivals: a
// changed serialisation would turn re-sent reports into conflicts.
TEST_CASE("content_fingerprint is stable across releases", "[store]") {
  AggregateReport report = make_report("r1", 1);
  report.policy.fo = "1";
  report.records.clear();
  for (int i = 0; i < 5; ++i) {
    Record r;
    r.source_ip = "192.0.2." + std::to_string(9 - i);
    r.count = 10 + i;
    r.disposition = parse_disposition(i % 2 ? "reject" : "none");
    r.policy_evaluated_dkim = parse_dmarc_result("fail");
    r.policy_evaluated_spf = parse_dmarc_result("odd");
    r.header_from = "example.org";
    if (i % 2) r.envelope_from = "bounce.example.org";
    r.dkim.push_back({"evil.example.com", i % 3 ? std::optional<std::string>("s1") : std::nullopt,
                      parse_dkim_result("pass"), std::nullopt});
    r.spf.push_back({"evil.example.com", parse_spf_scope("mfrom"), parse_spf_result("pass"), std::nullopt});
    if (i == 2) r.reasons.push_back({parse_reason_type("local_policy"), "arc=fail"});
    report.records.push_back(r);
  }
  // What every database so far was written with.
  CHECK(content_fingerprint(report) == "54956e327c6c2acd6466cf72bde8f4994bd6c50bb4a5db2d7c42daa0ce73c00a");
  std::reverse(report.records.begin(), report.records.end());  // receivers order records as they like
  CHECK(content_fingerprint(report) == "54956e327c6c2acd6466cf72bde8f4994bd6c50bb4a5db2d7c42daa0ce73c00a");
  report.records.clear();
  CHECK(content_fingerprint(report) == "17d2dee4f1cb9e890dfd9e3823e1be5a98743973600762674f8ee37743dc2d2f");
}
