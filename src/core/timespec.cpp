#include "dmarcq/timespec.hpp"

#include <ctime>

#include <fmt/format.h>

#include "dmarcq/text.hpp"

namespace dmarcq {

namespace {

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_number(std::string_view& text, std::size_t digits, int& out) {
  if (text.size() < digits) return false;
  out = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  text.remove_prefix(digits);
  return true;
}

bool consume(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_number(text, 4, year) || !consume(text, '-') || !read_number(text, 2, month) ||
      !consume(text, '-') || !read_number(text, 2, day))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  if (!text.empty() && (text.front() == 'T' || text.front() == 't' || text.front() == ' ')) {
    text.remove_prefix(1);
    if (!read_number(text, 2, hour) || !consume(text, ':') || !read_number(text, 2, minute))
      return std::nullopt;
    if (consume(text, ':') && !read_number(text, 2, second)) return std::nullopt;
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (consume(text, 'Z') || consume(text, 'z')) {
  } else if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    const int sign = text.front() == '-' ? -1 : 1;
    text.remove_prefix(1);
    int off_hours = 0, off_minutes = 0;
    if (!read_number(text, 2, off_hours)) return std::nullopt;
    consume(text, ':');
    if (!text.empty() && !read_number(text, 2, off_minutes)) return std::nullopt;
    offset = sign * (off_hours * 3600 + off_minutes * 60);
  }
  if (!text.empty()) return std::nullopt;
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60 + second - offset;
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
  text = trim(text);
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return std::nullopt;
  }
  auto amount = parse_int64(text.substr(0, text.size() - 1));
  if (!amount || *amount < 0 || *amount > 100LL * 366 * 86400 / unit) return std::nullopt;
  return *amount * unit;
}

std::optional<std::int64_t> parse_time_spec(std::string_view text, std::int64_t now) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '@') return parse_int64(text.substr(1));
  if (auto span = parse_duration(text)) return now - *span;
  return parse_iso8601(text);
}

std::string format_utc(std::int64_t epoch) {
  const auto seconds = static_cast<std::time_t>(epoch);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", parts.tm_year + 1900, parts.tm_mon + 1,
                     parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
}

std::string format_utc_date(std::int64_t epoch) { return format_utc(epoch).substr(0, 10); }

}  // namespace dmarcq
