// The columns the write path derives from a record: its JSON auth results
// and reasons (schema/006_compact_auth.sql) and its rollup keys
// (schema/005_rollup_v2.sql). Computed ahead by the batch import's parse
// workers (encode_records), or by the writer for other callers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/model.hpp"
#include "dmarcq/store.hpp"

namespace dmarcq::store {

// Views into the EncodedRecords (or scratch buffer) they came from.
struct EncodedRecord {
  std::string_view dkim_json, spf_json, reasons_json;  // empty = NULL (no item)
  std::string_view dkim_auth, spf_auth;                // rollup_profiles' auth columns
  std::string_view profile_key;                        // the writer's rollup_profiles cache key
  std::int64_t verdict = 0;                            // Verdict::pack()
};

// Where a record's texts sit in the shared buffer.
struct EncodedSpans {
  struct Span {
    std::uint32_t offset = 0, size = 0;
  };
  Span dkim_json, spf_json, reasons_json, dkim_auth, spf_auth, profile_key;
  std::int64_t verdict = 0;
};

// Appends the record's texts to `text` and returns where they went.
EncodedSpans encode_record(const Record& record, std::string& text);
EncodedRecord view_of(const EncodedSpans& spans, std::string_view text);

}  // namespace dmarcq::store

namespace dmarcq {

// One buffer per report rather than strings per record: the parse worker
// allocates it, the writer frees it, and cross-thread frees are not cheap.
struct EncodedRecords {
  std::string text;
  std::vector<store::EncodedSpans> records;  // one per report record, in order
  [[nodiscard]] store::EncodedRecord operator[](std::size_t i) const { return store::view_of(records[i], text); }
};

}  // namespace dmarcq
