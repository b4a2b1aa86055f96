// JournalStore on SQLite: opening and checking the file, the schema, records and pending
// tokens.
#include "asyncjobs/internal/journal/journal_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asyncjobs/journal.h"

namespace asyncjobs::internal {
namespace {

constexpr int kApplicationId = 0x416a4a6c;  // "AjJl": PRAGMA application_id of a journal

// Debian's Abseil has its own string_view, which its hash maps look up by.
absl::string_view view(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

// A prepared statement that resets itself when it goes out of scope.
class JournalStore::Statement {
 public:
  Statement(const JournalStore& store, sqlite3_stmt* statement)
      : store_(store), statement_(statement) {}
  ~Statement() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  // Keys as text, so that `sqlite3` sessions can name them; values as blobs.
  Statement& bind_text(int index, std::string_view text) {
    store_.check(sqlite3_bind_text64(statement_, index, text.data(), text.size(),
                                     SQLITE_STATIC, SQLITE_UTF8),
                 "bind");
    return *this;
  }
  Statement& bind(int index, std::string_view bytes) {
    store_.check(sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(),
                                     SQLITE_STATIC),
                 "bind");
    return *this;
  }
  Statement& bind(int index, uint64_t number) {
    store_.check(sqlite3_bind_int64(statement_, index, static_cast<sqlite3_int64>(number)),
                 "bind");
    return *this;
  }
  void run() { store_.check(sqlite3_step(statement_), "write"); }

 private:
  const JournalStore& store_;
  sqlite3_stmt* statement_;
};

JournalStore::JournalStore(const std::string& path) : path_(path) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int opened = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  try {
    check(opened, "open");
    sqlite3_extended_result_codes(db_, 1);
    // One run at a time: the lock is held from the first read until the file is closed (the
    // system drops it when the process dies).
    exec("PRAGMA locking_mode=EXCLUSIVE");
    check_format();  // reads only: nothing is written to a file that is not a journal
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    create_tables();
    load();
    auto prepare = [&](const char* sql, sqlite3_stmt** statement) {
      check(sqlite3_prepare_v2(db_, sql, -1, statement, nullptr), "prepare");
    };
    prepare("INSERT OR REPLACE INTO records(key, seq, value) VALUES(?1, ?2, ?3)", &put_record_);
    prepare("INSERT OR REPLACE INTO pending(key, token) VALUES(?1, ?2)", &put_pending_);
    prepare("DELETE FROM pending WHERE key = ?1", &clear_pending_);
  } catch (...) {
    close();
    throw;
  }
}

JournalStore::~JournalStore() { close(); }

void JournalStore::close() {
  for (sqlite3_stmt* statement : {put_record_, put_pending_, clear_pending_}) {
    sqlite3_finalize(statement);
  }
  put_record_ = put_pending_ = clear_pending_ = nullptr;
  sqlite3_close(db_);  // checkpoints the WAL into the file
  db_ = nullptr;
}

void JournalStore::check(int code, const char* what) const {
  if (code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW) return;
  const int primary = code & 0xff;
  if (primary == SQLITE_NOTADB) fail("it is not an asyncjobs journal (not an SQLite file)");
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    fail("it is in use by another run");
  }
  fail(absl::StrCat(what, " failed: ",
                    db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code)));
}

void JournalStore::fail(std::string_view why) const {
  throw JournalError(absl::StrCat("asyncjobs: journal `", path_, "`: ", view(why)));
}

void JournalStore::exec(const char* sql) {
  check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), sql);
}

// An empty file, or one killed before its schema was committed, becomes a journal; any other
// database must carry our application id and a format we know.
void JournalStore::check_format() {
  auto number = [&](const char* sql) {
    sqlite3_stmt* statement = nullptr;
    check(sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr), "read");
    const int step = sqlite3_step(statement);
    const sqlite3_int64 value = step == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : 0;
    sqlite3_finalize(statement);
    check(step, "read");
    return value;
  };
  const sqlite3_int64 tables = number("SELECT count(*) FROM sqlite_schema");
  const sqlite3_int64 application = number("PRAGMA application_id");
  const sqlite3_int64 version = number("PRAGMA user_version");
  if (tables == 0 && application == 0) return;  // new
  if (application != kApplicationId) fail("it is not an asyncjobs journal (another database)");
  if (version > kFormatVersion) {
    fail(absl::StrCat("it has format ", version, ", newer than this asyncjobs reads (",
                      kFormatVersion, "): use a newer asyncjobs or another journal"));
  }
}

void JournalStore::create_tables() {
  exec(absl::StrCat(
           "BEGIN;"
           "CREATE TABLE IF NOT EXISTS records(key TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
           " value BLOB NOT NULL) WITHOUT ROWID;"
           "CREATE TABLE IF NOT EXISTS pending(key TEXT PRIMARY KEY, token BLOB NOT NULL)"
           " WITHOUT ROWID;"
           "PRAGMA application_id=", kApplicationId, ";",
           "PRAGMA user_version=", kFormatVersion, ";",
           "COMMIT;")
           .c_str());
}

void JournalStore::load() {
  auto text = [](sqlite3_stmt* statement, int column) {
    const void* bytes = sqlite3_column_blob(statement, column);
    return std::string(static_cast<const char*>(bytes), sqlite3_column_bytes(statement, column));
  };
  sqlite3_stmt* statement = nullptr;
  check(sqlite3_prepare_v2(db_, "SELECT key, seq, value FROM records", -1, &statement, nullptr),
        "read");
  int step;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    const auto seq = static_cast<uint64_t>(sqlite3_column_int64(statement, 1));
    next_seq_ = std::max(next_seq_, seq + 1);
    records_[text(statement, 0)] = Record{seq, text(statement, 2)};
  }
  sqlite3_finalize(statement);
  check(step, "read");
  check(sqlite3_prepare_v2(db_, "SELECT key, token FROM pending", -1, &statement, nullptr),
        "read");
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    pending_[text(statement, 0)] = text(statement, 1);
  }
  sqlite3_finalize(statement);
  check(step, "read");
}

const JournalStore::Record* JournalStore::find(std::string_view key) const {
  auto found = records_.find(view(key));
  return found != records_.end() ? &found->second : nullptr;
}

uint64_t JournalStore::record(std::string_view key, std::string_view value) {
  const uint64_t seq = next_seq_;
  auto pending = pending_.find(view(key));
  if (pending == pending_.end()) {
    Statement(*this, put_record_).bind_text(1, key).bind(2, seq).bind(3, value).run();
  } else {
    exec("BEGIN");
    try {
      Statement(*this, put_record_).bind_text(1, key).bind(2, seq).bind(3, value).run();
      Statement(*this, clear_pending_).bind_text(1, key).run();
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    pending_.erase(pending);
  }
  ++next_seq_;
  records_[std::string(key)] = Record{seq, std::string(value)};
  return seq;
}

void JournalStore::record_pending(std::string_view key, std::string_view token) {
  Statement(*this, put_pending_).bind_text(1, key).bind(2, token).run();
  pending_[std::string(key)] = std::string(token);
}

std::optional<std::string> JournalStore::pending(std::string_view key) const {
  auto found = pending_.find(view(key));
  if (found == pending_.end()) return std::nullopt;
  return found->second;
}

}  // namespace asyncjobs::internal
