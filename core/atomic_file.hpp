// Crash-safe replacement of a whole file, for checkpoints and other outputs
// that must never be left half-written.
#pragma once

#include <string>
#include <string_view>

namespace tapegrad {

// Replaces the file at `path` with `bytes`, so that after a crash or power
// loss at any moment `path` contains either its earlier contents or all of
// `bytes`, never a mix.
//
// The bytes go to a new temporary file "<path>.tmp.XXXXXX" in the same
// directory, which is flushed to disk and then renamed over `path`. The new
// file gets the permissions that a plain open() would give it: 0666 minus the
// process umask.
//
// Throws FileError naming `path` and the system error when `path` is empty or
// names a directory, when its directory does not exist or is not writable, or
// when a write, fsync or rename fails. The temporary file is then removed and
// an earlier file at `path` is left as it was.
//
// NOTE: a process killed during the call leaves its temporary file behind.
// If `path` is a symbolic link, the link itself is replaced, not its target.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace tapegrad
