"""descentlab's BLAS thread policy: how many threads the matrix products of training use.

``train_stack`` runs its epochs inside ``blas_threads_for(product_size(layer_sizes, batch))``,
where the size is the multiply-adds of the step's largest matrix product,
max over layers of n_l * n_(l-1) * batch (forward, dW and dA products all have that size; a
stack of K runs does K such products one after another, so K does not count). The number of
BLAS threads in force there is, first rule that applies:

1. inside ``with blas_threads(N)`` (what ``--blas-threads N`` does on the command line): N;
2. the environment variable ``DESCENTLAB_BLAS_THREADS=N``: N;
3. when neither of those says anything and the user set ``OPENBLAS_NUM_THREADS``,
   ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``: left alone, as the user set it;
4. ``"auto"`` (the default; also ``blas_threads("auto")`` or ``DESCENTLAB_BLAS_THREADS=auto``,
   which skip rule 3): one thread when the size is below ``CROSSOVER``, and at every size inside
   ``one_thread_per_process()`` (a sweep's chunks); otherwise BLAS's own default is left alone
   (OpenBLAS: one thread per core).

The limit covers the BLAS libraries loaded in the process (threadpoolctl, ``user_api="blas"``)
and is restored when the block ends, also after an exception. It is process-wide, as BLAS's
thread count is: two Python threads training at once each restore what they found on leaving.

Why (measured on the development machine: 2 cores, AMD EPYC, virtualised, shared with other
sessions; numpy 2.4.6, OpenBLAS 0.3.31, pthreads). Two threads cost far more than they gain when
the matrices are small or when another process holds the other core (OpenBLAS splits each
product between both threads, and presumably the one sharing a core holds the other up, many
times per step). With the other core busy, breast_cancer with a (100,) network took 1.57 s
instead of 0.16 s, digits 15.6 s instead of 0.67 s (issue 10);
``python tools/bench.py --threads-only`` measures that case again (docs/benchmarks.md has the
table).
``python tools/bench.py --crossover --repeat 3`` times one epoch of [256, H, 1] networks (batch
200) with one thread and with two, on an idle machine and with one core kept busy;
CROSSOVER_MEASUREMENTS holds its numbers. On the idle machine a second thread gained nothing up
to 6.6 million multiply-adds (two threads' time / one thread's 0.96 to 1.06) and about 20% from
9.8 million on (0.79 to 0.81, up to 105 million); hence CROSSOVER, between the two. With a core
busy two threads were slower at almost every size (1.2 to 2.3 times at most sizes, up to 105
million): on a machine shared with other work, ``DESCENTLAB_BLAS_THREADS=1`` is the safer choice
for large networks too.

Numbers. The thread count can change the last bits of a product: OpenBLAS splits a product
with a long inner dimension (dW = dZ A^T sums over the batch) between threads, and the partial
sums then add up in another order. Measured: breast_cancer (100,), batch 200, 5 epochs of adam
with one thread and with two differ by 1.4e-17 in the parameters; digits by 1.1e-16. So:
below the crossover descentlab always uses one thread, and its numbers do not depend on the
machine's cores; above it they depend on the thread count, and runs to be compared bit for bit
must train under the same setting (``DESCENTLAB_BLAS_THREADS=1`` everywhere is the simplest).
A sweep trains with one thread per process at every size, whatever ``--jobs``, so the process
count never changes its results.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

ENVIRONMENT_VARIABLE = "DESCENTLAB_BLAS_THREADS"
"""``auto`` or a number of threads >= 1; overridden by ``blas_threads`` (``--blas-threads``)."""

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Set by the user, these win over ``"auto"`` unless descentlab's own setting is explicit."""

AUTO: Literal["auto"] = "auto"

CROSSOVER = 8_000_000
"""Multiply-adds of a step's largest matrix product from which ``"auto"`` keeps BLAS's own
thread count; below it, one thread (see CROSSOVER_MEASUREMENTS)."""

CROSSOVER_MEASUREMENTS = """\
python tools/bench.py --crossover --repeat 3 (best of 3; 2 cores, AMD EPYC, numpy 2.4.6,
OpenBLAS 0.3.31; "others": cores other processes kept busy meanwhile, the spinner included)
one epoch of [256, H, 1], batch 200, 2000 examples, adam; time with 2 threads / with 1
    H   multiply-adds   idle (others 0.0)   one core busy (others 0.8)
    8         409,600   0.83                1.04
   16         819,200   0.96                2.29
   32       1,638,400   1.04                1.42
   64       3,276,800   1.06                1.26
  128       6,553,600   1.03                0.87
  192       9,830,400   0.79                0.97
  256      13,107,200   0.80                1.63
  384      19,660,800   0.81                1.38
  512      26,214,400   0.80                1.16
 1024      52,428,800   0.80                1.35
 2048     104,857,600   0.80                1.18
(the 409,600 row is 12.0 ms against 14.5 ms: within the noise at that size; an earlier scan
with others 0.1 gave 0.92 at 3.3 million, 1.00 at 6.6 million and 0.89 at 13.1 million)"""

Setting = int | Literal["auto"]
"""A number of BLAS threads >= 1, or ``"auto"``: the policy of this module."""

_chosen: ContextVar[Setting | None] = ContextVar("descentlab_blas_threads", default=None)
_one_per_process: ContextVar[bool] = ContextVar("descentlab_one_thread", default=False)


def parse_setting(value: object, name: str = "blas threads") -> Setting:
    """``"auto"`` (any case, spaces around allowed) or an integer >= 1, from text or an int;
    a ValueError naming ``name`` and the value otherwise."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return AUTO
        number: object = int(text) if text.isascii() and text.isdigit() else None
    else:
        number = value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValueError(f"{name} must be 'auto' or an integer >= 1, got {value!r}")
    return number


def configured() -> Setting | None:
    """descentlab's own setting here: the innermost ``blas_threads`` block's, else
    ``DESCENTLAB_BLAS_THREADS``'s (a ValueError naming the variable if it is bad), else None
    (nothing said: rule 3 or ``"auto"``)."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    text = os.environ.get(ENVIRONMENT_VARIABLE, "")
    return parse_setting(text, ENVIRONMENT_VARIABLE) if text.strip() else None


def product_size(layer_sizes: Sequence[int], batch_size: int) -> int:
    """Multiply-adds of the largest matrix product of one training step of one run:
    max over layers of n_l * n_(l-1) * batch_size."""
    return max(a * b for a, b in itertools.pairwise(layer_sizes)) * batch_size


def threads_for(size: int) -> int | None:
    """The BLAS thread count training sets for products of ``size`` multiply-adds under the
    rules of this module, or None: leave the count in force alone."""
    setting = configured()
    if isinstance(setting, int):
        return setting
    if setting is None and any(os.environ.get(name, "").strip() for name in BLAS_VARIABLES):
        return None
    if _one_per_process.get() or size < CROSSOVER:
        return 1
    return None


@contextmanager
def blas_threads(setting: Setting | str | None) -> Iterator[None]:
    """Inside, descentlab trains with ``setting``: N threads at every size, or ``"auto"`` (the
    policy, even when OPENBLAS_NUM_THREADS and the like are set). It wins over
    ``DESCENTLAB_BLAS_THREADS``; None changes nothing. A bad value is a ValueError on entry."""
    if setting is None:
        yield
        return
    token = _chosen.set(parse_setting(setting))
    try:
        yield
    finally:
        _chosen.reset(token)


@contextmanager
def one_thread_per_process() -> Iterator[None]:
    """Inside, ``"auto"`` means one thread at every size: for work whose parallelism is
    processes (a sweep's chunks), so that its numbers never depend on how many ran. An explicit
    setting (rules 1 to 3) still wins."""
    token = _one_per_process.set(True)
    try:
        yield
    finally:
        _one_per_process.reset(token)


@contextmanager
def blas_threads_for(size: int) -> Iterator[int | None]:
    """Limit BLAS to ``threads_for(size)`` threads inside (nothing when that is None); yields
    the limit set. The previous counts are restored on leaving, also after an exception."""
    count = threads_for(size)
    if count is None:
        yield None
        return
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=count, user_api="blas"):
        yield count
