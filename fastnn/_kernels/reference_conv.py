"""Plain NumPy convolution and pooling: the readable spec and test oracle of conv.py.

Written from torch's definitions, independently of the kernels: convolution as a sum
over kernel taps of strided slices of the padded input, pooling as explicit windows.
The functions take the same arguments as ``fastnn.functional`` (parsed here again), so
the op table can call them with a row's keyword arguments.
"""
import numpy as np

__all__ = ["conv2d", "max_pool2d", "max_pool2d_indices", "avg_pool2d", "pad", "im2col", "col2im",
           "pool_out_size"]


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def pool_out_size(n, k, s, p, d=1, ceil_mode=False):
    """torch's pooling_output_shape."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o] = sum over c, i, j of x_pad[n, g*Cg + c, oy*s + i*d, ox*s + j*d] w[o, c, i, j] + b[o]."""
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    O, Cg, kh, kw = w.shape
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        else:   # 'same': torch puts the odd extra pad at the end
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    else:
        ph, pw = _pair(padding)
        pads = (ph, ph, pw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), pads[:2], pads[2:]))
    N, C, Hp, Wp = xp.shape
    oh = (Hp - dh * (kh - 1) - 1) // sh + 1
    ow = (Wp - dw * (kw - 1) - 1) // sw + 1
    G = groups
    wg = w.reshape(G, O // G, Cg, kh, kw)
    y = np.zeros((N, G, O // G, oh, ow), np.result_type(x, w))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
            patch = patch.reshape(N, G, Cg, oh, ow)
            y += np.einsum("ngchw,goc->ngohw", patch, wg[..., i, j])
    y = y.reshape(N, O, oh, ow)
    if b is not None:
        y = y + b.reshape(1, O, 1, 1)
    return y[0] if unbatched else y


def _windows(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Yield (oy, ox, list of (iy, ix) inside the input) for each output of a pooling."""
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None or stride == () else stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    H, W = x.shape[-2:]
    oh = pool_out_size(H, kh, sh, ph, dh, ceil_mode)
    ow = pool_out_size(W, kw, sw, pw, dw, ceil_mode)
    for oy in range(oh):
        for ox in range(ow):
            taps = [(oy * sh - ph + i * dh, ox * sw - pw + j * dw) for i in range(kh) for j in range(kw)]
            yield oy, ox, oh, ow, [(a, c) for a, c in taps if 0 <= a < H and 0 <= c < W], (sh, sw, ph, pw)


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    lead = x.shape[:-2]
    out, idx = None, None
    W = x.shape[-1]
    for oy, ox, oh, ow, taps, _ in _windows(x, kernel_size, stride, padding, dilation, ceil_mode):
        if out is None:
            out = np.empty(lead + (oh, ow), x.dtype)
            idx = np.empty(lead + (oh, ow), np.int64)
        vals = np.stack([x[..., a, c] for a, c in taps], axis=-1)
        flat = np.array([a * W + c for a, c in taps])
        nan = np.isnan(vals)
        # torch: the maximum, first on ties; a NaN wins (the last NaN of the window)
        k = np.where(nan.any(-1), vals.shape[-1] - 1 - np.argmax(nan[..., ::-1], -1), np.argmax(vals, -1))
        out[..., oy, ox] = np.take_along_axis(vals, k[..., None], -1)[..., 0]
        idx[..., oy, ox] = flat[k]
    return out, idx


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Window maxima (padding counts as -inf); with return_indices also their flat indices."""
    out, idx = _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def max_pool2d_indices(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The flat (H*W plane) int64 index of each window's maximum."""
    return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)[1]


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Window sums over the divisor: divisor_override, or the window's size counting the
    padding (count_include_pad, but never past the padded edge), or not counting it."""
    lead = x.shape[:-2]
    H, W = x.shape[-2:]
    kh, kw = _pair(kernel_size)
    out = None
    for oy, ox, oh, ow, taps, (sh, sw, ph, pw) in _windows(x, kernel_size, stride, padding, 1, ceil_mode):
        if out is None:
            out = np.zeros(lead + (oh, ow), x.dtype)
        if not taps:
            continue
        y0, x0 = oy * sh - ph, ox * sw - pw
        padded = (min(y0 + kh, H + ph) - y0) * (min(x0 + kw, W + pw) - x0)
        total = sum(x[..., a, c] for a, c in taps)
        div = divisor_override or (padded if count_include_pad else len(taps))
        out[..., oy, ox] = total / div
    return out


def pad(x, pad, mode="constant", value=0.0):
    """torch's constant pad: pairs (before, after) from the last dim backwards; negative crops."""
    out = x
    for k in range(len(pad) // 2):
        axis = x.ndim - 1 - k
        lo, hi = pad[2 * k], pad[2 * k + 1]
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(max(-lo, 0), out.shape[axis] - max(-hi, 0))
        out = out[tuple(idx)]
        widths = [(0, 0)] * x.ndim
        widths[axis] = (max(lo, 0), max(hi, 0))
        out = np.pad(out, widths, constant_values=value)
    return out


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Columns (C*kh*kw, B*oh*ow) of x (B, C, H, W), top/left padding ph/pw (zeros)."""
    B, C, H, W = x.shape
    cols = np.zeros((C, kh, kw, B, oh, ow), x.dtype)
    for i in range(kh):
        for j in range(kw):
            for oy in range(oh):
                for ox in range(ow):
                    iy, ix = oy * sh - ph + i * dh, ox * sw - pw + j * dw
                    if 0 <= iy < H and 0 <= ix < W:
                        cols[:, i, j, :, oy, ox] = x[:, :, iy, ix].T
    return cols.reshape(C * kh * kw, B * oh * ow)


def col2im(cols, shape, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint of im2col: each column entry added back to its input position."""
    B, C, H, W = shape
    c6 = cols.reshape(C, kh, kw, B, oh, ow)
    out = np.zeros(shape, cols.dtype)
    for i in range(kh):
        for j in range(kw):
            for oy in range(oh):
                for ox in range(ow):
                    iy, ix = oy * sh - ph + i * dh, ox * sw - pw + j * dw
                    if 0 <= iy < H and 0 <= ix < W:
                        out[:, :, iy, ix] += c6[:, i, j, :, oy, ox].T
    return out
