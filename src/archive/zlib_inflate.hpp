// Raw zlib (RFC 1950) streams, which libarchive cannot read (private to src/archive).
#pragma once

#include <optional>
#include <string_view>

#include "bounded_output.hpp"
#include "dmarcq/error.hpp"

namespace dmarcq::archive_internal {

// Inflates one zlib stream from `compressed` into `output`; bytes after the
// end of the stream are ignored. Errors: malformed, limit_exceeded.
[[nodiscard]] std::optional<Error> inflate_zlib(std::string_view compressed, BoundedOutput& output,
                                                std::string_view where);

}  // namespace dmarcq::archive_internal
