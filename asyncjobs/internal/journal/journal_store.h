#ifndef ASYNCJOBS_INTERNAL_JOURNAL_JOURNAL_STORE_H_
#define ASYNCJOBS_INTERNAL_JOURNAL_JOURNAL_STORE_H_

// JournalStore: a run's journal file, an SQLite database in WAL mode. It knows keys and bytes,
// nothing of jobs (the scheduler's hooks are in internal/scheduler/scheduler_journal.cc).
//
// Each record is one committed transaction: once record() returns, the record survives the
// process being killed at any moment (synchronous=NORMAL: an OS crash or a power cut may
// lose the last records, never an earlier one while keeping a later one, and never half of
// one). Records carry a sequence number, increasing across runs, that tells which of two
// records is newer. Pending tokens ("slurm:1234") say what a job had under way when the
// run died. The file is locked for one run at a time. Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

struct sqlite3;
struct sqlite3_stmt;

namespace asyncjobs::internal {

class JournalStore {
 public:
  static constexpr int kFormatVersion = 1;  // PRAGMA user_version of the files we write

  struct Record {
    uint64_t seq;       // > 0, greater for a later record
    std::string value;  // the result's ResultCodec bytes
  };

  // Opens `path`, creating an empty journal if it does not exist. Throws JournalError
  // naming the file, and leaves it unchanged, when it is not a journal (garbage, another
  // program's database), has a newer format, or is in use by another run.
  explicit JournalStore(const std::string& path);
  ~JournalStore();
  JournalStore(const JournalStore&) = delete;
  JournalStore& operator=(const JournalStore&) = delete;

  const std::string& path() const { return path_; }
  // The record under `key`, as of the open or this run's last record(); null if none.
  const Record* find(std::string_view key) const;
  // Records `value` under `key`, replacing what was there and clearing its pending token, in
  // one transaction; returns the record's seq. Throws JournalError.
  uint64_t record(std::string_view key, std::string_view value);
  // Keeps `token` under `key` until the key is recorded (durably, like record()).
  void record_pending(std::string_view key, std::string_view token);
  // The pending token under `key`, if any.
  std::optional<std::string> pending(std::string_view key) const;
  size_t size() const { return records_.size(); }

 private:
  class Statement;
  void check(int code, const char* what) const;  // throws JournalError unless SQLITE_OK/DONE
  [[noreturn]] void fail(std::string_view why) const;
  void check_format();
  void create_tables();
  void load();
  void exec(const char* sql);
  void close();

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_record_ = nullptr;
  sqlite3_stmt* put_pending_ = nullptr;
  sqlite3_stmt* clear_pending_ = nullptr;
  absl::flat_hash_map<std::string, Record> records_;
  absl::flat_hash_map<std::string, std::string> pending_;
  uint64_t next_seq_ = 1;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOURNAL_JOURNAL_STORE_H_
