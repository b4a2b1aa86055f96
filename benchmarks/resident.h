#ifndef ASYNCJOBS_BENCHMARKS_RESIDENT_H_
#define ASYNCJOBS_BENCHMARKS_RESIDENT_H_

// This process's resident memory, for the benchmarks' bytes-per-job figures. No dependency
// on asyncjobs: the peer programs use it too.

#include <cstdio>

namespace asyncjobs::benchmarks {

// From /proc/self/statm; 0 when it cannot be read.
inline long resident_bytes() {
  long size = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return resident * 4096;
}

}  // namespace asyncjobs::benchmarks

#endif  // ASYNCJOBS_BENCHMARKS_RESIDENT_H_
