#include "storage/chunkenc/rollup_chunk.h"

#include <algorithm>
#include <cstring>

#include "storage/chunkenc/bit_stream.h"
#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/rollup_histogram_coding.h"

namespace tsvault::storage {

namespace {

using chunk_coding::ByteReader;
using chunk_coding::DoubleBits;
using chunk_coding::PutUvarint;
using chunk_coding::PutXorBytes;

// Per-window flag bits.
constexpr uint8_t kEndsStale = 0x01;
constexpr uint8_t kMinIsFirst = 0x02;       // min has first_v's bits
constexpr uint8_t kMaxIsLast = 0x04;        // max has last_v's bits
constexpr uint8_t kHasCompensation = 0x08;  // sum_compensation is not +0.0
constexpr uint8_t kHasResets = 0x10;        // reset_compensation is not +0.0
// Native histograms in the window too: in encoding 3 undescribed
// ("unknown"), in encoding 4 described by the histogram record that follows.
constexpr uint8_t kHasHistograms = 0x20;
constexpr uint8_t kReservedFlags = 0xc0;

int ResolutionCode(int64_t resolution_ms) {
  switch (resolution_ms) {
    case model::kResolution5m: return 1;
    case model::kResolution1h: return 2;
    case model::kResolution1d: return 3;
    default: return 0;
  }
}

int64_t ResolutionFromCode(uint8_t code) {
  switch (code) {
    case 1: return model::kResolution5m;
    case 2: return model::kResolution1h;
    case 3: return model::kResolution1d;
    default: return 0;
  }
}

void PutVarint(std::string* out, int64_t value) { PutUvarint(out, chunk_coding::ZigZagEncode(value)); }

Status Corrupt(const std::string& what) { return Status::Corruption("rollup chunk: " + what); }

bool GetDouble(ByteReader* reader, double reference, double* out) {
  uint64_t bits;
  if (!reader->GetXorBytes(DoubleBits(reference), &bits)) return false;
  *out = chunk_coding::BitsToDouble(bits);
  return true;
}

}  // namespace

Status EncodeRollupChunk(int64_t resolution_ms, const std::vector<model::FloatWindow>& windows, std::string* out) {
  const int code = ResolutionCode(resolution_ms);
  if (code == 0) return Status::InvalidArgument("rollup chunk: unsupported resolution " + std::to_string(resolution_ms));
  if (windows.empty() || windows.size() > kMaxWindowsPerRollupChunk) {
    return Status::InvalidArgument("rollup chunk: needs 1 to 65535 windows, got " + std::to_string(windows.size()));
  }
  // Encoding 3 unless a window describes its histograms.
  const bool histogram_records = std::any_of(windows.begin(), windows.end(),
                                             [](const model::FloatWindow& w) { return w.histograms != nullptr; });
  out->clear();
  out->push_back(static_cast<char>(histogram_records ? ChunkEncoding::kHistogramRollup : ChunkEncoding::kFloatRollup));
  out->push_back(static_cast<char>(code));
  out->push_back(static_cast<char>(windows.size() >> 8));
  out->push_back(static_cast<char>(windows.size() & 0xff));
  double previous_last = 0, previous_sum = 0;
  const model::FloatHistogram* previous_histogram = nullptr;  // the last described window's last histogram
  for (size_t i = 0; i < windows.size(); ++i) {
    const model::FloatWindow& w = windows[i];
    if (w.end_ms % resolution_ms != 0) return Status::InvalidArgument("rollup chunk: window end not aligned");
    // The decoder's bounds: window ends and the window before each.
    if (w.end_ms / resolution_ms > INT64_MAX / resolution_ms || w.end_ms / resolution_ms < INT64_MIN / resolution_ms + 1) {
      return Status::InvalidArgument("rollup chunk: window end out of range");
    }
    if (i == 0) {
      PutVarint(out, w.end_ms / resolution_ms);
    } else {
      if (w.end_ms <= windows[i - 1].end_ms) return Status::InvalidArgument("rollup chunk: windows out of order");
      PutUvarint(out, static_cast<uint64_t>((w.end_ms - windows[i - 1].end_ms) / resolution_ms - 1));
    }
    const int64_t start = w.end_ms - resolution_ms;  // exclusive
    if (w.histograms && !w.has_histograms) return Status::InvalidArgument("rollup chunk: histograms not flagged");
    // The histogram record, if any, follows the float fields.
    auto put_histograms = [&]() -> Status {
      if (!histogram_records || !w.has_histograms) return Status::OK();
      const std::string error =
          rollup_coding::PutHistogramWindow(w.histograms.get(), previous_histogram, w.end_ms, resolution_ms, out);
      if (!error.empty()) return Status::InvalidArgument("rollup chunk: " + error);
      if (w.histograms) previous_histogram = w.histograms->last.get();
      return Status::OK();
    };
    if (w.count == 0) {
      if (!w.ends_stale && !w.has_histograms) {
        return Status::InvalidArgument("rollup chunk: a window without samples must end stale or hold histograms");
      }
      out->push_back(static_cast<char>((w.ends_stale ? kEndsStale : 0) | (w.has_histograms ? kHasHistograms : 0)));
      PutUvarint(out, 0);
      Status s = put_histograms();
      if (!s.ok()) return s;
      continue;
    }
    if (w.first_t <= start || w.first_t > w.end_ms || w.last_t < w.first_t || w.last_t > w.end_ms ||
        (w.count == 1) != (w.first_t == w.last_t)) {
      return Status::InvalidArgument("rollup chunk: window times outside the window");
    }
    if (w.count > static_cast<uint64_t>(w.last_t - w.first_t) + 1) {
      return Status::InvalidArgument("rollup chunk: more samples than milliseconds");
    }
    uint8_t flags = (w.ends_stale ? kEndsStale : 0) | (w.has_histograms ? kHasHistograms : 0);
    if (DoubleBits(w.min) == DoubleBits(w.first_v)) flags |= kMinIsFirst;
    if (DoubleBits(w.max) == DoubleBits(w.last_v)) flags |= kMaxIsLast;
    if (DoubleBits(w.sum_compensation) != 0) flags |= kHasCompensation;
    if (DoubleBits(w.reset_compensation) != 0) flags |= kHasResets;
    out->push_back(static_cast<char>(flags));
    PutUvarint(out, w.count);
    PutUvarint(out, static_cast<uint64_t>(w.first_t - start - 1));
    PutXorBytes(out, DoubleBits(w.first_v), DoubleBits(previous_last));
    if (w.count > 1) {
      PutUvarint(out, static_cast<uint64_t>(w.end_ms - w.last_t));
      PutXorBytes(out, DoubleBits(w.last_v), DoubleBits(w.first_v));
    }
    if (!(flags & kMinIsFirst)) PutXorBytes(out, DoubleBits(w.min), DoubleBits(w.first_v));
    if (!(flags & kMaxIsLast)) PutXorBytes(out, DoubleBits(w.max), DoubleBits(w.last_v));
    PutXorBytes(out, DoubleBits(w.sum), DoubleBits(previous_sum));
    if (flags & kHasCompensation) PutXorBytes(out, DoubleBits(w.sum_compensation), 0);
    if (flags & kHasResets) PutXorBytes(out, DoubleBits(w.reset_compensation), 0);
    if (w.count > 1) {
      if (w.resets >= w.count || w.changes >= w.count) {
        return Status::InvalidArgument("rollup chunk: more resets or changes than sample pairs");
      }
      PutUvarint(out, w.resets);
      PutUvarint(out, w.changes);
    } else if (w.resets != 0 || w.changes != 0) {
      return Status::InvalidArgument("rollup chunk: resets or changes in a one-sample window");
    }
    Status s = put_histograms();
    if (!s.ok()) return s;
    previous_last = w.last_v;
    previous_sum = w.sum;
  }
  return Status::OK();
}

Status DecodeRollupChunk(std::string_view chunk, int64_t* resolution_ms, std::vector<model::FloatWindow>* windows) {
  windows->clear();
  if (chunk.size() < 4) return Corrupt("shorter than its header");
  const auto encoding = static_cast<ChunkEncoding>(chunk[0]);
  if (encoding != ChunkEncoding::kFloatRollup && encoding != ChunkEncoding::kHistogramRollup) {
    return Corrupt("not a rollup chunk (encoding " + std::to_string(static_cast<uint8_t>(chunk[0])) + ")");
  }
  const bool histogram_records = encoding == ChunkEncoding::kHistogramRollup;
  bool described = false;  // encoding 4 must describe at least one window's histograms
  const int64_t resolution = ResolutionFromCode(static_cast<uint8_t>(chunk[1]));
  if (resolution == 0) return Corrupt("unknown resolution code " + std::to_string(static_cast<uint8_t>(chunk[1])));
  const size_t count = (static_cast<size_t>(static_cast<uint8_t>(chunk[2])) << 8) | static_cast<uint8_t>(chunk[3]);
  if (count == 0) return Corrupt("no windows");
  ByteReader reader(chunk.substr(4));
  windows->reserve(count);
  double previous_last = 0, previous_sum = 0;
  const model::FloatHistogram* previous_histogram = nullptr;  // owned by a window in *windows
  // Window ends are kept as multiples of the resolution, checked against
  // int64 overflow before they are multiplied out.
  const int64_t max_index = INT64_MAX / resolution;
  const int64_t min_index = INT64_MIN / resolution + 1;
  int64_t index = 0;
  for (size_t i = 0; i < count; ++i) {
    model::FloatWindow w;
    if (i == 0) {
      if (!reader.GetVarint(&index)) return Corrupt("truncated window end");
      if (index > max_index || index < min_index) return Corrupt("window end out of range");
    } else {
      uint64_t gap;
      if (!reader.GetUvarint(&gap)) return Corrupt("truncated window gap");
      if (gap >= static_cast<uint64_t>(max_index - index)) return Corrupt("window end out of range");
      index += static_cast<int64_t>(gap) + 1;
    }
    w.end_ms = index * resolution;
    const int64_t start = w.end_ms - resolution;
    uint8_t flags;
    uint64_t samples;
    if (!reader.GetByte(&flags) || !reader.GetUvarint(&samples)) return Corrupt("truncated window");
    if (flags & kReservedFlags) return Corrupt("reserved flag bits set");
    if (samples > UINT32_MAX) return Corrupt("sample count out of range");
    w.count = static_cast<uint32_t>(samples);
    w.ends_stale = flags & kEndsStale;
    w.has_histograms = flags & kHasHistograms;
    auto get_histograms = [&]() -> Status {
      if (!histogram_records || !w.has_histograms) return Status::OK();
      const std::string error =
          rollup_coding::GetHistogramWindow(&reader, previous_histogram, w.end_ms, resolution, &w.histograms);
      if (!error.empty()) return Corrupt(error);
      if (w.histograms) {
        described = true;
        previous_histogram = w.histograms->last.get();
      }
      return Status::OK();
    };
    if (w.count == 0) {
      if (flags == 0 || (flags & ~(kEndsStale | kHasHistograms)) != 0) {
        return Corrupt("a window without float samples must end stale or hold histograms, and nothing else");
      }
      Status s = get_histograms();
      if (!s.ok()) return s;
      windows->push_back(w);
      continue;
    }
    uint64_t offset;
    if (!reader.GetUvarint(&offset) || offset >= static_cast<uint64_t>(resolution)) return Corrupt("bad first time");
    w.first_t = start + 1 + static_cast<int64_t>(offset);
    if (!GetDouble(&reader, previous_last, &w.first_v)) return Corrupt("bad first value");
    w.last_t = w.first_t;
    w.last_v = w.first_v;
    if (w.count > 1) {
      if (!reader.GetUvarint(&offset) || offset >= static_cast<uint64_t>(resolution)) return Corrupt("bad last time");
      w.last_t = w.end_ms - static_cast<int64_t>(offset);
      if (w.last_t <= w.first_t) return Corrupt("last sample not after the first");
      if (w.count > static_cast<uint64_t>(w.last_t - w.first_t) + 1) return Corrupt("more samples than milliseconds");
      if (!GetDouble(&reader, w.first_v, &w.last_v)) return Corrupt("bad last value");
    }
    w.min = w.first_v;
    w.max = w.last_v;
    if (!(flags & kMinIsFirst) && !GetDouble(&reader, w.first_v, &w.min)) return Corrupt("bad min");
    if (!(flags & kMaxIsLast) && !GetDouble(&reader, w.last_v, &w.max)) return Corrupt("bad max");
    if (!GetDouble(&reader, previous_sum, &w.sum)) return Corrupt("bad sum");
    if ((flags & kHasCompensation) && !GetDouble(&reader, 0, &w.sum_compensation)) return Corrupt("bad compensation");
    if ((flags & kHasResets) && !GetDouble(&reader, 0, &w.reset_compensation)) return Corrupt("bad reset compensation");
    if (w.count > 1) {
      uint64_t resets, changes;
      if (!reader.GetUvarint(&resets) || !reader.GetUvarint(&changes)) return Corrupt("truncated counts");
      if (resets >= w.count || changes >= w.count) return Corrupt("more resets or changes than sample pairs");
      w.resets = static_cast<uint32_t>(resets);
      w.changes = static_cast<uint32_t>(changes);
    }
    Status s = get_histograms();
    if (!s.ok()) return s;
    previous_last = w.last_v;
    previous_sum = w.sum;
    windows->push_back(w);
  }
  if (reader.remaining() != 0) return Corrupt("trailing bytes");
  if (histogram_records && !described) return Corrupt("encoding 4 without a histogram record");
  *resolution_ms = resolution;
  return Status::OK();
}

}  // namespace tsvault::storage
