#include "zlib_inflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <string>

namespace dmarcq::archive_internal {

namespace {

// Owns an inflate state. Neither copyable nor movable: zlib's internal state
// keeps a pointer back to its z_stream and rejects a z_stream that moved.
class InflateStream {
 public:
  InflateStream() { status_ = inflateInit(&stream_); }
  ~InflateStream() {
    if (status_ == Z_OK) inflateEnd(&stream_);
  }
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;

  [[nodiscard]] bool ready() const noexcept { return status_ == Z_OK; }
  z_stream& get() noexcept { return stream_; }

 private:
  z_stream stream_{};
  int status_ = Z_STREAM_ERROR;
};

Error zlib_error(std::string_view reason, std::string_view where) {
  return make_error(ErrorKind::malformed, "corrupt zlib stream: " + std::string(reason),
                    std::string(where));
}

}  // namespace

std::optional<Error> inflate_zlib(std::string_view compressed, BoundedOutput& output,
                                  std::string_view where) {
  InflateStream inflater;
  if (!inflater.ready()) return make_error(ErrorKind::internal, "zlib: cannot initialise inflate");
  z_stream& stream = inflater.get();
  std::array<unsigned char, kBlockSize> block;  // NOLINT: filled by inflate

  std::size_t consumed = 0;
  for (;;) {
    // avail_in is a 32-bit uInt: feed very large inputs in slices.
    if (stream.avail_in == 0 && consumed < compressed.size()) {
      const std::size_t slice = std::min<std::size_t>(compressed.size() - consumed, UINT_MAX);
      // zlib's API is not const-correct; it never writes through next_in.
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + consumed));
      stream.avail_in = static_cast<uInt>(slice);
      consumed += slice;
    }
    stream.next_out = block.data();
    stream.avail_out = static_cast<uInt>(block.size());
    const int status = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = block.size() - stream.avail_out;
    if (status == Z_NEED_DICT) return zlib_error("needs a preset dictionary", where);
    if (status == Z_DATA_ERROR || status == Z_STREAM_ERROR || status == Z_MEM_ERROR) {
      return zlib_error(stream.msg != nullptr ? stream.msg : "invalid data", where);
    }
    if (produced > 0) {
      if (auto error = output.append(block.data(), produced)) return error;
    }
    if (status == Z_STREAM_END) return std::nullopt;
    // No progress possible: all input used before the end of the stream.
    if (produced == 0 && stream.avail_in == 0 && consumed == compressed.size()) {
      return zlib_error("truncated (input ends before the end of the stream)", where);
    }
  }
}

}  // namespace dmarcq::archive_internal
