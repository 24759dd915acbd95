// The read path used by `dmarcq export` and `dmarcq show`.
#include <unordered_map>

#include <fmt/format.h>

#include "dmarcq/ip.hpp"
#include "sqlite_store.hpp"

namespace dmarcq::store {

void SqliteStore::for_each_report(const ReportFilter& filter,
                                  const std::function<void(const StoredReport&)>& visit) {
  std::string sql =
      "SELECT id, org_name, email, extra_contact_info, report_id, begin_ts, end_ts, domain, "
      "adkim, adkim_raw, aspf, aspf_raw, p, p_raw, sp, sp_raw, np, np_raw, pct, fo, testing, "
      "testing_raw, discovery_method, discovery_method_raw, psd, t, xml_namespace, version, "
      "generator, errors, payload_sha256, source_file, source_member, container, message_id, "
      "mail_from, mail_date, mail_subject, attachment_name, ingested_at FROM reports WHERE 1";
  int next = 1;
  sql += in_clause("domain", filter.domains.size(), next);
  if (filter.since) sql += fmt::format(" AND end_ts > ?{}", next++);
  if (filter.until) sql += fmt::format(" AND begin_ts < ?{}", next++);
  sql += " ORDER BY begin_ts, id";

  Statement reports = db_.prepare(sql);
  int bind_index = 1;
  for (const auto& domain : filter.domains) reports.bind(bind_index++, std::string_view(domain));
  if (filter.since) reports.bind(bind_index++, *filter.since);
  if (filter.until) reports.bind(bind_index++, *filter.until);

  Statement records = db_.prepare(
      "SELECT id, source_ip, count, disposition, disposition_raw, dkim_evaluated, "
      "dkim_evaluated_raw, spf_evaluated, spf_evaluated_raw, header_from, envelope_from, "
      "envelope_to, dkim_aligned, spf_aligned, dmarc_pass, class, unaligned_dkim_domain, "
      "unaligned_spf_domain, ip FROM records WHERE report = ?1 ORDER BY id");
  Statement dkim = db_.prepare(
      "SELECT d.record, d.domain, d.selector, d.result, d.result_raw, d.human_result "
      "FROM dkim_results d JOIN records r ON r.id = d.record WHERE r.report = ?1 "
      "ORDER BY d.record, d.seq");
  Statement spf = db_.prepare(
      "SELECT s.record, s.domain, s.scope, s.scope_raw, s.result, s.result_raw, s.human_result "
      "FROM spf_results s JOIN records r ON r.id = s.record WHERE r.report = ?1 "
      "ORDER BY s.record, s.seq");
  Statement reasons = db_.prepare(
      "SELECT e.record, e.type, e.type_raw, e.comment "
      "FROM reasons e JOIN records r ON r.id = e.record WHERE r.report = ?1 "
      "ORDER BY e.record, e.seq");

  while (reports.step()) {
    StoredReport stored;
    const Statement& s = reports;
    stored.row = s.column_int(0);
    AggregateReport& report = stored.report;
    report.org_name = s.column_text(1);
    report.email = s.column_optional_text(2);
    report.extra_contact_info = s.column_optional_text(3);
    report.report_id = s.column_text(4);
    report.begin = s.column_int(5);
    report.end = s.column_int(6);
    PolicyPublished& p = report.policy;
    p.domain = s.column_text(7);
    p.adkim = read_enum(s, 8, parse_alignment_mode);
    p.aspf = read_enum(s, 10, parse_alignment_mode);
    p.p = read_enum(s, 12, parse_policy);
    p.sp = read_enum(s, 14, parse_policy);
    p.np = read_enum(s, 16, parse_policy);
    if (!s.column_is_null(18)) p.pct = s.column_int(18);
    p.fo = s.column_optional_text(19);
    p.testing = read_enum(s, 20, parse_testing);
    p.discovery_method = read_enum(s, 22, parse_discovery_method);
    p.psd = s.column_optional_text(24);
    p.t = s.column_optional_text(25);
    report.xml_namespace = s.column_text(26);
    report.version = s.column_optional_text(27);
    report.generator = s.column_optional_text(28);
    if (auto errors = s.column_optional_text(29)) {
      std::size_t start = 0;
      while (start <= errors->size()) {
        const auto end = errors->find('\n', start);
        report.errors.push_back(errors->substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
    Provenance& prov = stored.provenance;
    prov.payload_sha256 = s.column_text(30);
    prov.file = s.column_text(31);
    prov.member = s.column_text(32);
    prov.container = s.column_text(33);
    prov.message_id = s.column_optional_text(34);
    prov.mail_from = s.column_optional_text(35);
    prov.mail_date = s.column_optional_text(36);
    prov.mail_subject = s.column_optional_text(37);
    prov.attachment_name = s.column_optional_text(38);
    stored.ingested_at = s.column_int(39);

    std::unordered_map<std::int64_t, std::size_t> index_of_record;
    records.bind(1, stored.row);
    while (records.step()) {
      Record r;
      index_of_record[records.column_int(0)] = report.records.size();
      r.source_ip = records.column_text(1);
      r.count = records.column_int(2);
      r.disposition = read_enum(records, 3, parse_disposition);
      r.policy_evaluated_dkim = read_enum(records, 5, parse_dmarc_result);
      r.policy_evaluated_spf = read_enum(records, 7, parse_dmarc_result);
      r.header_from = records.column_text(9);
      r.envelope_from = records.column_optional_text(10);
      r.envelope_to = records.column_optional_text(11);
      r.verdict.dkim_aligned = records.column_int(12) != 0;
      r.verdict.spf_aligned = records.column_int(13) != 0;
      r.verdict.dmarc_pass = records.column_int(14) != 0;
      const std::string traffic_class = records.column_text(15);
      for (auto candidate : {TrafficClass::aligned, TrafficClass::dkim_only, TrafficClass::spf_only,
                             TrafficClass::forwarded, TrafficClass::misaligned,
                             TrafficClass::impersonation})
        if (to_string(candidate) == traffic_class) r.verdict.traffic_class = candidate;
      r.verdict.unaligned_dkim_pass_domain = records.column_optional_text(16).value_or("");
      r.verdict.unaligned_spf_pass_domain = records.column_optional_text(17).value_or("");
      const std::string_view key = records.column_blob(18);
      if (key.size() == r.source_ip_key.size()) {
        r.source_ip_valid = true;
        std::copy(key.begin(), key.end(), r.source_ip_key.begin());
      }
      report.records.push_back(std::move(r));
    }
    records.reset();

    dkim.bind(1, stored.row);
    while (dkim.step()) {
      DkimAuthResult result;
      result.domain = dkim.column_text(1);
      result.selector = dkim.column_optional_text(2);
      result.result = read_enum(dkim, 3, parse_dkim_result);
      result.human_result = dkim.column_optional_text(5);
      report.records[index_of_record.at(dkim.column_int(0))].dkim.push_back(std::move(result));
    }
    dkim.reset();
    spf.bind(1, stored.row);
    while (spf.step()) {
      SpfAuthResult result;
      result.domain = spf.column_text(1);
      result.scope = read_enum(spf, 2, parse_spf_scope);
      result.result = read_enum(spf, 4, parse_spf_result);
      result.human_result = spf.column_optional_text(6);
      report.records[index_of_record.at(spf.column_int(0))].spf.push_back(std::move(result));
    }
    spf.reset();
    reasons.bind(1, stored.row);
    while (reasons.step()) {
      PolicyOverrideReason reason;
      reason.type = read_enum(reasons, 1, parse_reason_type);
      reason.comment = reasons.column_optional_text(3);
      report.records[index_of_record.at(reasons.column_int(0))].reasons.push_back(std::move(reason));
    }
    reasons.reset();

    visit(stored);
  }
}

namespace {
RejectedInfo read_rejected(const Statement& s) {
  RejectedInfo info;
  info.id = s.column_int(0);
  info.source = s.column_text(1);
  info.message_id = s.column_optional_text(2);
  info.reason_kind = s.column_text(3);
  info.reason = s.column_text(4);
  info.size = s.column_int(5);
  info.received_at = s.column_int(6);
  info.last_tried_at = s.column_int(7);
  info.tries = s.column_int(8);
  return info;
}
constexpr const char* kRejectedColumns =
    "id, source, message_id, reason_kind, reason, size, received_at, last_tried_at, tries";
}  // namespace

std::vector<RejectedInfo> SqliteStore::rejected() {
  std::vector<RejectedInfo> result;
  Statement s = db_.prepare(fmt::format("SELECT {} FROM rejected ORDER BY id", kRejectedColumns));
  while (s.step()) result.push_back(read_rejected(s));
  return result;
}

void SqliteStore::for_each_rejected(
    const std::function<void(const RejectedInfo&, std::string_view)>& visit) {
  // Collect ids first: the visitor writes (reprocess) while we iterate.
  std::vector<std::int64_t> ids;
  Statement list = db_.prepare("SELECT id FROM rejected ORDER BY id");
  while (list.step()) ids.push_back(list.column_int(0));
  Statement one = db_.prepare(fmt::format("SELECT {}, bytes FROM rejected WHERE id = ?1", kRejectedColumns));
  for (std::int64_t id : ids) {
    one.bind(1, id);
    if (one.step()) {
      const RejectedInfo info = read_rejected(one);
      const std::string bytes(one.column_blob(9));
      one.reset();
      visit(info, bytes);
    } else {
      one.reset();
    }
  }
}

void SqliteStore::for_each_raw_payload(const std::function<void(const RawPayload&)>& visit) {
  std::vector<std::int64_t> ids;
  Statement list = db_.prepare("SELECT id FROM raw_payloads ORDER BY id");
  while (list.step()) ids.push_back(list.column_int(0));
  Statement one = db_.prepare(
      "SELECT p.bytes, r.source_file, r.message_id, r.mail_from, r.mail_date, r.mail_subject, "
      "r.attachment_name FROM raw_payloads p LEFT JOIN reports r ON r.raw_payload = p.id "
      "WHERE p.id = ?1 ORDER BY r.id LIMIT 1");
  for (std::int64_t id : ids) {
    one.bind(1, id);
    if (!one.step()) {
      one.reset();
      continue;
    }
    RawPayload payload;
    payload.id = id;
    payload.bytes = std::string(one.column_blob(0));
    payload.provenance.file = one.column_text(1);
    payload.provenance.message_id = one.column_optional_text(2);
    payload.provenance.mail_from = one.column_optional_text(3);
    payload.provenance.mail_date = one.column_optional_text(4);
    payload.provenance.mail_subject = one.column_optional_text(5);
    payload.provenance.attachment_name = one.column_optional_text(6);
    one.reset();
    visit(payload);
  }
}

}  // namespace dmarcq::store
