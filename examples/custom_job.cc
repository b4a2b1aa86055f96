// A custom job: subclass AbstractJob and define co_run() (the work, on the job's fiber),
// co_shutdown() (releases resources once the run ends) and details() (extra lines for
// list(true)). Here several jobs share one simulated connection, closed at shutdown, like
// the SshJob of the original's apssh library.
//
//   ./bazelw run //examples:custom_job
#include <iostream>
#include <memory>
#include <string>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

aj::Watch watch;

// A connection shared by several jobs, opened by the first one that needs it.
class Connection {
 public:
  explicit Connection(std::string host) : host_(std::move(host)) {}
  const std::string& host() const { return host_; }
  // Suspends the calling job until the connection is open.
  void ensure_open() {
    if (!connecting_) {
      connecting_ = true;
      aj::sleep_for(absl::Milliseconds(100));  // the handshake
      watch.print_elapsed("connected to " + host_ + "\n");
      open_.set();
    }
    open_.wait();
  }
  void close() {
    if (!open_.is_set()) return;
    open_.clear();
    watch.print_elapsed("closed " + host_ + "\n");
  }

 private:
  std::string host_;
  bool connecting_ = false;
  aj::Event open_;
};

class CommandJob : public aj::AbstractJob {
 public:
  CommandJob(std::shared_ptr<Connection> connection, std::string command,
             aj::JobOptions options = {})
      : AbstractJob(std::move(options)), connection_(std::move(connection)),
        command_(std::move(command)) {}

  aj::Value co_run() override {
    connection_->ensure_open();
    watch.print_elapsed(connection_->host() + "$ " + command_ + "\n");
    aj::sleep_for(absl::Milliseconds(50));
    return command_.size();  // any copyable value: read it back with result<size_t>()
  }
  void co_shutdown() override { connection_->close(); }  // shared: the first call closes it
  std::string details() const override { return "on " + connection_->host() + ": " + command_; }
  std::string type_name() const override { return "CommandJob"; }

 private:
  std::shared_ptr<Connection> connection_;
  std::string command_;
};

}  // namespace

int main() {
  auto faraday = std::make_shared<Connection>("faraday");
  auto hostname = std::make_shared<CommandJob>(faraday, "hostname");
  auto uptime = std::make_shared<CommandJob>(faraday, "uptime");
  auto df = std::make_shared<CommandJob>(faraday, "df -h", aj::JobOptions{.label = "disk"});
  df->require(hostname, uptime);

  aj::Scheduler scheduler{hostname, uptime, df};
  bool ok = scheduler.run();  // calls shutdown() at the end, hence co_shutdown() of each job
  std::cout << "run() returned " << std::boolalpha << ok << "\n";
  for (const aj::JobPtr& job : scheduler.jobs()) {
    std::cout << job->type_name() << " `" << job->label() << "` " << job->details()
              << " -> " << job->result<size_t>() << "\n";
  }
}
