// Aggregate report XML -> AggregateReport. The only module that touches pugixml.
#pragma once

#include <string_view>

#include "dmarcq/error.hpp"
#include "dmarcq/limits.hpp"
#include "dmarcq/model.hpp"

namespace dmarcq {

// Parses one aggregate report (RFC 7489 Appendix C, RFC 9990 and the drafts
// between; namespace-agnostic). Values are trimmed; enums go through the
// parse_* functions of model.hpp; domains/IPs are NOT normalized here (see
// normalize.hpp). Errors carry an XML path or byte offset in Error::where.
Expected<AggregateReport> parse_aggregate_report(std::string_view xml, const Limits& limits);

// The same, without copying UTF-8 input: the XML is parsed in xml's own
// bytes, which hold garbage afterwards (other encodings are converted into a
// copy as usual). For big documents, where that copy is the memory peak.
Expected<AggregateReport> parse_aggregate_report_in_place(std::string& xml, const Limits& limits);

}  // namespace dmarcq
