// A move-only RAII reader over libarchive for an in-memory gzip stream or zip
// file (private to src/archive; the only place that sees `struct archive`).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bounded_output.hpp"
#include "dmarcq/error.hpp"

struct archive;

namespace dmarcq::archive_internal {

enum class ArchiveKind { gzip, zip };

struct ArchiveEntry {
  std::string name;  // as stored; may be "", "../x.xml" or "/etc/x.xml" (never a path we use)
  bool is_directory = false;
  bool is_encrypted = false;
  std::optional<std::uint64_t> declared_size;  // a hint only: archives lie
};

class ArchiveReader {
 public:
  // Reads `bytes` in place (no copy); `bytes` must outlive the reader.
  // `where` (the member being read, or "") goes into every error.
  static Expected<ArchiveReader> open(std::string_view bytes, ArchiveKind kind,
                                      std::string where);

  // libarchive stacks one gzip filter per gzip layer it finds (gzip in gzip
  // is decoded in one pass): how many there are, for the chain and nesting.
  [[nodiscard]] int gzip_layers() const;

  // The next entry, std::nullopt at the end, or malformed for a corrupt archive.
  Expected<std::optional<ArchiveEntry>> next_entry();

  // Streams the current entry's data into `output` block by block; `member`
  // names it in errors.
  [[nodiscard]] std::optional<Error> read_data(BoundedOutput& output, std::string_view member);

 private:
  struct Closer {
    void operator()(archive* handle) const noexcept;
  };
  using Handle = std::unique_ptr<archive, Closer>;

  ArchiveReader(Handle handle, ArchiveKind kind, std::string where)
      : handle_(std::move(handle)), kind_(kind), where_(std::move(where)) {}
  [[nodiscard]] Error corrupt(std::string_view where) const;

  Handle handle_;
  ArchiveKind kind_;
  std::string where_;
};

}  // namespace dmarcq::archive_internal
