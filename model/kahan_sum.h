// Prometheus' compensated summation (promql kahanSumInc, Neumaier's variant),
// shared by the PromQL engine and the rollups so both add alike.
#pragma once

namespace tsvault::model {

// One step: adds `increment` to the running *sum, accumulating the lost
// low-order bits in *compensation. The total is *sum + *compensation
// (Prometheus returns *sum alone when it is infinite).
inline void KahanAdd(double increment, double* sum, double* compensation) {
  const double t = *sum + increment;
  if ((*sum >= 0 ? *sum : -*sum) >= (increment >= 0 ? increment : -increment)) {
    *compensation += (*sum - t) + increment;
  } else {
    *compensation += (increment - t) + *sum;
  }
  *sum = t;
}

}  // namespace tsvault::model
