// The one place that hands bytes to mimetic: guards first (prescan), then a
// parse from std::istringstream inside try/catch. Also small read helpers
// over mimetic's header so the tree walk never touches mimetic's own
// (RFC 2047/2231-unaware) field parsers.
#pragma once

#include <mimetic/mimeentity.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dmarcq/error.hpp"
#include "dmarcq/limits.hpp"
#include "prescan.hpp"

namespace dmarcq::mime {

using EntityPtr = std::unique_ptr<mimetic::MimeEntity>;

// Runs the guards on `raw`, then parses it. Errors: limit_exceeded from the
// guards, malformed when mimetic throws.
Expected<EntityPtr> load_entity(std::string_view raw, const Limits& limits,
                                PrescanOptions options = {});

// Value of the first header field called `name` (case-insensitive), as
// mimetic unfolded it; nullopt when there is none.
std::optional<std::string> field_value(const mimetic::MimeEntity& entity, std::string_view name);

// The entity as text (header, blank line, body / parts), written by mimetic.
// Used for the raw copy of an embedded message/rfc822.
std::string serialize(const mimetic::MimeEntity& entity);

}  // namespace dmarcq::mime
