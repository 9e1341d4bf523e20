"""Many small parameters stepped as one: a group's small parameters share flat state
buffers, and each step gathers them (and their gradients) into one flat array, runs
the optimizer's kernel once, and scatters the result back. A model of 200 parameters
of 1,000 elements then pays the Python cost of one parameter, not 200.

The optimizer's ``state[p]`` dicts stay the public books: their arrays are views
into the flat buffers and their ``step`` is kept current, so ``state_dict()`` and
the per-parameter path see the same numbers. The parameters' arrays are never
rebound: updates land in the arrays the user holds.

A Pack is a process-local cache: it is valid for one group holding exactly the
parameters it was built from (checked by identity at every step, so replacing a
tensor in ``param_groups`` rebuilds it), it holds the parameters' arrays through a
``PackPlan``, and the optimizer leaves it out of its pickled state.
"""
import operator

import numpy as np

from .._kernels import optim as K


def _fits(p, dtype):
    d = p.data
    return d.size < K.PACK_BELOW and d.dtype == dtype and d.flags.c_contiguous


class Pack:
    """The packed small parameters of one group.

    Attributes:
        members: the packed parameters. others: the group's other parameters.
        flat, grad: the flat parameter and gradient buffers. state: the flat state
            (what the optimizer's update sees for the whole pack).
    """

    @classmethod
    def build(cls, optimizer, group):
        """A Pack for ``group``, or None where fewer than two small parameters with a
        gradient share a dtype, or their existing states disagree."""
        params = group["params"]
        with_grad = [p for p in params if p.grad is not None and p.grad.shape == p.data.shape]
        if len(with_grad) < 2:
            return None
        dtype = with_grad[0].data.dtype
        members = [p for p in with_grad if _fits(p, dtype)]
        if len(members) < 2:
            return None
        states = [optimizer.state.get(p) for p in members]
        if any(st is not None for st in states):
            first = states[0]
            if first is None or any(st is None or st.keys() != first.keys()
                                    or st.get("step") != first.get("step") for st in states):
                return None
        return cls(optimizer, group, members, states)

    def __init__(self, optimizer, group, members, states):
        self.group = group
        self.params = tuple(group["params"])
        self.members = members
        ids = {id(p) for p in members}
        self.others = [p for p in group["params"] if id(p) not in ids]
        self.datas = [p.data for p in members]
        self.shapes = [d.shape for d in self.datas]
        self.plan = K.PackPlan(self.datas)
        self.offsets = self.plan.offsets
        dtype, total = self.datas[0].dtype, self.plan.size
        self.flat = np.empty(total, dtype)
        self.grad = np.empty(total, dtype)
        self.plan.gather(self.flat)
        if states[0] is None:
            self.state = optimizer._new_state(self.flat, group)
        else:   # carry the existing (e.g. loaded) state over into flat buffers
            self.state = {}
            for k, v in states[0].items():
                if isinstance(v, np.ndarray):
                    v = np.concatenate([st[k] for st in states], axis=None).astype(dtype)
                self.state[k] = v
        self.member_states = []
        for p, st in zip(members, states):
            st = optimizer.state[p] = {} if st is None else st
            self.member_states.append(st)
        self.keys = None
        self.sync()

    def sync(self):
        """Point the members' state at the flat buffers; copy the step count."""
        state, off = self.state, self.offsets
        if self.keys != state.keys():
            for k, v in state.items():
                if isinstance(v, np.ndarray):
                    for j, (st, shape) in enumerate(zip(self.member_states, self.shapes)):
                        st[k] = v[off[j]:off[j + 1]].reshape(shape)
            self.keys = set(state)
        if "step" in state:
            step = state["step"]
            for st in self.member_states:
                st["step"] = step

    def gather(self, owner):
        """Fill ``flat`` and ``grad`` for this step; False where a member has no
        gradient (the pack is then given up and every parameter steps alone)."""
        grads = [p.grad for p in self.members]
        for g in grads:
            if g is None:
                return False
        datas = [p.data for p in self.members]
        if any(a is not b for a, b in zip(datas, self.datas)):
            if any(not _fits(p, self.flat.dtype) or p.data.shape != s
                   for p, s in zip(self.members, self.shapes)):
                return False
            self.datas = datas
            self.plan = K.PackPlan(datas)
        shapes = [g.shape for g in grads]
        if shapes != self.shapes:
            bad = next(i for i, (a, b) in enumerate(zip(shapes, self.shapes)) if a != b)
            raise ValueError(f"{owner}: gradient of shape {shapes[bad]} for a parameter of "
                             f"shape {self.shapes[bad]}.")
        np.concatenate(grads, axis=None, out=self.grad, casting="same_kind")
        self.plan.gather(self.flat)
        return True

    def scatter(self):
        self.plan.scatter(self.flat)
        self.sync()

    def valid_for(self, group):
        """True while ``group`` is the group this pack was built for and holds exactly
        the same parameters (by identity, in order)."""
        params = group["params"]
        return (group is self.group and len(params) == len(self.params)
                and all(map(operator.is_, params, self.params)))
