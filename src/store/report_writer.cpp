// The write path: one transaction per input, dedup, conflicts, inserts with
// statements prepared once and reused.
#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "dmarcq/hash.hpp"
#include "failure_store.hpp"
#include "query_rollup.hpp"
#include "record_encoding.hpp"
#include "sqlite_store.hpp"

namespace dmarcq::store {

namespace {

std::int64_t now_epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Binds an enumerated value as (canonical-or-'unknown', verbatim alias or unknown text).
template <typename E>
void bind_enum(Statement& statement, int index, const Enumerated<E>& value) {
  if (value.value == E::absent)
    statement.bind_null(index);
  else
    statement.bind_static(index, to_string(value.value));  // static storage
  if (!value.raw.empty())
    statement.bind_static(index + 1, std::string_view(value.raw));
  else
    statement.bind_null(index + 1);
}

// Empty text is bound as NULL.
void bind_text_or_null(Statement& statement, int index, std::string_view text) {
  if (text.empty())
    statement.bind_null(index);
  else
    statement.bind_static(index, text);
}

// Binds one records row to the parameters first .. first + 21, without copies:
// `record` and `encoded` must outlive the statement's next run.
void bind_record(Statement& s, int first, std::int64_t report_row, const Record& r, const EncodedRecord& e) {
  const int at = first - 1;
  s.bind_static(at + 1, report_row).bind_static(at + 2, std::string_view(r.source_ip));
  if (r.source_ip_valid)
    s.bind_blob_static(at + 3, r.source_ip_key.data(), r.source_ip_key.size());
  else
    s.bind_null(at + 3);
  s.bind_static(at + 4, r.count);
  bind_enum(s, at + 5, r.disposition);
  bind_enum(s, at + 7, r.policy_evaluated_dkim);
  bind_enum(s, at + 9, r.policy_evaluated_spf);
  s.bind_static(at + 11, std::string_view(r.header_from)).bind_static(at + 12, r.envelope_from)
      .bind_static(at + 13, r.envelope_to);
  const AlignmentVerdict& v = r.verdict;
  s.bind_static(at + 14, std::int64_t{v.dkim_aligned}).bind_static(at + 15, std::int64_t{v.spf_aligned});
  s.bind_static(at + 16, std::int64_t{v.dmarc_pass}).bind_static(at + 17, to_string(v.traffic_class));
  bind_text_or_null(s, at + 18, v.unaligned_dkim_pass_domain);
  bind_text_or_null(s, at + 19, v.unaligned_spf_pass_domain);
  bind_text_or_null(s, at + 20, e.dkim_json);
  bind_text_or_null(s, at + 21, e.spf_json);
  bind_text_or_null(s, at + 22, e.reasons_json);
}

std::optional<std::string> join_lines(const std::vector<std::string>& lines) {
  if (lines.empty()) return std::nullopt;
  std::string joined;
  for (const auto& line : lines) {
    if (!joined.empty()) joined += '\n';
    joined += line;
  }
  return joined;
}

// Appends a field with a length prefix so that no two different contents
// serialise the same way.
void append_field(std::string& out, std::string_view value) {
  char digits[24];
  const auto [digits_end, ec] = std::to_chars(digits, digits + sizeof digits, value.size());
  out.append(digits, digits_end);
  out += ':';
  out += value;
}
void append_field(std::string& out, const std::string& value) {
  append_field(out, std::string_view(value));
}
void append_field(std::string& out, const std::optional<std::string>& value) {
  if (value) append_field(out, std::string_view(*value));
  else out += '-';
}
template <typename E>
void append_field(std::string& out, const Enumerated<E>& value) {
  append_field(out, value.text());
}
void append_number_field(std::string& out, std::int64_t value) {
  char digits[24];
  const auto [digits_end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  append_field(out, std::string_view(digits, static_cast<std::size_t>(digits_end - digits)));
}

}  // namespace

// The serialisation is what every stored reports.content_sha256 was computed
// from: a unit test pins it. The records' lines share one buffer and are
// sorted as views (a string per line and per number cost ~5 allocations a
// record in the parse workers).
std::string content_fingerprint(const AggregateReport& report) {
  std::string lines;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // offset, length in `lines`
  spans.reserve(report.records.size());
  for (const Record& r : report.records) {
    const std::size_t begin = lines.size();
    append_field(lines, r.source_ip);
    append_number_field(lines, r.count);
    append_field(lines, r.disposition);
    append_field(lines, r.policy_evaluated_dkim);
    append_field(lines, r.policy_evaluated_spf);
    append_field(lines, r.header_from);
    append_field(lines, r.envelope_from);
    append_field(lines, r.envelope_to);
    for (const auto& reason : r.reasons) {
      append_field(lines, reason.type);
      append_field(lines, reason.comment);
    }
    lines += '|';
    for (const auto& dkim : r.dkim) {
      append_field(lines, dkim.domain);
      append_field(lines, dkim.selector);
      append_field(lines, dkim.result);
    }
    lines += '|';
    for (const auto& spf : r.spf) {
      append_field(lines, spf.domain);
      append_field(lines, spf.scope);
      append_field(lines, spf.result);
    }
    spans.emplace_back(begin, lines.size() - begin);
  }
  const std::string_view all(lines);
  // Receivers are free to order records as they like.
  std::sort(spans.begin(), spans.end(), [all](const auto& a, const auto& b) {
    return all.substr(a.first, a.second) < all.substr(b.first, b.second);
  });

  std::string text;
  text.reserve(256 + lines.size() + spans.size());
  append_field(text, report.email);
  const PolicyPublished& p = report.policy;
  append_field(text, p.adkim);
  append_field(text, p.aspf);
  append_field(text, p.p);
  append_field(text, p.sp);
  append_field(text, p.np);
  if (p.pct) append_number_field(text, *p.pct);
  else text += '-';
  append_field(text, p.fo);
  append_field(text, p.testing);
  append_field(text, p.discovery_method);
  for (const auto& [offset, length] : spans) {
    text += '\n';
    text.append(all.substr(offset, length));
  }
  return sha256_hex(text);
}

constexpr std::string_view kInsertRecords =
    "INSERT INTO records (report, source_ip, ip, count, disposition, disposition_raw, dkim_evaluated, "
    "dkim_evaluated_raw, spf_evaluated, spf_evaluated_raw, header_from, envelope_from, envelope_to, "
    "dkim_aligned, spf_aligned, dmarc_pass, class, unaligned_dkim_domain, unaligned_spf_domain, dkim, spf, "
    "reasons)";

struct SqliteStore::WriteStatements {
  WriteStatements(const Database& db, bool multi_row);
  Statement find_payload, find_key, insert_report, insert_record, find_raw, insert_raw;
  // Rarely run: prepared on first use.
  LazyStatement find_conflict, insert_conflict, find_rejected, insert_rejected, touch_rejected,
      delete_rejected, delete_reports_of_payload;
  // Batch imports (StoreOptions::multi_row_inserts): a report's records in
  // chunks of up to 16 rows per INSERT.
  bool multi_row_inserts;
  MultiRowInsert insert_records;
  RollupWriter rollup;  // schema/005_rollup_v2.sql, kept in the same transaction
};

SqliteStore::WriteStatements::WriteStatements(const Database& db, bool multi_row)
    : find_payload(db.prepare("SELECT id FROM reports WHERE payload_sha256 = ?1")),
      find_key(db.prepare(
          "SELECT id, content_sha256 FROM reports "
          "WHERE org_name = ?1 AND report_id = ?2 AND domain = ?3 AND begin_ts = ?4 AND end_ts = ?5")),
      insert_report(db.prepare(
          "INSERT INTO reports (org_name, email, extra_contact_info, report_id, begin_ts, end_ts, "
          "domain, adkim, adkim_raw, aspf, aspf_raw, p, p_raw, sp, sp_raw, np, np_raw, pct, fo, "
          "testing, testing_raw, discovery_method, discovery_method_raw, psd, t, xml_namespace, "
          "version, generator, errors, record_count, message_count, payload_sha256, content_sha256, "
          "source_file, source_member, container, message_id, mail_from, mail_date, mail_subject, "
          "attachment_name, ingested_at, raw_payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
          "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
          "?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43)")),
      insert_record(db.prepare(std::string(kInsertRecords) +
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                               "?16, ?17, ?18, ?19, ?20, ?21, ?22)")),
      find_raw(db.prepare("SELECT id FROM raw_payloads WHERE sha256 = ?1")),
      insert_raw(db.prepare("INSERT INTO raw_payloads (sha256, bytes, received_at) VALUES (?1, ?2, ?3)")),
      find_conflict(db, "SELECT 1 FROM conflicts WHERE payload_sha256 = ?1"),
      insert_conflict(db,
          "INSERT INTO conflicts (report, payload_sha256, source_file, source_member, "
          "record_count, message_count, payload, detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
      find_rejected(db, "SELECT id FROM rejected WHERE sha256 = ?1"),
      insert_rejected(db,
          "INSERT INTO rejected (sha256, source, message_id, reason_kind, reason, bytes, size, "
          "received_at, last_tried_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"),
      touch_rejected(db,
          "UPDATE rejected SET reason_kind = ?2, reason = ?3, last_tried_at = ?4, tries = tries + 1 "
          "WHERE id = ?1"),
      delete_rejected(db, "DELETE FROM rejected WHERE id = ?1"),
      delete_reports_of_payload(db, "DELETE FROM reports WHERE raw_payload = ?1"),
      multi_row_inserts(multi_row),
      insert_records(db, std::string(kInsertRecords), 22, "", 16),
      rollup(db, multi_row) {}

namespace {

std::int64_t message_count_of(const AggregateReport& report) {
  std::int64_t total = 0;
  for (const Record& record : report.records) total += record.count;
  return total;
}

class SqliteWriteBatch final : public WriteBatch {
 public:
  SqliteWriteBatch(Database& db, SqliteStore::WriteStatements& statements, FailureWriter& failures)
      : db_(db), w_(statements), failures_(failures), transaction_(db), now_(now_epoch()) {}
  ~SqliteWriteBatch() override {
    if (!committed_) w_.rollup.reset();  // the transaction rolls back: so do the rollup sums
  }
  SqliteWriteBatch(const SqliteWriteBatch&) = delete;
  SqliteWriteBatch& operator=(const SqliteWriteBatch&) = delete;

  std::vector<AddResult> add_reports(const std::vector<IncomingReport>& reports) override {
    return as_one_input([&] {
      std::vector<AddResult> results;
      results.reserve(reports.size());
      for (const IncomingReport& incoming : reports) results.push_back(add_one(incoming, std::nullopt));
      return results;
    });
  }

  std::vector<AddResult> replace_reports_of_payload(std::int64_t id,
                                                    const std::vector<IncomingReport>& reports) override {
    w_.rollup.flush();  // the earlier inputs' sums first: windows_of_payload reads the rollup
    return as_one_input([&] {
      const auto windows = w_.rollup.windows_of_payload(id);
      w_.delete_reports_of_payload->bind(1, id).run();
      w_.rollup.rebuild_windows(windows);
      std::vector<AddResult> results;
      for (const IncomingReport& incoming : reports) results.push_back(add_one(incoming, id));
      return results;
    });
  }

  void keep_rejected(const RejectedInput& input) override {
    w_.find_rejected->bind(1, std::string_view(input.sha256));
    const bool known = w_.find_rejected->step();
    const std::int64_t id = known ? w_.find_rejected->column_int(0) : 0;
    w_.find_rejected->reset();
    if (known) {
      w_.touch_rejected->bind(1, id).bind(2, std::string_view(input.reason_kind))
          .bind(3, std::string_view(input.reason)).bind(4, now_).run();
      return;
    }
    w_.insert_rejected->bind(1, std::string_view(input.sha256)).bind(2, std::string_view(input.source))
        .bind(3, input.message_id).bind(4, std::string_view(input.reason_kind))
        .bind(5, std::string_view(input.reason)).bind_blob(6, input.bytes.data(), input.bytes.size())
        .bind(7, static_cast<std::int64_t>(input.bytes.size())).bind(8, now_).run();
  }

  void forget_rejected(std::int64_t id) override { w_.delete_rejected->bind(1, id).run(); }

  std::vector<AddResult> add_failure_reports(const std::vector<IncomingFailure>& reports) override {
    return as_one_input([&] { return failures_.add(db_, reports, now_); });
  }

  void commit() override {
    refuse_if_broken();
    w_.rollup.flush();
    transaction_.commit();
    committed_ = true;
  }

 private:
  // No savepoint per input: its statement journal copied every page an input
  // touched (~9% of the writer's CPU in a batch import), and every caller
  // rolls the whole transaction back when an input fails anyway.
  void refuse_if_broken() const {
    if (broken_) throw Failure(ErrorKind::database, "a failed input left the write transaction unusable: roll it back");
  }

  template <typename Work>
  std::vector<AddResult> as_one_input(Work&& work) {
    refuse_if_broken();
    try {
      auto result = work();
      w_.rollup.accept();
      return result;
    } catch (...) {
      broken_ = true;
      w_.rollup.discard();
      throw;
    }
  }

  AddResult add_one(const IncomingReport& incoming, std::optional<std::int64_t> raw_payload);
  std::int64_t raw_payload_row(const IncomingReport& incoming);
  std::int64_t insert_report(const IncomingReport& incoming, const std::string& content_sha256,
                             std::optional<std::int64_t> raw_payload);
  void insert_records(const AggregateReport& report, const EncodedRecords* encoded, std::int64_t report_row);

  Database& db_;
  SqliteStore::WriteStatements& w_;
  FailureWriter& failures_;
  WriteTransaction transaction_;
  std::int64_t now_;
  bool committed_ = false;
  bool broken_ = false;  // an add_* threw: half an input may be in the transaction
  std::optional<std::string> errors_;  // bound without a copy: lives until the insert ran
  std::string scratch_;  // a record encoded here (bound without a copy, as errors_)
};

AddResult SqliteWriteBatch::add_one(const IncomingReport& incoming,
                                    std::optional<std::int64_t> raw_payload) {
  const AggregateReport& report = *incoming.report;
  const Provenance& provenance = incoming.provenance;

  w_.find_payload.bind(1, std::string_view(provenance.payload_sha256));
  if (w_.find_payload.step()) {
    const std::int64_t existing = w_.find_payload.column_int(0);
    w_.find_payload.reset();
    return {AddOutcome::duplicate, existing};
  }
  w_.find_payload.reset();

  // The batch import's parse workers compute it; other callers leave it to us.
  const std::string fingerprint =
      incoming.content_sha256.empty() ? store::content_fingerprint(report) : incoming.content_sha256;
  w_.find_key.bind(1, std::string_view(report.org_name))
      .bind(2, std::string_view(report.report_id))
      .bind(3, std::string_view(report.policy.domain))
      .bind(4, report.begin)
      .bind(5, report.end);
  if (w_.find_key.step()) {
    const std::int64_t existing = w_.find_key.column_int(0);
    const std::string existing_fingerprint = w_.find_key.column_text(1);
    w_.find_key.reset();
    if (existing_fingerprint == fingerprint) return {AddOutcome::duplicate, existing};
    w_.find_conflict->bind(1, std::string_view(provenance.payload_sha256));
    const bool known_conflict = w_.find_conflict->step();
    w_.find_conflict->reset();
    // A conflict seen before is nothing new: a re-run changes nothing.
    if (known_conflict) return {AddOutcome::duplicate, existing};
    w_.insert_conflict->bind(1, existing)
        .bind(2, std::string_view(provenance.payload_sha256))
        .bind(3, std::string_view(provenance.file))
        .bind(4, std::string_view(provenance.member))
        .bind(5, static_cast<std::int64_t>(report.records.size()))
        .bind(6, message_count_of(report))
        .bind_blob(7, incoming.payload.data(), incoming.payload.size())
        .bind(8, now_)
        .run();
    return {AddOutcome::conflict, existing};
  }
  w_.find_key.reset();

  if (!raw_payload && !incoming.raw_payload.empty()) raw_payload = raw_payload_row(incoming);
  const std::int64_t row = insert_report(incoming, fingerprint, raw_payload);
  insert_records(report, incoming.encoded.get(), row);
  return {AddOutcome::stored, row};
}

std::int64_t SqliteWriteBatch::raw_payload_row(const IncomingReport& incoming) {
  w_.find_raw.bind(1, std::string_view(incoming.raw_payload_sha256));
  if (w_.find_raw.step()) {
    const std::int64_t id = w_.find_raw.column_int(0);
    w_.find_raw.reset();
    return id;
  }
  w_.find_raw.reset();
  w_.insert_raw.bind(1, std::string_view(incoming.raw_payload_sha256))
      .bind_blob(2, incoming.raw_payload.data(), incoming.raw_payload.size())
      .bind(3, now_)
      .run();
  return db_.last_insert_rowid();
}

std::int64_t SqliteWriteBatch::insert_report(const IncomingReport& incoming,
                                             const std::string& content_sha256,
                                             std::optional<std::int64_t> raw_payload) {
  const AggregateReport& report = *incoming.report;
  const Provenance& provenance = incoming.provenance;
  Statement& s = w_.insert_report;
  const PolicyPublished& p = report.policy;
  s.bind_static(1, std::string_view(report.org_name)).bind_static(2, report.email).bind_static(3, report.extra_contact_info);
  s.bind_static(4, std::string_view(report.report_id)).bind_static(5, report.begin).bind_static(6, report.end);
  s.bind_static(7, std::string_view(p.domain));
  bind_enum(s, 8, p.adkim);
  bind_enum(s, 10, p.aspf);
  bind_enum(s, 12, p.p);
  bind_enum(s, 14, p.sp);
  bind_enum(s, 16, p.np);
  if (p.pct) s.bind_static(18, *p.pct); else s.bind_null(18);
  s.bind_static(19, p.fo);
  bind_enum(s, 20, p.testing);
  bind_enum(s, 22, p.discovery_method);
  s.bind_static(24, p.psd).bind_static(25, p.t);
  s.bind_static(26, std::string_view(report.xml_namespace)).bind_static(27, report.version).bind_static(28, report.generator);
  errors_ = join_lines(report.errors);
  s.bind_static(29, errors_);
  s.bind_static(30, static_cast<std::int64_t>(report.records.size())).bind_static(31, message_count_of(report));
  s.bind_static(32, std::string_view(provenance.payload_sha256)).bind_static(33, std::string_view(content_sha256));
  s.bind_static(34, std::string_view(provenance.file)).bind_static(35, std::string_view(provenance.member));
  s.bind_static(36, std::string_view(provenance.container));
  s.bind_static(37, provenance.message_id).bind_static(38, provenance.mail_from).bind_static(39, provenance.mail_date);
  s.bind_static(40, provenance.mail_subject).bind_static(41, provenance.attachment_name).bind_static(42, now_);
  if (raw_payload) s.bind_static(43, *raw_payload); else s.bind_null(43);
  s.run();
  return db_.last_insert_rowid();
}

void SqliteWriteBatch::insert_records(const AggregateReport& report, const EncodedRecords* encoded,
                                      std::int64_t report_row) {
  w_.rollup.begin_report(report.policy.domain, report.org_name, report.begin, report.end);
  if (w_.multi_row_inserts && encoded) {
    w_.insert_records.run(report.records.size(), [&](Statement& s, int first, std::size_t i) {
      bind_record(s, first, report_row, report.records[i], (*encoded)[i]);
    });
    for (std::size_t i = 0; i < report.records.size(); ++i)
      w_.rollup.add_record(rollup_record_of(report.records[i], (*encoded)[i]));
    return;
  }
  for (std::size_t i = 0; i < report.records.size(); ++i) {
    const Record& r = report.records[i];
    EncodedRecord e;
    if (encoded) {
      e = (*encoded)[i];
    } else {
      scratch_.clear();
      const EncodedSpans spans = encode_record(r, scratch_);  // before viewing scratch_
      e = view_of(spans, scratch_);
    }
    bind_record(w_.insert_record, 1, report_row, r, e);
    w_.insert_record.run();
    w_.rollup.add_record(rollup_record_of(r, e));
  }
}

}  // namespace

std::unique_ptr<WriteBatch> SqliteStore::begin_batch() {
  if (!write_) write_ = std::make_shared<WriteStatements>(db_, options_.multi_row_inserts);
  if (!failure_writer_) failure_writer_ = std::make_shared<FailureWriter>(db_);
  return std::make_unique<SqliteWriteBatch>(db_, *write_, *failure_writer_);
}

}  // namespace dmarcq::store

namespace dmarcq {

std::string content_fingerprint(const AggregateReport& report) {
  return store::content_fingerprint(report);
}

}  // namespace dmarcq
