// This machine as a Node (apssh's LocalNode): commands as local processes, transfers as
// local copies, so a scenario mixes local and remote steps with one vocabulary.
#ifndef ASYNCJOBS_SSH_LOCAL_NODE_H_
#define ASYNCJOBS_SSH_LOCAL_NODE_H_

#include <string>
#include <vector>

#include "asyncjobs/ssh.h"

namespace asyncjobs::ssh::internal {

// Never connects: its options are those of a node "localhost" that is never used.
class LocalNode final : public Node {
 public:
  LocalNode();

  std::string name() const override { return "localhost"; }
  // `sh -c command` through run_process: suspends only the job, and on cancellation (or a
  // callback's exception) the process group gets SIGTERM, then SIGKILL a second later.
  CommandResult run(const std::string& command, const RunOptions& options = {}) override;
  // Copies files into `dir` (created if missing) under their base names, with their
  // permission bits, on the reactor's thread pool; each appears under its name only once
  // complete; with `options.recursive`, directories too (symlinks copied as symlinks). Throws
  // std::filesystem::filesystem_error (a std::system_error).
  void push(const std::vector<std::string>& local_paths, const std::string& remote_dir,
            const TransferOptions& options = {}) override;
  void pull(const std::vector<std::string>& remote_paths, const std::string& local_dir,
            const TransferOptions& options = {}) override;
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_LOCAL_NODE_H_
