// The owner's own sending sources: `CIDR label` lines, `#` comments.
// Known senders are labelled in `sources` and never listed as impersonators.
#pragma once

#include <string>
#include <vector>

#include "dmarcq/query.hpp"

namespace dmarcq::cli {

// Parses allow-list text; throws Failure (usage) naming `origin:line` on a bad CIDR.
std::vector<KnownSender> parse_allow_list(const std::string& text, const std::string& origin);

// --allow-list FILE, else $DMARCQ_ALLOW_LIST, else $XDG_CONFIG_HOME/dmarcq/senders
// (~/.config/dmarcq/senders). A named file must exist (Failure io); the default
// one may be absent. "-" or "none" means no allow-list.
std::vector<KnownSender> load_allow_list(const std::string& option);

}  // namespace dmarcq::cli
