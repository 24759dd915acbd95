#include "failure_store.hpp"

#include <fmt/format.h>

#include "sqlite_store.hpp"

namespace dmarcq::store {

namespace {

constexpr const char* kColumns =
    "machine_readable, feedback_type, feedback_type_raw, user_agent, version, original_envelope_id, "
    "original_mail_from, original_rcpt_to, arrival_date, arrival_date_text, reporting_mta, source_ip, "
    "ip, source_hostname, source_ip_text, source_port, incidents, authentication_results, "
    "reported_domain, reported_domains, reported_uris, delivery_result, delivery_result_raw, "
    "auth_failures, dkim_domains, dkim_identity, dkim_selector, dkim_selector_dns, "
    "dkim_canonicalized_header, dkim_canonicalized_body, spf_dns, identity_alignment, extra_fields, "
    "feedback_text, human_readable, original_source, original_headers, original_from, original_to, "
    "original_subject, original_date, original_date_epoch, original_message_id, "
    "original_authentication_results, original_dkim_signatures, original_body, mail_from, "
    "mail_subject, mail_date, mail_message_id, source_file, diagnostics, ingested_at, sha256";
constexpr int kColumnCount = 54;

std::optional<std::string> joined(const std::vector<std::string>& lines) {
  if (lines.empty()) return std::nullopt;
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::vector<std::string> split_lines(const std::optional<std::string>& text) {
  std::vector<std::string> lines;
  if (!text) return lines;
  std::size_t start = 0;
  while (start <= text->size()) {
    const auto end = text->find('\n', start);
    lines.push_back(text->substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

template <typename E>
std::optional<std::string> enum_text(const Enumerated<E>& value) {
  if (!value.present()) return std::nullopt;
  return std::string(to_string(value.value));
}
template <typename E>
std::optional<std::string> enum_raw(const Enumerated<E>& value) {
  if (value.raw.empty()) return std::nullopt;
  return value.raw;
}
std::optional<std::int64_t> optional_int(const Statement& s, int index) {
  if (s.column_is_null(index)) return std::nullopt;
  return s.column_int(index);
}

// Binds columns in order, so that the column list and the values cannot drift apart.
struct RowBinder {
  Statement& statement;
  int next = 1;
  template <typename T>
  RowBinder& operator()(const T& value) {
    statement.bind(next++, value);
    return *this;
  }
  RowBinder& null() {
    statement.bind_null(next++);
    return *this;
  }
  RowBinder& blob(const void* data, std::size_t size) {
    statement.bind_blob(next++, data, size);
    return *this;
  }
  RowBinder& optional(const std::optional<std::int64_t>& value) {
    if (value) statement.bind(next++, *value);
    else statement.bind_null(next++);
    return *this;
  }
};

void bind_row(Statement& s, const IncomingFailure& incoming, std::int64_t now) {
  const FailureReport& r = *incoming.report;
  RowBinder b{s};
  b(std::int64_t{r.machine_readable});
  b(enum_text(r.feedback_type))(enum_raw(r.feedback_type));
  b(r.user_agent)(r.version)(r.original_envelope_id);
  b(r.original_mail_from)(joined(r.original_rcpt_to));
  b.optional(r.arrival_date);
  b(r.arrival_date_text)(r.reporting_mta);
  if (r.source_ip) {
    b(std::string_view(r.source_ip->ip));
    if (r.source_ip->valid) b.blob(r.source_ip->key.data(), r.source_ip->key.size());
    else b.null();
    b(r.source_ip->hostname)(std::string_view(r.source_ip->text));
  } else {
    b.null().null().null().null();
  }
  b.optional(r.source_port ? std::optional<std::int64_t>(*r.source_port) : std::nullopt);
  b.optional(r.incidents);
  b(joined(r.authentication_results));
  if (r.reported_domains.empty()) b.null();
  else b(std::string_view(r.reported_domains.front()));  // normalized by the pipeline
  b(joined(r.reported_domains))(joined(r.reported_uris));
  b(enum_text(r.delivery_result))(enum_raw(r.delivery_result));
  std::vector<std::string> failures;
  for (const auto& failure : r.auth_failures) failures.emplace_back(failure.text());
  b(joined(failures))(joined(r.dkim_domains));
  b(r.dkim_identity)(r.dkim_selector)(r.dkim_selector_dns);
  b(r.dkim_canonicalized_header)(r.dkim_canonicalized_body);
  b(joined(r.spf_dns));
  b(r.identity_alignment ? std::optional<std::string>(r.identity_alignment->text) : std::nullopt);
  std::vector<std::string> extras;
  for (const auto& field : r.extra_fields) extras.push_back(field.name + ": " + field.value);
  b(joined(extras));
  b(std::string_view(r.feedback_text))(std::string_view(r.human_readable));
  const OriginalMessage& o = r.original;
  b(std::string_view(o.source))(std::string_view(o.headers));
  b(o.from)(o.to)(o.subject)(o.date);
  b.optional(o.date_epoch);
  b(o.message_id)(joined(o.authentication_results));
  std::vector<std::string> signatures;
  for (const auto& signature : o.dkim_signatures)
    signatures.push_back("d=" + signature.domain + " s=" + signature.selector);
  b(joined(signatures));
  if (o.body) b.blob(o.body->data(), o.body->size());
  else b.null();
  b(r.mail_from)(r.mail_subject)(r.mail_date)(r.mail_message_id);
  b(std::string_view(incoming.source_file))(joined(r.diagnostics))(now);
  b(std::string_view(incoming.sha256));
}

StoredFailure read_row(const Statement& s) {
  StoredFailure stored;
  FailureReport& r = stored.report;
  int i = 0;
  stored.id = s.column_int(i++);
  r.machine_readable = s.column_int(i++) != 0;
  r.feedback_type = read_enum(s, i, parse_feedback_type);
  i += 2;
  r.user_agent = s.column_optional_text(i++);
  r.version = s.column_optional_text(i++);
  r.original_envelope_id = s.column_optional_text(i++);
  r.original_mail_from = s.column_optional_text(i++);
  r.original_rcpt_to = split_lines(s.column_optional_text(i++));
  r.arrival_date = optional_int(s, i++);
  r.arrival_date_text = s.column_optional_text(i++);
  r.reporting_mta = s.column_optional_text(i++);
  if (!s.column_is_null(i)) {
    SourceIp ip;
    ip.ip = s.column_text(i);
    const std::string_view key = s.column_blob(i + 1);
    if (key.size() == ip.key.size()) {
      ip.valid = true;
      std::copy(key.begin(), key.end(), ip.key.begin());
    }
    ip.hostname = s.column_optional_text(i + 2);
    ip.text = s.column_text(i + 3);
    r.source_ip = ip;
  }
  i += 4;
  if (auto port = optional_int(s, i++)) r.source_port = static_cast<std::uint16_t>(*port);
  r.incidents = optional_int(s, i++);
  r.authentication_results = split_lines(s.column_optional_text(i++));
  ++i;  // reported_domain (derived)
  r.reported_domains = split_lines(s.column_optional_text(i++));
  r.reported_uris = split_lines(s.column_optional_text(i++));
  r.delivery_result = read_enum(s, i, parse_delivery_result);
  i += 2;
  for (const auto& failure : split_lines(s.column_optional_text(i++)))
    r.auth_failures.push_back(parse_auth_failure(failure));
  r.dkim_domains = split_lines(s.column_optional_text(i++));
  r.dkim_identity = s.column_optional_text(i++);
  r.dkim_selector = s.column_optional_text(i++);
  r.dkim_selector_dns = s.column_optional_text(i++);
  r.dkim_canonicalized_header = s.column_optional_text(i++);
  r.dkim_canonicalized_body = s.column_optional_text(i++);
  r.spf_dns = split_lines(s.column_optional_text(i++));
  if (auto alignment = s.column_optional_text(i++)) r.identity_alignment = IdentityAlignment{*alignment, false, false, false, {}};
  for (const auto& line : split_lines(s.column_optional_text(i++))) {
    const auto colon = line.find(": ");
    r.extra_fields.push_back(colon == std::string::npos ? HeaderField{line, ""}
                                                        : HeaderField{line.substr(0, colon), line.substr(colon + 2)});
  }
  r.feedback_text = s.column_text(i++);
  r.human_readable = s.column_text(i++);
  OriginalMessage& o = r.original;
  o.source = s.column_text(i++);
  o.headers = s.column_text(i++);
  o.from = s.column_optional_text(i++);
  o.to = s.column_optional_text(i++);
  o.subject = s.column_optional_text(i++);
  o.date = s.column_optional_text(i++);
  o.date_epoch = optional_int(s, i++);
  o.message_id = s.column_optional_text(i++);
  o.authentication_results = split_lines(s.column_optional_text(i++));
  for (const auto& line : split_lines(s.column_optional_text(i++))) {
    DkimSignatureRef signature;
    const auto space = line.find(" s=");
    signature.domain = line.substr(2, space == std::string::npos ? std::string::npos : space - 2);
    if (space != std::string::npos) signature.selector = line.substr(space + 3);
    o.dkim_signatures.push_back(signature);
  }
  if (!s.column_is_null(i)) o.body = std::string(s.column_blob(i));
  ++i;
  r.mail_from = s.column_optional_text(i++);
  r.mail_subject = s.column_optional_text(i++);
  r.mail_date = s.column_optional_text(i++);
  r.mail_message_id = s.column_optional_text(i++);
  stored.source_file = s.column_text(i++);
  r.diagnostics = split_lines(s.column_optional_text(i++));
  stored.ingested_at = s.column_int(i++);
  return stored;
}

std::string placeholders(int count) {
  std::string out;
  for (int i = 1; i <= count; ++i) out += fmt::format("{}?{}", i > 1 ? ", " : "", i);
  return out;
}

}  // namespace

FailureWriter::FailureWriter(const Database& db)
    : find_(db, "SELECT id FROM failure_reports WHERE sha256 = ?1"),
      insert_(db, fmt::format("INSERT INTO failure_reports ({}) VALUES ({})", kColumns,
                              placeholders(kColumnCount))) {}

std::vector<AddResult> FailureWriter::add(Database& db, const std::vector<IncomingFailure>& reports,
                                          std::int64_t now) {
  std::vector<AddResult> results;
  for (const IncomingFailure& incoming : reports) {
    find_->bind(1, std::string_view(incoming.sha256));
    if (find_->step()) {
      results.push_back({AddOutcome::duplicate, find_->column_int(0)});
      find_->reset();
      continue;
    }
    find_->reset();
    bind_row(*insert_, incoming, now);
    insert_->run();
    results.push_back({AddOutcome::stored, db.last_insert_rowid()});
  }
  return results;
}

void SqliteStore::for_each_failure(const FailureFilter& filter,
                                   const std::function<void(const StoredFailure&)>& visit) {
  std::string sql = fmt::format("SELECT id, {} FROM failure_reports WHERE 1", kColumns);
  int next = 1;
  sql += in_clause("reported_domain", filter.domains.size(), next);
  if (filter.since) sql += fmt::format(" AND coalesce(arrival_date, ingested_at) >= ?{}", next++);
  if (filter.until) sql += fmt::format(" AND coalesce(arrival_date, ingested_at) < ?{}", next++);
  if (filter.ip_first) {
    sql += fmt::format(" AND ip BETWEEN ?{} AND ?{}", next, next + 1);
    next += 2;
  }
  sql += " ORDER BY coalesce(arrival_date, ingested_at) DESC, id DESC";
  if (filter.limit) sql += fmt::format(" LIMIT ?{}", next++);
  Statement statement = db_.prepare(sql);
  int index = 1;
  for (const auto& domain : filter.domains) statement.bind(index++, std::string_view(domain));
  if (filter.since) statement.bind(index++, *filter.since);
  if (filter.until) statement.bind(index++, *filter.until);
  if (filter.ip_first) {
    statement.bind_blob(index++, filter.ip_first->data(), filter.ip_first->size());
    statement.bind_blob(index++, filter.ip_last->data(), filter.ip_last->size());
  }
  if (filter.limit) statement.bind(index++, *filter.limit);
  while (statement.step()) visit(read_row(statement));
}

std::optional<StoredFailure> SqliteStore::failure(std::int64_t id) {
  Statement statement = db_.prepare(fmt::format("SELECT id, {} FROM failure_reports WHERE id = ?1", kColumns));
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  return read_row(statement);
}

}  // namespace dmarcq::store
