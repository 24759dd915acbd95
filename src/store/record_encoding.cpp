#include "record_encoding.hpp"

#include <fmt/format.h>

#include "query_rollup.hpp"

namespace dmarcq::store {

namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  // Runs of characters that need no escape are appended whole (a character
  // at a time was ~3% of a batch import's parse worker).
  std::size_t plain_from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, plain_from, i - plain_from);
    plain_from = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += text[i];
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\u{:04x}", c);
    }
  }
  out.append(text, plain_from, text.size() - plain_from);
  out += '"';
}

class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  ~JsonObject() { out_ += '}'; }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;
  void member(std::string_view name, std::string_view value) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, name);
    out_ += ':';
    append_json_string(out_, value);
  }
  void member(std::string_view name, const std::optional<std::string>& value) {
    if (value) member(name, std::string_view(*value));
  }
  // As bind_enum: the canonical value (or 'unknown') and the verbatim text.
  template <typename E>
  void member(std::string_view name, const Enumerated<E>& value) {
    if (value.value != E::absent) member(name, to_string(value.value));
    if (!value.raw.empty()) member(std::string(name) + "_raw", std::string_view(value.raw));
  }

 private:
  std::string& out_;
  bool first_ = true;
};

// Appends a JSON array of one object per item; nothing (NULL) when there is none.
template <typename Item, typename Write>
void json_array(std::string& out, const std::vector<Item>& items, Write&& write) {
  if (items.empty()) return;
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    JsonObject object(out);
    write(object, items[i]);
  }
  out += ']';
}

// Above this many records a report is encoded by the writer, record by
// record: holding the encodings of a 100,000-record report beside its model
// would break the 4x-its-XML memory budget (issue 7).
constexpr std::size_t kMaxEncodedRecords = 10'000;

}  // namespace

EncodedSpans encode_record(const Record& r, std::string& text) {
  EncodedSpans spans;
  // Appends what `write` writes to `text` as one span.
  auto span = [&text](EncodedSpans::Span& into, auto&& write) {
    const std::size_t begin = text.size();
    write();
    into = {static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(text.size() - begin)};
  };
  span(spans.dkim_json, [&] {
    json_array(text, r.dkim, [](JsonObject& o, const DkimAuthResult& d) {
      o.member("domain", std::string_view(d.domain));
      o.member("selector", d.selector);
      o.member("result", d.result);
      o.member("human_result", d.human_result);
    });
  });
  span(spans.spf_json, [&] {
    json_array(text, r.spf, [](JsonObject& o, const SpfAuthResult& f) {
      o.member("domain", std::string_view(f.domain));
      o.member("scope", f.scope);
      o.member("result", f.result);
      o.member("human_result", f.human_result);
    });
  });
  span(spans.reasons_json, [&] {
    json_array(text, r.reasons, [](JsonObject& o, const PolicyOverrideReason& e) {
      o.member("type", e.type);
      o.member("comment", e.comment);
    });
  });
  span(spans.dkim_auth, [&] { append_dkim_auth(text, r); });
  span(spans.spf_auth, [&] { append_spf_auth(text, r); });
  // Built aside from the auth texts just written (`text` may move as it grows).
  thread_local std::string key;
  key.clear();
  const EncodedRecord written = view_of(spans, text);
  append_profile_key(key, r.header_from, written.dkim_auth, written.spf_auth,
                     r.verdict.unaligned_dkim_pass_domain, r.verdict.unaligned_spf_pass_domain);
  span(spans.profile_key, [&] { text += key; });
  spans.verdict = verdict_of(r).pack();
  return spans;
}

EncodedRecord view_of(const EncodedSpans& spans, std::string_view text) {
  auto view = [text](EncodedSpans::Span span) { return text.substr(span.offset, span.size); };
  return {view(spans.dkim_json),   view(spans.spf_json), view(spans.reasons_json),
          view(spans.dkim_auth),   view(spans.spf_auth), view(spans.profile_key),
          spans.verdict};
}

}  // namespace dmarcq::store

namespace dmarcq {

std::shared_ptr<const EncodedRecords> encode_records(const AggregateReport& report) {
  if (report.records.size() > store::kMaxEncodedRecords) return nullptr;
  auto encoded = std::make_shared<EncodedRecords>();
  encoded->records.reserve(report.records.size());
  encoded->text.reserve(report.records.size() * 256);
  for (const Record& record : report.records)
    encoded->records.push_back(store::encode_record(record, encoded->text));
  return encoded;
}

}  // namespace dmarcq
