#include "asyncjobs/watch.h"

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace asyncjobs {

Watch::Watch() : start_(absl::Now()) {}

void Watch::reset() { start_ = absl::Now(); }

double Watch::seconds() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

std::string Watch::elapsed() const { return absl::StrFormat("%07.3f", seconds()); }

void Watch::print_elapsed(std::string_view suffix, std::ostream& out) const {
  out << elapsed() << " " << suffix;
}

}  // namespace asyncjobs
