#include "archive_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

namespace dmarcq::archive_internal {

namespace {

const char* kind_name(ArchiveKind kind) { return kind == ArchiveKind::gzip ? "gzip" : "zip"; }

// libarchive converts zip member names flagged UTF-8 into the current
// locale's charset; in the "C" locale a daemon runs in, any non-ASCII name
// fails and comes back as NULL. Switching this thread (only) to C.UTF-8
// while headers are read keeps names as the UTF-8 the zip stores; names
// without the flag are passed through as raw bytes either way. Only zip:
// a gzip stream's one entry has no name to convert, and loading the locale
// (locale.alias, LC_CTYPE, the gconv cache) is a cost every MDA delivery of
// a .gz report would pay.
class ScopedUtf8Locale {
 public:
  explicit ScopedUtf8Locale(bool needed) {
    if (!needed) return;
    static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
    if (utf8 != locale_t{}) previous_ = uselocale(utf8);
  }
  ~ScopedUtf8Locale() {
    if (previous_ != locale_t{}) uselocale(previous_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t previous_{};
};

}  // namespace

void ArchiveReader::Closer::operator()(archive* handle) const noexcept {
  archive_read_free(handle);
}

Error ArchiveReader::corrupt(std::string_view where) const {
  const char* reason = archive_error_string(handle_.get());
  return make_error(ErrorKind::malformed,
                    std::string("corrupt ") + kind_name(kind_) + ": " +
                        (reason != nullptr ? reason : "unknown libarchive error"),
                    std::string(where.empty() ? where_ : where));
}

Expected<ArchiveReader> ArchiveReader::open(std::string_view bytes, ArchiveKind kind,
                                            std::string where) {
  Handle handle(archive_read_new());
  if (!handle) return make_error(ErrorKind::internal, "libarchive: out of memory");
  ArchiveReader reader(std::move(handle), kind, std::move(where));
  archive* a = reader.handle_.get();

  // Only the one format we sniffed: no tar-in-gzip guessing, no other filters.
  // The raw format yields a gzip stream's content as a single entry.
  if (kind == ArchiveKind::gzip) {
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
  } else {
    archive_read_support_format_zip(a);
  }
  const ScopedUtf8Locale utf8_names(kind == ArchiveKind::zip);
  if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return reader.corrupt({});
  }
  // A "1f 8b" whose header libarchive does not accept (reserved flags, not
  // deflate) leaves no filter, and the raw format would hand back the
  // compressed bytes unchanged.
  if (kind == ArchiveKind::gzip && archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
    return make_error(ErrorKind::malformed, "corrupt gzip: unsupported or invalid gzip header",
                      reader.where_);
  }
  return reader;
}

int ArchiveReader::gzip_layers() const {
  int layers = 0;
  for (int i = 0; i < archive_filter_count(handle_.get()); ++i) {
    if (archive_filter_code(handle_.get(), i) == ARCHIVE_FILTER_GZIP) ++layers;
  }
  return layers;
}

Expected<std::optional<ArchiveEntry>> ArchiveReader::next_entry() {
  const ScopedUtf8Locale utf8_names(kind_ == ArchiveKind::zip);
  archive_entry* entry = nullptr;
  const int status = archive_read_next_header(handle_.get(), &entry);
  if (status == ARCHIVE_EOF) return std::optional<ArchiveEntry>{};
  // ARCHIVE_WARN is fine here: it reports e.g. a name that cannot be
  // converted to the current locale, and the entry is still readable.
  if (status < ARCHIVE_WARN || entry == nullptr) return corrupt({});

  ArchiveEntry info;
  const char* name = archive_entry_pathname(entry);
  if (name == nullptr) name = archive_entry_pathname_utf8(entry);
  if (name != nullptr) info.name = name;
  info.is_directory = archive_entry_filetype(entry) == AE_IFDIR ||
                      (!info.name.empty() && info.name.back() == '/');
  info.is_encrypted = archive_entry_is_encrypted(entry) != 0;
  if (archive_entry_size_is_set(entry) != 0 && archive_entry_size(entry) >= 0) {
    info.declared_size = static_cast<std::uint64_t>(archive_entry_size(entry));
  }
  return std::optional<ArchiveEntry>{std::move(info)};
}

std::optional<Error> ArchiveReader::read_data(BoundedOutput& output, std::string_view member) {
  archive* a = handle_.get();
  for (;;) {
    const void* block = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    const int status = archive_read_data_block(a, &block, &size, &offset);
    if (status == ARCHIVE_EOF) return std::nullopt;
    // While reading data a warning means a bad CRC or the like: the data is
    // not what was written, so it is an error too.
    if (status != ARCHIVE_OK) return corrupt(member);
    // Zip and raw entries are never sparse; a hole would mean a corrupt archive.
    if (offset < 0 || static_cast<std::uint64_t>(offset) != output.size()) {
      return make_error(ErrorKind::malformed,
                        std::string("corrupt ") + kind_name(kind_) + ": data out of order",
                        std::string(member.empty() ? where_ : member));
    }
    if (auto error = output.append(block, size)) return error;
  }
}

}  // namespace dmarcq::archive_internal
