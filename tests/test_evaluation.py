from __future__ import annotations

import numpy as np
import pytest

from descentlab import datasets, optim
from descentlab.evaluation import Monitor, confusion_matrix, evaluate, predicted_classes
from descentlab.experiment import ExperimentConfig, prepare_data, run_experiment
from descentlab.nn import Network
from descentlab.train import train


def test_confusion_matrix_counts_true_by_predicted() -> None:
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    assert confusion_matrix(labels, predictions, 3).tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_predicted_classes_for_sigmoid_and_softmax() -> None:
    assert predicted_classes(np.array([[0.2, 0.5, 0.51]])).tolist() == [0, 0, 1]
    softmax = np.array([[0.1, 0.7], [0.6, 0.2], [0.3, 0.1]])
    assert predicted_classes(softmax).tolist() == [1, 0]


def test_evaluate_matches_a_hand_computation() -> None:
    data = datasets.load("blobs", n_samples=60)
    network = Network((2, 4, 3))
    params = np.random.default_rng(0).normal(size=(2, network.n_params))
    costs, accuracies = evaluate(network, params, data)
    for run in range(2):
        single_cost, single_accuracy = evaluate(network, params[run : run + 1], data)
        assert costs[run] == pytest.approx(single_cost[0], rel=1e-12)
        assert accuracies[run] == single_accuracy[0]


def test_early_stopping_keeps_the_best_epoch_bit_for_bit() -> None:
    config = ExperimentConfig(
        optimizers=("adam",), learning_rate=0.05, hidden_layers=(8,), epochs=400,
        validation_fraction=0.3, early_stopping=True, patience=15, standardize=True,
    )  # fmt: skip
    dataset = datasets.load("moons", n_samples=200, noise=0.35)
    data = prepare_data(config, dataset)
    (outcome,) = run_experiment(config, dataset, data=data)
    assert outcome.stopped_epoch is not None and outcome.best_epoch is not None
    assert outcome.stopped_epoch - outcome.best_epoch == 15
    assert outcome.result.history.epochs == outcome.stopped_epoch + 1
    assert outcome.validation_costs is not None
    best = int(np.argmin(outcome.validation_costs))
    assert best == outcome.best_epoch
    # The kept weights are exactly those after best_epoch + 1 epochs of the same run.
    network = config.network(dataset.n_features)
    alone = train(
        network, data.train.X, data.train.Y, optim.adam(0.05), epochs=outcome.best_epoch + 1
    )
    assert np.array_equal(outcome.result.params, alone.params)


def test_monitor_without_patience_only_records() -> None:
    data = datasets.load("xor", n_samples=40)
    network = Network((2, 3, 1))
    monitor = Monitor(network, data, n_runs=1, epochs=3)
    params = np.zeros((1, network.n_params))
    assert monitor.after_epoch(0, params) is False
    assert monitor.costs[0, 0] == pytest.approx(np.log(2))
    assert np.isnan(monitor.costs[0, 1])
    assert monitor.final_params(params) is params


def test_splits_standardise_everything_but_moons_by_default() -> None:
    assert not ExperimentConfig().standardizes(datasets.moons())
    assert ExperimentConfig().standardizes(datasets.load("circles"))
    assert not ExperimentConfig(standardize=False).standardizes(datasets.load("circles"))
    with pytest.raises(ValueError, match="early stopping needs a validation split"):
        ExperimentConfig(early_stopping=True)


def test_a_diverged_run_stops_at_its_epoch_and_the_others_finish() -> None:
    config = ExperimentConfig(
        optimizers=("gd", "adam"), learning_rate={"gd": 1000.0, "adam": 0.01}, epochs=30
    )
    gd, adam = run_experiment(config, datasets.moons())
    assert gd.result.diverged_epoch is not None and gd.cost_shape == "diverged"
    assert gd.result.history.epochs == gd.result.diverged_epoch + 1
    assert adam.result.diverged_epoch is None and adam.result.history.epochs == 30
