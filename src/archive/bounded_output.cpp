#include "bounded_output.hpp"

#include <algorithm>
#include <cstdio>

namespace dmarcq::archive_internal {

namespace {

// XML compresses 10-30x; 16x covers most reports in one allocation.
constexpr std::uint64_t kExpectedRatio = 16;
constexpr std::uint64_t kMinReserve = 4 * 1024;
// Beyond this, let the buffer grow as data actually arrives.
constexpr std::uint64_t kMaxReserve = 16 * 1024 * 1024;

Error limit_error(std::string message, std::string_view where) {
  return make_error(ErrorKind::limit_exceeded, std::move(message), std::string(where));
}

}  // namespace

std::size_t estimate_output_size(std::uint64_t input_size, const Limits& limits) {
  std::uint64_t guess = std::clamp(input_size * kExpectedRatio, kMinReserve, kMaxReserve);
  return static_cast<std::size_t>(std::min(guess, limits.max_decompressed_bytes));
}

BoundedOutput::BoundedOutput(UnpackBudget& budget, ContainerMeter& meter,
                             std::string_view where, std::size_t size_hint)
    : budget_(budget), meter_(meter), where_(where) {
  bytes_.reserve(size_hint);
}

std::optional<Error> BoundedOutput::append(const void* data, std::size_t size) {
  const Limits& limits = budget_.limits;
  if (budget_.decompressed_total + size > limits.max_decompressed_bytes) {
    return limit_error("decompressed data exceeds the limit of " +
                           std::to_string(limits.max_decompressed_bytes) + " bytes",
                       where_);
  }
  const std::uint64_t container_output = meter_.output_size + size;
  const std::uint64_t input = std::max<std::uint64_t>(meter_.input_size, 1);
  if (container_output > kRatioFloorBytes &&
      container_output / input > limits.max_compression_ratio) {
    return limit_error("compression ratio exceeds the limit of " +
                           std::to_string(limits.max_compression_ratio) + ":1 (" +
                           std::to_string(input) + " bytes expand to over " +
                           std::to_string(container_output) + ")",
                       where_);
  }
  if (bytes_.size() + size > bytes_.capacity()) grow_for(size);
  bytes_.append(static_cast<const char*>(data), size);
  budget_.decompressed_total += size;
  meter_.output_size = container_output;
  return std::nullopt;
}

// Doubles like std::string would, but never past the size limit, so a bomb
// that stops at the limit has not just allocated twice the limit.
void BoundedOutput::grow_for(std::size_t extra) {
  const std::size_t needed = bytes_.size() + extra;
  const auto ceiling = static_cast<std::size_t>(std::max<std::uint64_t>(
      budget_.limits.max_decompressed_bytes, needed));
  std::size_t target = std::min(std::max(bytes_.capacity() * 2, needed), ceiling);
  // Landing just short of the limit would cost one more full-size copy later.
  if (ceiling - target < target / 2) target = ceiling;
  // reserve() on a fresh string allocates exactly `target` (libstdc++ would
  // round a reserve on this one up to twice the old capacity).
  std::string bigger;
  bigger.reserve(target);
  bigger.append(bytes_);
  bytes_.swap(bigger);
}

std::string describe_content(std::string_view bytes) {
  constexpr std::size_t kTextPreview = 40;
  constexpr std::size_t kHexPreview = 8;
  const std::size_t probe = std::min<std::size_t>(bytes.size(), 256);
  std::size_t printable = 0;
  for (std::size_t i = 0; i < probe; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r') ++printable;
  }
  // Mostly printable (UTF-8 included): show the start as text.
  if (probe > 0 && printable * 10 >= probe * 9) {
    const std::string_view line = bytes.substr(0, bytes.find_first_of("\r\n"));
    std::string text;
    for (char ch : line.substr(0, kTextPreview)) {
      text += (static_cast<unsigned char>(ch) < 0x20) ? ' ' : ch;
    }
    return "text starting \"" + text + (line.size() > kTextPreview ? "...\"" : "\"");
  }
  std::string hex = "binary data (starts with";
  for (std::size_t i = 0; i < std::min(bytes.size(), kHexPreview); ++i) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, " 0x%02x", static_cast<unsigned char>(bytes[i]));
    hex += buffer;
  }
  return hex + ")";
}

}  // namespace dmarcq::archive_internal
