// Aggregation operators (sum, avg, count, min, max, group, stddev, stdvar,
// topk, bottomk, count_values, quantile), as Prometheus 2.42's
// evaluator.aggregation, including its heap-based topk/bottomk.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "query/engine/engine_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::eval {

namespace {

using promql::AggregateOp;

// Go's container/heap over samples with a "less" function.
template <typename Less>
void HeapUp(std::vector<Sample>* h, size_t j, Less less) {
  while (j > 0) {
    const size_t i = (j - 1) / 2;
    if (!less((*h)[j], (*h)[i])) break;
    std::swap((*h)[i], (*h)[j]);
    j = i;
  }
}

template <typename Less>
void HeapDown(std::vector<Sample>* h, size_t i, size_t n, Less less) {
  while (true) {
    const size_t j1 = 2 * i + 1;
    if (j1 >= n) break;
    size_t j = j1;
    if (j1 + 1 < n && less((*h)[j1 + 1], (*h)[j1])) j = j1 + 1;
    if (!less((*h)[j], (*h)[i])) break;
    std::swap((*h)[i], (*h)[j]);
    i = j;
  }
}

template <typename Less>
void HeapPush(std::vector<Sample>* h, Sample s, Less less) {
  h->push_back(std::move(s));
  HeapUp(h, h->size() - 1, less);
}

template <typename Less>
void HeapPop(std::vector<Sample>* h, Less less) {
  const size_t n = h->size() - 1;
  std::swap((*h)[0], (*h)[n]);
  HeapDown(h, 0, n, less);
  h->pop_back();
}

// vectorByValueHeap.Less and vectorByReverseValueHeap.Less.
bool ValueLess(const Sample& a, const Sample& b) { return std::isnan(a.f) || a.f < b.f; }
bool ReverseValueLess(const Sample& a, const Sample& b) { return std::isnan(a.f) || a.f > b.f; }

struct Group {
  MetricRef labels = nullptr;
  bool has_float = false;
  bool has_histogram = false;
  FloatAggregation floats;  // value, mean and count as the float rules keep them
  std::shared_ptr<model::FloatHistogram> histogram;
  std::vector<Sample> heap;
};

bool FloatOnly(AggregateOp op) {
  switch (op) {
    case AggregateOp::kMin:
    case AggregateOp::kMax:
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar:
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kQuantile:
    case AggregateOp::kCountValues:
      return true;
    default:
      return false;
  }
}

void AddHistogram(Group* group, const model::FloatHistogram& h) {
  if (!group->histogram) {
    group->histogram = std::make_shared<model::FloatHistogram>(h);
  } else {
    group->histogram->Add(h);
  }
}

struct AggregationContext {
  AggregateOp op;
  std::vector<std::string> grouping;  // sorted
  bool without;
  std::string value_label;  // count_values
  // Keys (grouping signatures) numbered densely; per step, slot_of_id maps
  // a key to its group in `groups` (-1: none yet), reset via `touched`.
  KeyInterner ids;
  std::vector<int32_t> slot_of_id;
  std::vector<uint32_t> touched;
  std::vector<Group> groups;
  // Output label sets by key id, kept across steps so every step reuses the
  // same metric (cheap to match when assembling series).
  std::vector<MetricRef> metric_of_id;
  std::string key;
};

void Aggregate(AggregationContext& ctx, double param, const Vector& vector,
               const std::vector<const SeriesHelper*>& helpers, NodeHelper& enh, Vector* out) {
  const AggregateOp op = ctx.op;
  int64_t k = 0;
  if (op == AggregateOp::kTopk || op == AggregateOp::kBottomk) {
    if (!(param <= 9223372036854774784.0 && param >= -9223372036854775808.0)) {
      ThrowExecution("Scalar value " + promql::FormatGoFloat(param) + " overflows int64");
    }
    k = static_cast<int64_t>(param);
    if (k < 1) return;
  }
  const std::vector<std::string>* grouping_ptr = &ctx.grouping;
  std::vector<std::string> count_values_grouping;
  if (op == AggregateOp::kCountValues) {
    if (!IsValidLabelName(ctx.value_label)) {
      ThrowExecution("invalid label name " + promql::QuoteGoString(ctx.value_label));
    }
    if (!ctx.without) {
      count_values_grouping = ctx.grouping;
      count_values_grouping.push_back(ctx.value_label);
      std::sort(count_values_grouping.begin(), count_values_grouping.end());
      grouping_ptr = &count_values_grouping;
    }
  }
  const std::vector<std::string>& grouping = *grouping_ptr;
  for (uint32_t id : ctx.touched) ctx.slot_of_id[id] = -1;
  ctx.touched.clear();
  ctx.groups.clear();
  for (size_t si = 0; si < vector.size(); ++si) {
    const Sample& s = vector[si];
    if (s.h && FloatOnly(op)) continue;
    MetricRef metric = s.metric;
    uint32_t id = helpers[si]->id;
    Labels count_values_labels;
    if (op == AggregateOp::kCountValues) {
      count_values_labels = metric->labels;
      SetLabel(&count_values_labels, ctx.value_label, promql::FormatGoFloatFixed(s.f));
      SignatureKey(count_values_labels, grouping, !ctx.without, &ctx.key);
      id = ctx.ids.Intern(ctx.key);
    }
    if (id >= ctx.slot_of_id.size()) {
      ctx.slot_of_id.resize(ctx.ids.size(), -1);
      ctx.metric_of_id.resize(ctx.ids.size(), nullptr);
    }
    const bool created = ctx.slot_of_id[id] < 0;
    if (created) {
      ctx.slot_of_id[id] = static_cast<int32_t>(ctx.groups.size());
      ctx.touched.push_back(id);
      Group group;
      if (ctx.metric_of_id[id] == nullptr) {
        const Labels& source = op == AggregateOp::kCountValues ? count_values_labels : metric->labels;
        Labels labels = ctx.without ? LabelsWithout(source, grouping, true) : LabelsKeeping(source, grouping);
        ctx.metric_of_id[id] = enh.state->arena.Make(std::move(labels));
      }
      group.labels = ctx.metric_of_id[id];
      group.floats.Start(op, s.f);
      if (s.h) {
        group.has_histogram = true;
        group.histogram = std::make_shared<model::FloatHistogram>(*s.h);
      } else {
        group.has_float = true;
      }
      switch (op) {
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk:
        case AggregateOp::kQuantile:
          group.heap.reserve(static_cast<size_t>(std::min<int64_t>(std::max<int64_t>(k, 1), vector.size())));
          group.heap.push_back(Sample{s.metric, 0, s.f, nullptr});
          break;
        default:
          break;
      }
      ctx.groups.push_back(std::move(group));
      continue;
    }
    Group& group = ctx.groups[static_cast<size_t>(ctx.slot_of_id[id])];
    switch (op) {
      case AggregateOp::kSum:
      case AggregateOp::kAvg:
        if (s.h) {
          if (op == AggregateOp::kAvg) ++group.floats.count;
          group.has_histogram = true;
          AddHistogram(&group, *s.h);
          break;
        }
        group.has_float = true;
        group.floats.Add(op, s.f);
        break;
      case AggregateOp::kGroup:
      case AggregateOp::kMax:
      case AggregateOp::kMin:
      case AggregateOp::kCount:
      case AggregateOp::kStdvar:
      case AggregateOp::kStddev:
        group.floats.Add(op, s.f);
        break;
      case AggregateOp::kCountValues:
        ++group.floats.count;
        break;
      case AggregateOp::kTopk:
        if (static_cast<int64_t>(group.heap.size()) < k || group.heap[0].f < s.f || std::isnan(group.heap[0].f)) {
          if (static_cast<int64_t>(group.heap.size()) == k) {
            if (k == 1) {
              group.heap[0] = Sample{s.metric, 0, s.f, nullptr};
              break;
            }
            HeapPop(&group.heap, ValueLess);
          }
          HeapPush(&group.heap, Sample{s.metric, 0, s.f, nullptr}, ValueLess);
        }
        break;
      case AggregateOp::kBottomk:
        if (static_cast<int64_t>(group.heap.size()) < k || group.heap[0].f > s.f || std::isnan(group.heap[0].f)) {
          if (static_cast<int64_t>(group.heap.size()) == k) {
            if (k == 1) {
              group.heap[0] = Sample{s.metric, 0, s.f, nullptr};
              break;
            }
            HeapPop(&group.heap, ReverseValueLess);
          }
          HeapPush(&group.heap, Sample{s.metric, 0, s.f, nullptr}, ReverseValueLess);
        }
        break;
      case AggregateOp::kQuantile:
        group.heap.push_back(Sample{s.metric, 0, s.f, nullptr});
        break;
    }
  }

  for (Group& group : ctx.groups) {
    switch (op) {
      case AggregateOp::kAvg:
        if (group.has_float && group.has_histogram) continue;
        if (group.has_histogram) {
          group.histogram->Divide(static_cast<double>(group.floats.count));
        } else {
          group.floats.value = group.floats.Finish(op);
        }
        break;
      case AggregateOp::kCount:
      case AggregateOp::kCountValues:
        group.floats.value = static_cast<double>(group.floats.count);
        group.histogram.reset();
        break;
      case AggregateOp::kGroup:
        group.histogram.reset();
        break;
      case AggregateOp::kStdvar:
      case AggregateOp::kStddev:
        group.floats.value = group.floats.Finish(op);
        break;
      case AggregateOp::kTopk:
        std::stable_sort(group.heap.begin(), group.heap.end(), [](const Sample& a, const Sample& b) {
          return !std::isnan(a.f) && (std::isnan(b.f) || a.f > b.f);
        });
        for (const Sample& s : group.heap) out->push_back(Sample{s.metric, enh.ts, s.f, nullptr});
        continue;
      case AggregateOp::kBottomk:
        std::stable_sort(group.heap.begin(), group.heap.end(), [](const Sample& a, const Sample& b) {
          return !std::isnan(a.f) && (std::isnan(b.f) || a.f < b.f);
        });
        for (const Sample& s : group.heap) out->push_back(Sample{s.metric, enh.ts, s.f, nullptr});
        continue;
      case AggregateOp::kQuantile: {
        std::vector<double> values;
        values.reserve(group.heap.size());
        for (const Sample& s : group.heap) values.push_back(s.f);
        group.floats.value = Quantile(param, &values);
        break;
      }
      case AggregateOp::kSum:
        if (group.has_float && group.has_histogram) continue;
        break;
      default:
        break;
    }
    if (group.histogram && group.has_histogram && !group.has_float) {
      out->push_back(Sample{group.labels, enh.ts, 0, std::move(group.histogram)});
    } else {
      out->push_back(Sample{group.labels, enh.ts, group.floats.value, nullptr});
    }
  }
}

}  // namespace

Matrix Evaluator::EvalAggregate(const promql::AggregateExpr& expr) {
  auto ctx = std::make_shared<AggregationContext>();
  ctx->op = expr.op;
  ctx->grouping = expr.grouping;
  std::sort(ctx->grouping.begin(), ctx->grouping.end());
  ctx->without = expr.without;
  auto prepare = [ctx](MetricRef metric, SeriesHelper* helper) {
    SignatureKey(metric->labels, ctx->grouping, !ctx->without, &helper->key);
    helper->id = ctx->ids.Intern(helper->key);
  };
  if (expr.param != nullptr && Unwrap(*expr.param).kind == promql::ExprKind::kStringLiteral) {
    ctx->value_label = StringArgument(*expr.param);
    return RangeEval(
        prepare,
        [ctx](std::vector<Vector>& v, std::vector<std::vector<const SeriesHelper*>>& h, NodeHelper& enh,
              Vector* out) { Aggregate(*ctx, 0, v[0], h[0], enh, out); },
        {expr.expr.get()});
  }
  if (expr.param == nullptr) {
    const int64_t original = state_->current_samples;
    Matrix input = Eval(*expr.expr);
    Matrix result;
    if (AggregateBySeries(expr, input, original, &result)) return result;
    std::vector<Matrix> inputs(2);
    inputs[1] = std::move(input);
    return RangeEvalMatrices(
        prepare,
        [ctx](std::vector<Vector>& v, std::vector<std::vector<const SeriesHelper*>>& h, NodeHelper& enh,
              Vector* out) { Aggregate(*ctx, 0, v[1], h[1], enh, out); },
        std::move(inputs), original);
  }
  return RangeEval(
      prepare,
      [ctx, has_param = expr.param != nullptr](std::vector<Vector>& v,
                                                std::vector<std::vector<const SeriesHelper*>>& h,
                                                NodeHelper& enh, Vector* out) {
        const double param = has_param && !v[0].empty() ? v[0][0].f : 0;
        Aggregate(*ctx, param, v[1], h[1], enh, out);
      },
      {expr.param.get(), expr.expr.get()});
}

}  // namespace tsvault::query::eval
