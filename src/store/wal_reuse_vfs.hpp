#pragma once

namespace dmarcq::store {

// The name of a SQLite VFS that is the platform's own ("unix") except for
// one thing: a WAL file of at most `kWalReuseLimitBytes` that SQLite
// truncates to zero bytes (a TRUNCATE checkpoint, which MDA deliveries run
// every few commits) keeps its blocks, and its header is rewritten so that
// it holds no valid frame (new salts, a checksum that does not match).
// Registered on first use; every connection dmarcq opens uses it.
//
// Why: each delivery is a new process writing ~40 frames. After a
// truncation the file grows again block by block, and ext4 allocates and
// zeroes every block anew (ftruncate alone was ~0.46 ms). A WAL whose
// header is not valid is empty to SQLite, as a zero-length one is: its
// recovery stops at the header, and the next commit writes a new header
// and its frames over the old ones, whose salts no longer match (SQLite's
// own restart path, which does not truncate, relies on the same). The
// wal-index is restarted by the checkpoint under the write lock as before.
// Larger WAL files (a batch import's) are truncated, so they do not hold
// disk space.
//
// It also gathers SQLite's consecutive writes to the WAL (a frame's header
// and its page are two calls) into writes of up to 124 KiB. From a commit
// frame's header on, every write goes out at once, so a commit is in the
// file before SQLite publishes it; what is held goes out before a read,
// sync, size or truncation of the file, and is dropped when the connection
// releases the WAL's write lock (then it belongs to no commit). For that
// the VFS also wraps database files, whose every other method is the
// platform's.
const char* wal_reuse_vfs_name();

inline constexpr long long kWalReuseLimitBytes = 4LL << 20;

}  // namespace dmarcq::store
