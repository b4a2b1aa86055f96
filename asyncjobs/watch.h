#ifndef ASYNCJOBS_WATCH_H_
#define ASYNCJOBS_WATCH_H_

// Watch: a stopwatch printing elapsed and wall-clock time stamps.

#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "asyncjobs/internal/base/console.h"

namespace asyncjobs {

// A stopwatch, started at construction; time stamps for examples and verbose messages.
class Watch {
 public:
  Watch();
  // As the original's Watch(message, show_elapsed, show_wall_clock): at construction,
  // prints "<message> <elapsed()>" and/or "<message> <wall clock>" lines on std::cout.
  explicit Watch(std::string message, bool show_elapsed = true, bool show_wall_clock = false);
  void reset();
  double seconds() const;       // elapsed since construction or reset()
  std::string elapsed() const;  // "%07.3f" of seconds(): "000.500", "012.345"
  // Writes elapsed() + " " + suffix, no newline.
  void print_elapsed(std::string_view suffix = "", std::ostream& out = internal::console()) const;
  // Writes the wall clock as "HH:MM:SS.mmm" (local time) + " " + suffix, no newline.
  void print_wall_clock(std::string_view suffix = "", std::ostream& out = internal::console()) const;
  static std::string wall_clock();  // "HH:MM:SS.mmm", local time
  absl::Time start() const { return start_; }

 private:
  absl::Time start_;
};

}  // namespace asyncjobs

#endif  // ASYNCJOBS_WATCH_H_
