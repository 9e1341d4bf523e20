/* Shared by every fastnn C kernel.
 *
 * Loops are written once per dtype by including a *_impl.h template twice, with
 * T/SFX and the math functions bound to float or double (sklearn's _loss.pyx.tp
 * idea, done with the preprocessor). Parallel loops go through fnn_parallel_for
 * (parallel.h: fastnn's own pool); OpenMP is used for its SIMD pragmas only
 * (-fopenmp-simd), so no OpenMP runtime is linked or started.
 */
#ifndef FASTNN_COMMON_H
#define FASTNN_COMMON_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* glibc declares its vector math (libmvec) only under __FAST_MATH__, which GCC
 * leaves undefined with -fno-finite-math-only, the flag that keeps NaN semantics.
 * Declare the SIMD variants here so expf & co. vectorise anyway. */
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__FAST_MATH__) && !defined(FASTNN_NO_LIBMVEC)
#if __GLIBC_PREREQ(2, 22)
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
float logf(float);
#pragma omp declare simd notinbranch
double log(double);
#endif
#if __GLIBC_PREREQ(2, 35)
#pragma omp declare simd notinbranch
float expm1f(float);
#pragma omp declare simd notinbranch
double expm1(double);
#pragma omp declare simd notinbranch
float log1pf(float);
#pragma omp declare simd notinbranch
double log1p(double);
#pragma omp declare simd notinbranch
float tanhf(float);
#pragma omp declare simd notinbranch
double tanh(double);
#pragma omp declare simd notinbranch
float erff(float);
#pragma omp declare simd notinbranch
double erf(double);
#endif
#endif

#define FNN_CAT_(a, b) a##_##b
#define FNN_CAT(a, b) FNN_CAT_(a, b)
/* _Pragma takes one string literal: stringify the whole pragma, not pieces of it */
#define FNN_PRAGMA_(x) _Pragma(#x)

#define FNN_SIMD _Pragma("omp simd")
#define FNN_SIMD_MAX(v) FNN_PRAGMA_(omp simd reduction(max:v))
#define FNN_SIMD_SUM(v) FNN_PRAGMA_(omp simd reduction(+:v))

#include "parallel.h"

/* 1 when built with the OpenMP runtime (-fopenmp); fastnn's loops never use it */
static int fnn_has_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

#endif
