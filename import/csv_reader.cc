#include "import/csv_reader.h"

namespace tsvault::import {

void CsvReader::Append(std::string_view data) {
  // Drop what was consumed once it is most of the buffer.
  if (position_ > 0 && position_ >= buffer_.size() / 2) {
    buffer_.erase(0, position_);
    position_ = 0;
  }
  buffer_.append(data);
}

bool CsvReader::Next(CsvRecord* record, Status* error) {
  *error = Status::OK();
  // Skip empty lines.
  while (position_ < buffer_.size() && (buffer_[position_] == '\n' || buffer_[position_] == '\r')) {
    if (buffer_[position_] == '\r' && position_ + 1 >= buffer_.size() && !finished_) return false;
    if (buffer_[position_] == '\n') ++line_;
    ++position_;
  }
  if (position_ >= buffer_.size()) return false;

  // Field strings are reused from record to record (no allocation per field).
  size_t used = 0;
  auto next_field = [record, &used]() -> std::string& {
    if (used == record->fields.size()) record->fields.emplace_back();
    std::string& field = record->fields[used++];
    field.clear();
    return field;
  };
  record->line = line_;
  const std::string_view text(buffer_);
  size_t at = position_;
  uint64_t line = line_;
  std::string problem;
  size_t problem_field = 0;
  while (true) {
    std::string& field = next_field();
    if (at < text.size() && text[at] == '"') {
      // Quoted: up to the closing quote; "" is a quote; line breaks kept.
      ++at;
      while (true) {
        const size_t quote = text.find('"', at);
        if (quote == std::string_view::npos) {
          if (!finished_) return false;  // the closing quote may come later
          if (problem.empty()) {
            problem = "a quoted field has no closing quote";
            problem_field = used;
          }
          at = text.size();
          break;
        }
        for (size_t i = at; i < quote; ++i) line += text[i] == '\n';
        field.append(text.substr(at, quote - at));
        if (quote + 1 < text.size() && text[quote + 1] == '"') {
          field.push_back('"');
          at = quote + 2;
          continue;
        }
        if (quote + 1 >= text.size() && !finished_) return false;  // "" may be split
        at = quote + 1;
        break;
      }
      if (at < text.size() && text[at] != ',' && text[at] != '\n' && text[at] != '\r' && problem.empty()) {
        problem = "text after the closing quote of a field";
        problem_field = used;
      }
    }
    // Unquoted (or the rest after a bad quote): up to a comma or line end.
    size_t end = at;  // a plain loop: find_first_of runs memchr once per character
    while (end < text.size() && text[end] != ',' && text[end] != '\n') ++end;
    if (end == text.size()) end = std::string_view::npos;
    if (end == std::string_view::npos && !finished_) return false;
    const size_t stop = end == std::string_view::npos ? text.size() : end;
    if (problem.empty() || problem_field != used) {
      std::string_view rest = text.substr(at, stop - at);
      // CRLF: the CR belongs to the line break, not to the last field.
      if ((end == std::string_view::npos || text[end] == '\n') && !rest.empty() && rest.back() == '\r') {
        rest.remove_suffix(1);
      }
      field.append(rest);
    }
    at = stop;
    if (at < text.size() && text[at] == ',') {
      ++at;
      continue;
    }
    // End of the record.
    if (at < text.size()) {
      ++at;  // the LF
      ++line;
    }
    break;
  }
  record->fields.resize(used);
  position_ = at;
  line_ = line;
  if (!problem.empty()) {
    *error = Status::InvalidArgument("line " + std::to_string(record->line) + ", column " +
                                     std::to_string(problem_field) + ": " + problem);
  }
  return true;
}

}  // namespace tsvault::import
