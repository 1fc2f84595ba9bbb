"""L-BFGS: quasi-Newton steps from a short history of gradient changes, as ``torch.optim.LBFGS``.

One ``update`` is one torch ``step(closure)``: up to ``max_iter`` inner iterations, each a
two-loop recursion over the history, a fixed step of the learning rate and a new evaluation of
the loss and its gradient (through ``value_and_grad``). Everything torch keeps between steps
lives in ``LBFGSState`` as fixed-shape arrays, the history as a ring buffer per run, so a stack
of runs and a checkpoint are plain arrays.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from descentlab.optim.base import (
    Optimizer,
    Params,
    ScalarOrSchedule,
    ValueAndGrad,
    learning_rate_at,
    record_hyperparameters,
)
from descentlab.validation import check_bool, check_int, check_nonnegative_float

CURVATURE_THRESHOLD = 1e-10
"""A pair (s, y) enters the history only if y . s exceeds this (torch's constant)."""


class LBFGSState(NamedTuple):
    step: int
    """Updates (torch ``step()`` calls) applied so far."""
    n_iter: np.ndarray
    """Inner iterations so far, per run (torch's ``state["n_iter"]``), shape (..., 1)."""
    func_evals: np.ndarray
    """Evaluations of the loss so far, per run (torch's ``state["func_evals"]``), (..., 1)."""
    d: Params
    """The last search direction, shape (..., n)."""
    t: np.ndarray
    """The last step length along ``d``, shape (..., 1)."""
    old_dirs: np.ndarray
    """The history's gradient changes y, a ring buffer of shape (..., history_size, n)."""
    old_stps: np.ndarray
    """The history's steps s = t d, shape (..., history_size, n)."""
    ro: np.ndarray
    """1 / (y . s) of each history entry, shape (..., history_size)."""
    start: np.ndarray
    """Where the oldest history entry sits in the ring buffer, per run, (..., 1)."""
    held: np.ndarray
    """How many history entries are held, per run, (..., 1)."""
    H_diag: np.ndarray
    """The initial inverse-Hessian scale y . s / y . y of the newest pair, (..., 1)."""
    prev_flat_grad: Params
    """The gradient where the last direction was computed, shape (..., n)."""
    prev_loss: np.ndarray
    """The loss where the last direction was computed, (..., 1)."""


def lbfgs(
    learning_rate: ScalarOrSchedule,
    max_iter: int = 20,
    max_eval: int = 0,
    tolerance_grad: float = 1e-7,
    tolerance_change: float = 1e-9,
    history_size: int = 100,
    strong_wolfe: bool = False,
) -> Optimizer:
    r"""L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989) exactly as ``torch.optim.LBFGS``: full batch.

    One update is one torch ``step(closure)``. With g and f the gradient and loss at the
    current weights W (handed over by the training loop: torch's first closure call), the
    update stops at once, W unchanged, if max|g| <= tolerance_grad. Else, for up to max_iter
    inner iterations (n counts the inner iterations of every update so far):
      direction: at n = 1, d = -g and the history is empty (H_diag = 1). Later,
        y = g - g_prev, s = t d; if y . s > 1e-10 the pair (y, s) joins the history (the
        oldest dropped beyond history_size), rho = 1 / (y . s), H_diag = y . s / y . y; then
        the two-loop recursion: q = -g; from newest to oldest a_i = rho_i s_i . q,
        q = q - a_i y_i; r = H_diag q; from oldest to newest b_i = rho_i y_i . r,
        r = r + (a_i - b_i) s_i; d = r.
      g_prev = g, f_prev = f;  t = min(1, 1 / sum|g|) * learning_rate at n = 1, else
      t = learning_rate;  stop if g . d > -tolerance_change (W not moved);
      W = W + t d; unless this is the update's last inner iteration (max_iter), evaluate
      f, g = value_and_grad(W) (torch's further closure calls);
      with strong_wolfe=True, instead: torch's strong-Wolfe line search from t along d
      (c1 = 1e-4, c2 = 0.9, its own tolerance 1e-9 on the bracket's width, at most
      max_eval - the evaluations so far of this update), bracketing and zooming by cubic
      interpolation; t becomes its step, W = W + t d, f and g its evaluation there;
      stop after max_iter iterations, or once the evaluations of this update reach max_eval
      (the first one counts), or max|g| <= tolerance_grad, or max|t d| <= tolerance_change,
      or |f - f_prev| < tolerance_change.
    The state keeps d, t, the history, H_diag, g_prev, f_prev and the counts between updates,
    so the next update's first pair is (the gradient at its weights - g_prev, t d).

    Stacked runs (parameters of shape (K, n)) each do their own inner iterations: a run that
    meets a stopping rule stops moving while the others go on, and every product and norm is
    over its own parameters, so a stack of K runs equals K runs alone, bit for bit. Every
    hyperparameter may differ per run ((K, 1) arrays), history_size included (the buffer
    holds the largest). Needs ``value`` and ``value_and_grad``, and the whole training set in
    every batch (``full_batch``): L-BFGS's pairs (s, y) only estimate curvature when every
    evaluation sees the same function. Memory: 2 history_size + 2 arrays per parameter.
    Validation: learning_rate > 0 (or a schedule, read once per update), max_iter >= 1,
    max_eval >= 0, tolerances >= 0, history_size >= 1; with strong_wolfe=True, one run at a
    time (a stack of more is refused in one line: its line search is scalar, per run).

    How it differs from the variants of the same name:
    - ``torch.optim.LBFGS(lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
      tolerance_change=1e-9, history_size=100, line_search_fn=None)``: the same rule, in the
      same order. ``max_eval=0`` here is torch's ``None``: max_iter * 5 // 4 (so 25 at the
      defaults). torch's ``line_search_fn="strong_wolfe"`` is ``strong_wolfe=True`` here,
      its ``_strong_wolfe`` and ``_cubic_interpolate`` ported line for line (their scalars
      in float64 whatever the parameters' dtype). Products and sums are numpy's, not
      torch's BLAS and fused multiply-adds, so the weights agree to about 1e-12 relative,
      not bit for bit.
    - ``optax.lbfgs`` (and ``scipy.optimize.minimize(method="L-BFGS-B")``) do one iteration
      per update with a zoom line search (scipy: until convergence); optax's memory is 10.
    - Keras has no L-BFGS; pytorch-optimizer has none either.
    """
    lr_at = learning_rate_at(learning_rate)
    max_iter = _check_count("max_iter", max_iter, minimum=1)
    max_eval = _check_count("max_eval", max_eval, minimum=0)
    tolerance_grad = check_nonnegative_float("tolerance_grad", tolerance_grad)
    tolerance_change = check_nonnegative_float("tolerance_change", tolerance_change)
    history_size = _check_count("history_size", history_size, minimum=1)
    strong_wolfe = check_bool("strong_wolfe", strong_wolfe)
    evaluations = np.where(np.equal(max_eval, 0), np.multiply(max_iter, 5) // 4, max_eval)
    buffer = int(np.max(history_size))

    def init(params: Params) -> LBFGSState:
        lead, n = params.shape[:-1], params.shape[-1]
        _check_one_run(strong_wolfe, lead)
        dtype = params.dtype
        counts = np.zeros((*lead, 1), dtype=np.int64)
        return LBFGSState(
            step=0,
            n_iter=counts,
            func_evals=counts.copy(),
            d=np.zeros_like(params),
            t=np.zeros((*lead, 1), dtype=dtype),
            old_dirs=np.zeros((*lead, buffer, n), dtype=dtype),
            old_stps=np.zeros((*lead, buffer, n), dtype=dtype),
            ro=np.zeros((*lead, buffer), dtype=dtype),
            start=counts.copy(),
            held=counts.copy(),
            H_diag=np.ones((*lead, 1), dtype=dtype),
            prev_flat_grad=np.zeros_like(params),
            prev_loss=np.zeros((*lead, 1), dtype=dtype),
        )

    def update(
        grads: Params,
        state: LBFGSState,
        params: Params,
        *,
        value: np.ndarray,
        value_and_grad: ValueAndGrad,
    ) -> tuple[Params, LBFGSState]:
        lead, n = params.shape[:-1], params.shape[-1]
        _check_one_run(strong_wolfe, lead)
        runs = int(np.prod(lead, dtype=np.int64))
        dtype = params.dtype

        def per_run(setting: object, kind: type = float) -> np.ndarray:
            """A hyperparameter as one value per run, shape (runs, 1)."""
            array = np.asarray(setting, dtype=dtype if kind is float else np.int64)
            return np.broadcast_to(array, (*lead, 1)).reshape(runs, 1)

        lr = per_run(lr_at(state.step))
        iterations = per_run(max_iter, int)
        most_evals = per_run(evaluations, int)
        capacity = per_run(history_size, int)
        tol_grad = per_run(tolerance_grad)
        tol_change = per_run(tolerance_change)

        def rows(array: np.ndarray) -> np.ndarray:
            return np.array(array).reshape(runs, *array.shape[len(lead) :])

        x0 = params.reshape(runs, n)
        x = x0.copy()
        g = np.asarray(grads, dtype=dtype).reshape(runs, n).copy()
        loss = np.asarray(value, dtype=dtype).reshape(runs, 1).copy()
        n_iter, func_evals = rows(state.n_iter), rows(state.func_evals) + 1
        d, t = rows(state.d), rows(state.t)
        old_dirs, old_stps, ro = rows(state.old_dirs), rows(state.old_stps), rows(state.ro)
        start, count, h_diag = rows(state.start), rows(state.held), rows(state.H_diag)
        prev_g, prev_loss = rows(state.prev_flat_grad), rows(state.prev_loss)
        every = np.arange(runs)

        active = ~(np.abs(g).max(axis=-1, keepdims=True) <= tol_grad)
        current_evals = np.ones((runs, 1), dtype=np.int64)
        for k in range(1, int(iterations.max()) + 1):
            if not active.any():
                break
            n_iter = np.where(active, n_iter + 1, n_iter)
            first = active & (n_iter == 1)
            later = active & ~first

            # the direction: the history's update, then the two-loop recursion
            if later.any():
                y = g - prev_g
                s = d * t
                ys = _dot(y, s)
                store = later & (ys > CURVATURE_THRESHOLD)
                if store.any():
                    yy = _dot(y, y)
                    full = count == capacity
                    slot = np.where(full, start, (start + count) % capacity)[:, 0]
                    chosen = every[store[:, 0]]
                    old_dirs[chosen, slot[chosen]] = y[chosen]
                    old_stps[chosen, slot[chosen]] = s[chosen]
                    with np.errstate(divide="ignore"):
                        ro[chosen, slot[chosen]] = (1.0 / ys)[chosen, 0]
                    start = np.where(store & full, (start + 1) % capacity, start)
                    count = np.where(store & ~full, count + 1, count)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        h_diag = np.where(store, ys / yy, h_diag)
                held = int(count[later].max())
                history = (old_stps, old_dirs, ro, start, capacity, every)
                q = -g
                alphas = []
                for i in range(held - 1, -1, -1):
                    s_i, y_i, ro_i = _history_entry(i, *history)
                    alpha = _dot(s_i, q) * ro_i
                    alphas.append(alpha)
                    q = np.where(later & (i < count), q - alpha * y_i, q)
                r = q * h_diag
                for i in range(held):
                    s_i, y_i, ro_i = _history_entry(i, *history)
                    beta = _dot(y_i, r) * ro_i
                    r = np.where(later & (i < count), r + (alphas[held - 1 - i] - beta) * s_i, r)
                d = np.where(later, r, d)
            if first.any():
                d = np.where(first, -g, d)
                count = np.where(first, 0, count)
                start = np.where(first, 0, start)
                h_diag = np.where(first, np.ones_like(h_diag), h_diag)
            prev_g = np.where(active, g, prev_g)
            prev_loss = np.where(active, loss, prev_loss)

            # the step length, and the stop on a direction that does not descend
            if first.any():
                with np.errstate(divide="ignore"):
                    inverse = 1.0 / np.abs(g).sum(axis=-1, keepdims=True)
                t = np.where(first, np.where(inverse < 1.0, inverse, 1.0) * lr, t)
            t = np.where(later, lr, t).astype(dtype, copy=False)
            active = active & ~(_dot(g, d) > -tol_change)

            if strong_wolfe:  # one run (_check_one_run): torch's line search along d
                opt_cond = np.zeros_like(active)
                if active[0, 0]:

                    def along(point: np.ndarray, step: float, direction: np.ndarray) -> Any:
                        values, gradients = value_and_grad(
                            (point + step * direction).reshape(params.shape)
                        )
                        return float(np.asarray(values).reshape(-1)[0]), np.asarray(
                            gradients, dtype=dtype
                        ).reshape(n)

                    f_new, g_new, step, evals = _strong_wolfe(
                        along,
                        x[0],
                        float(t[0, 0]),
                        d[0],
                        float(loss[0, 0]),
                        g[0],
                        float(_dot(g, d)[0, 0]),
                        max_ls=int(most_evals[0, 0] - current_evals[0, 0]),
                    )
                    t = np.full_like(t, step)
                    x = x + t * d
                    loss = np.full_like(loss, f_new)
                    g = g_new.reshape(1, n)
                    opt_cond = np.abs(g).max(axis=-1, keepdims=True) <= tol_grad
                    current_evals = current_evals + evals
                    func_evals = func_evals + evals
            else:
                # the step, and torch's further closure call (none after the last iteration)
                x = np.where(active, x + t * d, x)
                evaluated = active & (k != iterations)
                opt_cond = np.zeros_like(active)
                if evaluated.any():
                    values, gradients = value_and_grad(x.reshape(params.shape))
                    values = np.asarray(values, dtype=dtype).reshape(runs, 1)
                    gradients = np.asarray(gradients, dtype=dtype).reshape(runs, n)
                    loss = np.where(evaluated, values, loss)
                    g = np.where(evaluated, gradients, g)
                    opt_cond = evaluated & (np.abs(g).max(axis=-1, keepdims=True) <= tol_grad)
                    current_evals = current_evals + evaluated
                    func_evals = func_evals + evaluated
            stop = (
                (k == iterations)
                | (current_evals >= most_evals)
                | opt_cond
                | (np.abs(d * t).max(axis=-1, keepdims=True) <= tol_change)
                | (np.abs(loss - prev_loss) < tol_change)
            )
            active = active & ~stop

        def back(array: np.ndarray) -> np.ndarray:
            return array.reshape(*lead, *array.shape[1:])

        new_state = LBFGSState(
            step=state.step + 1,
            n_iter=back(n_iter),
            func_evals=back(func_evals),
            d=back(d),
            t=back(t),
            old_dirs=back(old_dirs),
            old_stps=back(old_stps),
            ro=back(ro),
            start=back(start),
            held=back(count),
            H_diag=back(h_diag),
            prev_flat_grad=back(prev_g),
            prev_loss=back(prev_loss),
        )
        return (x - x0).reshape(params.shape), new_state

    optimizer = Optimizer(
        "lbfgs",
        record_hyperparameters(lbfgs, locals()),
        init,
        update,
        needs=frozenset({"value", "value_and_grad", "full_batch"}),
    )
    return optimizer


def _check_one_run(strong_wolfe: bool, lead: tuple[int, ...]) -> None:
    runs = int(np.prod(lead, dtype=np.int64))
    if strong_wolfe and runs != 1:
        raise ValueError(
            f"lbfgs with strong_wolfe=True trains one run at a time (its line search is per "
            f"run), got a stack of {runs} runs; use strong_wolfe=False to stack runs, or "
            f"stacks of one (sweep --max-stack 1)"
        )


def _cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """torch's ``_cubic_interpolate``: the minimiser of the cubic through two points with their
    values and slopes, clamped to ``bounds`` (or to [x1, x2]); their midpoint if it has none."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(
    obj_func: Any,
    x: np.ndarray,
    t: float,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, float, int]:
    """torch's ``_strong_wolfe``, line for line: a step t along d meeting the strong Wolfe
    conditions, bracketed then zoomed by cubic interpolation; returns (loss, gradient, t,
    evaluations). Its tolerance_change is torch's fixed 1e-9, not the optimizer's."""
    d_norm = float(np.abs(d).max())
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))

    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[np.ndarray] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1

    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.copy()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.copy()
            bracket_gtd[low_pos] = gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _history_entry(
    i: int,
    old_stps: np.ndarray,
    old_dirs: np.ndarray,
    ro: np.ndarray,
    start: np.ndarray,
    capacity: np.ndarray,
    every: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The i-th oldest (s, y, rho) of every run's ring buffer, shapes (runs, n) and (runs, 1):
    views when the runs' buffers line up (always for one run), else gathered run by run."""
    if np.all(start == start[0]) and np.all(capacity == capacity[0]):
        slot = int((start[0, 0] + i) % capacity[0, 0])
        return old_stps[:, slot], old_dirs[:, slot], ro[:, slot, None]
    slots = ((start + i) % capacity)[:, 0]
    return old_stps[every, slots], old_dirs[every, slots], ro[every, slots, None]


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each run's dot product over its parameters (the last axis), shape (runs, 1)."""
    return (a * b).sum(axis=-1, keepdims=True)


def _check_count(name: str, value: object, *, minimum: int) -> Any:
    """An integer >= ``minimum``, or an array of them (one per run of a stack, as int64)."""
    if not isinstance(value, np.ndarray):
        return check_int(name, value, minimum=minimum)
    if value.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be an integer >= {minimum}, got an array of {value.dtype}")
    numbers = value.astype(np.float64)
    good = np.isfinite(numbers) & (np.mod(numbers, 1) == 0) & (numbers >= minimum)
    if not np.all(good):
        bad = float(numbers[~good].flat[0])
        raise ValueError(
            f"{name} must be an integer >= {minimum}, got {int(bad) if bad.is_integer() else bad}"
        )
    return numbers.astype(np.int64)
