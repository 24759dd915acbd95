// One <record> element -> dmarcq::Record. Internal to src/xml.
#pragma once

#include <cstddef>
#include <optional>

#include <pugixml.hpp>

#include "dmarcq/error.hpp"
#include "dmarcq/model.hpp"
#include "xml_access.hpp"

namespace dmarcq::xml_detail {

// Fills `out` from <record> number `index` (1-based). Only a missing or
// invalid <count> is an error: without it the record's traffic is unknowable.
// Everything else is lenient (missing -> nullopt/absent, odd enum values ->
// unknown plus a diagnostic).
[[nodiscard]] std::optional<Error> parse_record(pugi::xml_node record, std::size_t index,
                                                Record& out, TextReader& reader,
                                                Diagnostics& diagnostics);

}  // namespace dmarcq::xml_detail
