#ifndef ASYNCJOBS_INTERNAL_BASE_CONSOLE_H_
#define ASYNCJOBS_INTERNAL_BASE_CONSOLE_H_

// std::cout for the public headers' default arguments (`std::ostream& out = console()`),
// without <iostream> (and its static initialiser) in every user's translation unit.

#include <iosfwd>

namespace asyncjobs::internal {
std::ostream& console();
}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_CONSOLE_H_
