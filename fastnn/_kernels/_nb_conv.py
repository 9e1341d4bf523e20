"""Numba loops for convolution (im2col / col2im) and 2-D pooling.

Every loop runs ``prange`` over (sample, channel) planes: a plane's rows of the column
matrix, its pooled outputs and its input gradient belong to that plane alone, so the
parallel loops never race. Inside a plane, the valid output range of each kernel tap
is computed once (``_span``), so the innermost loops are branch-free copies that LLVM
vectorises.

Column layout (see conv.py): ``cols[(c*kh + i)*kw + j, b*L + oy*ow + ox]`` for sample
``b`` of a chunk, L = oh*ow: one GEMM with the weight covers the whole chunk.

Reference: fastnn/_kernels/reference_conv.py.
"""
import numpy as np
from numba import prange

from .jit import _jit


def _span_py(n_out, stride, offset, size):
    """[lo, hi): the outputs o in [0, n_out) whose input o*stride + offset is in [0, size)."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = 0
    if size - 1 - offset >= 0:
        hi = (size - 1 - offset) // stride + 1
    if hi > n_out:
        hi = n_out
    if lo > hi:
        lo = hi
    return lo, hi


_span = _jit(_span_py, False)


def im2col(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """x (B, C, H, W) -> cols (C*kh*kw, B*oh*ow); zeros where the window is in the padding."""
    B, C, H, W = x.shape
    L = oh * ow
    for bc in prange(B * C):
        b = bc // C
        c = bc - b * C
        for i in range(kh):
            ylo, yhi = _span(oh, sh, i * dh - ph, H)
            for j in range(kw):
                xlo, xhi = _span(ow, sw, j * dw - pw, W)
                row = cols[(c * kh + i) * kw + j, b * L:(b + 1) * L]
                for oy in range(oh):
                    seg = row[oy * ow:(oy + 1) * ow]
                    if oy < ylo or oy >= yhi:
                        for ox in range(ow):
                            seg[ox] = 0
                        continue
                    src = x[b, c, oy * sh + i * dh - ph]
                    for ox in range(xlo):
                        seg[ox] = 0
                    x0 = j * dw - pw
                    if sw == 1:   # a contiguous run: a memcpy-like vector copy
                        seg[xlo:xhi] = src[xlo + x0:xhi + x0]
                    else:
                        for ox in range(xlo, xhi):
                            seg[ox] = src[ox * sw + x0]
                    for ox in range(xhi, ow):
                        seg[ox] = 0


def col2im(cols, gx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """gx (B, C, H, W) = the sum of cols (C*kh*kw, B*oh*ow) back onto the input positions."""
    B, C, H, W = gx.shape
    L = oh * ow
    for bc in prange(B * C):
        b = bc // C
        c = bc - b * C
        plane = gx[b, c]
        for y in range(H):
            for x in range(W):
                plane[y, x] = 0
        for i in range(kh):
            ylo, yhi = _span(oh, sh, i * dh - ph, H)
            for j in range(kw):
                xlo, xhi = _span(ow, sw, j * dw - pw, W)
                row = cols[(c * kh + i) * kw + j, b * L:(b + 1) * L]
                x0 = j * dw - pw
                for oy in range(ylo, yhi):
                    seg = row[oy * ow:(oy + 1) * ow]
                    dst = plane[oy * sh + i * dh - ph]
                    if sw == 1:
                        dst[xlo + x0:xhi + x0] += seg[xlo:xhi]
                    else:
                        for ox in range(xlo, xhi):
                            dst[ox * sw + x0] += seg[ox]


def max_pool2d_fwd(x, y, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    """y[p, oy, ox] = max over the window (NaN wins; first index on ties), idx its flat index."""
    P, H, W = x.shape
    _, OH, OW = y.shape
    for p in prange(P):
        xp = x[p]
        for oy in range(OH):
            y0 = oy * sh - ph
            y1 = min(y0 + (kh - 1) * dh + 1, H)
            while y0 < 0:
                y0 += dh
            for ox in range(OW):
                x0 = ox * sw - pw
                x1 = min(x0 + (kw - 1) * dw + 1, W)
                while x0 < 0:
                    x0 += dw
                best = -np.inf
                at = y0 * W + x0
                for iy in range(y0, y1, dh):
                    for ix in range(x0, x1, dw):
                        v = xp[iy, ix]
                        # torch's rule: a NaN always takes over, so NaN in -> NaN out
                        if v > best or v != v:
                            best = v
                            at = iy * W + ix
                y[p, oy, ox] = best
                idx[p, oy, ox] = at


def max_pool2d_bwd(g, idx, gx):
    """gx (P, H*W) = g scattered to the arg-max positions idx (P, L)."""
    P, L = g.shape
    for p in prange(P):
        row = gx[p]
        for k in range(row.size):
            row[k] = 0
        gp = g[p]
        ip = idx[p]
        for o in range(L):
            row[ip[o]] += gp[o]


def _avg_window_py(o, s, p, k, n):
    """torch's avg-pool window along one axis: (start, end, padded size)."""
    a = o * s - p
    e = min(a + k, n + p)
    size = e - a
    return max(a, 0), min(e, n), size


_avg_window = _jit(_avg_window_py, False)


def avg_pool2d_fwd(x, y, kh, kw, sh, sw, ph, pw, include_pad, divisor):
    """y = window sum / divisor (torch's rule: divisor, padded or unpadded window size)."""
    P, H, W = x.shape
    _, OH, OW = y.shape
    for p in prange(P):
        xp = x[p]
        for oy in range(OH):
            ya, ye, ysz = _avg_window(oy, sh, ph, kh, H)
            for ox in range(OW):
                xa, xe, xsz = _avg_window(ox, sw, pw, kw, W)
                acc = 0.0   # float64 sums, as torch's CPU accumulator
                for iy in range(ya, ye):
                    for ix in range(xa, xe):
                        acc += xp[iy, ix]
                if divisor > 0:
                    d = divisor
                elif include_pad:
                    d = ysz * xsz
                else:
                    d = (ye - ya) * (xe - xa)
                if ye <= ya or xe <= xa:
                    y[p, oy, ox] = 0
                else:
                    y[p, oy, ox] = acc / d


def avg_pool2d_bwd(g, gx, kh, kw, sh, sw, ph, pw, include_pad, divisor):
    """gx[window] += g / (the forward's divisor)."""
    P, H, W = gx.shape
    _, OH, OW = g.shape
    for p in prange(P):
        gp = gx[p]
        for iy in range(H):
            for ix in range(W):
                gp[iy, ix] = 0
        for oy in range(OH):
            ya, ye, ysz = _avg_window(oy, sh, ph, kh, H)
            for ox in range(OW):
                xa, xe, xsz = _avg_window(ox, sw, pw, kw, W)
                if divisor > 0:
                    d = divisor
                elif include_pad:
                    d = ysz * xsz
                else:
                    d = (ye - ya) * (xe - xa)
                if ye <= ya or xe <= xa:
                    continue
                v = g[p, oy, ox] / d
                for iy in range(ya, ye):
                    for ix in range(xa, xe):
                        gp[iy, ix] += v


def im2col_s1(xp, cols, kh, kw, dh, dw, wp, lg):
    """Stride-1 columns on the padded grid: row (c, i, j) is one contiguous run
    xp[b, c, i*dh*wp + j*dw:][:lg] of the flattened padded plane (B, C, Hp*Wp)."""
    B, C, _ = xp.shape
    for bc in prange(B * C):
        b = bc // C
        c = bc - b * C
        src = xp[b, c]
        for i in range(kh):
            for j in range(kw):
                off = i * dh * wp + j * dw
                cols[(c * kh + i) * kw + j, b * lg:(b + 1) * lg] = src[off:off + lg]


def col2im_s1(cols, gxp, kh, kw, dh, dw, wp, lg):
    """The adjoint of im2col_s1: gxp (B, C, Hp*Wp) = the sum of the shifted column runs."""
    B, C, P = gxp.shape
    for bc in prange(B * C):
        b = bc // C
        c = bc - b * C
        dst = gxp[b, c]
        for k in range(P):
            dst[k] = 0
        for i in range(kh):
            for j in range(kw):
                off = i * dh * wp + j * dw
                dst[off:off + lg] += cols[(c * kh + i) * kw + j, b * lg:(b + 1) * lg]
