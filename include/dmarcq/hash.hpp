// SHA-256 (nettle), used for payload deduplication and provenance.
#pragma once

#include <string>
#include <string_view>

namespace dmarcq {

// Lowercase hex digest of bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace dmarcq
