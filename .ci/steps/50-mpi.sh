# step: data parallelism over MPI: the [mpi] extra (mpi4py + the Open MPI wheel), then the mpirun -n 2 / -n 3 self-tests (marker mpi), every run under a timeout
# The extra's requirements come from the installed fastnn's metadata (what
# `pip install ".[mpi]"` adds), so fastnn is not rebuilt. Open MPI runs as root only
# with --allow-run-as-root (the tests pass it) and on 2 cores needs --oversubscribe.
python - > "${FASTNN_CI_WORK:-/tmp}/mpi-requirements.txt" <<'PY'
import importlib.metadata as md
import re
reqs = [r.split(";")[0].strip() for r in md.requires("fastnn") or []
        if (m := re.search(r"extra\s*==\s*['\"](\w+)['\"]", r)) and m.group(1) == "mpi"]
assert reqs, "fastnn's metadata declares no [mpi] extra"
print("\n".join(reqs))
PY
cat "${FASTNN_CI_WORK:-/tmp}/mpi-requirements.txt"
pip install -r "${FASTNN_CI_WORK:-/tmp}/mpi-requirements.txt" "pytest>=7"
python -c "import mpi4py; from mpi4py import MPI; print('mpi4py', mpi4py.__version__, '|', MPI.Get_library_version().splitlines()[0])"
# each rank one BLAS thread: 2-3 ranks share 2 cores
export OPENBLAS_NUM_THREADS=1 FASTNN_NUM_THREADS=1
# every mpirun inside is bounded by the test's subprocess timeout, the whole by this one
timeout 1200 python -m pytest -p no:cacheprovider -m mpi --durations=20 tests/test_distributed.py
# the launch command from the README, end to end
timeout 300 mpirun -n 2 --allow-run-as-root --oversubscribe python -m fastnn demo --distributed --epochs 3
