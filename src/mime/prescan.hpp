// The guards that run before mimetic sees a byte (../shared/mimetic/README.md):
// one linear pass over the message that enforces the size, line, field,
// nesting and part limits, and prepares the text mimetic parses.
#pragma once

#include <string>
#include <string_view>

#include "dmarcq/error.hpp"
#include "dmarcq/limits.hpp"

namespace dmarcq::mime {

struct PrescanOptions {
  // Nesting already used by enclosing messages (when an embedded message is
  // parsed again on its own), so the total depth stays within the limit.
  std::uint32_t depth_used = 0;
};

// Checks `raw` against the limits and returns the text to hand to mimetic:
//  - an mbox "From " line at the very top is dropped;
//  - in header state, a line of only spaces/tabs (IBM Domino) is made blank;
//  - a part header that runs straight into a known boundary gets the missing
//    blank line (mimetic would swallow the next part);
//  - a top-level header block with no blank line after it gets "\r\n\r\n"
//    (mimetic would lose its last field).
// Errors: limit_exceeded with a message naming the limit.
Expected<std::string> prepare_for_mimetic(std::string_view raw, const Limits& limits,
                                          PrescanOptions options = {});

}  // namespace dmarcq::mime
