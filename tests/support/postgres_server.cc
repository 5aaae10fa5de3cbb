#include "tests/support/postgres_server.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/support/ports.h"
#include "tests/support/process.h"

namespace tsvault::testing {

namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool PostgresServer::Installed() {
  std::error_code ec;
  return std::filesystem::exists(std::string(kBin) + "initdb", ec) &&
         std::filesystem::exists(std::string(kBin) + "psql", ec);
}

std::vector<std::string> PostgresServer::AsOwner(std::vector<std::string> argv) const {
  if (geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return argv;
}

Status PostgresServer::Start(const std::string& work_dir) {
  if (!Installed()) return Status::NotFound("PostgreSQL 15 is not installed (Debian package postgresql)");
  data_dir_ = work_dir + "/pg";
  log_path_ = work_dir + "/pg.log";
  std::filesystem::create_directories(data_dir_);
  if (geteuid() == 0) {
    // The server runs as postgres: it must reach and own its directory.
    const passwd* owner = getpwnam("postgres");
    if (owner == nullptr) return Status::NotFound("no postgres user (is the postgresql package installed?)");
    chmod(work_dir.c_str(), 0755);
    if (chown(data_dir_.c_str(), owner->pw_uid, owner->pw_gid) != 0) return Status::IOError("chown " + data_dir_);
    user_ = "postgres";
  } else {
    const passwd* self = getpwuid(geteuid());
    user_ = self != nullptr ? self->pw_name : "postgres";
  }
  Status s = PickFreePort(&port_);
  if (!s.ok()) return s;
  const std::string init_log = work_dir + "/initdb.log";
  int code = RunProgram(AsOwner({std::string(kBin) + "initdb", "-D", data_dir_ + "/data", "-U", user_, "--auth=trust",
                                 "--no-sync", "-E", "UTF8", "--locale=C"}),
                        init_log, std::chrono::seconds(120));
  if (code != 0) return Status::IOError("initdb failed (" + std::to_string(code) + "): " + ReadLogTail(init_log));
  const std::string options = "-p " + std::to_string(port_) + " -k " + data_dir_ +
                              " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off";
  code = RunProgram(AsOwner({std::string(kBin) + "pg_ctl", "-D", data_dir_ + "/data", "-l", data_dir_ + "/server.log",
                             "-o", options, "-w", "-t", "60", "start"}),
                    log_path_, std::chrono::seconds(90));
  if (code != 0) {
    return Status::IOError("pg_ctl start failed (" + std::to_string(code) + "): " + ReadLogTail(log_path_) +
                           ReadLogTail(data_dir_ + "/server.log"));
  }
  running_ = true;
  return Status::OK();
}

PostgresServer::~PostgresServer() {
  if (!running_) return;
  RunProgram(AsOwner({std::string(kBin) + "pg_ctl", "-D", data_dir_ + "/data", "-m", "immediate", "-w", "stop"}),
             log_path_, std::chrono::seconds(60));
}

std::string PostgresServer::ConnectionString() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user_ + " dbname=postgres";
}

Status PostgresServer::Psql(const std::string& sql, std::string* output) const {
  // The script and the output live in files of this process' user; psql
  // connects over TCP (trust), so it need not run as the cluster owner.
  const std::string base = data_dir_ + "/../psql-" + std::to_string(getpid());
  const std::string script = base + ".sql", out = base + ".out", log = base + ".log";
  {
    std::ofstream file(script);
    file << sql << "\n";
  }
  std::filesystem::remove(out);
  std::filesystem::remove(log);
  const int code = RunProgram({std::string(kBin) + "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "|",
                               "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", user_, "-d", "postgres", "-f",
                               script, "-o", out},
                              log, std::chrono::seconds(300));
  if (output != nullptr) *output = ReadFile(out);
  if (code != 0) return Status::IOError("psql exit " + std::to_string(code) + ": " + ReadFile(log));
  return Status::OK();
}

}  // namespace tsvault::testing
