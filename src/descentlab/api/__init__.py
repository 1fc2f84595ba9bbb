"""The Python API: ``compare``, ``train``, ``sweep`` and ``landscape``, the commands as functions.

    import descentlab as dl
    r = dl.compare(optimizers=["gd", "adam"], epochs=2000)

Each function takes its command's options as keywords with the command's defaults:
``--learning-rate`` is ``learning_rate``, ``--layers 5,2`` is ``layers=(5, 2)``,
``--batch-size full`` is ``batch_size="full"`` (or None), ``-H sgd.nesterov=true`` is
``hyperparameters={"sgd.nesterov": True}``. It builds the config object the command builds
(``ExperimentConfig``, ``SweepConfig``, a landscape's optimizers), which checks every value
(a bad one is a one-line ``ValueError`` naming it), runs the same library code, and returns a
results object (``descentlab.results``) that prints as a short table, draws with ``plot``,
exports with ``to_pandas`` and writes the command's run folder with ``save``. Nothing is written
before ``save``.

``experiments``  ``compare`` and ``train`` (``ExperimentConfig``, ``run_experiment``)
``sweeps``       ``sweep`` (``SweepConfig``, ``run_sweep``)
``landscapes``   ``landscape`` (the optimizers, ``run_trajectories``)
``arguments``    the options they share, read into what the config objects take
"""

from descentlab.api.arguments import GridValues, Hyperparameters
from descentlab.api.experiments import compare, train
from descentlab.api.landscapes import landscape
from descentlab.api.sweeps import sweep

__all__ = ["GridValues", "Hyperparameters", "compare", "landscape", "sweep", "train"]
