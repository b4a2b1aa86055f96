// The child's stdin, stdout, stderr and exit in one private epoll set, served as they become
// ready.
#include "asyncjobs/internal/process/exchange.h"

#include <unistd.h>

#include <cerrno>
#include <functional>
#include <utility>

#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/internal/base/system_errors.h"

namespace asyncjobs::internal {
namespace {

constexpr size_t kReadSize = 64 * 1024;  // a pipe's default capacity

// The user's callback called where it is, not copied: a stateful one keeps its state across
// the runs of a retried job. Empty if it is.
LineSplitter::OnLine in_place(const std::function<void(std::string_view)>& on_line) {
  if (!on_line) return nullptr;
  return std::cref(on_line);
}

// The same, each line first reported as the job's output (a kOutput event) when the run
// watches events (only then are lines split for nothing but the report).
LineSplitter::OnLine reported(const std::function<void(std::string_view)>& on_line) {
  if (!output_wanted()) return in_place(on_line);
  return [&on_line](std::string_view line) {
    report_output(line);
    if (on_line) on_line(line);
  };
}

}  // namespace

Exchange::Exchange(const ProcessOptions& options, ChildPipes& pipes, Child& child,
                   ProcessResult& result, DescriptorLease& lease)
    : child_(child),
      input_(options.stdin_data),
      stdin_(std::move(pipes.in.write)),
      outputs_{{std::move(pipes.out.read), LineSplitter(result.out, reported(options.on_stdout))},
               {std::move(pipes.err.read), LineSplitter(result.err, reported(options.on_stderr))}},
      epoll_(Fd::open([] { return ::epoll_create1(EPOLL_CLOEXEC); }, "epoll_create1", &lease)),
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

}  // namespace asyncjobs::internal
