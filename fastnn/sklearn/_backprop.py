"""The multi-layer perceptron behind fastnn.sklearn's MLPClassifier/MLPRegressor, on
arrays: forward pass, loss and backpropagation in scikit-learn's conventions, and
the two stochastic solvers on fastnn's optimizers.

Conventions (scikit-learn's ``neural_network``, so a fit gives its numbers to
round-off):

* ``coefs[i]`` has shape (fan_in, fan_out), ``intercepts[i]`` (fan_out,);
* a batch's loss is its (weighted) mean loss plus ``0.5 * alpha * sum(W**2) / sw``,
  sw the batch's total sample weight (its size when unweighted);
* every output/loss pair is canonical, so the gradient at the output
  pre-activation is ``output - y``: softmax + log loss, logistic + binary log loss,
  identity + half squared error, exp + half Poisson deviance;
* coefficient gradients are ``(a.T @ delta + alpha * W) / sw``, intercepts'
  ``delta.sum(0) / sw``.

Speed: each batch is a handful of BLAS calls into preallocated buffers (one set per
batch size), elementwise work in place, and one fused optimizer kernel for all
parameters (fastnn.optim packs them). There is no graph to record: the network's
shape is fixed, so its backward pass is written out below.
"""
import math

import numpy as np
from scipy.special import expit, xlogy

from .. import optim
from ..nn.module import Parameter

__all__ = ["Network", "forward", "AdamSolver", "SGDSolver", "HIDDEN_ACTIVATIONS"]


# --------------------------------------------------------------------- activations
# In place on the layer's output z (after the bias).

def _identity(z):
    return z


def _relu(z):
    return np.maximum(z, 0, out=z)


def _tanh(z):
    return np.tanh(z, out=z)


def _logistic(z):
    return expit(z, out=z)


def _exp(z):
    return np.exp(z, out=z)


def _softmax(z):
    z -= z.max(axis=1)[:, np.newaxis]
    np.exp(z, out=z)
    z /= z.sum(axis=1)[:, np.newaxis]
    return z


ACTIVATIONS = {"identity": _identity, "relu": _relu, "tanh": _tanh, "logistic": _logistic,
               "exp": _exp, "softmax": _softmax}
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


# Derivatives, from the activation's output a, applied in place to delta.
def _identity_grad(a, delta):
    pass


def _relu_grad(a, delta):
    np.multiply(delta, a > 0, out=delta)


def _tanh_grad(a, delta):
    delta *= 1 - a * a


def _logistic_grad(a, delta):
    delta *= a
    delta *= 1 - a


DERIVATIVES = {"identity": _identity_grad, "relu": _relu_grad, "tanh": _tanh_grad,
               "logistic": _logistic_grad}


# --------------------------------------------------------------------------- losses
# loss(y, p, sw) on the output activations p; y of p's dtype, sw None or (n,).

def _average(values, sw):
    """Column means of ``values`` (n, k), weighted by sw (np.average's arithmetic)."""
    if sw is None:
        return values.sum(axis=0) / values.shape[0]
    return (values * sw[:, np.newaxis]).sum(axis=0) / sw.sum()


def _log_loss(y, p, sw):
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    if p.shape[1] == 1:
        return _binary_log_loss(y, p, sw)
    return -_average(xlogy(y, p), sw).sum()


def _binary_log_loss(y, p, sw):
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    return -_average(xlogy(y, p) + xlogy(1 - y, 1 - p), sw).sum()


def _squared_loss(y, p, sw):
    return 0.5 * _average((y - p) ** 2, sw).mean()


def _poisson_loss(y, p, sw):
    return _average(xlogy(y, y / p) - y + p, sw).sum()


LOSSES = {"log_loss": _log_loss, "binary_log_loss": _binary_log_loss,
          "squared_error": _squared_loss, "poisson": _poisson_loss}


def loss_name(loss, out_activation):
    """The loss function's name for an estimator's ``loss`` and output activation."""
    return "binary_log_loss" if loss == "log_loss" and out_activation == "logistic" else loss


# ---------------------------------------------------------------------- the network

def forward(X, coefs, intercepts, activation, out_activation):
    """The network's output for X (dense or scipy sparse), as a new array.

    >>> import numpy as np
    >>> forward(np.ones((1, 2)), [np.ones((2, 3)), np.ones((3, 1))],
    ...         [np.zeros(3), np.zeros(1)], "relu", "identity")
    array([[6.]])
    """
    hidden, last = ACTIVATIONS[activation], len(coefs) - 1
    a = X
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        a = a @ w
        a += b
        (ACTIVATIONS[out_activation] if i == last else hidden)(a)
    return a


class Network:
    """The MLP being fitted. All weights live in one flat fastnn Parameter (and all
    gradients in its one flat ``.grad``), so an optimizer step is one fused kernel
    call; ``coefs``/``intercepts`` (and their grads) are C-contiguous views into it,
    in scikit-learn's layout and packing order. The estimator's ``coefs_`` and
    ``intercepts_`` are these views.

    Args:
        coefs, intercepts: lists of arrays, copied into the flat buffer (in ``dtype``).
        activation: hidden activation name. out_activation: output activation name.
        loss: 'log_loss', 'squared_error' or 'poisson'. alpha: L2 strength.
        dtype: the compute dtype (float32 or float64).
    """

    def __init__(self, coefs, intercepts, activation, out_activation, loss, alpha, dtype):
        self.dtype = np.dtype(dtype)
        arrays = list(coefs) + list(intercepts)
        sizes = np.cumsum([0] + [a.size for a in arrays])
        self.flat = Parameter(np.empty(int(sizes[-1]), self.dtype))
        self.flat.grad = np.zeros(int(sizes[-1]), self.dtype)
        self.params = [self.flat]
        views, grads = [], []
        for a, lo, hi in zip(arrays, sizes[:-1], sizes[1:]):
            v = self.flat.data[lo:hi].reshape(a.shape)
            v[...] = a
            views.append(v)
            grads.append(self.flat.grad[lo:hi].reshape(a.shape))
        n = len(coefs)
        self.coefs, self.intercepts = views[:n], views[n:]
        self.coef_grads, self.intercept_grads = grads[:n], grads[n:]
        self.kind = (activation, out_activation, loss)
        self.hidden = ACTIVATIONS[activation]
        self.derivative = DERIVATIVES[activation]
        self.output = ACTIVATIONS[out_activation]
        self.loss_name = loss_name(loss, out_activation)
        self.loss_fn = LOSSES[self.loss_name]
        self.alpha = float(alpha)
        self._buffers = {}
        self._n_coef = int(sizes[n])
        self._l2_buffer = np.empty(self._n_coef, self.dtype)
        self._ones_out = np.ones(coefs[-1].shape[1], self.dtype)
        eps = np.finfo(self.dtype).eps
        self._log_eps, self._log_1m_eps = np.log(eps), np.log1p(-eps)

    def uses(self, coefs, intercepts):
        """Whether these lists hold this network's own views (the estimator may have
        rebound ``coefs_``: then it gets a new network)."""
        return len(coefs) == len(self.coefs) and len(intercepts) == len(self.intercepts) and \
            all(a is b for a, b in zip(coefs + intercepts, self.coefs + self.intercepts))

    def _buffers_for(self, m):
        """Activations and deltas for a batch of m rows, allocated once per size."""
        bufs = self._buffers.get(m)
        if bufs is None:
            sizes = [w.shape[1] for w in self.coefs]
            acts = [np.empty((m, k), self.dtype) for k in sizes]
            deltas = [np.empty((m, k), self.dtype) for k in sizes[:-1]]
            if len(self._buffers) > 4:   # a stream of ragged batches: keep a few sizes
                self._buffers.clear()
            bufs = self._buffers[m] = (acts, deltas, np.ones(m, self.dtype), np.arange(m))
        return bufs

    def backprop(self, X, Y, sw=None, labels=None):
        """Forward and backward pass on one batch; fills ``flat.grad``.

        Args:
            X: (m, n_features) dense array or scipy sparse matrix, in ``dtype``.
            Y: (m, n_outputs) targets in ``dtype`` (one-hot for a softmax output).
            sw: (m,) sample weights or None.
            labels: optional (m,) class indices of a softmax output's one-hot Y
                (else found from Y): the loss reads one log-probability per row.

        Returns:
            The batch loss (float) with the L2 term.
        """
        m = X.shape[0]
        acts, deltas, ones, rows = self._buffers_for(m)
        coefs, intercepts, last = self.coefs, self.intercepts, len(self.coefs) - 1
        sparse = not isinstance(X, np.ndarray)
        a = X
        for i in range(last):
            z = acts[i]
            if sparse and i == 0:
                z[...] = X @ coefs[0]
            else:
                np.dot(a, coefs[i], out=z)
            z += intercepts[i]
            a = self.hidden(z)
        z = acts[last]
        if sparse and last == 0:
            z[...] = X @ coefs[0]
        else:
            np.dot(a, coefs[last], out=z)
        z += intercepts[last]
        if self.loss_name == "log_loss" and z.shape[1] > 1:
            if labels is None:
                labels = Y.argmax(axis=1)
            loss = self._softmax_log_loss(z, labels, sw, rows, a, last)
        else:
            self.output(z)
            loss = self.loss_fn(Y, z, sw)
        sw_sum = m if sw is None else sw.sum()
        coef_flat = self.flat.data[:self._n_coef]
        loss += (0.5 * self.alpha) * np.dot(coef_flat, coef_flat) / sw_sum

        # every gradient carries 1 / sw_sum: applied once to the output delta (m x k)
        # instead of to every gradient at the end
        delta = z
        delta -= Y
        if sw is None:
            delta *= 1.0 / sw_sum
        else:
            delta *= (sw / sw_sum)[:, np.newaxis]
        for i in range(last, -1, -1):
            gw, prev = self.coef_grads[i], X if i == 0 else acts[i - 1]
            if sparse and i == 0:
                gw[...] = X.T @ delta
            else:
                np.dot(prev.T, delta, out=gw)
            np.dot(ones, delta, out=self.intercept_grads[i])   # column sums (BLAS gemv)
            if i:
                d = deltas[i - 1]
                np.dot(delta, coefs[i].T, out=d)
                self.derivative(prev, d)
                delta = d
        if self.alpha:      # + alpha W / sw_sum on every coef, in one pass
            np.multiply(coef_flat, self.alpha / sw_sum, out=self._l2_buffer)
            self.flat.grad[:self._n_coef] += self._l2_buffer
        return float(loss)

    def _softmax_log_loss(self, z, labels, sw, rows, a, last):
        """Softmax of the logits z in place, and the batch's mean log loss.

        The logits are shifted by the batch's maximum, not each row's (one reduction
        instead of m); a row whose maximum lies far below it would lose precision in
        exp, so then the logits are recomputed from the layer's input ``a`` and
        shifted row by row, as scikit-learn does."""
        z -= z.max()
        picked = z[rows, labels]
        np.exp(z, out=z)
        sums = np.dot(z, self._ones_out)
        if sums.min() < 1e-10:
            np.dot(a, self.coefs[last], out=z)
            z += self.intercepts[last]
            z -= z.max(axis=1)[:, np.newaxis]
            picked = z[rows, labels]
            np.exp(z, out=z)
            sums = z.sum(axis=1)
        z /= sums[:, np.newaxis]
        # log of the label's probability, clipped as scikit-learn clips probabilities
        logp = picked - np.log(sums)
        np.maximum(logp, self._log_eps, out=logp)
        np.minimum(logp, self._log_1m_eps, out=logp)
        return -(logp.sum() / len(logp) if sw is None else np.dot(logp, sw) / sw.sum())


# -------------------------------------------------------------------------- solvers

class _Solver:
    """Book-keeping shared by the solvers: the fastnn optimizer, rebuilt lazily.

    A solver pickles as plain data (its hyper-parameters and the optimizer's
    ``state_dict()``), never as live fastnn objects; ``bind`` attaches it to a
    network's Parameters, loading that state.
    """

    _opt = _state = _params = None

    def bind(self, params):
        """Step these Parameters from now on, carrying the optimizer state over."""
        state = self._opt.state_dict() if self._opt is not None else self._state
        opt = self._make(params)
        if state is not None:
            opt.load_state_dict(state)
        self._opt, self._state, self._params = opt, None, params

    def bound_to(self, params):
        return self._opt is not None and self._params is params

    def __getstate__(self):
        d = dict(self.__dict__)
        if self._opt is not None:
            d["_state"] = self._opt.state_dict()
        d["_opt"] = d["_params"] = None
        return d

    def iteration_ends(self, time_step):
        """Called after each epoch with the number of samples seen so far."""

    def trigger_stopping(self, msg, verbose):
        """Whether training stops after ``n_iter_no_change`` epochs without progress."""
        if verbose:
            print(msg + " Stopping.")
        return True


class AdamSolver(_Solver):
    """scikit-learn's Adam: ``p -= lr_t * m / (sqrt(v) + eps)`` with
    ``lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``.

    fn.optim.Adam (torch's formula) puts eps inside the bias correction,
    ``p -= lr / (1 - beta_1^t) * m / (sqrt(v) / sqrt(1 - beta_2^t) + eps')``; with
    ``eps' = eps / sqrt(1 - beta_2^t)``, set before every step, the two are equal.
    """

    def __init__(self, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0

    def _make(self, params):
        return optim.Adam(params, lr=self.learning_rate_init, betas=(self.beta_1, self.beta_2),
                          eps=self.epsilon)

    def step(self):
        self.t += 1
        bc2 = 1.0 - self.beta_2 ** self.t
        self._opt.param_groups[0]["eps"] = self.epsilon / math.sqrt(bc2)
        self._opt.step()
        self.learning_rate = (self.learning_rate_init * math.sqrt(bc2)
                              / (1.0 - self.beta_1 ** self.t))


class SGDSolver(_Solver):
    """scikit-learn's SGD: ``v <- mu v - lr g``; ``p += v`` (or, Nesterov,
    ``p += mu v - lr g``), with 'constant', 'invscaling' and 'adaptive' schedules.

    fn.optim.SGD (torch's formula) keeps ``b = -v / lr``; whenever the learning
    rate changes, the solver rescales b by old/new lr so the two stay equal.
    """

    def __init__(self, learning_rate_init, lr_schedule, momentum, nesterov, power_t):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule, self.power_t = lr_schedule, float(power_t)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _make(self, params):
        return optim.SGD(params, lr=self.learning_rate, momentum=self.momentum,
                         nesterov=self.nesterov and self.momentum > 0)

    def step(self):
        self._opt.step()

    def _set_learning_rate(self, lr):
        old, self.learning_rate = self.learning_rate, float(lr)
        if self._opt is None:       # unbound (just unpickled): scale the saved state
            state, opt = self._state, None
        else:
            opt = self._opt
            opt.param_groups[0]["lr"] = self.learning_rate
            state = opt.state_dict() if self.momentum > 0 else None
        if state is not None and old != self.learning_rate:
            for st in state["state"].values():
                if "momentum_buffer" in st:
                    st["momentum_buffer"] *= old / self.learning_rate
            if opt is not None:
                opt.load_state_dict(state)
        if state is not None and opt is None:
            state["param_groups"][0]["lr"] = self.learning_rate

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self._set_learning_rate(self.learning_rate_init / (time_step + 1) ** self.power_t)

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._set_learning_rate(self.learning_rate / 5.0)
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False
