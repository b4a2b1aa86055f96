#include "asyncjobs/internal/base/console.h"

#include <iostream>

namespace asyncjobs::internal {

std::ostream& console() { return std::cout; }

}  // namespace asyncjobs::internal
