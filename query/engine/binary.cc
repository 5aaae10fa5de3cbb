// Binary operators: scalar/scalar, vector/scalar and vector/vector with
// one-to-one, many-to-one (group_left/group_right) and set (and, or,
// unless) matching, as Prometheus 2.42's VectorBinop and friends.
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "query/engine/engine_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::eval {

namespace {

using promql::BinaryOp;

double Bool(bool b) { return b ? 1 : 0; }

double ScalarBinop(BinaryOp op, double lhs, double rhs) {
  switch (op) {
    case BinaryOp::kAdd: return lhs + rhs;
    case BinaryOp::kSub: return lhs - rhs;
    case BinaryOp::kMul: return lhs * rhs;
    case BinaryOp::kDiv: return lhs / rhs;
    case BinaryOp::kPow: return std::pow(lhs, rhs);
    case BinaryOp::kMod: return std::fmod(lhs, rhs);
    case BinaryOp::kEqual: return Bool(lhs == rhs);
    case BinaryOp::kNotEqual: return Bool(lhs != rhs);
    case BinaryOp::kGreater: return Bool(lhs > rhs);
    case BinaryOp::kLess: return Bool(lhs < rhs);
    case BinaryOp::kGreaterOrEqual: return Bool(lhs >= rhs);
    case BinaryOp::kLessOrEqual: return Bool(lhs <= rhs);
    case BinaryOp::kAtan2: return std::atan2(lhs, rhs);
    default: break;
  }
  throw EvalError{Status::Internal("operator not allowed for scalar operations")};
}

// The outcome of an operator on two vector elements.
struct ElementResult {
  double value = 0;
  HistogramRef histogram;
  bool keep = true;   // false: a comparison that filters the element out
  bool valid = true;  // false: the operand types do not combine (dropped)
};

ElementResult ElementBinop(BinaryOp op, double lhs, double rhs, const HistogramRef& hl, const HistogramRef& hr) {
  ElementResult r;
  if (!hl && !hr) {
    if (promql::IsComparisonOp(op)) {
      r.value = lhs;
      r.keep = ScalarBinop(op, lhs, rhs) == 1;
    } else {
      r.value = ScalarBinop(op, lhs, rhs);
    }
    return r;
  }
  if (hl && hr && (op == BinaryOp::kAdd || op == BinaryOp::kSub)) {
    auto sum = std::make_shared<model::FloatHistogram>(*hl);
    if (op == BinaryOp::kAdd) {
      sum->Add(*hr);
    } else {
      sum->Sub(*hr);
    }
    r.histogram = std::move(sum);
    return r;
  }
  if (op == BinaryOp::kMul && (hl == nullptr) != (hr == nullptr)) {
    auto product = std::make_shared<model::FloatHistogram>(hl ? *hl : *hr);
    product->Scale(hl ? rhs : lhs);
    r.histogram = std::move(product);
    return r;
  }
  if (op == BinaryOp::kDiv && hl && !hr) {
    auto quotient = std::make_shared<model::FloatHistogram>(*hl);
    quotient->Divide(rhs);
    r.histogram = std::move(quotient);
    return r;
  }
  r.valid = false;
  return r;
}

bool ShouldDropMetricName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kDiv:
    case BinaryOp::kMul:
    case BinaryOp::kPow:
    case BinaryOp::kMod:
      return true;
    default:
      return false;
  }
}

// Go's labels.String(): {a="b", c="d"} including __name__ as a label.
std::string GoLabelsString(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i].name;
    out += '=';
    out += promql::QuoteGoString(labels[i].value);
  }
  out += '}';
  return out;
}

// Labels that take part in matching (Prometheus' Labels.MatchLabels).
Labels MatchLabels(const Labels& labels, bool on, const std::vector<std::string>& names) {
  Labels out;
  for (const Label& label : labels) {
    const bool listed = std::find(names.begin(), names.end(), label.name) != names.end();
    if (on == listed && (on || label.name != kMetricNameLabel)) out.push_back(label);
  }
  return out;
}

struct PairHash {
  size_t operator()(const std::pair<MetricRef, MetricRef>& p) const {
    return std::hash<const void*>()(p.first) * 31 + std::hash<const void*>()(p.second);
  }
};

// State of one vector/vector operation across steps. Matching signatures
// are numbered densely (ids), so per-step bookkeeping uses vectors indexed
// by id instead of hash maps.
struct BinaryCaches {
  KeyInterner ids;
  std::unordered_map<std::pair<MetricRef, MetricRef>, MetricRef, PairHash> result_metric;
  std::vector<int32_t> one_side_slot;  // per id: index into the "one" side, -1 if none
  std::vector<uint32_t> touched;       // ids set in one_side_slot this step
  std::vector<uint32_t> mark;          // per id: generation in which it was last marked
  std::vector<std::unordered_set<uint64_t>> inserted;  // many-to-one: result metric hashes per id
  uint32_t generation = 0;

  void Grow() {
    if (one_side_slot.size() < ids.size()) {
      one_side_slot.resize(ids.size(), -1);
      mark.resize(ids.size(), 0);
      inserted.resize(ids.size());
    }
  }
};

MetricRef ResultMetric(MetricRef lhs, MetricRef rhs, BinaryOp op, const promql::VectorMatching& matching,
                       QueryState* state, BinaryCaches* caches) {
  auto key = std::make_pair(lhs, rhs);
  auto it = caches->result_metric.find(key);
  if (it != caches->result_metric.end()) return it->second;
  Labels labels = lhs->labels;
  if (ShouldDropMetricName(op)) SetLabel(&labels, kMetricNameLabel, "");
  if (matching.card == promql::VectorMatchCardinality::kOneToOne) {
    labels = matching.on ? LabelsKeeping(labels, matching.matching_labels)
                         : LabelsWithout(labels, matching.matching_labels, false);
  }
  for (const std::string& name : matching.include) {
    SetLabel(&labels, name, GetLabelValue(rhs->labels, name));
  }
  MetricRef result = state->arena.Make(std::move(labels));
  caches->result_metric.emplace(key, result);
  return result;
}

void VectorBinop(BinaryOp op, Vector& lhs, Vector& rhs, const promql::VectorMatching& matching, bool return_bool,
                 std::vector<const SeriesHelper*>& lhs_helpers, std::vector<const SeriesHelper*>& rhs_helpers,
                 NodeHelper& enh, BinaryCaches* caches, Vector* out) {
  using Card = promql::VectorMatchCardinality;
  if (lhs.empty() || rhs.empty()) return;
  const bool swapped = matching.card == Card::kOneToMany;
  Vector* many = swapped ? &rhs : &lhs;
  Vector* one = swapped ? &lhs : &rhs;
  auto* many_helpers = swapped ? &rhs_helpers : &lhs_helpers;
  auto* one_helpers = swapped ? &lhs_helpers : &rhs_helpers;

  caches->Grow();
  for (uint32_t id : caches->touched) caches->one_side_slot[id] = -1;
  caches->touched.clear();
  for (size_t i = 0; i < one->size(); ++i) {
    const uint32_t id = (*one_helpers)[i]->id;
    if (caches->one_side_slot[id] >= 0) {
      const Sample& current = (*one)[i];
      const Sample& duplicate = (*one)[static_cast<size_t>(caches->one_side_slot[id])];
      ThrowExecution("found duplicate series for the match group " +
                     GoLabelsString(MatchLabels(current.metric->labels, matching.on, matching.matching_labels)) +
                     " on the " + (swapped ? "left" : "right") + " hand-side of the operation: [" +
                     GoLabelsString(current.metric->labels) + ", " + GoLabelsString(duplicate.metric->labels) +
                     "];many-to-many matching not allowed: matching labels must be unique on one side");
    }
    caches->one_side_slot[id] = static_cast<int32_t>(i);
    caches->touched.push_back(id);
  }
  const uint32_t generation = ++caches->generation;
  for (size_t i = 0; i < many->size(); ++i) {
    const Sample& ls = (*many)[i];
    const uint32_t id = (*many_helpers)[i]->id;
    if (caches->one_side_slot[id] < 0) continue;
    const Sample& rs = (*one)[static_cast<size_t>(caches->one_side_slot[id])];
    double vl = ls.f, vr = rs.f;
    HistogramRef hl = ls.h, hr = rs.h;
    if (swapped) {
      std::swap(vl, vr);
      std::swap(hl, hr);
    }
    ElementResult r = ElementBinop(op, vl, vr, hl, hr);
    if (return_bool) {
      r.value = r.keep ? 1 : 0;
    } else if (!r.keep) {
      continue;
    }
    MetricRef metric = ResultMetric(ls.metric, rs.metric, op, matching, enh.state, caches);
    if (return_bool) metric = enh.DropMetricName(metric);
    const bool first = caches->mark[id] != generation;
    if (first) {
      caches->mark[id] = generation;
      caches->inserted[id].clear();
    }
    if (matching.card == Card::kOneToOne) {
      if (!first) ThrowExecution("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
    } else {
      if (!caches->inserted[id].insert(metric->hash).second) {
        ThrowExecution("multiple matches for labels: grouping labels must ensure unique matches");
      }
    }
    if (!r.valid) continue;
    out->push_back(Sample{metric, enh.ts, r.histogram ? 0 : r.value, r.histogram});
  }
}

void VectorAnd(const Vector& lhs, const Vector& rhs, std::vector<const SeriesHelper*>& lhs_helpers,
               std::vector<const SeriesHelper*>& rhs_helpers, BinaryCaches* caches, Vector* out) {
  if (lhs.empty() || rhs.empty()) return;
  caches->Grow();
  const uint32_t generation = ++caches->generation;
  for (const SeriesHelper* h : rhs_helpers) caches->mark[h->id] = generation;
  for (size_t i = 0; i < lhs.size(); ++i) {
    if (caches->mark[lhs_helpers[i]->id] == generation) out->push_back(lhs[i]);
  }
}

void VectorOr(const Vector& lhs, const Vector& rhs, std::vector<const SeriesHelper*>& lhs_helpers,
              std::vector<const SeriesHelper*>& rhs_helpers, BinaryCaches* caches, Vector* out) {
  if (lhs.empty() || rhs.empty()) {
    out->insert(out->end(), lhs.begin(), lhs.end());
    out->insert(out->end(), rhs.begin(), rhs.end());
    return;
  }
  caches->Grow();
  const uint32_t generation = ++caches->generation;
  for (size_t i = 0; i < lhs.size(); ++i) {
    caches->mark[lhs_helpers[i]->id] = generation;
    out->push_back(lhs[i]);
  }
  for (size_t j = 0; j < rhs.size(); ++j) {
    if (caches->mark[rhs_helpers[j]->id] != generation) out->push_back(rhs[j]);
  }
}

void VectorUnless(const Vector& lhs, const Vector& rhs, std::vector<const SeriesHelper*>& lhs_helpers,
                  std::vector<const SeriesHelper*>& rhs_helpers, BinaryCaches* caches, Vector* out) {
  if (lhs.empty() || rhs.empty()) {
    out->insert(out->end(), lhs.begin(), lhs.end());
    return;
  }
  caches->Grow();
  const uint32_t generation = ++caches->generation;
  for (const SeriesHelper* h : rhs_helpers) caches->mark[h->id] = generation;
  for (size_t i = 0; i < lhs.size(); ++i) {
    if (caches->mark[lhs_helpers[i]->id] != generation) out->push_back(lhs[i]);
  }
}

void VectorScalarBinop(BinaryOp op, const Vector& vector, double scalar, bool swap, bool return_bool,
                       NodeHelper& enh, Vector* out) {
  for (const Sample& sample : vector) {
    double lv = sample.f, rv = scalar;
    HistogramRef hl = sample.h, hr;
    if (swap) {
      std::swap(lv, rv);
      std::swap(hl, hr);
    }
    ElementResult r = ElementBinop(op, lv, rv, hl, hr);
    if (promql::IsComparisonOp(op) && swap) r.value = rv;
    if (!r.valid) continue;
    if (return_bool) {
      r.value = r.keep ? 1 : 0;
      r.keep = true;
    }
    if (!r.keep) continue;
    MetricRef metric = sample.metric;
    if (ShouldDropMetricName(op) || return_bool) metric = enh.DropMetricName(metric);
    out->push_back(Sample{metric, sample.t, r.histogram ? 0 : r.value, r.histogram});
  }
}

}  // namespace

Matrix Evaluator::EvalBinary(const promql::BinaryExpr& expr) {
  using promql::ValueType;
  const ValueType lt = expr.lhs->Type();
  const ValueType rt = expr.rhs->Type();
  const BinaryOp op = expr.op;
  const bool return_bool = expr.return_bool;
  if (lt == ValueType::kScalar && rt == ValueType::kScalar) {
    return RangeEval(
        nullptr,
        [op](std::vector<Vector>& v, std::vector<std::vector<const SeriesHelper*>>&, NodeHelper& enh, Vector* out) {
          out->push_back(Sample{enh.state->arena.Empty(), enh.ts, ScalarBinop(op, ScalarArgument(v, 0), ScalarArgument(v, 1)), nullptr});
        },
        {expr.lhs.get(), expr.rhs.get()});
  }
  if (lt == ValueType::kVector && rt == ValueType::kVector) {
    const promql::VectorMatching matching = expr.matching.value_or(promql::VectorMatching{});
    auto caches = std::make_shared<BinaryCaches>();
    auto prepare = [&matching, caches](MetricRef metric, SeriesHelper* helper) {
      SignatureKey(metric->labels, matching.matching_labels, matching.on, &helper->key);
      helper->id = caches->ids.Intern(helper->key);
    };
    return RangeEval(
        prepare,
        [op, &matching, return_bool, caches](std::vector<Vector>& v, std::vector<std::vector<const SeriesHelper*>>& h,
                                             NodeHelper& enh, Vector* out) {
          switch (op) {
            case BinaryOp::kAnd: return VectorAnd(v[0], v[1], h[0], h[1], caches.get(), out);
            case BinaryOp::kOr: return VectorOr(v[0], v[1], h[0], h[1], caches.get(), out);
            case BinaryOp::kUnless: return VectorUnless(v[0], v[1], h[0], h[1], caches.get(), out);
            default: return VectorBinop(op, v[0], v[1], matching, return_bool, h[0], h[1], enh, caches.get(), out);
          }
        },
        {expr.lhs.get(), expr.rhs.get()});
  }
  const bool scalar_left = lt == ValueType::kScalar;
  return RangeEval(
      nullptr,
      [op, return_bool, scalar_left](std::vector<Vector>& v, std::vector<std::vector<const SeriesHelper*>>&,
                                     NodeHelper& enh, Vector* out) {
        if (scalar_left) {
          VectorScalarBinop(op, v[1], ScalarArgument(v, 0), true, return_bool, enh, out);
        } else {
          VectorScalarBinop(op, v[0], ScalarArgument(v, 1), false, return_bool, enh, out);
        }
      },
      {expr.lhs.get(), expr.rhs.get()});
}

}  // namespace tsvault::query::eval
