// Parsing of time arguments: "7d", "24h", "30m", "2026-11-01",
// "2026-11-01T12:00:00Z", "2026-11-01 12:00", epoch seconds ("@1700000000").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dmarcq {

// A relative span ("7d") is counted back from `now`. Dates without a zone are
// UTC. nullopt when the text is none of the accepted forms.
std::optional<std::int64_t> parse_time_spec(std::string_view text, std::int64_t now);

// A duration like "7d", "24h", "90m", "3600s", "2w" in seconds.
std::optional<std::int64_t> parse_duration(std::string_view text);

// "2026-11-27T01:12:00Z".
std::string format_utc(std::int64_t epoch);
// "2026-11-27".
std::string format_utc_date(std::int64_t epoch);

}  // namespace dmarcq
