"""The compiled engine: a stack's forward, backward and elementwise optimizer updates as
machine code (numba), one kernel call per epoch.

This package is the only place that imports numba, and only when the compiled engine trains
(``descentlab.engines``); ``import descentlab`` does not load it. ``train_stack(engine=
"compiled")`` keeps its own epoch-level bookkeeping in Python (shuffles, epoch costs,
divergence, callbacks, checkpoints, interrupts: every feature works the same) and hands each
epoch's mini-batches to ``kernels.train_batches``.

The rule: the same arithmetic as the numpy engine, operation by operation (``nn.Pass`` and
each optimizer's ``update``), with the per-step scalars (learning rates, schedules, the bias
corrections 1 - beta^t from the same ``Powers`` tables) computed in Python by the optimizers'
own expressions (``descentlab.optim.elementwise``), so they carry the numpy engine's bits.
What differs: the matrix products add their terms in another order than BLAS, and ``exp``
is LLVM's, not numpy's SIMD one; both differ in the last bit or so. Over thousands of epochs
these last-bit differences grow the way any perturbation of a training run grows; the
measured agreement with the numpy engine is stated in ``TOLERANCE``.

Compiled updates exist for gd, momentum, sgd (every option), adam and adamw (amsgrad,
eps_inside_sqrt, both weight decays), rmsprop (centered, momentum, weight decay), adagrad,
adamax and lion (``kernels``), and nadam, radam (both weight decays), adabelief (nesterov),
adadelta (weight decay), rprop, adan (both weight decays), yogi, asgd (both decays, t0) and
schedule_free_sgd and schedule_free_adamw (warmup, weight decay) (``more_updates``; the
per-run numbers a step changes, such as nadam's ``mu_product``, are carried in Python: see
``ElementwiseRule.carried``). Every other optimizer is updated by its numpy ``update`` between
compiled forward and backward passes, batch by batch, and ``StackResult.numpy_updates`` lists
it: those that need more than the gradient (sam, lbfgs), the wrappers (lookahead), and those
whose update is not elementwise per coordinate (norms and layouts: lamb, lars, adafactor,
muon, prodigy).

The whole stack falls back to the numpy engine (``StackResult.engine == "numpy"``) with
``sample_weight``, with a dtype other than float64, and when the data are too large to be
shuffled into one buffer per epoch (``train.GATHER_PER_EPOCH_LIMIT``).

Two kernels: ``train_batches`` trains run after run (each batch's columns the innermost
loop); ``train_batches_shared`` trains wide stacks that share one shuffle (``stack.SHARED_RUNS``
runs or more, every update compiled, a sweep) with the runs as the innermost loop. Each
numba-typed call costs microseconds, which is why one call covers a whole epoch.

The kernels are compiled with ``@njit(cache=True)`` (no fastmath, no parallel: identical bits
run to run on one machine) on first use and cached on disk next to this package (or in
numba's user cache when that is not writable), so a second process pays no compile time.
"""

from __future__ import annotations

TOLERANCE = 1e-9
"""The largest relative difference, max |compiled - numpy| / max |numpy| over a run's epoch
costs, mini-batch costs or final parameters, that the tests accept between the engines. Measured
on an AVX-512 machine: at most 1.5e-15 for every optimizer over 20 epochs of the course's moons
and for a [64, 64, 32, 10] softmax network on digits, 1.3e-13 for 18 runs sharing a shuffle,
1.1e-15 (costs) and 5.9e-14 (parameters) over the published workload's 10000 epochs, which
reproduces every published number; L-BFGS, whose line search amplifies last-bit differences,
4.5e-13 over 3 epochs (``tests/test_compiled_engine.py``)."""
