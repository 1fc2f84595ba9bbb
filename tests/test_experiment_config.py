"""``ExperimentConfig`` and ``SweepConfig``: the same names mean the same things."""

from __future__ import annotations

import pytest

from descentlab.experiment import ExperimentConfig
from descentlab.sweep import SweepConfig


def test_one_optimizer_may_be_named_by_a_string() -> None:
    assert ExperimentConfig(optimizers="adam").optimizers == ("adam",)
    assert ExperimentConfig(optimizers=["gd", "adam"]).optimizers == ("gd", "adam")  # type: ignore[arg-type]
    assert SweepConfig(optimizers="adam", learning_rate="0.1", seeds=(0,)).optimizers == ("adam",)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown optimizer 'gd,adam'"):
        ExperimentConfig(optimizers="gd,adam")


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_both_configs_build_the_same_network_for_a_number_of_classes(n_classes: int) -> None:
    experiment = ExperimentConfig(hidden_layers=(4,))
    sweep = SweepConfig(hidden_layers=(4,), learning_rate="0.1", seeds=(0,))
    assert experiment.network(7, n_classes) == sweep.network(7, n_classes)
    assert experiment.network(7, n_classes).layer_sizes[-1] == (1 if n_classes == 2 else n_classes)


@pytest.mark.parametrize("epochs", [0, -1, 2.5, True, "10"])
def test_epochs_are_refused_in_the_same_words_everywhere(epochs: object) -> None:
    messages = set()
    for build in (
        lambda: ExperimentConfig(epochs=epochs),  # type: ignore[arg-type]
        lambda: SweepConfig(epochs=epochs, learning_rate="0.1", seeds=(0,)),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match="epochs must be an integer >= 1") as refused:
            build()
        messages.add(str(refused.value))
    assert len(messages) == 1
