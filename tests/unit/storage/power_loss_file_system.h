// A RocksDB FileSystem for power-loss tests, after RocksDB's own
// FaultInjectionTestFS: it passes everything to the real file system and
// remembers, for every file written, how much of it was synced (Sync or
// Fsync). SimulatePowerLoss() then does what a power cut does to the page
// cache: every later write and sync fails, and each file is cut back to its
// last synced length, so whatever was written but not synced is gone.
// After the cut the process is as good as dead: every write, sync, rename
// and delete "succeeds" and changes nothing on disk (failing them instead
// trips assertions in the RocksDB library Debian ships, which expects a
// writer that failed to be left alone). Directory entries made before the
// cut are not rolled back: a lenient model, enough to catch an
// acknowledgement sent before its fsync.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tsvault::storage::testing {

class PowerLossFileSystem : public rocksdb::FileSystemWrapper {
 public:
  PowerLossFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

  const char* Name() const override { return "PowerLossFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* debug) override {
    if (dead_) {
      *result = std::make_unique<DiscardingFile>();
      return rocksdb::IOStatus::OK();
    }
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, debug);
    if (s.ok()) Track(name, 0, result);
    return s;
  }

  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* debug) override {
    if (dead_) {
      *result = std::make_unique<DiscardingFile>();
      return rocksdb::IOStatus::OK();
    }
    uint64_t size = 0;
    std::error_code ec;
    if (std::filesystem::exists(name, ec)) size = std::filesystem::file_size(name, ec);
    rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, result, debug);
    if (s.ok()) Track(name, size, result);
    return s;
  }

  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override {
    if (dead_) return rocksdb::IOStatus::OK();
    return target()->RenameFile(from, to, options, debug);
  }
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override {
    if (dead_) return rocksdb::IOStatus::OK();
    return target()->DeleteFile(name, options, debug);
  }

  // Cuts every written file back to its synced length; from now on nothing
  // written through this file system reaches the disk. Returns the bytes lost.
  uint64_t SimulatePowerLoss() {
    dead_ = true;
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t lost = 0;
    for (const auto& [name, state] : files_) {
      std::error_code ec;
      if (!std::filesystem::exists(name, ec)) continue;
      const uint64_t size = std::filesystem::file_size(name, ec);
      const uint64_t synced = state->synced.load();
      if (size > synced) {
        lost += size - synced;
        std::filesystem::resize_file(name, synced, ec);
      }
    }
    return lost;
  }

 private:
  // A file opened after the cut: takes everything, keeps nothing.
  class DiscardingFile : public rocksdb::FSWritableFile {
   public:
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
      size_ += data.size();
      return rocksdb::IOStatus::OK();
    }
    rocksdb::IOStatus Close(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return rocksdb::IOStatus::OK(); }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return rocksdb::IOStatus::OK(); }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return rocksdb::IOStatus::OK(); }
    uint64_t GetFileSize(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return size_; }

   private:
    uint64_t size_ = 0;
  };

  struct FileState {
    std::atomic<uint64_t> written{0};
    std::atomic<uint64_t> synced{0};
  };

  class TrackedFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<FileState> state,
                const std::atomic<bool>* dead)
        : FSWritableFileOwnerWrapper(std::move(file)), state_(std::move(state)), dead_(dead) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override {
      if (*dead_) return rocksdb::IOStatus::OK();  // gone with the power
      rocksdb::IOStatus s = target()->Append(data, options, debug);
      if (s.ok()) state_->written += data.size();
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* debug) override {
      if (*dead_) return rocksdb::IOStatus::OK();
      rocksdb::IOStatus s = target()->Append(data, options, info, debug);
      if (s.ok()) state_->written += data.size();
      return s;
    }
    rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override {
      if (*dead_) return rocksdb::IOStatus::OK();
      rocksdb::IOStatus s = target()->Truncate(size, options, debug);
      if (s.ok()) {
        state_->written = size;
        if (state_->synced > size) state_->synced = size;
      }
      return s;
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
      if (*dead_) return rocksdb::IOStatus::OK();
      return target()->Flush(options, debug);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
      if (*dead_) return rocksdb::IOStatus::OK();
      return Synced(target()->Sync(options, debug));
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
      if (*dead_) return rocksdb::IOStatus::OK();
      return Synced(target()->Fsync(options, debug));
    }
    rocksdb::IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
      // Closing does not sync; after the power is gone it changes nothing.
      return target()->Close(options, debug);
    }

   private:
    // A sync racing the cut may be cut back; the acknowledgement it leads to
    // comes after the cut, which power_loss_test does not count as promised.
    rocksdb::IOStatus Synced(rocksdb::IOStatus s) {
      if (s.ok() && !*dead_) state_->synced = state_->written.load();
      return s;
    }
    std::shared_ptr<FileState> state_;
    const std::atomic<bool>* dead_;
  };

  void Track(const std::string& name, uint64_t size, std::unique_ptr<rocksdb::FSWritableFile>* file) {
    auto state = std::make_shared<FileState>();
    state->written = size;
    state->synced = size;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      files_[name] = state;
    }
    *file = std::make_unique<TrackedFile>(std::move(*file), std::move(state), &dead_);
  }

  std::atomic<bool> dead_{false};
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<FileState>> files_;  // Guarded by mutex_.
};

}  // namespace tsvault::storage::testing
