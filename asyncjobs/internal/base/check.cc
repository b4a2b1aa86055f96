// What a failed ASYNCJOBS_DCHECK does: say where and why, then abort (a core, a stack trace
// under the sanitizers).
#include "asyncjobs/internal/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace asyncjobs::internal {

void dcheck_failed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(stderr, "asyncjobs: internal check failed at %s:%d: %s (%s)\n", file, line,
               condition, message);
  std::abort();
}

}  // namespace asyncjobs::internal
