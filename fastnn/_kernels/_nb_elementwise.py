"""Numba loops for piecewise-linear elementwise kernels (they reach memory bandwidth
in Numba; transcendental ones live in C, see csrc/elementwise.h).

Signature convention: unary ``f(x, out, a, b)``, binary ``f(u, g, out, a, b)`` over
flat C-contiguous arrays. Compiled lazily by fastnn._kernels.jit. Comparisons are
written so NaN falls through to the value (NaN in, NaN out).
"""
from numba import prange


def relu_fwd(x, out, a, b):
    for i in prange(x.size):
        v = x[i]
        out[i] = 0 if v < 0 else v


def relu_bwd(x, g, out, a, b):
    for i in prange(x.size):
        out[i] = g[i] if x[i] > 0 else 0


# ---- per-channel and grouped activations (dispatch: fastnn._kernels.activations) ----
# Channel kernels see x as (N, C, S): parameters index dim 1, S is the flattened rest.
# Parallel over the N*C rows; parameter gradients leave one partial sum per row
# (summed over N by the caller), so the result does not depend on the thread count.

def prelu_fwd(x, w, out):
    N, C, S = x.shape
    for r in prange(N * C):
        n, c = r // C, r % C
        a = w[c]
        for s in range(S):
            v = x[n, c, s]
            out[n, c, s] = v if v > 0 else v * a


def prelu_bwd(x, w, g, gx, gw_rows):
    N, C, S = x.shape
    for r in prange(N * C):
        n, c = r // C, r % C
        a = w[c]
        acc = 0.0
        for s in range(S):
            v, gv = x[n, c, s], g[n, c, s]
            if v > 0:
                gx[n, c, s] = gv
            else:
                gx[n, c, s] = gv * a
                acc += gv * v
        gw_rows[n, c] = acc


def srelu_fwd(x, tl, al, tr, ar, out):
    N, C, S = x.shape
    for r in prange(N * C):
        n, c = r // C, r % C
        t_l, a_l, t_r, a_r = tl[c], al[c], tr[c], ar[c]
        for s in range(S):
            v = x[n, c, s]
            if v >= t_r:
                out[n, c, s] = t_r + a_r * (v - t_r)
            elif v <= t_l:
                out[n, c, s] = t_l + a_l * (v - t_l)
            else:
                out[n, c, s] = v


def srelu_bwd(x, tl, al, tr, ar, g, gx, gp_rows):
    """gp_rows[n, c] = partial grads of (t_left, a_left, t_right, a_right)."""
    N, C, S = x.shape
    for r in prange(N * C):
        n, c = r // C, r % C
        t_l, a_l, t_r, a_r = tl[c], al[c], tr[c], ar[c]
        d_tl = 0.0
        d_al = 0.0
        d_tr = 0.0
        d_ar = 0.0
        for s in range(S):
            v, gv = x[n, c, s], g[n, c, s]
            if v >= t_r:
                gx[n, c, s] = gv * a_r
                d_tr += gv * (1 - a_r)
                d_ar += gv * (v - t_r)
            elif v <= t_l:
                gx[n, c, s] = gv * a_l
                d_tl += gv * (1 - a_l)
                d_al += gv * (v - t_l)
            else:
                gx[n, c, s] = gv
        gp_rows[n, c, 0] = d_tl
        gp_rows[n, c, 1] = d_al
        gp_rows[n, c, 2] = d_tr
        gp_rows[n, c, 3] = d_ar


def crelu_fwd(x, out):
    """x: (outer, M); out: (outer, 2, M) = (relu(x), relu(-x))."""
    O, M = x.shape
    for r in prange(O * 2):
        o, h = r // 2, r % 2
        if h == 0:
            for m in range(M):
                v = x[o, m]
                out[o, 0, m] = 0 if v < 0 else v
        else:
            for m in range(M):
                v = -x[o, m]
                out[o, 1, m] = 0 if v < 0 else v


def crelu_bwd(x, g, gx):
    O, M = x.shape
    for o in prange(O):
        for m in range(M):
            v = x[o, m]
            gx[o, m] = g[o, 0, m] if v > 0 else (-g[o, 1, m] if v < 0 else 0)


def maxout_fwd(x, out, idx):
    """x: (outer, G, K, inner); out, idx: (outer, G, inner). First maximum wins; NaN wins."""
    O, G, K, I = x.shape
    for r in prange(O * G):
        o, gi = r // G, r % G
        for i in range(I):
            best = x[o, gi, 0, i]
            bj = 0
            for j in range(1, K):
                v = x[o, gi, j, i]
                if v > best or (v != v and best == best):
                    best = v
                    bj = j
            out[o, gi, i] = best
            idx[o, gi, i] = bj


def maxout_bwd(g, idx, gx):
    O, G, K, I = gx.shape
    for r in prange(O * G):
        o, gi = r // G, r % G
        for j in range(K):
            for i in range(I):
                gx[o, gi, j, i] = g[o, gi, i] if idx[o, gi, i] == j else 0
