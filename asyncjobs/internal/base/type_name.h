#ifndef ASYNCJOBS_INTERNAL_BASE_TYPE_NAME_H_
#define ASYNCJOBS_INTERNAL_BASE_TYPE_NAME_H_

// unqualified_type_name: a type as list() shows it.

#include <string>
#include <typeinfo>

namespace asyncjobs::internal {

// The demangled name of `type` without its namespaces or enclosing classes:
// "runtime_error", "Job", "basic_string<...>" stays whole past its template bracket.
std::string unqualified_type_name(const std::type_info& type);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_TYPE_NAME_H_
