// Moving files to and from a node over exec channels (`cat > file`, `cat file`): SFTP in
// libssh 0.10 blocks, these never block the reactor. Data streams through the channel in
// chunks (its flow control paces the reads); local files are read and written on the
// reactor's thread pool.
#ifndef ASYNCJOBS_SSH_TRANSFER_H_
#define ASYNCJOBS_SSH_TRANSFER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "asyncjobs/ssh.h"

namespace asyncjobs::ssh::internal {

// Copies each local path into `remote_dir` (created if missing) under its base name, with
// its permission bits (see Node::push). Each file is written to a temporary name beside its
// final one, checked for size, then renamed. Throws std::system_error for an unreadable
// local file, CommandFailedError when the remote side fails.
void push_files(Node& node, const std::vector<std::string>& local_paths,
                const std::string& remote_dir, const TransferOptions& options);
// Copies each remote path into `local_dir` under its base name, the same way. Throws
// CommandFailedError for an unreadable remote file, std::system_error when the local file
// cannot be written.
void pull_files(Node& node, const std::vector<std::string>& remote_paths,
                const std::string& local_dir, const TransferOptions& options);
// A small local file's content and permission bits (a script), read on the reactor's thread
// pool. Throws std::system_error when it cannot be read.
struct LocalFile {
  std::string content;
  mode_t mode;
};
LocalFile read_local_file(const std::string& path);
// Copies `content` into a fresh executable remote temporary file; returns its path.
std::string push_temporary_script(Node& node, const std::string& content);

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_TRANSFER_H_
