"""The compiled engine: a stack's forward, backward and elementwise optimizer updates as
machine code (numba), one kernel call per block of epochs.

This package is the only place that imports numba, and only when the compiled engine trains
(``descentlab.engines``); ``import descentlab`` does not load it. ``train_stack(engine=
"compiled")`` keeps its bookkeeping in Python (epoch costs, divergence, callbacks, checkpoints,
interrupts: every feature works the same). When every group has a compiled update and nothing
observes single epochs, ``kernels.train_epochs`` trains a block of epochs per call, shuffling
with ``shuffle.legacy_permutation`` (numpy's legacy permutation, bit for bit); otherwise each
epoch's mini-batches go to ``kernels.train_batches`` after numpy's shuffle. The costs come from
the epochs' logits and outputs by the numpy engine's own code (vectorised ``log``), after the
kernel.

The rule: the same arithmetic as the numpy engine, operation by operation (``nn.Pass`` and
each optimizer's ``update``), with the per-step scalars (learning rates, schedules, the bias
corrections 1 - beta^t from the same ``Powers`` tables) computed in Python by the optimizers'
own expressions (``descentlab.optim.elementwise``), so they carry the numpy engine's bits.
What differs: the matrix products add their terms in another order than BLAS, and ``exp``
is the kernels' own (``kernels._exp``, plain arithmetic that vectorises, within 1 ulp of
numpy's); both differ in the last bit or so. Over thousands of epochs these last-bit
differences grow the way any perturbation of a training run grows; the measured agreement with
the numpy engine is stated in ``TOLERANCE``.

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
runs or more, every update compiled, a sweep) one example at a time with the runs as the
innermost loop. Both add every sum in the same order (dW and db over a batch's columns in
order), so a run's bits do not depend on the kernel, nor on how a sweep splits its runs into
stacks. Each numba-typed call costs microseconds, which is why one call covers an epoch or more.

The kernels are compiled with ``@njit(cache=True)`` (no fastmath, no parallel: identical bits
run to run on one machine) on first use and cached on disk next to this package (or in
numba's user cache when that is not writable), so a second process pays no compile time.
"""

from __future__ import annotations

TOLERANCE = 1e-9
"""The largest relative difference, max |compiled - numpy| / max |numpy| over a run's epoch
costs, mini-batch costs or final parameters, that the tests accept between the engines. Measured
on an AVX-512 machine: at most 8e-16 for every optimizer over 20 epochs of the course's moons,
2.7e-15 for a [64, 64, 32, 10] softmax network on digits, 1.3e-13 (costs) and 2.3e-14
(parameters) for 18 runs sharing a shuffle, 7.6e-16 (costs) and 2.3e-15 (parameters) over the
published workload's 10000 epochs, which reproduces every published number; L-BFGS, whose line
search amplifies last-bit differences, 6.2e-13 over 3 epochs (``tests/test_compiled_engine.py``).
Between the two kernels a run's bits are equal (the same sums in the same order, the same
``exp``). A run that diverges is chaotic from its divergence epoch on: there the engines agree
on that epoch and on where non-finite costs and weights appear, not on the values
(``tests/test_compiled_updates.py``)."""
