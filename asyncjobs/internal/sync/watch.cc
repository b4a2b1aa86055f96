#include "asyncjobs/watch.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace asyncjobs {

Watch::Watch() : start_(absl::Now()) {}

Watch::Watch(std::string message, bool show_elapsed, bool show_wall_clock) : Watch() {
  if (message.empty()) return;
  if (show_elapsed) std::cout << message << " " << elapsed() << std::endl;
  if (show_wall_clock) std::cout << message << " " << wall_clock() << std::endl;
}

void Watch::reset() { start_ = absl::Now(); }

double Watch::seconds() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

std::string Watch::elapsed() const { return absl::StrFormat("%07.3f", seconds()); }

void Watch::print_elapsed(std::string_view suffix, std::ostream& out) const {
  out << elapsed() << " " << suffix;
}

std::string Watch::wall_clock() {
  const absl::Time now = absl::Now();
  return absl::StrCat(absl::FormatTime("%H:%M:%S", now, absl::LocalTimeZone()),
                      absl::StrFormat(".%03d", absl::ToUnixMillis(now) % 1000));
}

void Watch::print_wall_clock(std::string_view suffix, std::ostream& out) const {
  out << wall_clock() << " " << suffix;
}

}  // namespace asyncjobs
