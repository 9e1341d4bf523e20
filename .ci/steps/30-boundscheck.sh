# step: kernel tests with bounds checks on: Numba (NUMBA_BOUNDSCHECK=1) and a Cython build with boundscheck/wraparound (FASTNN_BOUNDSCHECK=1), in a copy of the checkout
ROOT="$(pwd)"
WORK="${FASTNN_CI_WORK:-$(mktemp -d)}/boundscheck"
rm -rf "$WORK"
mkdir -p "$WORK"
# the sources only (no built extensions), so the checked build is the one tested
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$ROOT" ls-files -co --exclude-standard -z | (cd "$ROOT" && xargs -0 tar -cf -) | tar -xf - -C "$WORK"
else
    cp -a "$ROOT"/. "$WORK"/
    find "$WORK" \( -name '*.so' -o -name '*.pyd' -o -name build \) -prune -exec rm -rf {} +
fi
cd "$WORK"
# the checked build compiles in place, so its build tools live in the CI venv
pip install -q "cython>=3" setuptools numpy numba pytest hypothesis
FASTNN_BOUNDSCHECK=1 FASTNN_ARCH=native timeout 1200 python setup.py build_ext --inplace -q
export NUMBA_BOUNDSCHECK=1 NUMBA_CACHE_DIR="$WORK/numba-cache" FASTNN_ENGINE=c
# the kernel families' own tests, the optimizers (Numba loops) and the dtype/size sweep
timeout 1500 python -m pytest -q -p no:cacheprovider -m "not slow" \
    tests/test_kernels.py tests/test_linear_kernel.py tests/test_losses.py tests/test_conv.py \
    tests/test_dropout.py tests/test_norm.py tests/test_optim.py tests/test_dtype_sweep.py
# the Numba twins of the C kernels, checked the same way
FASTNN_ENGINE=numba timeout 900 python -m pytest -q -p no:cacheprovider -m "not slow" \
    tests/test_kernels.py tests/test_conv.py tests/test_dropout.py tests/test_dtype_sweep.py
