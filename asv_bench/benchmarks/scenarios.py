"""Speed the way users run it (fastnn._bench): the MLP epoch with each engine alone in
its own process, with torch imported first and with fastnn imported first (both
engines in one process), and beside a second process that keeps one core busy;
batch-32 predict over 100k rows alone and beside the busy core; the CNN epoch alone
and with torch imported first; batches of 4096 through the MLP, each engine alone;
each epoch against its GEMM-only floor.

Every number comes from fresh child processes run in this benchmark's
``setup_cache``, engines interleaved so that they share the machine's load; the
``track_*`` methods report seconds per engine and the ratios the targets are
stated in (fastnn / anchor: below 1 is faster). Anchors: torch, torch with fused
Adam, JAX + optax (a jit'd step), ONNX Runtime; missing ones are skipped.
"""
from fastnn import _bench

from ._common import THREADS, scenario_size

_EPOCH_ENGINES = ("fastnn", "torch", "torch_fused", "jax")


def _skip_missing(engine):
    if not _bench.available(engine):
        raise NotImplementedError(f"{engine} is not installed")


class MLPEpochScenarios:
    params = (list(_bench.SCENARIOS), list(_EPOCH_ENGINES))
    param_names = ("scenario", "engine")
    timeout = 3600
    repeat = 1
    number = 1
    unit = "seconds"

    def setup_cache(self):
        # rounds of every scenario, so a change in load reaches them all alike
        rows, rounds = scenario_size("mlp_epoch", 2)
        return _bench._rounds("mlp_epoch", list(_bench.SCENARIOS), THREADS, rounds, rows)

    def setup(self, cache, scenario, engine):
        _skip_missing(engine)
        if engine not in cache[scenario]:
            raise NotImplementedError(f"{engine} does not run in scenario {scenario}")

    def track_seconds(self, cache, scenario, engine):
        return cache[scenario][engine]

    def track_fastnn_over_engine(self, cache, scenario, engine):
        """fastnn's epoch / this engine's, same scenario (the targets: <= 0.6 for torch,
        <= 1.0 for JAX)."""
        return cache[scenario]["fastnn"] / cache[scenario][engine]

    track_fastnn_over_engine.unit = "ratio"

    def track_fastnn_over_fastnn_alone(self, cache, scenario, engine):
        """fastnn's epoch in this scenario / fastnn alone (target for torch imported
        first: <= 1.2); the same under every engine parameter."""
        return cache[scenario]["fastnn"] / cache["alone"]["fastnn"]

    track_fastnn_over_fastnn_alone.unit = "ratio"


class _Scenarios:
    """A workload's scenarios, each engine's seconds and fastnn's ratio to it; a subclass
    names the workload, its scenarios and engines (asv skips this underscored base).

    Each subclass defines its own ``setup_cache`` (calling ``_run``): asv keys the cache
    by where that function is written, so an inherited one would be shared by every
    subclass."""
    workload, scenarios = None, ()
    timeout = 1800
    repeat = 1
    number = 1
    unit = "seconds"

    def _run(self):
        rows, rounds = scenario_size(self.workload, 2)
        return _bench._rounds(self.workload, list(self.scenarios), THREADS, rounds, rows)

    def setup(self, cache, scenario, engine):
        _skip_missing(engine)
        if engine not in cache[scenario]:      # *_first scenarios run only where torch is installed
            raise NotImplementedError(f"{engine} does not run in scenario {scenario}")

    def track_seconds(self, cache, scenario, engine):
        return cache[scenario][engine]

    def track_fastnn_over_engine(self, cache, scenario, engine):
        """fastnn's time / this engine's, same scenario (target: <= 1.0)."""
        return cache[scenario]["fastnn"] / cache[scenario][engine]

    track_fastnn_over_engine.unit = "ratio"


class Predict32Scenarios(_Scenarios):
    """Batch-32 predict over 100k rows, alone and beside a busy core."""
    workload, scenarios = "predict32", ("alone", "busy_core")
    params = (list(scenarios), ["fastnn", "torch"])
    param_names = ("scenario", "engine")

    def setup_cache(self):
        return self._run()

    def track_slowdown_when_busy(self, cache, scenario, engine):
        """This engine's busy-core time / its own alone time."""
        return cache[scenario][engine] / cache["alone"][engine]

    track_slowdown_when_busy.unit = "ratio"


class CNNEpochScenarios(_Scenarios):
    """The CNN epoch (fastnn.workloads: 10,000 digits at 28x28, two 3x3 convolutions,
    Adam, batch 64), each engine alone in its own process and both in one process with
    torch imported first (target: fastnn <= 1.0x torch)."""
    workload, scenarios = "cnn_epoch", ("alone", "torch_first")
    params = (list(scenarios), ["fastnn", "torch"])
    param_names = ("scenario", "engine")
    timeout = 3600

    def setup_cache(self):
        return self._run()


class Inference4096Scenarios(_Scenarios):
    """Batches of 4096 rows through the MLP under no_grad, each engine alone in its own
    process: fastnn, torch and ONNX Runtime (target: fastnn <= 1.0x ONNX Runtime)."""
    workload, scenarios = "infer4096", ("alone",)
    params = (list(scenarios), ["fastnn", "torch", "onnxruntime"])
    param_names = ("scenario", "engine")

    def setup_cache(self):
        return self._run()


class EpochGemmFloor:
    """Each epoch beside the matrix products it contains, run alone on the same
    threads (fastnn._bench.gemm_floor; goal: epoch <= 1.25x its GEMM floor)."""
    params = ["mlp_epoch", "cnn_epoch"]
    param_names = ["workload"]
    timeout = 1800
    repeat = 1
    number = 1

    def setup_cache(self):
        out = {}
        for w in self.params:
            rows, rounds = scenario_size(w, 3)
            out[w] = _bench.gemm_floor(w, THREADS, rounds, rows)
        return out

    def track_epoch_over_floor(self, cache, workload):
        return cache[workload]["epoch_over_floor"]

    track_epoch_over_floor.unit = "ratio"

    def track_gemm_share(self, cache, workload):
        """The floor's share of the epoch (the rest: everything that is not a GEMM)."""
        return cache[workload]["gemm_share"]

    track_gemm_share.unit = "ratio"

    def track_floor_seconds(self, cache, workload):
        return cache[workload]["floor"]

    track_floor_seconds.unit = "seconds"

    def track_floor_streamed_seconds(self, cache, workload):
        """The MLP's floor with the first layer reading the epoch's own batches."""
        return cache[workload]["floor_streamed"]

    def track_kernels_over_floor(self, cache, workload):
        """The MLP epoch as the bare sequence of its kernels (no framework code around
        them; fastnn._bench.MlpKernelSteps) over the floor: the part of epoch/floor
        that is the kernels' own work."""
        return cache[workload]["kernels_over_floor"]

    def _mlp_only(*args):  # asv calls a benchmark's own setup with (cache, workload)
        if args[-1] != "mlp_epoch":
            raise NotImplementedError("measured for the MLP only")

    track_floor_streamed_seconds.setup = _mlp_only
    track_floor_streamed_seconds.unit = "seconds"
    track_kernels_over_floor.setup = _mlp_only
    track_kernels_over_floor.unit = "ratio"
    del _mlp_only

    def track_optimizer_seconds(self, cache, workload):
        """The epoch's Adam steps alone (part of the epoch that is not a GEMM)."""
        return cache[workload]["optimizer"]

    track_optimizer_seconds.unit = "seconds"
