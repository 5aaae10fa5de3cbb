#include "remote_write/wire_reader.h"

namespace tsvault::remote_write {

bool WireReader::SkipField(uint32_t field, WireType type, int depth) {
  switch (type) {
    case WireType::kVarint: {
      uint64_t ignored;
      return ReadVarint(&ignored);
    }
    case WireType::kFixed64: {
      uint64_t ignored;
      return ReadFixed64(&ignored);
    }
    case WireType::kFixed32: {
      uint32_t ignored;
      return ReadFixed32(&ignored);
    }
    case WireType::kLengthDelimited: {
      std::string_view ignored;
      return ReadLengthDelimited(&ignored);
    }
    case WireType::kStartGroup: {
      if (depth >= kMaxGroupDepth) return false;
      while (true) {
        uint32_t inner_field;
        WireType inner_type;
        if (!ReadTag(&inner_field, &inner_type)) return false;
        if (inner_type == WireType::kEndGroup) return inner_field == field;
        if (!SkipField(inner_field, inner_type, depth + 1)) return false;
      }
    }
    case WireType::kEndGroup:
      return false;  // an end-group without its start
  }
  return false;
}

}  // namespace tsvault::remote_write
