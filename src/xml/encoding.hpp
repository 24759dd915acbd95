// Input bytes -> validated UTF-8, before pugixml sees them.
//
// We convert every supported encoding to UTF-8 ourselves (instead of letting
// pugixml do it) for three reasons: pugixml has no windows-1252, it does not
// validate UTF-8, and a single UTF-8 code path lets us reject NUL characters
// and map pugixml's error offsets back to bytes of the original input.
// Internal to src/xml; no pugixml here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"

namespace dmarcq::xml_detail {

enum class SourceEncoding { utf8, utf16le, utf16be, latin1, cp1252 };

struct DecodedXml {
  std::string utf8;                 // the document as UTF-8, byte order mark removed
  // Set instead of filling utf8 when the input is valid UTF-8 and the caller
  // asked for no copy: the document is the input after bom_bytes.
  bool in_input = false;
  SourceEncoding encoding = SourceEncoding::utf8;
  std::size_t bom_bytes = 0;        // bytes of byte order mark skipped in the input
};

// Detects the encoding (byte order mark first, then the XML declaration's
// `encoding`), converts to UTF-8 and rejects invalid sequences and NUL
// characters with Error::where = "byte N" (offset in `input`). Unknown declared
// encodings are read as UTF-8 with a note in `diagnostics`.
[[nodiscard]] Expected<DecodedXml> decode_to_utf8(std::string_view input,
                                                  std::vector<std::string>& diagnostics,
                                                  bool copy_utf8 = true);

// Maps an offset into DecodedXml::utf8 back to a byte offset into `input`.
[[nodiscard]] std::size_t source_offset(std::string_view input, const DecodedXml& decoded,
                                        std::size_t utf8_offset);

}  // namespace dmarcq::xml_detail
