// The scenario journal_crash_test kills: 30 jobs with a journal, in layers, with a nested
// scheduler and results of five types. Each body first appends its label to a side-effect
// file (fsynced), so that the test sees every execution; each result depends on what the job
// requires. At the end it prints one line per job: `label restored result`, and on stderr
// `io=N`, the number of writes and syncs SQLite made.
//
//   journal_crash_child JOURNAL SIDE_FILE
//   CRASH_AT_IO=k journal_crash_child ...   # SIGKILL itself inside SQLite's k-th write or
//                                           # sync, after writing half of that write
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "asyncjobs/asyncjobs.h"

namespace {

using namespace asyncjobs;

// --- A VFS under SQLite that counts writes and syncs, and can die inside one.

long io_count = 0;
long crash_at = 0;
sqlite3_vfs* real_vfs = nullptr;

struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
ShimFile* shim(sqlite3_file* file) { return reinterpret_cast<ShimFile*>(file); }
sqlite3_file* real(sqlite3_file* file) { return shim(file)->real(); }

void count_io() { ++io_count; }

int shim_write(sqlite3_file* file, const void* data, int size, sqlite3_int64 offset) {
  count_io();
  if (io_count == crash_at) {
    real(file)->pMethods->xWrite(real(file), data, size / 2, offset);  // a torn write
    kill(getpid(), SIGKILL);
  }
  return real(file)->pMethods->xWrite(real(file), data, size, offset);
}
int shim_sync(sqlite3_file* file, int flags) {
  count_io();
  if (io_count == crash_at) kill(getpid(), SIGKILL);
  return real(file)->pMethods->xSync(real(file), flags);
}
int shim_close(sqlite3_file* file) { return real(file)->pMethods->xClose(real(file)); }
int shim_read(sqlite3_file* file, void* data, int size, sqlite3_int64 offset) {
  return real(file)->pMethods->xRead(real(file), data, size, offset);
}
int shim_truncate(sqlite3_file* file, sqlite3_int64 size) {
  return real(file)->pMethods->xTruncate(real(file), size);
}
int shim_file_size(sqlite3_file* file, sqlite3_int64* size) {
  return real(file)->pMethods->xFileSize(real(file), size);
}
int shim_lock(sqlite3_file* file, int lock) { return real(file)->pMethods->xLock(real(file), lock); }
int shim_unlock(sqlite3_file* file, int lock) {
  return real(file)->pMethods->xUnlock(real(file), lock);
}
int shim_check_reserved(sqlite3_file* file, int* out) {
  return real(file)->pMethods->xCheckReservedLock(real(file), out);
}
int shim_file_control(sqlite3_file* file, int op, void* arg) {
  return real(file)->pMethods->xFileControl(real(file), op, arg);
}
int shim_sector_size(sqlite3_file* file) {
  return real(file)->pMethods->xSectorSize(real(file));
}
int shim_device(sqlite3_file* file) {
  return real(file)->pMethods->xDeviceCharacteristics(real(file));
}

// Version 1: no shared memory nor mmap; the journal's exclusive locking mode needs neither.
const sqlite3_io_methods kShimMethods = {
    1,           shim_close, shim_read,           shim_write,       shim_truncate,
    shim_sync,   shim_file_size, shim_lock,       shim_unlock,      shim_check_reserved,
    shim_file_control, shim_sector_size, shim_device};

int shim_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out) {
  ShimFile* wrapper = shim(file);
  wrapper->base.pMethods = nullptr;
  const int opened = real_vfs->xOpen(real_vfs, name, wrapper->real(), flags, out);
  if (wrapper->real()->pMethods != nullptr) wrapper->base.pMethods = &kShimMethods;
  return opened;
}

void install_shim() {
  static sqlite3_vfs vfs;
  real_vfs = sqlite3_vfs_find(nullptr);
  vfs = *real_vfs;
  vfs.iVersion = 1;
  vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + real_vfs->szOsFile;
  vfs.zName = "crash_shim";
  vfs.xOpen = shim_open;
  sqlite3_vfs_register(&vfs, /*makeDflt=*/1);
}

// --- The scenario.

void append_line(const std::string& path, const std::string& line) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  const std::string text = line + "\n";
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      fsync(fd) != 0) {
    std::abort();
  }
  close(fd);
}

uint64_t fnv1a(const std::string& text, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string encoded(const AbstractJob& job) {
  return job.result_coder()->encode(job.result());
}

// A digest of what `job` requires (their results as the journal encodes them).
uint64_t inputs(const AbstractJob& job) {
  uint64_t hash = fnv1a(job.label());
  for (const JobPtr& required : job.required()) {
    if (!required->is_scheduler()) hash = fnv1a(encoded(*required), hash);
  }
  return hash;
}

// A job whose result type is chosen by `kind` and whose value depends on its inputs.
JobPtr make_step(const std::string& side_file, const std::string& label, int kind,
                 std::vector<JobPtr> required) {
  auto body = [side_file, label](int delay_ms) {
    append_line(side_file, label);
    if (delay_ms > 0) sleep_for(absl::Milliseconds(delay_ms));
    return inputs(*current_job());
  };
  JobOptions options{.label = label, .required = std::move(required)};
  const int delay = static_cast<int>(fnv1a(label) % 3);
  switch (kind % 5) {
    case 0:
      return make_job([=] { return body(delay); }, options);
    case 1:
      return make_job([=] { return std::to_string(body(delay)); }, options);
    case 2:
      return make_job(
          [=] {
            const uint64_t hash = body(delay);
            return std::vector<std::string>{label, std::to_string(hash % 1000), "x y"};
          },
          options);
    case 3:
      return make_job([=] { return static_cast<double>(body(delay) % 100000) / 7; }, options);
    default:
      return make_job([=] { body(delay); }, options);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s JOURNAL SIDE_FILE\n", argv[0]);
    return 2;
  }
  const std::string journal = argv[1], side = argv[2];
  if (const char* at = std::getenv("CRASH_AT_IO")) crash_at = std::atol(at);
  install_shim();

  std::vector<JobPtr> top;
  std::vector<JobPtr> layer;
  for (int i = 0; i < 24; ++i) {  // six layers of four; each job needs two of the last layer
    std::vector<JobPtr> required;
    if (i >= 4) required = {layer[(i + 1) % 4], layer[i % 4]};
    top.push_back(make_step(side, "j" + std::to_string(i), i, required));
    if (i % 4 == 3) layer.assign(top.end() - 4, top.end());
  }
  std::vector<JobPtr> nested;
  for (int i = 0; i < 6; ++i) {
    std::vector<JobPtr> required;
    if (i > 0) required.push_back(nested[(i - 1) / 2]);
    nested.push_back(make_step(side, "k" + std::to_string(i), i + 1, required));
  }
  auto inner = make_scheduler({}, {.label = "inner", .required = {top[7]}});
  for (const JobPtr& job : nested) inner->add(job);
  top[17]->require(inner);

  Scheduler scheduler({.jobs_window = 3, .journal = journal});
  for (const JobPtr& job : top) scheduler.add(job);
  scheduler.add(inner);
  const bool ok = scheduler.run();
  for (const JobPtr& job : scheduler.iterate_jobs()) {
    if (job->is_scheduler()) continue;
    std::printf("%s %d %s\n", job->label().c_str(), job->restored() ? 1 : 0,
                encoded(*job).c_str());
  }
  std::fprintf(stderr, "io=%ld\n", io_count);
  return ok ? 0 : 1;
}
