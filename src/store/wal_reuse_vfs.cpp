#include "wal_reuse_vfs.hpp"

#include <cstddef>

#include "sqlite_handle.hpp"

namespace dmarcq::store {
namespace {

// A WAL file: this header, then the platform VFS's own file object.
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
};
constexpr int kWalFileHeader = static_cast<int>((sizeof(WalFile) + 7) & ~std::size_t{7});
constexpr int kWalHeaderBytes = 32;  // SQLite's WAL header: magic, version, page size, checkpoint, salts, checksum

sqlite3_vfs* platform_vfs = nullptr;  // set once, before registration

sqlite3_file* real(sqlite3_file* file) { return reinterpret_cast<WalFile*>(file)->real; }

int wal_truncate(sqlite3_file* file, sqlite3_int64 size) {
  sqlite3_file* wal = real(file);
  sqlite3_int64 current = 0;
  if (size == 0 && wal->pMethods->xFileSize(wal, &current) == SQLITE_OK && current >= kWalHeaderBytes &&
      current <= kWalReuseLimitBytes) {
    static constexpr char kNoHeader[kWalHeaderBytes] = {};
    return wal->pMethods->xWrite(wal, kNoHeader, kWalHeaderBytes, 0);
  }
  return wal->pMethods->xTruncate(wal, size);
}

int wal_close(sqlite3_file* file) { return real(file)->pMethods->xClose(real(file)); }
int wal_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return real(file)->pMethods->xRead(real(file), out, amount, offset);
}
int wal_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  return real(file)->pMethods->xWrite(real(file), data, amount, offset);
}
int wal_sync(sqlite3_file* file, int flags) { return real(file)->pMethods->xSync(real(file), flags); }
int wal_file_size(sqlite3_file* file, sqlite3_int64* size) {
  return real(file)->pMethods->xFileSize(real(file), size);
}
int wal_lock(sqlite3_file* file, int level) { return real(file)->pMethods->xLock(real(file), level); }
int wal_unlock(sqlite3_file* file, int level) { return real(file)->pMethods->xUnlock(real(file), level); }
int wal_check_reserved_lock(sqlite3_file* file, int* out) {
  return real(file)->pMethods->xCheckReservedLock(real(file), out);
}
int wal_file_control(sqlite3_file* file, int op, void* arg) {
  return real(file)->pMethods->xFileControl(real(file), op, arg);
}
int wal_sector_size(sqlite3_file* file) { return real(file)->pMethods->xSectorSize(real(file)); }
int wal_device_characteristics(sqlite3_file* file) {
  return real(file)->pMethods->xDeviceCharacteristics(real(file));
}

// Version 1: SQLite uses no shared memory or memory mapping on a WAL file.
constexpr sqlite3_io_methods kWalMethods = {
    1,         wal_close,     wal_read,        wal_write,   wal_truncate, wal_sync,         wal_file_size,
    wal_lock,  wal_unlock,    wal_check_reserved_lock,      wal_file_control, wal_sector_size,
    wal_device_characteristics, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

int open_file(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if (!(flags & SQLITE_OPEN_WAL)) return platform_vfs->xOpen(platform_vfs, name, file, flags, out_flags);
  auto* wal = reinterpret_cast<WalFile*>(file);
  wal->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kWalFileHeader);
  wal->real->pMethods = nullptr;
  const int rc = platform_vfs->xOpen(platform_vfs, name, wal->real, flags, out_flags);
  // SQLite closes a file whose methods are set even when the open failed.
  wal->base.pMethods = wal->real->pMethods ? &kWalMethods : nullptr;
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
      kWalFileHeader + platform_vfs->szOsFile,
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
