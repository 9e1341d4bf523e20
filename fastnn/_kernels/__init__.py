"""fastnn's kernel layer: the only package that knows about threads, Numba and C.

Only fastnn.autograd and fastnn.optim import it (tests/test_layering.py); they call
plain functions with ndarrays (and ``out=``). One module per kernel family:

* :mod:`.elementwise` — activations' forward/backward and other pointwise loops.
* :mod:`.activations` — softmax/log_softmax, prelu, srelu, crelu, maxout.
* :mod:`.losses`      — loss values fused with their gradients.
* :mod:`.linear`      — the small-batch fused linear layer and its chain.
* :mod:`.gemm`        — matrix products split by rows over fastnn's pool.
* :mod:`.conv`        — convolution (im2col + GEMM); re-exports pooling.
* :mod:`.pooling`     — 2-D max and average pooling.
* :mod:`.dropout`     — counter-based dropout masks fused with the apply.
* :mod:`.norm`        — batch and layer normalisation.
* :mod:`.optim`       — one fused step per optimizer, its scalars' layout by name.

and the machinery under them:

* ``_c*.pyx`` + ``csrc/`` — the C kernels; every wrapper checks its arrays through
  ``_ccheck.pxd`` before the kernel runs.
* :mod:`.engine`      — which engine (C build for this CPU, or Numba/NumPy twin) runs.
* ``_twin_*.py``, ``_nb_*.py`` — the twins: NumPy, or Numba loops built by :mod:`.jit`.
* :mod:`.jit`         — lazy, disk-cached Numba compilation (``_nb_*.py`` sources).
* :mod:`.threads`     — ``set_num_threads``/``get_num_threads``, the pool, fork and
  thread safety.
* ``reference*.py``   — the NumPy version of every kernel: the tests' oracle (also
  timed by ``python -m fastnn bench``; see tests/test_layering.py for who may import it).

Importing this package loads fastnn's thread pool (``_cpool``) but never imports
Numba; each family module loads its own C extension, or its twin, when first imported.

Design
------
Layering. ``fastnn.functional`` validates at the public boundary (fastnn._checks)
and calls one autograd Function; the Function calls kernels here; ``nn`` modules,
Tensor methods and Keras layers call the functional op. Optimizers (fastnn.optim)
call :mod:`.optim` directly. Nothing above autograd/optim imports this package, and
nothing outside tests/ imports a ``reference*`` module (tests/test_layering.py).
Kernels trust their options; the C wrappers still check every array's dtype,
layout and size (``_ccheck.pxd``; tests/test_layering.py checks that each does).

Engines. Every C family (``_cfoo.pyx`` over ``csrc/foo.h``) has a twin with the same
names, signatures and results to float32 round-off: vectorised NumPy
(``_twin_foo.py``) or Numba loops (``_nb_foo.py``). A family module asks
:mod:`.engine` once, through ``engine.module("_cfoo", twin="_twin_foo")`` or
``engine.extension("_cfoo")`` (None: use the Numba loops), never by importing the
extension: ``FASTNN_ENGINE=c|numba|auto`` and the CPU's ISA level decide for all.
CI runs the suite once per engine, and tests/test_engine.py compares the C build
with its twin wherever the build exists. Editing ``csrc/`` or a ``.pyx`` needs
``python setup.py build_ext --inplace``.

Threads. C kernels run their loops on fastnn's own pool (csrc/pool.h, the
``_cpool`` extension) through ``fnn_parallel_for(nblocks, nt, body, ctx)`` of
csrc/parallel.h; fastnn links no OpenMP runtime (``-fopenmp-simd`` only, for the
``omp simd`` pragmas inside a block). ``nt`` comes from ``threads.threads_for(n)``,
the one place that decides parallelism (serial below ``threads.SERIAL_BELOW``).
Work is cut into fixed-size blocks that do not depend on ``nt``, and partial
results are combined in block order, so every result is bitwise the same for any
thread count (the optimizers' Numba twins run the same blocks under ``prange``,
so that engine is thread-count independent too). Numba's parallel builds run on
Numba's threading layer, GNU OpenMP first, else TBB or workqueue; :mod:`.threads`
sets their thread count too.

Adding an activation with a C kernel (five files; the test that fails if a step
is missed in brackets). The steps below are for a pointwise activation whose
forward and backward are one kernel each; the kernel layer, the autograd Function
and the case of test_reliability.py follow from them:

1. ``csrc/elementwise.h``: an ``X(name_fwd, expr)`` row in FNN_UNARY_OPS and an
   ``X(name_bwd, expr)`` row in FNN_BINARY_OPS (backward reads the input or the
   output, and the incoming grad). ``_celementwise`` lists the rows by name, and
   :mod:`.elementwise` makes a kernel ``name_fwd``/``name_bwd`` of every row, so
   neither the ``.pyx`` nor :mod:`.elementwise` is edited [test_engine.py::
   test_same_op_tables; test_kernels.py::test_every_op_table_row_has_a_spec].
2. ``_twin_elementwise.py``: the same rows, in the same order, in ``_UNARY`` and
   ``_BINARY``; ``FASTNN_ENGINE=numba`` runs them [test_engine.py::
   test_same_op_tables; test_unary_twin_matches_c and test_binary_twin_matches_c
   check the values, NaN and infinities included].
3. ``reference.py``: ``name_fwd(x)`` and ``name_bwd(u, g)`` in float64, parameters
   after the arrays with the values to test as their defaults. Every kernel is
   checked against the oracle of its own name (:mod:`.elementwise` ``SPECS``: sizes
   on both sides of SERIAL_BELOW, layouts, NaN and infinities, ``out=``; a row in
   ``_SPEC_ROWS`` only where the inputs need a narrower range)
   [test_kernels.py::test_specs_are_well_formed, then every test there].
4. ``fastnn/functional/activations.py``: the public op: validation through
   fastnn._checks, ``back(_Name.apply(x, *params))`` on a Function that
   ``_Name = A.pointwise("name", saves="input"|"output")`` builds from the kernel
   pair at import, a ``>>>`` example, and its ``__all__`` entry
   [test_reliability.py::test_the_case_table_covers_every_public_functional_op;
   the doctest].
5. ``tests/table_activations.py``: an ``Op`` row: reference, float64 gradcheck,
   torch parity [test_ops.py::test_every_fastnn_function_is_gradchecked, which
   counts a pointwise-built Function once a module holds it]. The row, its inputs
   all float arrays, also gives the op its test_reliability.py case (odd float
   dtypes, non-float inputs refused by name, NaN in gives NaN out)
   [test_the_case_table_covers_every_public_functional_op].

An activation with more than a kernel pair (in-place buffers, a choice of kernels,
a parameter that takes a gradient) writes its Function out in
fastnn/autograd/activations.py instead of ``pointwise`` [the same gradcheck
coverage test]. Optional, and no test requires them: the ``nn`` module in
fastnn/nn/activation.py (calling the functional op, forward's argument named
``input``: test_nn_surface.py) with a row in tests/test_activations.py (MODULES), a
Keras name in fastnn/activations.py, a benchmark in asv_bench/.

Adding a pointwise loss (six files, the nn module optional; eight with its Keras
form):

1. ``csrc/losses.h``: an ``X(name, LOSS, GRAD)`` row in FNN_POINTWISE_LOSSES; it
   reaches ``losses.POINTWISE`` by name, with no edit to ``_closses.pyx`` or
   :mod:`.losses` [test_engine.py::test_same_op_tables].
2. ``_twin_losses.py``: the same row, in order, in its ``POINTWISE``
   [test_same_op_tables; test_pointwise_losses_twin_matches_c checks the values].
3. ``reference_losses.py``: the float64 loss and gradient in ``POINTWISE``
   [test_losses.py::test_pointwise_kernel_matches_reference].
4. ``fastnn/functional/losses.py``: the public op through ``_pointwise(...)``
   (the Function PointwiseLoss is shared) and its ``__all__`` entry
   [test_reliability.py::test_the_case_table_covers_every_public_functional_op].
5. ``fastnn/nn/loss.py``: the module (nothing requires it).
6. ``tests/table_losses.py``: an ``Op`` row: reference, gradcheck, torch parity.
   With input and target drawn as float arrays it is also the op's case in
   tests/test_reliability.py [the coverage test of 4 fails without it; a loss
   whose rows take integer targets adds a row to ``_cases()`` there instead].

A target that may require grad also needs its derivative in ``_TARGET_GRAD`` of
fastnn/autograd/losses.py (else backward raises NotImplementedError naming the
loss; the row's ``grad=(0, 1)`` gradcheck fails). A loss that is not pointwise gets
its own Function there [test_every_fastnn_function_is_gradchecked]. The Keras form
is a ``KINDS`` row in fastnn/autograd/keras_losses.py and, in fastnn/losses.py, the
function, its class and its ``ALL_LOSSES`` entry (with a ``keras_*`` row in
tests/table_losses.py; nothing requires them).

Adding an optimizer (three files; the test that fails if a step is missed in
brackets). Its step is composed from NumPy operations, as torch's single-tensor
optimizers compose tensor ops, or runs an existing fused kernel (as AdamW runs
Adam's); no file of this package changes:

1. ``fastnn/optim/<module>.py``: the Optimizer subclass: ``_check`` (each
   hyper-parameter through ``check_number``), ``_new_state`` (torch's state names),
   and either ``_step_param(x, g, st, group)`` updating the parameter and its state
   arrays in place with NumPy in the parameter's dtype, in torch's order of
   operations, or ``_kernel`` and ``_hyper`` for an existing kernel;
   ``_advance`` where a flag switched on mid-run needs new state; a ``>>>`` example
   [its doctest, and tests/test_docs_torch_surface.py, which wants one on every
   optimizer in ``fn.optim.__all__``; tests/test_optim.py through the row of 3].
2. ``fastnn/optim/__init__.py``: the import and ``__all__`` entry (a Keras name in
   ``_KERAS`` only where Keras's algorithm is the same) [test_optim.py::
   test_every_optimizer_has_a_row_and_full_coverage, which compares ``__all__``
   with the rows; every test of the row builds it as ``getattr(fn.optim, name)``].
3. ``tests/table_optim.py``: an ``OptimInfo`` row (``kernel`` None for a composed
   step, flag grid, flags switched mid-run, bad arguments)
   [test_every_optimizer_has_a_row_and_full_coverage]. The row runs every test
   of tests/test_optim.py that applies: each variant's trajectory against
   torch.optim (test_trajectory_matches_torch), param groups, NaN and infinities,
   values changed mid-run, closures and schedulers against torch; state dicts
   resumed bit for bit, float64 and non-contiguous parameters, pickling, bad
   arguments, the same bits for any thread count
   (test_steps_do_not_depend_on_the_thread_count). A composed row is left out
   only of the fused-kernel tests.

A fused kernel of its own is an optional speed step (six more files; the row's
``kernel`` then names it and the kernel tests run on it):

4. :mod:`.optim`: ``NAME = layout("NAME", "fields ...")``, a ``KERNELS`` row
   (layout, state array names), ``name_step = _RUN["name"]`` and ``__all__``
   [test_optim.py::test_hyper_layout_is_built_and_read_by_name].
5. ``csrc/optim.h``: the ``fnn_<name>_hyper`` struct, and 6. ``csrc/optim_impl.h``:
   the block loop, its range over FNN_OPT_BLOCK blocks and ``fnn_<name>_step``
   through fnn_parallel_for; 7. ``_coptim.pyx``: the binding, reading ``h`` by the
   layout's names [test_optim.py::test_kernel_matches_reference_on_every_engine,
   test_kernel_bits_do_not_depend_on_the_thread_count,
   test_kernel_keeps_nan_and_inf_like_the_reference, engine "c"].
8. ``_nb_optim.py``: the Numba twin over the same blocks [the same tests, engine
   "numba"].
9. ``reference_optim.py``: ``<name>_step`` in NumPy [the same tests].

In the class, ``_step_param`` gives way to ``_kernel`` and ``_hyper`` (building
``h`` by name) [test_every_optimizer_has_a_row_and_full_coverage checks that the
row's kernel is the class's].

The Keras-style optimizers (fastnn/optimizers/) are a separate front with their
own classes and ``ALL_OPTIMIZERS``.
"""
import os

# importing threads sets GNU OpenMP's spin policy, which libgomp reads when Numba's
# fallback loads it (fastnn's own C kernels link no OpenMP runtime)
from . import threads  # noqa: E402
from .threads import get_num_threads, set_num_threads  # noqa: E402
from .jit import all_numba_kernels, kernels_in_use  # noqa: E402,F401

__all__ = ["get_num_threads", "set_num_threads", "warmup", "threads", "system_info"]

# Modules that declare Numba kernels; importing them registers the kernels
# (cheap: no Numba import until a kernel runs).
_KERNEL_MODULES = ["elementwise", "dropout", "optim", "activations", "conv", "pooling"]
# Every kernel family module (importing one asks the engine for its C extension).
_FAMILY_MODULES = _KERNEL_MODULES + ["losses", "linear", "norm"]


def _register_all():
    import importlib
    # the elementwise twin declares Numba kernels too, but is imported only where the
    # C engine is not in use: warmup and the registry must see it either way
    for m in _KERNEL_MODULES + ["_twin_elementwise"]:
        importlib.import_module(f"{__name__}.{m}")


def warmup(verbose=False):
    """Compile the Numba kernels the engine in use can call, for float32 and float64,
    into the on-disk cache, so later calls and later processes start warm.

    Twins of C extensions that run here are skipped (they never run); serial builds
    come first, and parallel builds only where more than one thread is allowed.

    Returns:
        int: the number of kernels compiled.
    """
    _register_all()
    kernels = kernels_in_use()
    passes = ["serial"] + (["parallel"] if get_num_threads() > 1 else [])
    for build in passes:
        for i, k in enumerate(kernels):
            if verbose:
                print(f"[{build} {i + 1}/{len(kernels)}] {k.module.rsplit('.', 1)[-1]}.{k.name}",
                      flush=True)
            k.compile(parallel=build == "parallel", serial=build == "serial")
    return len(kernels)


def _version(dist):
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def system_info():
    """Engine, ISA build, CPU, threads and BLAS of this process, as a dict (what
    ``fastnn.show_config`` prints). Loads every kernel family's engine to report it."""
    import importlib
    import sys
    from . import engine
    errors = []
    for m in _FAMILY_MODULES:
        try:
            importlib.import_module(f"{__name__}.{m}")
        except ImportError as e:      # FASTNN_ENGINE=c with a missing build
            errors.append(str(e))
    try:
        from . import conv
        blas_found = conv._c_engine() is not None
    except ImportError as e:
        errors.append(str(e))
        blas_found = False
    eng = engine.config()
    eng["errors"] = errors
    if eng["families"].get("_cconv", {}).get("engine") == "c":
        eng["families"]["_cconv"]["blas"] = ("NumPy's OpenBLAS, called serially per thread"
                                             if blas_found else "not found: NumPy GEMM path")
    th = {"fastnn": get_num_threads(), "cpus_available": threads._cpu_count(),
          "serial_below": threads.SERIAL_BELOW, "forked_child_serial": threads.in_forked_child()}
    extra = getattr(threads, "info", None)
    if callable(extra):
        th.update(extra())
    env = {k: os.environ[k] for k in ("FASTNN_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "FASTNN_ENGINE",
                                      "FASTNN_ISA") if k in os.environ}
    numba = {"version": _version("numba"), "imported": "numba" in sys.modules}
    if numba["imported"]:
        nb = sys.modules["numba"]
        numba["threads"] = nb.config.NUMBA_NUM_THREADS
        try:
            numba["threading_layer"] = nb.threading_layer()
        except ValueError:   # no parallel kernel has run yet
            numba["threading_layer"] = None
    import numpy as np
    blas = {"numpy": np.__version__}
    try:
        dep = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas["numpy_blas"] = f"{dep.get('name')} {dep.get('version')}"
    except Exception:   # noqa: BLE001  (older NumPy: no dict mode)
        blas["numpy_blas"] = None
    try:
        from threadpoolctl import threadpool_info
        blas["pools"] = [{k: p.get(k) for k in ("user_api", "internal_api", "version",
                                                 "num_threads", "threading_layer", "filepath")}
                         for p in threadpool_info()]
    except ImportError:
        blas["pools"] = None
    return {"engine": eng, "cpu": engine.cpu(), "threads": th, "env": env, "numba": numba,
            "blas": blas}
