#include "asyncjobs/process_job.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>  // sigabbrev_np
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/fault_injection.h"

extern char** environ;

namespace asyncjobs {
namespace {

constexpr size_t kReadSize = 64 * 1024;  // a pipe's default capacity

[[noreturn]] void throw_errno(int error, std::string_view what) {
  throw std::system_error(error, std::generic_category(), std::string(what));
}

// For the posix_spawn_* calls, which return an error number instead of setting errno.
void check_spawn_call(int error) {
  if (error != 0) throw_errno(error, "posix_spawn setup");
}

std::string command_line(const std::vector<std::string>& argv) { return absl::StrJoin(argv, " "); }

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};

// A pipe whose ends close on exec; the end this process keeps is non-blocking.
Pipe make_pipe(bool parent_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  Pipe pipe{Fd(fds[0]), Fd(fds[1])};
  const int parent_end = parent_reads ? fds[0] : fds[1];
  if (::fcntl(parent_end, F_SETFL, O_NONBLOCK) != 0) throw_errno(errno, "fcntl");
  return pipe;
}

struct ChildPipes {
  Pipe in = make_pipe(false), out = make_pipe(true), err = make_pipe(true);

  // Once the child has its copies: our reads see end of file only when no writer is left.
  void close_child_ends() {
    in.read.reset();
    out.write.reset();
    err.write.reset();
  }
};

// --- Starting the child

// The inherited environment with `added` set over it, as "NAME=value" strings.
std::vector<std::string> make_environment(
    const std::vector<std::pair<std::string, std::string>>& added) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    const std::string_view name = variable.substr(0, variable.find('='));
    const bool replaced = std::any_of(added.begin(), added.end(),
                                      [&](const auto& variable) { return variable.first == name; });
    if (!replaced) environment.emplace_back(*entry);
  }
  for (const auto& [name, value] : added) environment.push_back(absl::StrCat(name, "=", value));
  return environment;
}

// The null-terminated array exec wants; the strings must outlive it.
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

struct SpawnAttributes {
  posix_spawnattr_t value;
  SpawnAttributes() { posix_spawnattr_init(&value); }
  ~SpawnAttributes() { posix_spawnattr_destroy(&value); }
};

struct SpawnActions {
  posix_spawn_file_actions_t value;
  SpawnActions() { posix_spawn_file_actions_init(&value); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&value); }
};

// Its own process group (so that it can be terminated whole), no blocked signal, and SIGPIPE
// at its default even if this process ignores it.
void set_attributes(posix_spawnattr_t& attributes) {
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  check_spawn_call(posix_spawnattr_setflags(
      &attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  check_spawn_call(posix_spawnattr_setpgroup(&attributes, 0));
  check_spawn_call(posix_spawnattr_setsigmask(&attributes, &none));
  check_spawn_call(posix_spawnattr_setsigdefault(&attributes, &pipe));
}

// The pipes as stdin, stdout and stderr, no other descriptor, then the working directory.
void set_actions(posix_spawn_file_actions_t& actions, const ChildPipes& pipes,
                 const std::string& working_directory) {
  check_spawn_call(posix_spawn_file_actions_adddup2(&actions, pipes.in.read.get(), STDIN_FILENO));
  check_spawn_call(
      posix_spawn_file_actions_adddup2(&actions, pipes.out.write.get(), STDOUT_FILENO));
  check_spawn_call(
      posix_spawn_file_actions_adddup2(&actions, pipes.err.write.get(), STDERR_FILENO));
  check_spawn_call(posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1));
  if (!working_directory.empty()) {
    check_spawn_call(posix_spawn_file_actions_addchdir_np(&actions, working_directory.c_str()));
  }
}

// Starts the child. glibc's posix_spawnp returns the errno of a failed chdir or exec in the
// child (it waits for the exec, vfork-style), so a missing program is an exception here.
pid_t spawn(const ProcessOptions& options, const ChildPipes& pipes) {
  SpawnAttributes attributes;
  set_attributes(attributes.value);
  SpawnActions actions;
  set_actions(actions.value, pipes, options.working_directory);
  const std::vector<std::string> environment = make_environment(options.environment);
  pid_t pid;
  const int error =
      internal::should_fail(internal::Fault::kSpawn)
          ? EAGAIN
          : posix_spawnp(&pid, options.argv[0].c_str(), &actions.value, &attributes.value,
                         c_strings(options.argv).data(), c_strings(environment).data());
  if (error == 0) return pid;
  const std::string where =
      options.working_directory.empty() ? "" : absl::StrCat(" in ", options.working_directory);
  throw_errno(error, absl::StrCat("cannot run `", command_line(options.argv), "`", where));
}

// --- Owning the child until it is reaped

// A started child. Destroyed before `reap()`, i.e. while run_process unwinds, it terminates
// the child's process group: SIGTERM, up to `kill_grace` for the child to exit, SIGKILL to
// whatever is left of the group, then it reaps the child. Its waits suspend the job; a
// CancelShield keeps another cancellation from cutting them short. Its destructor never throws.
class Child {
 public:
  Child(pid_t pid, absl::Duration kill_grace);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Readable once the child has exited; -1 when exits are polled instead (no pidfd_open:
  // Linux before 5.3, a seccomp filter, Valgrind, or ASYNCJOBS_NO_PIDFD set).
  int pidfd() const { return pidfd_.get(); }
  bool has_exited() const;  // the child stays a zombie until reap()
  // Suspends until the child has exited or `timeout` passed; false on timeout.
  bool wait_exit(absl::Duration timeout);
  // Collects the exit status of a child known to have exited. Until then, the zombie keeps
  // the group's id from being reused, so signalling the group cannot hit a stranger.
  void reap();
  int wait_status() const { return status_; }

 private:
  void terminate();

  pid_t pid_;
  absl::Duration kill_grace_;
  Fd pidfd_;
  bool reaped_ = false;
  int status_ = 0;
};

// Glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link its pidfd_open.
// Returns -1 with errno ENOSYS when exits must be polled instead.
int pidfd_open(pid_t pid) {
  const char* disabled = std::getenv("ASYNCJOBS_NO_PIDFD");
  if (disabled != nullptr && disabled[0] != '\0' && disabled[0] != '0') {
    errno = ENOSYS;
    return -1;
  }
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

constexpr absl::Duration kLongestExitPoll = absl::Milliseconds(20);

Child::Child(pid_t pid, absl::Duration kill_grace)
    : pid_(pid), kill_grace_(kill_grace), pidfd_(pidfd_open(pid)) {
  if (pidfd_.is_open()) return;
  const int error = errno;
  if (error == ENOSYS || error == EPERM) return;  // no pidfd here: exits are polled
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  throw_errno(error, "pidfd_open");
}

bool Child::has_exited() const {
  siginfo_t info{};
  return ::waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_;
}

bool Child::wait_exit(absl::Duration timeout) {
  if (pidfd_.is_open()) return wait_readable(pidfd_.get(), timeout);
  const absl::Time deadline = absl::Now() + timeout;  // infinite stays infinite
  absl::Duration step = absl::Milliseconds(1);
  while (!has_exited()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    sleep_for(std::min(step, left));
    step = std::min(2 * step, kLongestExitPoll);
  }
  return true;
}

Child::~Child() {
  if (reaped_) return;
  try {
    terminate();
  } catch (...) {  // a wait failed: block the thread rather than leave the child behind
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Child::reap() {
  while (::waitpid(pid_, &status_, 0) < 0) {
    if (errno != EINTR) throw_errno(errno, "waitpid");
  }
  reaped_ = true;
}

void Child::terminate() {
  CancelShield shield;
  ::kill(-pid_, SIGTERM);
  wait_exit(kill_grace_);
  ::kill(-pid_, SIGKILL);
  wait_exit(absl::InfiniteDuration());
  reap();
}

// --- Talking to the child

// Writes without letting SIGPIPE kill this process: the signal is blocked on this thread for
// the call, and one the call raised is consumed. Sets errno like write(2).
ssize_t write_without_sigpipe(int fd, std::string_view data) {
  sigset_t pipe, old_mask, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old_mask);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE);
  const ssize_t written = ::write(fd, data.data(), data.size());
  const int error = errno;
  if (written < 0 && error == EPIPE && !was_pending) {
    const timespec no_wait{};
    sigtimedwait(&pipe, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = error;
  return written;
}

// Collects one output of the child into `all`, calling `on_line` with each complete line
// as it arrives and, at `finish`, with an unterminated last one.
class LineSplitter {
 public:
  LineSplitter(std::string& all, const std::function<void(std::string_view)>& on_line)
      : all_(all), on_line_(on_line) {}

  void append(std::string_view data) {
    size_t from = all_.size();
    all_.append(data);
    if (!on_line_) return;
    for (size_t end; (end = all_.find('\n', from)) != std::string::npos; from = line_start_) {
      const std::string_view line = std::string_view(all_).substr(line_start_, end - line_start_);
      line_start_ = end + 1;
      on_line_(line);
    }
  }
  void finish() {
    if (!on_line_ || line_start_ == all_.size()) return;
    const std::string_view line = std::string_view(all_).substr(line_start_);
    line_start_ = all_.size();
    on_line_(line);
  }

 private:
  std::string& all_;
  const std::function<void(std::string_view)>& on_line_;
  size_t line_start_ = 0;
};

// Feeds the child's stdin and drains its stdout and stderr until they close and the child has
// exited, all at once: the pipes and the pidfd sit in a private epoll set, so one
// wait_readable on that set covers them all and the job waits at a single point.
class Exchange {
 public:
  Exchange(const ProcessOptions& options, ChildPipes& pipes, Child& child, ProcessResult& result);
  // Returns once stdout and stderr are closed and the child has exited.
  void run();

 private:
  enum Source : uint32_t { kStdin, kStdout, kStderr, kExit };
  struct Output {
    Fd fd;
    LineSplitter lines;
  };

  void watch(int fd, uint32_t events, Source source);
  void unwatch(int fd) { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }
  void close_watched(Fd& fd) {
    unwatch(fd.get());
    fd.reset();
  }
  bool outputs_open() const { return outputs_[0].fd.is_open() || outputs_[1].fd.is_open(); }
  void dispatch(Source source);
  void write_input();
  void read_output(Output& output);

  Child& child_;
  std::string_view input_;
  Fd stdin_;
  Output outputs_[2];  // stdout, stderr
  Fd epoll_;
  std::vector<char> buffer_;
  bool exited_ = false;
};

Exchange::Exchange(const ProcessOptions& options, ChildPipes& pipes, Child& child,
                   ProcessResult& result)
    : child_(child),
      input_(options.stdin_data),
      stdin_(std::move(pipes.in.write)),
      outputs_{{std::move(pipes.out.read), LineSplitter(result.out, options.on_stdout)},
               {std::move(pipes.err.read), LineSplitter(result.err, options.on_stderr)}},
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      buffer_(kReadSize) {
  if (!epoll_.is_open()) throw_errno(errno, "epoll_create1");
  if (input_.empty()) {
    stdin_.reset();
  } else {
    watch(stdin_.get(), EPOLLOUT, kStdin);
  }
  watch(outputs_[0].fd.get(), EPOLLIN, kStdout);
  watch(outputs_[1].fd.get(), EPOLLIN, kStderr);
  if (child_.pidfd() >= 0) watch(child_.pidfd(), EPOLLIN, kExit);
}

void Exchange::watch(int fd, uint32_t events, Source source) {
  epoll_event event{};
  event.events = events;
  event.data.u32 = source;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) throw_errno(errno, "epoll_ctl");
}

void Exchange::run() {
  while (outputs_open() || !exited_) {
    // Without a pidfd the exit is polled, once the outputs are closed (and stdin, if fed).
    const bool poll_exit = child_.pidfd() < 0 && !exited_ && !outputs_open();
    if (poll_exit && !stdin_.is_open()) {
      exited_ = child_.wait_exit(absl::InfiniteDuration());
      continue;
    }
    const bool ready = wait_readable(epoll_.get(), poll_exit ? kLongestExitPoll
                                                             : absl::InfiniteDuration());
    if (poll_exit) exited_ = child_.has_exited();
    if (!ready) continue;
    epoll_event events[4];
    const int count = ::epoll_wait(epoll_.get(), events, 4, 0);
    if (count < 0 && errno != EINTR) throw_errno(errno, "epoll_wait");
    for (int i = 0; i < count; ++i) dispatch(static_cast<Source>(events[i].data.u32));
  }
}

void Exchange::dispatch(Source source) {
  switch (source) {
    case kStdin:
      return write_input();
    case kStdout:
    case kStderr:
      return read_output(outputs_[source - kStdout]);
    case kExit:
      exited_ = true;
      return unwatch(child_.pidfd());
  }
}

void Exchange::write_input() {
  const ssize_t written = write_without_sigpipe(stdin_.get(), input_);
  const int error = errno;
  if (written >= 0) {
    input_.remove_prefix(written);
  } else if (error == EPIPE) {
    input_ = {};  // the child closed its stdin: it does not want the rest
  } else if (error != EAGAIN && error != EINTR) {
    throw_errno(error, "write to the child's stdin");
  }
  if (input_.empty()) close_watched(stdin_);
}

void Exchange::read_output(Output& output) {
  const ssize_t count = ::read(output.fd.get(), buffer_.data(), buffer_.size());
  if (count > 0) return output.lines.append(std::string_view(buffer_.data(), count));
  if (count < 0) {
    if (errno != EAGAIN && errno != EINTR) throw_errno(errno, "read from the child");
    return;
  }
  close_watched(output.fd);
  output.lines.finish();
}

void set_exit_status(int wait_status, ProcessResult& result) {
  if (WIFSIGNALED(wait_status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(wait_status);
  } else {
    result.exit_code = WEXITSTATUS(wait_status);
    result.signal = 0;
  }
}

std::string describe_failure(const std::string& command, const ProcessResult& result) {
  if (result.signal == 0) {
    return absl::StrCat("`", command, "` exited with code ", result.exit_code);
  }
  const char* name = sigabbrev_np(result.signal);
  return absl::StrCat("`", command, "` was killed by signal ", result.signal,
                      name == nullptr ? "" : absl::StrCat(" (SIG", name, ")"));
}

}  // namespace

ProcessError::ProcessError(const std::string& command, ProcessResult result)
    : std::runtime_error(describe_failure(command, result)),
      result_(std::make_shared<const ProcessResult>(std::move(result))) {}

ProcessResult run_process(const ProcessOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("asyncjobs: run_process needs a command");
  ChildPipes pipes;
  Child child(spawn(options, pipes), options.kill_grace);
  pipes.close_child_ends();
  ProcessResult result{};
  Exchange(options, pipes, child, result).run();
  child.reap();
  set_exit_status(child.wait_status(), result);
  if (options.check && (result.exit_code != 0 || result.signal != 0)) {
    throw ProcessError(command_line(options.argv), std::move(result));
  }
  return result;
}

ProcessJob::ProcessJob(ProcessOptions process, JobOptions options)
    : AbstractJob(std::move(options)), process_(std::move(process)) {}

Value ProcessJob::co_run() { return run_process(process_); }

std::string ProcessJob::details() const { return command_line(process_.argv); }

std::shared_ptr<ProcessJob> make_process_job(std::vector<std::string> argv, JobOptions options) {
  ProcessOptions process;
  process.argv = std::move(argv);
  return std::make_shared<ProcessJob>(std::move(process), std::move(options));
}

}  // namespace asyncjobs
