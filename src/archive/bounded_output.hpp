// Decompressed output that grows under the safety limits (private to src/archive).
//
// Every decoder (libarchive gzip/zip, zlib) appends its blocks here, so the
// size and ratio limits are enforced in one place, block by block: a bomb is
// stopped after at most one block past the limit, never after it has been
// fully inflated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dmarcq/error.hpp"
#include "dmarcq/limits.hpp"

namespace dmarcq::archive_internal {

// Decoders read and inflate in blocks of this size.
inline constexpr std::size_t kBlockSize = 64 * 1024;

// The ratio limit only applies above this much output, so that a tiny file
// that compresses very well (a 200-byte gzip of 300 KB of whitespace) passes.
inline constexpr std::uint64_t kRatioFloorBytes = 1024 * 1024;

// Shared by every stream decoded during one unpack() call: all layers and all
// members count towards max_decompressed_bytes, and towards the member count.
struct UnpackBudget {
  const Limits& limits;
  std::uint64_t decompressed_total = 0;
  std::uint64_t members_seen = 0;
};

// One container (a gzip stream, a zip file, a zlib stream): its input size
// and everything decoded from it so far, for the compression-ratio limit.
struct ContainerMeter {
  std::uint64_t input_size = 0;
  std::uint64_t output_size = 0;
};

// A first guess for the output size of `input_size` compressed bytes. Based
// on the input we actually hold, never on a size field an archive declares.
std::size_t estimate_output_size(std::uint64_t input_size, const Limits& limits);

class BoundedOutput {
 public:
  // `where` names the member for limit errors; it must outlive this object.
  BoundedOutput(UnpackBudget& budget, ContainerMeter& meter, std::string_view where,
                std::size_t size_hint);

  // Appends one decoded block, or returns limit_exceeded (and appends nothing).
  [[nodiscard]] std::optional<Error> append(const void* data, std::size_t size);

  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] std::string take() && { return std::move(bytes_); }

 private:
  void grow_for(std::size_t extra);

  UnpackBudget& budget_;
  ContainerMeter& meter_;
  std::string_view where_;
  std::string bytes_;
};

// "binary data (starts with 0x50 0x4b ...)", "text starting \"Hello\"", ...:
// what a payload that is not a report looks like, for error messages.
std::string describe_content(std::string_view bytes);

}  // namespace dmarcq::archive_internal
