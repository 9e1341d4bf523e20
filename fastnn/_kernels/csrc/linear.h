/* Small-batch fused linear: y[i, j] = act(sum_p x[i, p] * w[j, p] + b[j]).
 *
 * For a handful of rows (single-sample inference) BLAS's GEMV spends more on
 * dispatch and thread hand-off than on the arithmetic, and the bias add and the
 * activation each cost another pass and a Python call. This kernel reads W once,
 * in its stored (out, in) row-major layout, a few rows at a time, computing those
 * rows' dot products for every sample while they sit in L1. Serial on purpose:
 * waking a second thread costs more than the whole call.
 */
#ifndef FASTNN_LINEAR_H
#define FASTNN_LINEAR_H
#include "fastnn_common.h"

enum { FNN_ACT_NONE = 0, FNN_ACT_RELU = 1 };

#define T float
#define SFX f32
#include "linear_impl.h"
#undef T
#undef SFX

#define T double
#define SFX f64
#include "linear_impl.h"
#undef T
#undef SFX

#endif
