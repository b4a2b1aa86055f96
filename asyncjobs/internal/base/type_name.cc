// Demangled, unqualified type names (for <Type `label`> and result types).
#include "asyncjobs/internal/base/type_name.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace asyncjobs::internal {

std::string unqualified_type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  std::string name = status == 0 ? demangled.get() : type.name();
  // Cut at the last "::" outside template brackets.
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i + 1 < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>') --depth;
    if (depth == 0 && name[i] == ':' && name[i + 1] == ':') start = i + 2;
  }
  return name.substr(start);
}

}  // namespace asyncjobs::internal
