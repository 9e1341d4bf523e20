# cython: language_level=3
"""C optimizer kernels (csrc/optim.h) and the small-parameter pack copies.

Each ``<name>_steps(items, h, nt)`` updates, in place, every flat C-contiguous
parameter of ``items`` (tuples ``(p, g, *state)`` of one dtype) and its state, all
of them in one parallel loop. ``h`` holds the step's scalars in the layout declared once in
fastnn._kernels.optim, read here by name into the kernel's struct. Every
array is checked here (one float dtype in native byte order, C-contiguous, sizes: the
shared checks of _ccheck.pxd), so no call can make the C code read past a buffer: each
state array the flags in ``h`` use must be as long as ``p``; one they switch off is
never touched (pass ``optim.empty(dtype)``).
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from libc.stdlib cimport malloc, free

from fastnn._kernels._ccheck cimport float_type, same

from fastnn._kernels.optim import SGD, ADAGRAD, RMSPROP, ADAM, ADAMAX, ADADELTA

cnp.import_array()

cdef extern from "parallel.h":
    int fnn_pool_import() except -1

fnn_pool_import()   # the parallel loops run on fastnn's pool (the _cpool extension)

cdef extern from "optim.h" nogil:
    ctypedef struct fnn_opt_args:
        void *p
        const void *g
        void *s0
        void *s1
        void *s2
        ptrdiff_t n
    ctypedef struct fnn_sgd_hyper:
        double lr, momentum, dampening_c, weight_decay, sign
        int nesterov, has_momentum, first
    ctypedef struct fnn_adagrad_hyper:
        double clr, weight_decay, eps, sign
    ctypedef struct fnn_rmsprop_hyper:
        double lr, alpha, alpha_c, eps, weight_decay, momentum, sign
        int centered, has_momentum
    ctypedef struct fnn_adam_hyper:
        double step_size, beta1_c, beta2, beta2_c, eps, weight_decay, sign, inv_bc2_sqrt, decay
        int decoupled, amsgrad
    ctypedef struct fnn_adamax_hyper:
        double clr, beta1_c, beta2, eps, weight_decay, sign
    ctypedef struct fnn_adadelta_hyper:
        double lr, rho, rho_c, eps, weight_decay, sign
    void fnn_sgd_step_f32(const fnn_opt_args *, ptrdiff_t, const fnn_sgd_hyper *, int)
    void fnn_sgd_step_f64(const fnn_opt_args *, ptrdiff_t, const fnn_sgd_hyper *, int)
    void fnn_adagrad_step_f32(const fnn_opt_args *, ptrdiff_t, const fnn_adagrad_hyper *, int)
    void fnn_adagrad_step_f64(const fnn_opt_args *, ptrdiff_t, const fnn_adagrad_hyper *, int)
    void fnn_rmsprop_step_f32(const fnn_opt_args *, ptrdiff_t, const fnn_rmsprop_hyper *, int)
    void fnn_rmsprop_step_f64(const fnn_opt_args *, ptrdiff_t, const fnn_rmsprop_hyper *, int)
    void fnn_adam_step_f32(const fnn_opt_args *, ptrdiff_t, const fnn_adam_hyper *, int)
    void fnn_adam_step_f64(const fnn_opt_args *, ptrdiff_t, const fnn_adam_hyper *, int)
    void fnn_adamax_step_f32(const fnn_opt_args *, ptrdiff_t, const fnn_adamax_hyper *, int)
    void fnn_adamax_step_f64(const fnn_opt_args *, ptrdiff_t, const fnn_adamax_hyper *, int)
    void fnn_adadelta_step_f32(const fnn_opt_args *, ptrdiff_t, const fnn_adadelta_hyper *, int)
    void fnn_adadelta_step_f64(const fnn_opt_args *, ptrdiff_t, const fnn_adadelta_hyper *, int)
    void fnn_pack_copy(char *const *, char *, const ptrdiff_t *, ptrdiff_t, size_t, int, int)


# --- argument checks: the one gate in front of the C loops ----------------------------

# dtype, byte order, layout and size: the checks shared by every C wrapper (_ccheck.pxd)
cdef void *_array(str where, str name, object a, int t, ptrdiff_t n, bint used, bint write) except? NULL:
    """The data pointer of a checked array: dtype t in native byte order, C-contiguous,
    n elements. An array the flags switch off (``used`` false) is never touched: NULL,
    any size."""
    if not used:
        if not isinstance(a, cnp.ndarray):
            raise TypeError(f"{where}: {name} must be a numpy.ndarray, got {type(a).__name__}.")
        return NULL
    same(a, t, n, where, name)
    if write and not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        raise ValueError(f"{where}: {name} must be writeable, got a read-only array.")
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef class _H:
    """The scalars array h of one call, read by index as double."""
    cdef const char *data
    cdef int t

    cdef double at(self, Py_ssize_t i):
        if self.t == cnp.NPY_FLOAT32:
            return (<const float *>self.data)[i]
        return (<const double *>self.data)[i]


cdef _H _hyper(str where, object h, int t, object layout):
    _array(where, "h", h, t, len(layout), True, False)
    cdef _H r = _H.__new__(_H)
    r.data = <const char *>cnp.PyArray_DATA(<cnp.ndarray>h)
    r.t = t
    return r


cdef int _first_type(str where, items) except -1:
    """The dtype number of the first item's parameter (every item must share it)."""
    if not isinstance(items, (list, tuple)) or len(items) == 0:
        raise TypeError(f"{where}: expected a non-empty list of (p, g, *state) tuples, got "
                        f"{type(items).__name__}{'' if items else ' (empty)'}.")
    it = items[0]
    if not isinstance(it, tuple) or len(it) == 0:
        raise TypeError(f"{where}: items[0] must be a (p, g, *state) tuple, got "
                        f"{type(it).__name__}.")
    return float_type(it[0], where, "items[0] p")


cdef class _Items:
    """The C view of a call's tensors: one fnn_opt_args per (p, g, *state) item, every
    array checked (dtype t, C-contiguous, as long as its p; a state the flags switch
    off is never touched and may be empty). Holds no reference: valid while the
    caller's items list lives."""
    cdef fnn_opt_args *a
    cdef ptrdiff_t count

    def __dealloc__(self):
        free(self.a)


cdef _Items _items(str where, items, int t, tuple names, tuple used):
    cdef _Items r = _Items.__new__(_Items)
    cdef Py_ssize_t count = len(items), j, k, ns = len(names)
    cdef fnn_opt_args *a
    r.a = a = <fnn_opt_args *>malloc(count * sizeof(fnn_opt_args))
    if a == NULL:
        raise MemoryError()
    r.count = count
    for j in range(count):
        it = items[j]
        if not isinstance(it, tuple) or len(it) != 2 + ns:
            raise TypeError(f"{where}: items[{j}] must be a tuple (p, g, {', '.join(names)}), "
                            f"got {type(it).__name__} of length "
                            f"{len(it) if isinstance(it, tuple) else '-'}.")
        if float_type(it[0], where, f"items[{j}] p") != t:
            raise TypeError(f"{where}: every parameter of one call must share a dtype; "
                            f"items[0] p is {items[0][0].dtype}, items[{j}] p is "
                            f"{it[0].dtype}.")
        a[j].n = cnp.PyArray_SIZE(<cnp.ndarray>it[0])
        a[j].p = _array(where, f"items[{j}] p", it[0], t, a[j].n, True, True)
        a[j].g = _array(where, f"items[{j}] g", it[1], t, a[j].n, True, False)
        a[j].s0 = a[j].s1 = a[j].s2 = NULL
        for k in range(ns):
            ptr = _array(where, f"items[{j}] {names[k]}", it[2 + k], t, a[j].n, used[k], True)
            if k == 0:
                a[j].s0 = ptr
            elif k == 1:
                a[j].s1 = ptr
            else:
                a[j].s2 = ptr
    return r


# --- the kernels -------------------------------------------------------------------------
# ``<name>_steps(items, h, nt)``: one update of every (p, g, *state) item, one dtype,
# all their blocks in one parallel loop (one parameter is a list of one item).

def sgd_steps(items, h, int nt):
    """SGD / momentum / Nesterov in place (``momentum_buffer`` empty without momentum)."""
    cdef fnn_sgd_hyper s
    cdef int t = _first_type("sgd_step", items)
    cdef _H v = _hyper("sgd_step", h, t, SGD)
    s.lr, s.momentum, s.dampening_c = v.at(SGD.lr), v.at(SGD.momentum), v.at(SGD.dampening_c)
    s.weight_decay, s.sign = v.at(SGD.weight_decay), v.at(SGD.sign)
    s.nesterov, s.has_momentum = v.at(SGD.nesterov) != 0, v.at(SGD.has_momentum) != 0
    s.first = v.at(SGD.first) != 0
    cdef _Items a = _items("sgd_step", items, t, ("momentum_buffer",), (s.has_momentum,))
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_sgd_step_f32(a.a, a.count, &s, nt)
        else:
            fnn_sgd_step_f64(a.a, a.count, &s, nt)


def adagrad_steps(items, h, int nt):
    """Adagrad in place."""
    cdef fnn_adagrad_hyper s
    cdef int t = _first_type("adagrad_step", items)
    cdef _H v = _hyper("adagrad_step", h, t, ADAGRAD)
    s.clr, s.weight_decay = v.at(ADAGRAD.clr), v.at(ADAGRAD.weight_decay)
    s.eps, s.sign = v.at(ADAGRAD.eps), v.at(ADAGRAD.sign)
    cdef _Items a = _items("adagrad_step", items, t, ("state_sum",), (True,))
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_adagrad_step_f32(a.a, a.count, &s, nt)
        else:
            fnn_adagrad_step_f64(a.a, a.count, &s, nt)


def rmsprop_steps(items, h, int nt):
    """RMSprop in place (``grad_avg`` / ``momentum_buffer`` empty when switched off)."""
    cdef fnn_rmsprop_hyper s
    cdef int t = _first_type("rmsprop_step", items)
    cdef _H v = _hyper("rmsprop_step", h, t, RMSPROP)
    s.lr, s.alpha, s.alpha_c = v.at(RMSPROP.lr), v.at(RMSPROP.alpha), v.at(RMSPROP.alpha_c)
    s.eps, s.weight_decay = v.at(RMSPROP.eps), v.at(RMSPROP.weight_decay)
    s.momentum, s.sign = v.at(RMSPROP.momentum), v.at(RMSPROP.sign)
    s.centered, s.has_momentum = v.at(RMSPROP.centered) != 0, v.at(RMSPROP.has_momentum) != 0
    cdef _Items a = _items("rmsprop_step", items, t,
                           ("square_avg", "grad_avg", "momentum_buffer"),
                           (True, s.centered, s.has_momentum))
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_rmsprop_step_f32(a.a, a.count, &s, nt)
        else:
            fnn_rmsprop_step_f64(a.a, a.count, &s, nt)


def adam_steps(items, h, int nt):
    """Adam / AdamW / AMSGrad in place (``max_exp_avg_sq`` empty without amsgrad)."""
    cdef fnn_adam_hyper s
    cdef int t = _first_type("adam_step", items)
    cdef _H v = _hyper("adam_step", h, t, ADAM)
    s.step_size, s.beta1_c, s.beta2 = v.at(ADAM.step_size), v.at(ADAM.beta1_c), v.at(ADAM.beta2)
    s.beta2_c, s.eps, s.weight_decay = v.at(ADAM.beta2_c), v.at(ADAM.eps), v.at(ADAM.weight_decay)
    s.sign, s.inv_bc2_sqrt, s.decay = v.at(ADAM.sign), v.at(ADAM.inv_bc2_sqrt), v.at(ADAM.decay)
    s.decoupled, s.amsgrad = v.at(ADAM.decoupled) != 0, v.at(ADAM.amsgrad) != 0
    cdef _Items a = _items("adam_step", items, t, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
                           (True, True, s.amsgrad))
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_adam_step_f32(a.a, a.count, &s, nt)
        else:
            fnn_adam_step_f64(a.a, a.count, &s, nt)


def adamax_steps(items, h, int nt):
    """Adamax in place."""
    cdef fnn_adamax_hyper s
    cdef int t = _first_type("adamax_step", items)
    cdef _H v = _hyper("adamax_step", h, t, ADAMAX)
    s.clr, s.beta1_c, s.beta2 = v.at(ADAMAX.clr), v.at(ADAMAX.beta1_c), v.at(ADAMAX.beta2)
    s.eps, s.weight_decay, s.sign = v.at(ADAMAX.eps), v.at(ADAMAX.weight_decay), v.at(ADAMAX.sign)
    cdef _Items a = _items("adamax_step", items, t, ("exp_avg", "exp_inf"), (True, True))
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_adamax_step_f32(a.a, a.count, &s, nt)
        else:
            fnn_adamax_step_f64(a.a, a.count, &s, nt)


def adadelta_steps(items, h, int nt):
    """Adadelta in place."""
    cdef fnn_adadelta_hyper s
    cdef int t = _first_type("adadelta_step", items)
    cdef _H v = _hyper("adadelta_step", h, t, ADADELTA)
    s.lr, s.rho, s.rho_c = v.at(ADADELTA.lr), v.at(ADADELTA.rho), v.at(ADADELTA.rho_c)
    s.eps, s.weight_decay, s.sign = v.at(ADADELTA.eps), v.at(ADADELTA.weight_decay), v.at(ADADELTA.sign)
    cdef _Items a = _items("adadelta_step", items, t, ("square_avg", "acc_delta"), (True, True))
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_adadelta_step_f32(a.a, a.count, &s, nt)
        else:
            fnn_adadelta_step_f64(a.a, a.count, &s, nt)


# --- packs of small parameters -----------------------------------------------------------

cdef _pack_copy(str where, list arrays, offsets, flat, bint to_flat, int nt):
    cdef int t = float_type(flat, where, "flat")
    cdef ptrdiff_t count = len(arrays), total = cnp.PyArray_SIZE(<cnp.ndarray>flat), j
    _array(where, "flat", flat, t, total, True, to_flat)
    same(offsets, cnp.NPY_INT64, count + 1, where, "offsets")
    cdef const ptrdiff_t *off = <const ptrdiff_t *>cnp.PyArray_DATA(<cnp.ndarray>offsets)
    if off[0] != 0 or off[count] != total:
        raise ValueError(f"{where}: offsets must run from 0 to flat's size {total}, got "
                         f"{off[0]} to {off[count]}.")
    cdef char **ptrs = <char **>malloc(max(count, 1) * sizeof(char *))
    if ptrs == NULL:
        raise MemoryError()
    try:
        for j in range(count):
            if off[j + 1] < off[j]:
                raise ValueError(f"{where}: offsets must not decrease (at {j}).")
            ptrs[j] = <char *>_array(where, f"arrays[{j}]", arrays[j], t, off[j + 1] - off[j],
                                     True, to_flat == 0)
        with nogil:
            fnn_pack_copy(ptrs, <char *>cnp.PyArray_DATA(<cnp.ndarray>flat), off, count,
                          cnp.PyArray_ITEMSIZE(<cnp.ndarray>flat), to_flat, nt)
    finally:
        free(ptrs)


def gather(list arrays, offsets, flat, int nt):
    """flat[offsets[j]:offsets[j + 1]] = arrays[j] (C-contiguous, flat's dtype)."""
    _pack_copy("gather", arrays, offsets, flat, True, nt)


def scatter(flat, list arrays, offsets, int nt):
    """arrays[j][...] = flat[offsets[j]:offsets[j + 1]]."""
    _pack_copy("scatter", arrays, offsets, flat, False, nt)
