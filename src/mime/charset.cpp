#include "charset.hpp"

#include <iconv.h>

#include <cerrno>
#include <utility>

#include "dmarcq/text.hpp"

namespace dmarcq::mime {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// Move-only owner of an iconv descriptor; the destructor never throws.
class IconvHandle {
 public:
  IconvHandle(const std::string& to, const std::string& from)
      : handle_(iconv_open(to.c_str(), from.c_str())) {}
  ~IconvHandle() {
    if (valid()) iconv_close(handle_);
  }
  IconvHandle(IconvHandle&& other) noexcept
      : handle_(std::exchange(other.handle_, invalid_handle())) {}
  IconvHandle& operator=(IconvHandle&& other) noexcept {
    if (this != &other) {
      if (valid()) iconv_close(handle_);
      handle_ = std::exchange(other.handle_, invalid_handle());
    }
    return *this;
  }
  IconvHandle(const IconvHandle&) = delete;
  IconvHandle& operator=(const IconvHandle&) = delete;

  [[nodiscard]] bool valid() const { return handle_ != invalid_handle(); }
  [[nodiscard]] iconv_t get() const { return handle_; }

 private:
  static iconv_t invalid_handle() { return reinterpret_cast<iconv_t>(-1); }
  iconv_t handle_;
};

bool is_passthrough_charset(std::string_view charset) {
  return charset.empty() || iequals(charset, "utf-8") || iequals(charset, "utf8") ||
         iequals(charset, "us-ascii") || iequals(charset, "ascii");
}

// Charset names are tokens; anything else (spaces, "//TRANSLIT" suffixes that
// would change iconv's behaviour) is refused rather than passed on.
bool is_plausible_charset_name(std::string_view charset) {
  if (charset.size() > 64) return false;
  for (char c : charset) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  charset = trim(charset);
  if (bytes.empty() || is_passthrough_charset(charset) || !is_plausible_charset_name(charset))
    return std::string(bytes);
  IconvHandle converter("UTF-8", std::string(charset));
  if (!converter.valid()) return std::string(bytes);  // unknown charset: keep bytes

  std::string out;
  std::string buffer(bytes.size() * 4 + 16, '\0');
  char* input = const_cast<char*>(bytes.data());  // iconv's signature is not const-correct
  std::size_t input_left = bytes.size();
  while (input_left > 0) {
    char* output = buffer.data();
    std::size_t output_left = buffer.size();
    const std::size_t result = iconv(converter.get(), &input, &input_left, &output, &output_left);
    out.append(buffer.data(), buffer.size() - output_left);
    if (result != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) continue;  // flushed the buffer, go on
    // EILSEQ or EINVAL (truncated sequence): replace one byte and resume.
    out += kReplacementCharacter;
    ++input;
    --input_left;
  }
  return out;
}

}  // namespace dmarcq::mime
