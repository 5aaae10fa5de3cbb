// The PromQL function table of Prometheus 2.42 (promql/parser/functions.go):
// argument types, arity and return type of every function.
#pragma once

#include <string_view>
#include <vector>

#include "query/promql/ast.h"

namespace tsvault::query::promql {

struct Function {
  std::string_view name;
  // Types of the declared arguments, in order.
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types.size() arguments.
  // n > 0: the last declared argument is optional and may repeat, for
  //        arg_types.size() - 1 to arg_types.size() - 1 + n arguments.
  // -1: at least arg_types.size() - 1 arguments, any number more; extra
  //     arguments have the last declared type.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
};

// Returns the function with this exact (case-sensitive) name, or nullptr.
const Function* LookupFunction(std::string_view name);

// All functions, sorted by name.
const std::vector<Function>& AllFunctions();

// True for the functions whose result depends on the evaluation time even
// when their arguments do not (time(), hour(), timestamp(), ...); such calls
// are never treated as step-invariant by PreprocessExpr.
bool IsAtModifierUnsafeFunction(std::string_view name);

}  // namespace tsvault::query::promql
