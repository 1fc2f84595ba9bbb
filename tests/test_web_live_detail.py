"""The per-epoch observation hook races stream from (``train.EpochDetail``): what it sees is
the run's own history and parameters, and observing changes no number."""

from __future__ import annotations

import numpy as np

from descentlab import datasets
from descentlab.experiment import ExperimentConfig, run_experiment
from descentlab.train import EpochDetail

CONFIG = ExperimentConfig(
    optimizers=("gd", "momentum", "adam"), learning_rate=0.01, batch_size=64, epochs=7
)


def test_the_details_are_the_history_and_change_nothing() -> None:
    dataset = datasets.load("moons")
    seen: list[EpochDetail] = []

    def observe(detail: EpochDetail) -> None:
        seen.append(
            EpochDetail(
                detail.epoch,
                detail.epoch_costs.copy(),
                detail.minibatch_costs.copy(),
                detail.params.copy(),
                list(detail.diverged_epochs),
            )
        )

    observed = run_experiment(CONFIG, dataset, on_epoch_detail=observe)
    plain = run_experiment(CONFIG, dataset)
    assert [detail.epoch for detail in seen] == list(range(7))
    for run, (outcome, alone) in enumerate(zip(observed, plain, strict=True)):
        history = outcome.result.history
        assert np.array_equal(history.epoch_costs, alone.result.history.epoch_costs)
        assert np.array_equal(history.minibatch_costs, alone.result.history.minibatch_costs)
        assert np.array_equal(outcome.result.params, alone.result.params)
        assert np.array_equal([d.epoch_costs[run] for d in seen], history.epoch_costs)
        assert np.array_equal(
            np.concatenate([d.minibatch_costs[run] for d in seen]), history.minibatch_costs
        )
        assert np.array_equal(seen[-1].params[run], outcome.result.params)
        assert seen[-1].diverged_epochs[run] is None
    assert seen[0].minibatch_costs.shape == (3, 5)
