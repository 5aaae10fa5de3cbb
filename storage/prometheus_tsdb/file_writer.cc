#include "storage/prometheus_tsdb/file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tsvault::prometheus_tsdb {

namespace {

constexpr size_t kBufferBytes = 1 << 20;

Status ErrnoStatus(std::string_view what, const std::string& path) {
  return Status::IOError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

}  // namespace

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileWriter::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return ErrnoStatus("cannot create", path);
  buffer_.reserve(kBufferBytes);
  position_ = 0;
  return Status::OK();
}

Status FileWriter::Write(std::string_view data) {
  position_ += data.size();
  if (buffer_.size() + data.size() > kBufferBytes) {
    Status s = Flush();
    if (!s.ok()) return s;
  }
  if (data.size() >= kBufferBytes) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("cannot write", path_);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }
  buffer_.append(data);
  return Status::OK();
}

Status FileWriter::PadTo(uint64_t alignment) {
  if (position_ % alignment == 0) return Status::OK();
  return Write(std::string(alignment - position_ % alignment, '\0'));
}

Status FileWriter::Flush() {
  std::string_view data = buffer_;
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", path_);
    data.remove_prefix(static_cast<size_t>(n));
  }
  buffer_.clear();
  return Status::OK();
}

Status FileWriter::SyncAndClose() {
  Status s = Flush();
  if (!s.ok()) return s;
  if (::fsync(fd_) != 0) return ErrnoStatus("cannot sync", path_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return ErrnoStatus("cannot close", path_);
  return Status::OK();
}

Status SyncDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory", path);
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) return ErrnoStatus("cannot sync directory", path);
  return Status::OK();
}

}  // namespace tsvault::prometheus_tsdb
