// Label-set helpers of the PromQL engine: the arena, label editing,
// matching signatures and duplicate detection.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_set>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

MetricRef MetricArena::Make(Labels labels) {
  if (QueryState* parent = owner_->parent; parent != nullptr) {
    std::lock_guard<std::mutex> lock(parent->part_mutex);
    return parent->arena.Make(std::move(labels));
  }
  int64_t bytes = static_cast<int64_t>(sizeof(Metric) + labels.capacity() * sizeof(Label));
  for (const Label& label : labels) {
    bytes += static_cast<int64_t>(label.name.capacity() + label.value.capacity());
  }
  owner_->NeedBytes(bytes);
  bytes_ += bytes;
  const uint64_t hash = HashLabels(labels);
  metrics_.push_back(Metric{std::move(labels), hash});
  return &metrics_.back();
}

MetricRef MetricArena::Empty() {
  if (empty_ == nullptr) empty_ = Make({});
  return empty_;
}

void ThrowExecution(const std::string& message) { throw EvalError{Status::ResourceExhausted(message)}; }

namespace {

// Memory is taken from the pool in steps of this much, so that queries do
// not all contend on it for every label set.
constexpr int64_t kReserveStepBytes = 4 << 20;

std::string MiB(int64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

QueryState::~QueryState() {
  if (pool != nullptr && reserved_bytes > 0) pool->reserved.fetch_sub(reserved_bytes, std::memory_order_relaxed);
}

void QueryState::Reserve(int64_t more, int64_t pending_bytes) {
  const int64_t needed = arena.bytes() + current_samples * kBytesPerSample + more;
  const int64_t limit = options->max_memory_bytes;
  if (limit > 0 && needed > limit) {
    ThrowExecution("query processing would use more than " + MiB(limit) +
                   " of memory (--query.max-memory-bytes): label sets " + MiB(arena.bytes()) + ", " +
                   std::to_string(current_samples) + " samples held, " + MiB(more) + " more needed");
  }
  if (needed > reserved_bytes) {
    int64_t grow = std::max(needed - reserved_bytes, kReserveStepBytes);
    if (limit > 0) grow = std::min(grow, limit - reserved_bytes);  // still >= needed - reserved_bytes
    const int64_t total_limit = options->max_total_memory_bytes;
    if (pool != nullptr && total_limit > 0) {
      const int64_t before = pool->reserved.fetch_add(grow, std::memory_order_relaxed);
      if (before + grow > total_limit) {
        pool->reserved.fetch_sub(grow, std::memory_order_relaxed);
        ThrowExecution("the queries running now hold " + MiB(before) + " of the " + MiB(total_limit) +
                       " all queries may use together (--query.max-total-memory-bytes); this one needs " +
                       MiB(needed) + ": try again later or ask for less");
      }
    }
    reserved_bytes += grow;
  }
  // What the reservation holds beside the arena (and bytes about to join
  // it), in samples.
  const int64_t room = (reserved_bytes - arena.bytes() - pending_bytes) / kBytesPerSample;
  sample_limit = std::min(options->max_samples, std::max(current_samples, room));
}

void QueryState::NeedBytes(int64_t more) {
  if (parent != nullptr) {
    std::lock_guard<std::mutex> lock(parent->part_mutex);
    parent->NeedBytes(more);
    return;
  }
  Reserve(more, more);
}

void QueryState::NeedSamples(int64_t total) {
  if (parent != nullptr) {
    // Samples are counted in the parent, taken in steps so that parts do
    // not ask for every one.
    constexpr int64_t kGrantStep = 4096;
    std::lock_guard<std::mutex> lock(parent->part_mutex);
    const int64_t wanted = total - granted_samples;
    if (wanted > 0) {
      int64_t ask = std::max(wanted, kGrantStep);
      if (parent->current_samples + ask > options->max_samples) ask = wanted;
      parent->NeedSamples(parent->current_samples + ask);
      parent->current_samples += ask;
      granted_samples += ask;
    }
    sample_limit = granted_samples;
    return;
  }
  if (total > options->max_samples) {
    ThrowExecution("query processing would load too many samples into memory in query execution");
  }
  Reserve((total - current_samples) * kBytesPerSample, 0);
}

void QueryState::AddWarning(std::string warning) {
  if (parent != nullptr) {
    std::lock_guard<std::mutex> lock(parent->part_mutex);
    parent->AddWarning(std::move(warning));
    return;
  }
  if (std::find(warnings.begin(), warnings.end(), warning) == warnings.end()) warnings.push_back(std::move(warning));
}

void QueryState::ForkFrom(QueryState* parent_state, const std::atomic<bool>* failed) {
  parent = parent_state;
  sibling_failed = failed;
  db = parent->db;
  options = parent->options;
  deadline = parent->deadline;
  cancelled = parent->cancelled;
  max_source_resolution_ms = parent->max_source_resolution_ms;
}

void QueryState::JoinParent() {
  std::lock_guard<std::mutex> lock(parent->part_mutex);
  parent->current_samples -= granted_samples - current_samples;
  granted_samples = current_samples;
  parent->resolutions_used.insert(resolutions_used.begin(), resolutions_used.end());
}

void QueryState::CheckInterrupt() const {
  if (sibling_failed != nullptr && sibling_failed->load(std::memory_order_relaxed)) {
    throw SiblingFailed{};
  }
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
    throw EvalError{Status::Cancelled("query was canceled in expression evaluation")};
  }
  if (std::chrono::steady_clock::now() > deadline) {
    throw EvalError{Status::DeadlineExceeded("query timed out in expression evaluation")};
  }
}

MetricRef NodeHelper::DropMetricName(MetricRef metric) {
  auto it = drop_name_cache.find(metric);
  if (it != drop_name_cache.end()) return it->second;
  MetricRef result = metric;
  if (!MetricName(metric->labels).empty()) {
    Labels labels;
    labels.reserve(metric->labels.size());
    for (const Label& label : metric->labels) {
      if (label.name != kMetricNameLabel) labels.push_back(label);
    }
    result = state->arena.Make(std::move(labels));
  }
  drop_name_cache.emplace(metric, result);
  return result;
}

namespace {
bool Contains(std::span<const std::string> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

Labels LabelsWithout(const Labels& labels, std::span<const std::string> names, bool also_metric_name) {
  Labels out;
  out.reserve(labels.size());
  for (const Label& label : labels) {
    if (also_metric_name && label.name == kMetricNameLabel) continue;
    if (Contains(names, label.name)) continue;
    out.push_back(label);
  }
  return out;
}

Labels LabelsKeeping(const Labels& labels, std::span<const std::string> names) {
  Labels out;
  for (const Label& label : labels) {
    if (Contains(names, label.name)) out.push_back(label);
  }
  return out;
}

void SetLabel(Labels* labels, std::string_view name, std::string_view value) {
  auto it = std::lower_bound(labels->begin(), labels->end(), name,
                             [](const Label& label, std::string_view n) { return label.name < n; });
  const bool found = it != labels->end() && it->name == name;
  if (value.empty()) {
    if (found) labels->erase(it);
    return;
  }
  if (found) {
    it->value = std::string(value);
  } else {
    labels->insert(it, Label{std::string(name), std::string(value)});
  }
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

void SignatureKey(const Labels& labels, std::span<const std::string> names, bool on, std::string* out) {
  out->clear();
  for (const Label& label : labels) {
    const bool listed = Contains(names, label.name);
    if (on ? !listed : (listed || label.name == kMetricNameLabel)) continue;
    out->append(label.name);
    out->push_back('\xff');
    out->append(label.value);
    out->push_back('\xff');
  }
}

void LabelsKeyWithout(const Labels& labels, std::span<const std::string> names, std::string* out) {
  out->clear();
  for (const Label& label : labels) {
    if (Contains(names, label.name)) continue;
    out->append(label.name);
    out->push_back('\xff');
    out->append(label.value);
    out->push_back('\xff');
  }
}

namespace {
template <typename Items, typename MetricOf>
bool HasDuplicateMetric(const Items& items, MetricOf metric_of) {
  const size_t n = items.size();
  if (n < 2) return false;
  if (n <= 8) {
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 1; j < n; ++j) {
        MetricRef a = metric_of(items[i]);
        MetricRef b = metric_of(items[j]);
        if (a == b || (a->hash == b->hash && a->labels == b->labels)) return true;
      }
    }
    return false;
  }
  std::unordered_multimap<uint64_t, MetricRef> seen;
  seen.reserve(n);
  for (const auto& item : items) {
    MetricRef m = metric_of(item);
    auto [begin, end] = seen.equal_range(m->hash);
    for (auto it = begin; it != end; ++it) {
      if (it->second == m || it->second->labels == m->labels) return true;
    }
    seen.emplace(m->hash, m);
  }
  return false;
}
}  // namespace

bool ContainsSameLabelset(const Vector& vector) {
  return HasDuplicateMetric(vector, [](const Sample& s) { return s.metric; });
}

bool ContainsSameLabelset(const Matrix& matrix) {
  return HasDuplicateMetric(matrix, [](const Series& s) { return s.metric; });
}

const promql::Expr& UnwrapParens(const promql::Expr& expr) {
  const promql::Expr* e = &expr;
  while (e->kind == promql::ExprKind::kParen) e = e->As<promql::ParenExpr>().expr.get();
  return *e;
}

const promql::Expr& Unwrap(const promql::Expr& expr) {
  const promql::Expr* e = &UnwrapParens(expr);
  if (e->kind == promql::ExprKind::kStepInvariant) e = &UnwrapParens(*e->As<promql::StepInvariantExpr>().expr);
  return *e;
}

std::string StringArgument(const promql::Expr& expr) {
  const promql::Expr& e = Unwrap(expr);
  if (e.kind != promql::ExprKind::kStringLiteral) return {};
  return e.As<promql::StringLiteral>().value;
}

Labels AbsentLabels(const promql::Expr& argument) {
  const promql::Expr& e = UnwrapParens(argument);
  const promql::VectorSelector* selector = nullptr;
  if (e.kind == promql::ExprKind::kVectorSelector) selector = &e.As<promql::VectorSelector>();
  if (e.kind == promql::ExprKind::kMatrixSelector) selector = e.As<promql::MatrixSelector>().selector.get();
  Labels out;
  if (selector == nullptr) return out;
  std::vector<std::string> remove;
  for (const storage::LabelMatcher& matcher : selector->matchers) {
    if (matcher.name() == kMetricNameLabel) continue;
    const bool present =
        std::any_of(out.begin(), out.end(), [&](const Label& l) { return l.name == matcher.name(); });
    if (matcher.type() == storage::MatchType::kEqual && !present) {
      SetLabel(&out, matcher.name(), matcher.value());  // an empty value sets nothing
    } else {
      remove.push_back(matcher.name());
    }
  }
  for (const std::string& name : remove) SetLabel(&out, name, "");
  return out;
}

}  // namespace tsvault::query::eval
