// Starting a child process with posix_spawnp: its argv, environment, working directory,
// process group, and the pipes as its stdin, stdout and stderr.
#ifndef ASYNCJOBS_INTERNAL_PROCESS_SPAWN_H_
#define ASYNCJOBS_INTERNAL_PROCESS_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "asyncjobs/internal/process/child_pipes.h"
#include "asyncjobs/process_job.h"

namespace asyncjobs::internal {

// `argv` as one line for messages and listings: its words joined by spaces.
std::string command_line(const std::vector<std::string>& argv);

// Starts `options.argv` in a process group of its own, with the inherited environment plus
// `options.environment`, the child ends of `pipes` as its only descriptors, and no blocked
// or ignored SIGPIPE. Returns its pid. Throws std::system_error when it cannot run (glibc's
// posix_spawnp reports a failed chdir or exec in the child).
pid_t spawn(const ProcessOptions& options, const ChildPipes& pipes);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_SPAWN_H_
