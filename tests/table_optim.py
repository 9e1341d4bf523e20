"""One row per optimizer: everything the optimizer tests need to know about it
(torch's ``common_optimizers.optim_db`` idea). tests/test_optim.py runs every test
that applies over every row, so a new optimizer is its class, its ``__init__``
entry and a row here (test_every_optimizer_has_a_row_and_full_coverage fails
without the row).

A row gives the class name (fastnn's and torch's), the kernel it runs (None for
one composed from NumPy: the tests of fused kernels, packing and the C binding
leave it out, every other test runs it), the flag grid its variants span, fixed
arguments for the trajectories, which state arrays hold second moments (kept
positive where the kernel test draws a random state), the flags switched mid-run
against torch, and bad arguments with the message each must raise.
"""
import itertools
from dataclasses import dataclass

_BOOL = (False, True)
_WD = (0.0, 0.05)
#: switched on in turn, from the first variant, two steps each (torch reads them too)
_SWITCH = (dict(weight_decay=0.05), dict(maximize=True))


@dataclass(frozen=True)
class OptimInfo:
    """One optimizer under test.

    Attributes:
        name: class name in fastnn.optim and torch.optim.
        kernel: its key in fastnn._kernels.optim.KERNELS, or None where the class
            composes its step from NumPy (``_step_param``); it must equal the
            class's ``_kernel``.
        base: arguments every variant takes (the trajectories' learning rate...).
        flags: argument -> values; the variants are their product.
        valid: filter of the product (combinations the class refuses).
        positive: state arrays the kernel test fills with positive values.
        switch: group values set in turn mid-run (from the first variant), each
            followed by two steps, compared with torch.
        bad: (arguments, regex of the ValueError message naming them).
    """
    name: str
    kernel: "str | None"
    base: dict
    flags: dict
    valid: object = None
    positive: tuple = ()
    switch: tuple = _SWITCH
    bad: tuple = ()

    def variants(self):
        """Every valid flag combination, as the class's keyword arguments."""
        keys = list(self.flags)
        out = []
        for values in itertools.product(*(self.flags[k] for k in keys)):
            kw = dict(zip(keys, values))
            if self.valid is None or self.valid(kw):
                out.append({**self.base, **kw})
        return out


def _sgd_valid(kw):
    if kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0):
        return False
    return not (kw["momentum"] == 0 and kw["dampening"] != 0)


_ADAM_BAD = (
    (dict(betas=(1.0, 0.999)), r"betas\[0\] must be .*, got 1\.0"),
    (dict(betas=(0.9, -0.1)), r"betas\[1\] must be .*, got -0\.1"),
    (dict(eps=-1e-8), r"eps must be .*, got -1e-08"),
    (dict(weight_decay=-0.5), r"weight_decay must be .*, got -0\.5"),
    (dict(lr=float("nan")), r"lr must be .*, got nan"),
)

OPTIMIZERS = [
    OptimInfo(
        "SGD", "sgd", dict(lr=0.05),
        dict(momentum=(0.0, 0.9), dampening=(0.0, 0.2), nesterov=_BOOL, weight_decay=_WD,
             maximize=_BOOL),
        valid=_sgd_valid,
        bad=((dict(lr=-0.1), r"lr must be .*, got -0\.1"),
             (dict(lr=float("nan")), r"lr must be .*, got nan"),
             (dict(momentum=-1.0), r"momentum must be .*, got -1\.0"),
             (dict(weight_decay=-1e-3), r"weight_decay must be .*, got -0\.001"),
             (dict(nesterov=True), r"nesterov=True.*momentum=0"),
             (dict(nesterov=True, momentum=0.9, dampening=0.1), r"dampening=0\.1"))),
    OptimInfo(
        "Adagrad", "adagrad", dict(lr=0.05),
        dict(lr_decay=(0.0, 0.05), initial_accumulator_value=(0.0, 0.3), weight_decay=_WD,
             maximize=_BOOL),
        positive=("sum",),
        bad=((dict(eps=-1.0), r"eps must be .*, got -1\.0"),
             (dict(lr_decay=-1.0), r"lr_decay must be .*, got -1\.0"))),
    OptimInfo(
        "RMSprop", "rmsprop", dict(lr=0.01, alpha=0.9),
        dict(centered=_BOOL, momentum=(0.0, 0.8), weight_decay=_WD, maximize=_BOOL),
        positive=("square_avg",),
        bad=((dict(alpha=-0.1), r"alpha must be .*, got -0\.1"),
             (dict(eps=float("nan")), r"eps must be .*, got nan"))),
    OptimInfo(
        "Adam", "adam", dict(lr=0.02, betas=(0.8, 0.95)),
        dict(amsgrad=_BOOL, weight_decay=_WD, maximize=_BOOL),
        positive=("exp_avg_sq", "max_exp_avg_sq"), bad=_ADAM_BAD),
    OptimInfo(
        "AdamW", "adam", dict(lr=0.02, betas=(0.8, 0.95)),
        dict(amsgrad=_BOOL, weight_decay=_WD, maximize=_BOOL),
        positive=("exp_avg_sq", "max_exp_avg_sq"),
        bad=((dict(betas=(0.9, 1.0)), r"betas\[1\] must be .*, got 1\.0"),
             (dict(lr=-1.0), r"lr must be .*, got -1\.0"))),
    OptimInfo(
        "Adamax", "adamax", dict(lr=0.02),
        dict(weight_decay=_WD, maximize=_BOOL),
        positive=("exp_inf",),
        bad=((dict(betas=(float("nan"), 0.9)), r"betas\[0\] must be .*, got nan"),)),
    OptimInfo(
        "Adadelta", "adadelta", dict(lr=0.5),
        dict(weight_decay=_WD, maximize=_BOOL),
        positive=("square_avg", "acc_delta"),
        bad=((dict(rho=1.5), r"rho must be .*, got 1\.5"),
             (dict(weight_decay=-2.0), r"weight_decay must be .*, got -2\.0"))),
    OptimInfo(
        "NAdam", None, dict(lr=0.02, betas=(0.8, 0.95)),
        dict(momentum_decay=(4e-3, 0.05), weight_decay=_WD, decoupled_weight_decay=_BOOL,
             maximize=_BOOL),
        switch=(dict(weight_decay=0.05), dict(decoupled_weight_decay=True),
                dict(momentum_decay=0.05), dict(maximize=True)),
        bad=_ADAM_BAD + ((dict(momentum_decay=-0.1), r"momentum_decay must be .*, got -0\.1"),)),
    OptimInfo(
        # beta2 0.95: rho_t passes 5 at step 6 (rectified Adam after plain momentum);
        # beta2 0.6: rho_inf = 4, so the step is never rectified
        "RAdam", None, dict(lr=0.02),
        dict(betas=((0.8, 0.95), (0.9, 0.6)), weight_decay=_WD, decoupled_weight_decay=_BOOL,
             maximize=_BOOL),
        switch=(dict(weight_decay=0.05), dict(decoupled_weight_decay=True),
                dict(maximize=True)),
        bad=((dict(betas=(0.9, 1.0)), r"betas\[1\] must be .*, got 1\.0"),
             (dict(eps=-1.0), r"eps must be .*, got -1\.0"),
             (dict(weight_decay=float("nan")), r"weight_decay must be .*, got nan"))),
]

BY_NAME = {info.name: info for info in OPTIMIZERS}


def _id(name, kw):
    return f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items())


#: (row, kwargs) of every variant of every optimizer, and their test ids.
VARIANTS = [(info, kw) for info in OPTIMIZERS for kw in info.variants()]
VARIANT_IDS = [_id(info.name, kw) for info, kw in VARIANTS]

#: the rows with a fused kernel, and their variants: what the kernel tests run
KERNEL_OPTIMIZERS = [info for info in OPTIMIZERS if info.kernel is not None]
KERNEL_VARIANTS = [(info, kw) for info, kw in VARIANTS if info.kernel is not None]
KERNEL_VARIANT_IDS = [_id(info.name, kw) for info, kw in KERNEL_VARIANTS]
