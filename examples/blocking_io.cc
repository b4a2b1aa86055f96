// Blocking I/O inside jobs. Every job shares one thread, so a blocking syscall would stall
// them all: wait for a file descriptor with aj::wait_readable / aj::wait_writable, and hand
// calls that must block (a library without an fd, a long computation) to run_in_thread.
//
//   ./bazelw run //examples:blocking_io
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

int main() {
  aj::Watch watch;
  int fds[2];
  if (pipe(fds) != 0) return 1;

  auto producer = aj::make_job([&] {
    for (int i = 1; i <= 3; ++i) {
      aj::sleep_for(absl::Milliseconds(100));
      std::string line = "line " + std::to_string(i) + "\n";
      aj::wait_writable(fds[1]);
      if (write(fds[1], line.data(), line.size()) < 0) throw std::runtime_error("write");
    }
    close(fds[1]);  // end of file for the consumer
  }, {.label = "producer"});

  auto consumer = aj::make_job([&] {
    char buffer[256];
    for (;;) {
      if (!aj::wait_readable(fds[0], absl::Seconds(1))) throw std::runtime_error("no data");
      ssize_t n = read(fds[0], buffer, sizeof buffer);  // ready: does not block
      if (n < 0) {
        int error = errno;  // read errno now: other jobs run at the next suspension point
        throw std::runtime_error(std::strerror(error));
      }
      if (n == 0) break;
      watch.print_elapsed("consumer got " + std::string(buffer, n));
    }
    close(fds[0]);
  }, {.label = "consumer"});

  auto blocking = aj::make_job([&] {
    watch.print_elapsed("blocking call handed to a thread\n");
    int answer = aj::run_in_thread([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));  // stands for any blocking call
      return 42;
    });
    watch.print_elapsed("blocking call returned " + std::to_string(answer) + "\n");
  }, {.label = "blocking"});

  aj::Scheduler scheduler{producer, consumer, blocking};
  bool ok = scheduler.run();
  std::cout << "run() returned " << std::boolalpha << ok << " after " << watch.elapsed()
            << "s\n";
}
