#include "wal_reuse_vfs.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "sqlite_handle.hpp"

namespace dmarcq::store {
namespace {

// Consecutive appends to the WAL, written with one pwrite. SQLite writes a
// frame as two calls (its 24-byte header, then the page), so a commit of
// 4,000 pages was 8,000 system calls, each page-cache page written in two
// partial pieces. From a commit frame's header on, every write goes out at
// once (wal_write), so the commit is in the file before SQLite publishes it
// in the wal-index, where other connections look; and what is held goes out
// before anything reads, syncs, sizes or truncates the file. What is still
// held when the connection gives up the WAL's write lock belongs to no
// commit (frames of a transaction that rolled back): it is dropped then,
// before another writer may write its own frames at those offsets.
class PendingAppends {
 public:
  // The unix VFS writes at most 0x1ffff bytes per call (os_unix.c,
  // seekAndWriteFd): more would come back as SQLITE_FULL.
  static constexpr std::size_t kCapacity = 124 * 1024;

  // False when `offset` does not continue what is held or there is no room.
  bool append(const void* data, std::size_t amount, sqlite3_int64 offset) {
    if (!bytes_.empty() && offset != start_ + static_cast<sqlite3_int64>(bytes_.size())) return false;
    if (bytes_.size() + amount > kCapacity) return false;
    if (bytes_.empty()) {
      // Out of memory: nothing held, the caller writes through (no
      // exception may cross SQLite's C frames).
      try {
        if (bytes_.capacity() == 0) bytes_.reserve(kCapacity);
      } catch (const std::bad_alloc&) {
        return false;
      }
      start_ = offset;
    }
    const auto* from = static_cast<const unsigned char*>(data);
    bytes_.insert(bytes_.end(), from, from + amount);
    return true;
  }

  void discard() { bytes_.clear(); }

  int write_out(sqlite3_file* real) {
    if (bytes_.empty()) return SQLITE_OK;
    const int rc = real->pMethods->xWrite(real, bytes_.data(), static_cast<int>(bytes_.size()), start_);
    // Written or not, they are not held any more: after an error SQLite
    // rolls the transaction back, and its frames are never read.
    bytes_.clear();
    return rc;
  }

 private:
  std::vector<unsigned char> bytes_;
  sqlite3_int64 start_ = 0;
};

struct DbFile;

// What both wrappers start with: SQLite's file object, then the platform
// VFS's own, which follows the wrapper in the same allocation.
struct Wrapper {
  sqlite3_file base;
  sqlite3_file* real;
};

// A WAL file.
struct WalFile : Wrapper {
  PendingAppends* pending;  // constructed in place, in `pending_storage`
  bool committing;          // the last frame header written was a commit frame's
  bool gathers;             // paired with its database file (else every write goes straight out)
  DbFile* db;               // the same connection's database file, while both are open
  alignas(PendingAppends) unsigned char pending_storage[sizeof(PendingAppends)];
};

// A main database file: SQLite's own, but that releasing the WAL's write
// lock drops what its WAL file holds (see PendingAppends).
struct DbFile : Wrapper {
  WalFile* wal;  // the same connection's WAL file, while both are open
};

constexpr std::size_t kLargerHeader = sizeof(WalFile) > sizeof(DbFile) ? sizeof(WalFile) : sizeof(DbFile);
constexpr int kWrapperHeader = static_cast<int>((kLargerHeader + 7) & ~std::size_t{7});

// Database files by the name SQLite opened them with: a WAL file finds its
// connection's database file by sqlite3_filename_database() of its own
// name, which is that very pointer (the pager's).
std::mutex open_databases_mutex;
std::unordered_map<const char*, DbFile*>& open_databases() {
  static std::unordered_map<const char*, DbFile*> databases;
  return databases;
}
constexpr int kWalHeaderBytes = 32;  // SQLite's WAL header: magic, version, page size, checkpoint, salts, checksum

sqlite3_vfs* platform_vfs = nullptr;  // set once, before registration

WalFile* wal_of(sqlite3_file* file) { return reinterpret_cast<WalFile*>(file); }
sqlite3_file* real(sqlite3_file* file) { return reinterpret_cast<Wrapper*>(file)->real; }

// The methods both wrappers pass through as they are.
int forward_lock(sqlite3_file* file, int level) { return real(file)->pMethods->xLock(real(file), level); }
int forward_check_reserved_lock(sqlite3_file* file, int* out) {
  return real(file)->pMethods->xCheckReservedLock(real(file), out);
}
int forward_file_control(sqlite3_file* file, int op, void* arg) {
  return real(file)->pMethods->xFileControl(real(file), op, arg);
}
int forward_sector_size(sqlite3_file* file) { return real(file)->pMethods->xSectorSize(real(file)); }
int forward_device_characteristics(sqlite3_file* file) {
  return real(file)->pMethods->xDeviceCharacteristics(real(file));
}

// Writes what is held; xRead, xSync, xFileSize, xTruncate and xClose call it
// first. A failure is reported as an I/O error, whatever the platform said
// (SQLITE_FULL for a short write): bytes of earlier statements may be lost
// with it, and SQLite rolls back the whole transaction on an I/O error, but
// only the statement on SQLITE_FULL when the statement has a journal.
int write_out(sqlite3_file* file) {
  return wal_of(file)->pending->write_out(real(file)) == SQLITE_OK ? SQLITE_OK : SQLITE_IOERR_WRITE;
}

constexpr int kFrameHeaderBytes = 24;  // page number, database size after a commit (else 0), salts, checksum

std::uint32_t get_be32(const unsigned char* at) {
  return std::uint32_t{at[0]} << 24 | std::uint32_t{at[1]} << 16 | std::uint32_t{at[2]} << 8 | at[3];
}
std::uint32_t get_le32(const unsigned char* at) {
  return std::uint32_t{at[3]} << 24 | std::uint32_t{at[2]} << 16 | std::uint32_t{at[1]} << 8 | at[0];
}
void put_be32(unsigned char* at, std::uint32_t value) {
  for (int i = 3; i >= 0; --i, value >>= 8) at[i] = static_cast<unsigned char>(value);
}

// Rewrites a valid WAL header so that SQLite reads no frame: the file's
// magic, version and page size, checkpoint sequence 0 (the next writer
// draws new salts), new random salts, and a checksum that cannot match.
// Why not zeros: a reader without write access to the -shm keeps its own
// copy of the WAL index and sees a change of the WAL by its salts; zeroed
// headers all look alike to it (0,0), so it would keep stale pages after a
// later commit and checkpoint. New salts tell it, as a truncation does.
// False when the header is not a WAL header (then the caller truncates).
bool invalidate_header(sqlite3_file* wal, int* rc) {
  unsigned char header[kWalHeaderBytes];
  if (wal->pMethods->xRead(wal, header, kWalHeaderBytes, 0) != SQLITE_OK) return false;
  const std::uint32_t magic = get_be32(header);
  if ((magic & 0xFFFFFFFEu) != 0x377F0682u) return false;
  put_be32(header + 12, 0);
  sqlite3_randomness(8, header + 16);
  // SQLite's checksum of the first 24 bytes: 32-bit words, big-endian when
  // the magic's low bit says so (wal.c, walChecksumBytes).
  const bool big_endian = (magic & 1u) != 0;
  std::uint32_t s1 = 0, s2 = 0;
  for (int at = 0; at < 24; at += 8) {
    s1 += (big_endian ? get_be32(header + at) : get_le32(header + at)) + s2;
    s2 += (big_endian ? get_be32(header + at + 4) : get_le32(header + at + 4)) + s1;
  }
  put_be32(header + 24, s1 ^ 1u);
  put_be32(header + 28, s2);
  *rc = wal->pMethods->xWrite(wal, header, kWalHeaderBytes, 0);
  return true;
}

int wal_truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (const int rc = write_out(file); rc != SQLITE_OK) return rc;
  sqlite3_file* wal = real(file);
  sqlite3_int64 current = 0;
  int rc = SQLITE_OK;
  if (size == 0 && wal->pMethods->xFileSize(wal, &current) == SQLITE_OK && current >= kWalHeaderBytes &&
      current <= kWalReuseLimitBytes && invalidate_header(wal, &rc))
    return rc;
  return wal->pMethods->xTruncate(wal, size);
}

int wal_close(sqlite3_file* file) {
  WalFile* wal = wal_of(file);
  const int written = write_out(file);
  {
    std::lock_guard lock(open_databases_mutex);
    if (wal->db) wal->db->wal = nullptr;
  }
  wal->pending->~PendingAppends();
  const int closed = wal->real->pMethods->xClose(wal->real);
  return written != SQLITE_OK ? written : closed;
}
int wal_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (const int rc = write_out(file); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xRead(real(file), out, amount, offset);
}
// Held until a commit frame's header. Then written out at once, and so is
// every write after it until the next frame header that is not a commit's:
// the commit frame's page; the headers whose checksums SQLite rewrites after
// the loop (a transaction that overwrote a frame of its own, after spilling
// pages from a full cache), the last of them the commit frame's; and the
// copies of the commit frame SQLite pads a commit with when it syncs to a
// sector boundary (only without powersafe overwrite, which the unix VFS
// reports unless a URI says psow=0: dmarcq opens none). Each of these is
// the last write before SQLite publishes the commit (and a crash must find
// the commit frame valid in the file).
int wal_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* wal = wal_of(file);
  if (!wal->gathers) return wal->real->pMethods->xWrite(wal->real, data, amount, offset);
  if (amount == kFrameHeaderBytes)
    wal->committing = std::memcmp(static_cast<const unsigned char*>(data) + 4, "\0\0\0\0", 4) != 0;
  if (!wal->pending->append(data, static_cast<std::size_t>(amount), offset)) {
    if (const int rc = write_out(file); rc != SQLITE_OK) return rc;
    if (!wal->pending->append(data, static_cast<std::size_t>(amount), offset))
      return wal->real->pMethods->xWrite(wal->real, data, amount, offset);
  }
  return wal->committing ? write_out(file) : SQLITE_OK;
}
int wal_sync(sqlite3_file* file, int flags) {
  if (const int rc = write_out(file); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xSync(real(file), flags);
}
int wal_file_size(sqlite3_file* file, sqlite3_int64* size) {
  if (const int rc = write_out(file); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xFileSize(real(file), size);
}
int wal_unlock(sqlite3_file* file, int level) { return real(file)->pMethods->xUnlock(real(file), level); }

// Version 1: SQLite uses no shared memory or memory mapping on a WAL file.
constexpr sqlite3_io_methods kWalMethods = {
    1,
    wal_close,
    wal_read,
    wal_write,
    wal_truncate,
    wal_sync,
    wal_file_size,
    forward_lock,
    wal_unlock,
    forward_check_reserved_lock,
    // Not written out first: SQLite ignores what some file controls return
    // (a size hint), and none of them reads the file.
    forward_file_control,
    forward_sector_size,
    forward_device_characteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr};

// The database file's methods: the platform's, and xShmLock drops what the
// connection's WAL file holds before the WAL's write lock (lock 0 of the
// wal-index, wal.c WAL_WRITE_LOCK) is released.
DbFile* db_of(sqlite3_file* file) { return reinterpret_cast<DbFile*>(file); }

int db_close(sqlite3_file* file) {
  DbFile* db = db_of(file);
  {
    std::lock_guard lock(open_databases_mutex);
    auto& databases = open_databases();
    for (auto it = databases.begin(); it != databases.end(); ++it) {
      if (it->second == db) {
        databases.erase(it);
        break;
      }
    }
    if (db->wal) db->wal->db = nullptr;
  }
  return db->real->pMethods->xClose(db->real);
}
int db_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return real(file)->pMethods->xRead(real(file), out, amount, offset);
}
int db_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  return real(file)->pMethods->xWrite(real(file), data, amount, offset);
}
int db_truncate(sqlite3_file* file, sqlite3_int64 size) {
  return real(file)->pMethods->xTruncate(real(file), size);
}
int db_sync(sqlite3_file* file, int flags) { return real(file)->pMethods->xSync(real(file), flags); }
int db_file_size(sqlite3_file* file, sqlite3_int64* size) {
  return real(file)->pMethods->xFileSize(real(file), size);
}
// Leaving exclusive locking mode (where SQLite takes no wal-index locks)
// releases the file lock that kept other writers out: held bytes go too.
int db_unlock(sqlite3_file* file, int level) {
  DbFile* db = db_of(file);
  if (level <= SQLITE_LOCK_SHARED && db->wal) db->wal->pending->discard();
  return db->real->pMethods->xUnlock(db->real, level);
}
int db_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return real(file)->pMethods->xShmMap(real(file), region, size, extend, out);
}
int db_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  DbFile* db = db_of(file);
  // Only this connection's thread uses its two files: no lock needed here.
  if (offset == 0 && (flags & SQLITE_SHM_UNLOCK) && (flags & SQLITE_SHM_EXCLUSIVE) && db->wal)
    db->wal->pending->discard();
  return db->real->pMethods->xShmLock(db->real, offset, n, flags);
}
void db_shm_barrier(sqlite3_file* file) { real(file)->pMethods->xShmBarrier(real(file)); }
int db_shm_unmap(sqlite3_file* file, int delete_flag) {
  return real(file)->pMethods->xShmUnmap(real(file), delete_flag);
}
int db_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return real(file)->pMethods->xFetch(real(file), offset, amount, out);
}
int db_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* at) {
  return real(file)->pMethods->xUnfetch(real(file), offset, at);
}

// The platform's database files have version 3 methods (shared memory,
// memory mapping); a lower version gets the same functions, which SQLite
// then does not call.
const sqlite3_io_methods* database_methods(int version) {
  static const sqlite3_io_methods methods[3] = {
      {1, db_close, db_read, db_write, db_truncate, db_sync, db_file_size, forward_lock, db_unlock,
       forward_check_reserved_lock, forward_file_control, forward_sector_size, forward_device_characteristics,
       nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
      {2, db_close, db_read, db_write, db_truncate, db_sync, db_file_size, forward_lock, db_unlock,
       forward_check_reserved_lock, forward_file_control, forward_sector_size, forward_device_characteristics,
       db_shm_map, db_shm_lock, db_shm_barrier, db_shm_unmap, nullptr, nullptr},
      {3, db_close, db_read, db_write, db_truncate, db_sync, db_file_size, forward_lock, db_unlock,
       forward_check_reserved_lock, forward_file_control, forward_sector_size, forward_device_characteristics,
       db_shm_map, db_shm_lock, db_shm_barrier, db_shm_unmap, db_fetch, db_unfetch}};
  return &methods[version >= 3 ? 2 : version == 2 ? 1 : 0];
}

int open_database(sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* db = reinterpret_cast<DbFile*>(file);
  db->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kWrapperHeader);
  db->real->pMethods = nullptr;
  db->wal = nullptr;
  const int rc = platform_vfs->xOpen(platform_vfs, name, db->real, flags, out_flags);
  // SQLite closes a file whose methods are set even when the open failed.
  db->base.pMethods = db->real->pMethods ? database_methods(db->real->pMethods->iVersion) : nullptr;
  if (db->base.pMethods && name) {
    std::lock_guard lock(open_databases_mutex);
    try {
      open_databases()[name] = db;
    } catch (const std::bad_alloc&) {
      // Unpaired, its WAL file writes everything straight out.
    }
  }
  return rc;
}

int open_file(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if (flags & SQLITE_OPEN_MAIN_DB) return open_database(name, file, flags, out_flags);
  if (!(flags & SQLITE_OPEN_WAL)) return platform_vfs->xOpen(platform_vfs, name, file, flags, out_flags);
  WalFile* wal = wal_of(file);
  wal->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kWrapperHeader);
  wal->real->pMethods = nullptr;
  wal->committing = false;
  wal->gathers = false;
  wal->db = nullptr;
  const int rc = platform_vfs->xOpen(platform_vfs, name, wal->real, flags, out_flags);
  // SQLite closes a file whose methods are set even when the open failed.
  if (wal->real->pMethods) {
    wal->pending = ::new (static_cast<void*>(wal->pending_storage)) PendingAppends();
    wal->base.pMethods = &kWalMethods;
    std::lock_guard lock(open_databases_mutex);
    const auto found = open_databases().find(sqlite3_filename_database(name));
    if (found != open_databases().end()) {
      wal->db = found->second;
      wal->gathers = true;
      found->second->wal = wal;
    }
  } else {
    wal->base.pMethods = nullptr;
  }
  return rc;
}

// The rest is the platform VFS's, called with its own object.
int delete_file(sqlite3_vfs*, const char* name, int sync_dir) {
  return platform_vfs->xDelete(platform_vfs, name, sync_dir);
}
int access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return platform_vfs->xAccess(platform_vfs, name, flags, out);
}
int full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return platform_vfs->xFullPathname(platform_vfs, name, size, out);
}
void* dl_open(sqlite3_vfs*, const char* name) { return platform_vfs->xDlOpen(platform_vfs, name); }
void dl_error(sqlite3_vfs*, int size, char* out) { platform_vfs->xDlError(platform_vfs, size, out); }
void (*dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return platform_vfs->xDlSym(platform_vfs, handle, symbol);
}
void dl_close(sqlite3_vfs*, void* handle) { platform_vfs->xDlClose(platform_vfs, handle); }
int randomness(sqlite3_vfs*, int size, char* out) { return platform_vfs->xRandomness(platform_vfs, size, out); }
int sleep(sqlite3_vfs*, int microseconds) { return platform_vfs->xSleep(platform_vfs, microseconds); }
int current_time(sqlite3_vfs*, double* out) { return platform_vfs->xCurrentTime(platform_vfs, out); }
int last_error(sqlite3_vfs*, int size, char* out) { return platform_vfs->xGetLastError(platform_vfs, size, out); }
int current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return platform_vfs->xCurrentTimeInt64(platform_vfs, out);
}

sqlite3_vfs* register_vfs() {
  platform_vfs = sqlite3_vfs_find(nullptr);
  if (!platform_vfs || platform_vfs->iVersion < 2 || !platform_vfs->xCurrentTimeInt64)
    throw_sqlite(nullptr, SQLITE_ERROR, "SQLite's default VFS");
  static sqlite3_vfs vfs = {
      2,
      kWrapperHeader + platform_vfs->szOsFile,
      platform_vfs->mxPathname,
      nullptr,
      "dmarcq-wal-reuse",
      nullptr,
      open_file,
      delete_file,
      access,
      full_pathname,
      dl_open,
      dl_error,
      dl_sym,
      dl_close,
      randomness,
      sleep,
      current_time,
      last_error,
      current_time_int64,
      nullptr,
      nullptr,
      nullptr,
  };
  const int rc = sqlite3_vfs_register(&vfs, 0);
  if (rc != SQLITE_OK) throw_sqlite(nullptr, rc, "registering a SQLite VFS");
  return &vfs;
}

}  // namespace

const char* wal_reuse_vfs_name() {
  static const sqlite3_vfs* vfs = register_vfs();  // thread-safe, once
  return vfs->zName;
}

}  // namespace dmarcq::store
