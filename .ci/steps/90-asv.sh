# step: the asv benchmark suite, once, in quick mode, against the installed package
pip install asv
LOG="${FASTNN_CI_WORK:-/tmp}/asv.log"
cd asv_bench
asv machine --yes
rc=0
# every benchmark but the Dask ones (each starts a LocalCluster per setup; the Dask
# path is tested in 30-pipelines and timed by running asv locally)
FASTNN_BENCH_QUICK=1 asv run --python=same --quick --show-stderr -b '^(?!dask_predict)' 2>&1 | tee "$LOG" || rc=$?
# asv exits 2 when a benchmark failed; the log check also catches a failure an
# older asv would not report in its exit code.
[ "$rc" -eq 0 ] || exit "$rc"
if grep -E '(^|[[:space:]])failed([[:space:]]|$)' "$LOG" >/dev/null; then
    echo "asv reported a failed benchmark (see the log above)" >&2
    exit 1
fi
