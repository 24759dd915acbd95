// RFC 5322 section 3.3 date-time, with the obsolete forms of section 4.3,
// read leniently but never guessed: every accepted form is unambiguous.
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "dmarcq/arf.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool all_alpha(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (std::isalpha(static_cast<unsigned char>(c)) == 0) return false;
  return true;
}

int to_number(std::string_view digits) {
  int value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Comments "(...)" (nested) become spaces; "," becomes a space.
std::string strip_comments(std::string_view text) {
  std::string out;
  int depth = 0;
  for (const char c : text) {
    if (c == '(') ++depth;
    if (depth > 0 || c == ',') out += ' ';
    else out += c;
    if (c == ')' && depth > 0) --depth;
  }
  return out;
}

std::vector<std::string_view> tokens_of(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    const std::size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0) ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  return tokens;
}

// 1..12 for "Jan".."Dec" (or a full name), 0 otherwise.
int month_of(std::string_view token) {
  static constexpr std::array<std::string_view, 12> names = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  if (token.size() < 3 || !all_alpha(token)) return 0;
  const std::string lower = to_lower_ascii(token);
  for (std::size_t m = 0; m < names.size(); ++m)
    if (names[m].substr(0, 3) == lower.substr(0, 3) &&
        (lower.size() == 3 || names[m] == lower || (lower == "sept" && m == 8)))
      return static_cast<int>(m) + 1;
  return 0;
}

bool is_day_name(std::string_view token) {
  static constexpr std::array<std::string_view, 7> names = {
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  if (token.size() < 3 || !all_alpha(token)) return false;
  const std::string lower = to_lower_ascii(token);
  for (const std::string_view name : names)
    if (name.substr(0, 3) == lower.substr(0, 3) && (lower.size() == 3 || name == lower))
      return true;
  return false;
}

// RFC 5322 4.3: 00-49 -> 20xx, 50-99 -> 19xx, three digits -> +1900.
std::optional<int> year_of(std::string_view token) {
  if (!all_digits(token) || token.size() < 2 || token.size() > 4) return std::nullopt;
  const int value = to_number(token);
  if (token.size() == 2) return value < 50 ? 2000 + value : 1900 + value;
  if (token.size() == 3) return 1900 + value;
  return value;
}

struct TimeOfDay {
  int hour = 0, minute = 0, second = 0;
};

// "hh:mm" or "hh:mm:ss", a fraction after the seconds ignored.
std::optional<TimeOfDay> time_of(std::string_view token) {
  std::array<int, 3> parts{};
  std::size_t count = 0;
  std::size_t start = 0;
  if (const std::size_t dot = token.find('.'); dot != std::string_view::npos) {
    if (!all_digits(token.substr(dot + 1))) return std::nullopt;
    token = token.substr(0, dot);
  }
  while (count < 3) {
    const std::size_t colon = token.find(':', start);
    const std::string_view piece = token.substr(start, colon - start);
    if (piece.empty() || piece.size() > 2 || !all_digits(piece)) return std::nullopt;
    parts[count++] = to_number(piece);
    if (colon == std::string_view::npos) break;
    start = colon + 1;
    if (count == 3) return std::nullopt;
  }
  if (count < 2) return std::nullopt;
  TimeOfDay t{parts[0], parts[1], parts[2]};
  if (t.hour > 23 || t.minute > 59 || t.second > 60) return std::nullopt;
  return t;
}

// Zone offset in seconds east of UTC.
std::optional<int> zone_of(std::string_view token) {
  if (token.size() >= 3 && (token[0] == '+' || token[0] == '-')) {
    std::string digits(token.substr(1));
    if (digits.size() == 5 && digits[2] == ':') digits.erase(2, 1);  // "+02:00"
    if (digits.size() == 2 && all_digits(digits)) digits += "00";    // "+02"
    if (digits.size() != 4 || !all_digits(digits)) return std::nullopt;
    const int hours = to_number(std::string_view(digits).substr(0, 2));
    const int minutes = to_number(std::string_view(digits).substr(2, 2));
    if (minutes > 59) return std::nullopt;
    const int offset = hours * 3600 + minutes * 60;
    return token[0] == '-' ? -offset : offset;
  }
  if (!all_alpha(token) || token.size() > 5) return std::nullopt;
  struct Named {
    std::string_view name;
    int hours;
  };
  static constexpr std::array<Named, 12> zones = {{{"ut", 0},
                                                   {"utc", 0},
                                                   {"gmt", 0},
                                                   {"z", 0},
                                                   {"est", -5},
                                                   {"edt", -4},
                                                   {"cst", -6},
                                                   {"cdt", -5},
                                                   {"mst", -7},
                                                   {"mdt", -6},
                                                   {"pst", -8},
                                                   {"pdt", -7}}};
  const std::string lower = to_lower_ascii(token);
  for (const Named& zone : zones)
    if (zone.name == lower) return zone.hours * 3600;
  return 0;  // military letters and other names: "-0000", time is UTC, zone unknown
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[static_cast<std::size_t>(month - 1)];
}

}  // namespace

std::optional<std::int64_t> parse_rfc5322_date(std::string_view text) {
  const std::string cleaned = strip_comments(text);
  std::vector<std::string_view> tokens = tokens_of(cleaned);
  std::size_t i = 0;
  if (i < tokens.size() && is_day_name(tokens[i])) ++i;
  if (tokens.size() - i < 4) return std::nullopt;

  int day = 0;
  int month = 0;
  std::optional<int> year;
  std::optional<TimeOfDay> time;
  if (all_digits(tokens[i]) && tokens[i].size() <= 2 && month_of(tokens[i + 1]) != 0) {
    // RFC 5322: day month year time
    day = to_number(tokens[i]);
    month = month_of(tokens[i + 1]);
    year = year_of(tokens[i + 2]);
    time = time_of(tokens[i + 3]);
    i += 4;
  } else if (month_of(tokens[i]) != 0 && all_digits(tokens[i + 1]) && tokens[i + 1].size() <= 2) {
    // asctime: month day time year; or month day year time
    month = month_of(tokens[i]);
    day = to_number(tokens[i + 1]);
    if (time_of(tokens[i + 2])) {
      time = time_of(tokens[i + 2]);
      year = year_of(tokens[i + 3]);
    } else {
      year = year_of(tokens[i + 2]);
      time = time_of(tokens[i + 3]);
    }
    i += 4;
  } else {
    return std::nullopt;
  }
  if (!year || !time || *year < 1900 || day < 1 || day > days_in_month(*year, month))
    return std::nullopt;

  int offset = 0;
  if (i < tokens.size()) {
    const auto zone = zone_of(tokens[i]);
    if (!zone) return std::nullopt;
    offset = *zone;
    // "+0200 CEST": a zone name after the numeric zone says nothing more.
    if (++i < tokens.size() && all_alpha(tokens[i]) && tokens[i].size() <= 5) ++i;
    if (i < tokens.size()) return std::nullopt;
  }
  const std::int64_t days = days_from_civil(*year, month, day);
  return days * 86400 + time->hour * 3600 + time->minute * 60 + time->second - offset;
}

}  // namespace dmarcq
