// Function calls: the function table, timestamp() on a selector, and plain
// calls run step by step on their arguments; calls with a range-vector
// argument go to EvalRangeCall (range_call.cc).

#include "query/engine/engine_internal.h"
#include "query/promql/functions.h"

namespace tsvault::query::eval {

FunctionImpl LookupFunctionImpl(std::string_view name) {
  static const auto* table = [] {
    auto* map = new std::unordered_map<std::string_view, FunctionImpl>();
    for (auto entries : {MathFunctions(), TimeFunctions(), RangeFunctions(), OverTimeFunctions(),
                         HistogramFunctions(), LabelFunctions()}) {
      for (const FunctionEntry& entry : entries) map->emplace(entry.name, entry.impl);
    }
    return map;
  }();
  auto it = table->find(name);
  return it == table->end() ? nullptr : it->second;
}

Matrix Evaluator::EvalCall(const promql::Call& call) {
  const std::string_view name = call.function->name;
  FunctionImpl impl = LookupFunctionImpl(name);
  if (impl == nullptr) {
    throw EvalError{Status::Internal("function " + std::string(name) + " is not implemented")};
  }
  if (name == "timestamp") {
    const promql::Expr& argument = Unwrap(*call.args[0]);
    if (argument.kind == promql::ExprKind::kVectorSelector) {
      // The sample timestamps of the selected samples, not the step times.
      const int64_t original = state_->current_samples;
      std::vector<Matrix> inputs;
      inputs.push_back(EvalVectorSelector(argument.As<promql::VectorSelector>(), true));
      return RangeEvalMatrices(
          nullptr,
          [](std::vector<Vector>& args, std::vector<std::vector<const SeriesHelper*>>&, NodeHelper& enh,
             Vector* out) {
            for (const Sample& s : args[0]) out->push_back(Sample{enh.DropMetricName(s.metric), enh.ts, s.f, nullptr});
          },
          std::move(inputs), original);
    }
  }
  for (size_t i = 0; i < call.args.size(); ++i) {
    const promql::Expr& argument = Unwrap(*call.args[i]);
    if (argument.kind == promql::ExprKind::kMatrixSelector || argument.kind == promql::ExprKind::kSubquery) {
      return EvalRangeCall(call, i, impl);
    }
  }
  std::vector<const promql::Expr*> exprs;
  for (const auto& arg : call.args) exprs.push_back(arg.get());
  return RangeEval(
      nullptr,
      [&call, impl](std::vector<Vector>& args, std::vector<std::vector<const SeriesHelper*>>&, NodeHelper& enh,
                    Vector* out) {
        FunctionInput in;
        in.call = &call;
        in.args = &args;
        impl(in, enh, out);
      },
      exprs);
}

}  // namespace tsvault::query::eval
