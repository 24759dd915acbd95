// Reads a SQLite WAL file's 32-byte header the way SQLite's recovery does
// (wal.c, walIndexRecover): written here again, to check dmarcq's WAL VFS
// (src/store/wal_reuse_vfs.cpp) against the file format, not against itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dmarcq::test {

// True when SQLite finds no frame in the WAL: shorter than a header, or a
// header whose magic, page size or checksum is not valid.
inline bool wal_holds_no_frame(const std::string& wal_path) {
  std::error_code ec;
  if (std::filesystem::file_size(wal_path, ec) < 32 || ec) return true;
  unsigned char h[32];
  std::ifstream in(wal_path, std::ios::binary);
  in.read(reinterpret_cast<char*>(h), 32);
  const auto be = [&](int at) {
    return std::uint32_t{h[at]} << 24 | std::uint32_t{h[at + 1]} << 16 | std::uint32_t{h[at + 2]} << 8 | h[at + 3];
  };
  const auto le = [&](int at) {
    return std::uint32_t{h[at + 3]} << 24 | std::uint32_t{h[at + 2]} << 16 | std::uint32_t{h[at + 1]} << 8 | h[at];
  };
  const std::uint32_t magic = be(0), page_size = be(8);
  if ((magic & 0xFFFFFFFEu) != 0x377F0682u || page_size < 512 || page_size > 65536 ||
      (page_size & (page_size - 1)) != 0)
    return true;
  std::uint32_t s1 = 0, s2 = 0;
  for (int at = 0; at < 24; at += 8) {
    s1 += ((magic & 1u) ? be(at) : le(at)) + s2;
    s2 += ((magic & 1u) ? be(at + 4) : le(at + 4)) + s1;
  }
  return s1 != be(24) || s2 != be(28);
}

// The header's salts (bytes 16-23): new ones each time the WAL starts over.
inline std::string wal_salts(const std::string& wal_path) {
  std::string header(32, '\0');
  std::ifstream in(wal_path, std::ios::binary);
  in.read(header.data(), 32);
  return header.substr(16, 8);
}

// The frames SQLite's recovery accepts: each frame's salts equal the
// header's and its checksum continues the chain from the header's; counted
// up to the last commit frame (one whose "database size" field is not 0).
// Frames written after it, or not written at all, do not count.
inline std::size_t wal_committed_frames(const std::string& wal_path) {
  if (wal_holds_no_frame(wal_path)) return 0;
  std::ifstream in(wal_path, std::ios::binary);
  const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto be = [&](std::size_t at) {
    return std::uint32_t{bytes[at]} << 24 | std::uint32_t{bytes[at + 1]} << 16 | std::uint32_t{bytes[at + 2]} << 8 |
           bytes[at + 3];
  };
  const auto le = [&](std::size_t at) {
    return std::uint32_t{bytes[at + 3]} << 24 | std::uint32_t{bytes[at + 2]} << 16 |
           std::uint32_t{bytes[at + 1]} << 8 | bytes[at];
  };
  const bool big_endian = (be(0) & 1u) != 0;
  const std::size_t page_size = be(8);
  std::uint32_t s1 = be(24), s2 = be(28);
  const auto sum = [&](std::size_t from, std::size_t length) {
    for (std::size_t at = from; at < from + length; at += 8) {
      s1 += (big_endian ? be(at) : le(at)) + s2;
      s2 += (big_endian ? be(at + 4) : le(at + 4)) + s1;
    }
  };
  std::size_t frames = 0, committed = 0;
  for (std::size_t at = 32; at + 24 + page_size <= bytes.size(); at += 24 + page_size) {
    if (be(at + 8) != be(16) || be(at + 12) != be(20)) break;
    sum(at, 8);
    sum(at + 24, page_size);
    if (s1 != be(at + 16) || s2 != be(at + 20)) break;
    ++frames;
    if (be(at + 4) != 0) committed = frames;
  }
  return committed;
}

}  // namespace dmarcq::test
