// `dmarcq reports` (list) and `dmarcq show REPORT` (one report, its records).
#include <fmt/format.h>

#include "dmarcq/text.hpp"
#include "query_store.hpp"

namespace dmarcq::store {

namespace {

constexpr std::string_view kReportColumns =
    "rp.id, rp.org_name, rp.report_id, rp.domain, rp.begin_ts, rp.end_ts, rp.record_count, "
    "rp.message_count, coalesce(rp.p, ''), coalesce(rp.sp, ''), coalesce(rp.adkim, ''), "
    "coalesce(rp.aspf, ''), rp.pct, rp.ingested_at, "
    "(SELECT coalesce(sum(r.count), 0) FROM records r WHERE r.report = rp.id AND r.dmarc_pass = 1)";

ReportRow read_report_row(const Statement& s) {
  ReportRow row;
  row.id = s.column_int(0);
  row.org_name = s.column_text(1);
  row.report_id = s.column_text(2);
  row.domain = s.column_text(3);
  row.begin = s.column_int(4);
  row.end = s.column_int(5);
  row.records = s.column_int(6);
  row.messages = s.column_int(7);
  row.policy = describe_policy(s.column_text(8), s.column_text(9), s.column_text(10), s.column_text(11),
                               s.column_is_null(12) ? std::nullopt : std::optional<std::int64_t>(s.column_int(12)));
  row.ingested_at = s.column_int(13);
  row.dmarc_pass = s.column_int(14);
  return row;
}

std::string with_raw(const std::optional<std::string>& value, const std::optional<std::string>& raw) {
  if (!value) return "";
  if (*value == "unknown" && raw) return *raw;
  return *value;
}

}  // namespace

std::vector<ReportRow> SqliteQueries::reports(const QueryFilter& filter) {
  int next = 1;
  std::string sql = fmt::format("SELECT {} FROM reports rp WHERE 1", kReportColumns) +
                    report_conditions(filter, "rp", next);
  if (filter.ip)
    sql += fmt::format(" AND EXISTS (SELECT 1 FROM records r WHERE r.report = rp.id AND r.ip BETWEEN ?{} AND ?{})",
                       next, next + 1);
  if (filter.min_count > 0) sql += fmt::format(" AND rp.message_count >= {}", filter.min_count);
  if (filter.sort == "oldest") sql += " ORDER BY rp.begin_ts, rp.id";
  else if (filter.sort == "messages") sql += " ORDER BY rp.message_count DESC, rp.begin_ts DESC, rp.id DESC";
  else sql += " ORDER BY rp.begin_ts DESC, rp.id DESC";
  if (filter.limit) sql += fmt::format(" LIMIT {}", *filter.limit);
  Statement s = db_.prepare(sql);
  int bind = 1;
  bind_report_conditions(s, filter, bind);
  if (filter.ip) {
    s.bind_blob(bind, filter.ip->first.bytes.data(), 16);
    s.bind_blob(bind + 1, filter.ip->last.bytes.data(), 16);
  }
  std::vector<ReportRow> rows;
  while (s.step()) rows.push_back(read_report_row(s));
  return rows;
}

std::optional<ReportDetail> SqliteQueries::show(const std::string& report) {
  std::optional<std::int64_t> id;
  {
    // A number is a row id; otherwise (or when no such row) a report_id.
    if (auto number = parse_int64(report)) {
      Statement s = db_.prepare("SELECT id FROM reports WHERE id = ?1");
      s.bind(1, *number);
      if (s.step()) id = s.column_int(0);
    }
    if (!id) {
      Statement s = db_.prepare("SELECT id FROM reports WHERE report_id = ?1 ORDER BY begin_ts DESC, id DESC");
      s.bind(1, std::string_view(report));
      if (s.step()) id = s.column_int(0);
      if (id && s.step())
        throw Failure(ErrorKind::usage,
                      fmt::format("report id {} names several reports; use the row id from `dmarcq reports`",
                                  printable(report)));
    }
  }
  if (!id) return std::nullopt;

  ReportDetail detail;
  Statement head = db_.prepare(fmt::format(
      "SELECT {}, coalesce(rp.email, ''), rp.source_file, rp.source_member, rp.payload_sha256 "
      "FROM reports rp WHERE rp.id = ?1", kReportColumns));
  head.bind(1, *id);
  head.step();
  detail.report = read_report_row(head);
  detail.email = head.column_text(15);
  detail.source_file = head.column_text(16);
  detail.source_member = head.column_text(17);
  detail.payload_sha256 = head.column_text(18);

  Statement records = db_.prepare(
      "SELECT id, source_ip, count, disposition, disposition_raw, dkim_evaluated, dkim_evaluated_raw, "
      "spf_evaluated, spf_evaluated_raw, header_from, coalesce(envelope_from, ''), dkim_aligned, "
      "spf_aligned, dmarc_pass, class, coalesce(unaligned_dkim_domain, ''), "
      "coalesce(unaligned_spf_domain, '') FROM records WHERE report = ?1 ORDER BY id");
  Statement dkim = db_.prepare(
      "SELECT domain, selector, result, result_raw FROM dkim_results WHERE record = ?1 ORDER BY seq");
  Statement spf = db_.prepare(
      "SELECT domain, scope, scope_raw, result, result_raw FROM spf_results WHERE record = ?1 ORDER BY seq");
  Statement reasons = db_.prepare(
      "SELECT type, type_raw, comment FROM reasons WHERE record = ?1 ORDER BY seq");
  records.bind(1, *id);
  while (records.step()) {
    ShowRecord r;
    const std::int64_t record_id = records.column_int(0);
    r.source_ip = records.column_text(1);
    r.count = records.column_int(2);
    r.disposition = with_raw(records.column_optional_text(3), records.column_optional_text(4));
    r.dkim_evaluated = with_raw(records.column_optional_text(5), records.column_optional_text(6));
    r.spf_evaluated = with_raw(records.column_optional_text(7), records.column_optional_text(8));
    r.header_from = records.column_text(9);
    r.envelope_from = records.column_text(10);
    r.dkim_aligned = records.column_int(11) != 0;
    r.spf_aligned = records.column_int(12) != 0;
    r.dmarc_pass = records.column_int(13) != 0;
    r.traffic_class = records.column_text(14);
    r.unaligned_dkim_domain = records.column_text(15);
    r.unaligned_spf_domain = records.column_text(16);
    dkim.bind(1, record_id);
    while (dkim.step()) {
      std::string entry = dkim.column_text(0);
      // Appended piece by piece: `"/" + std::string` trips GCC 12's -Wrestrict at -O3.
      if (!dkim.column_is_null(1)) entry.append("/").append(dkim.column_text(1));
      entry.append("=").append(with_raw(dkim.column_optional_text(2), dkim.column_optional_text(3)));
      r.dkim.push_back(std::move(entry));
    }
    dkim.reset();
    spf.bind(1, record_id);
    while (spf.step()) {
      std::string entry = spf.column_text(0);
      const std::string scope = with_raw(spf.column_optional_text(1), spf.column_optional_text(2));
      if (!scope.empty()) entry.append("(").append(scope).append(")");
      entry.append("=").append(with_raw(spf.column_optional_text(3), spf.column_optional_text(4)));
      r.spf.push_back(std::move(entry));
    }
    spf.reset();
    reasons.bind(1, record_id);
    while (reasons.step()) {
      std::string entry = with_raw(reasons.column_optional_text(0), reasons.column_optional_text(1));
      if (!reasons.column_is_null(2)) entry += ": " + reasons.column_text(2);
      r.reasons.push_back(std::move(entry));
    }
    reasons.reset();
    detail.records.push_back(std::move(r));
  }
  return detail;
}

}  // namespace dmarcq::store
