// The smallest consumer: two jobs and a third that requires them.
#include <iostream>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

int main() {
  auto hello = aj::make_job([] { aj::sleep_for(absl::Milliseconds(50)); return 1; });
  auto world = aj::make_job([] { aj::sleep_for(absl::Milliseconds(50)); return 2; });
  auto sum = aj::make_job([&] { return hello->result<int>() + world->result<int>(); },
                          {.required = {hello, world}});
  aj::Scheduler scheduler{hello, world, sum};
  const bool ok = scheduler.run();
  std::cout << "run() -> " << std::boolalpha << ok << ", sum = " << sum->result<int>() << "\n";
  return ok ? 0 : 1;
}
