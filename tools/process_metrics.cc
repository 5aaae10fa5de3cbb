#include "tools/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tsvault::tools {

namespace {

// Seconds since the epoch when the machine booted (/proc/stat "btime").
double BootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string line;
  while (std::getline(stat, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

}  // namespace

bool ReadProcessFigures(ProcessFigures* out) {
  *out = ProcessFigures();
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) out->max_fds = static_cast<double>(limit.rlim_cur);
  if (DIR* fds = opendir("/proc/self/fd")) {
    int count = 0;
    while (const dirent* entry = readdir(fds)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(fds);
    out->open_fds = count - 1;  // the directory stream's own descriptor
  }
  std::ifstream stat_file("/proc/self/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return false;
  // Fields after the command name (in parentheses, which may hold spaces):
  // state is field 3; utime 14, stime 15, num_threads 20, starttime 22,
  // vsize 23, rss 24 (pages).
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  for (int number = 3; fields >> field; ++number) {
    if (number == 14) utime = std::stod(field);
    if (number == 15) stime = std::stod(field);
    if (number == 20) out->threads = std::stoi(field);
    if (number == 22) start_ticks = std::stod(field);
    if (number == 23) vsize = std::stod(field);
    if (number == 24) {
      rss_pages = std::stod(field);
      break;
    }
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  out->cpu_seconds = (utime + stime) / ticks;
  out->virtual_bytes = vsize;
  out->resident_bytes = rss_pages * page;
  out->start_time_seconds = BootTimeSeconds() + start_ticks / ticks;
  return true;
}

}  // namespace tsvault::tools
