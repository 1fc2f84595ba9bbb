"""``descentlab.course`` trains with the numpy engine whatever the engine setting says: its
numbers are the course's to the last bit, and the compiled engine's are not."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab import course, engines, nn, optim
from descentlab.train import train

EPOCHS = 50


def _course_adam_params() -> dict[str, np.ndarray]:
    X, Y = course.load_dataset()
    return course.model(X, Y, [X.shape[0], 5, 2, 1], "adam", num_epochs=EPOCHS, print_cost=False)


@pytest.mark.exact
@pytest.mark.parametrize("setting", ["compiled", "auto"])
def test_course_model_ignores_the_engine_setting(
    setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(engines.ENVIRONMENT_VARIABLE, raising=False)
    plain = _course_adam_params()
    with engines.using(setting):
        chosen = _course_adam_params()
    monkeypatch.setenv(engines.ENVIRONMENT_VARIABLE, setting)
    from_environment = _course_adam_params()
    for name, value in plain.items():
        assert np.array_equal(chosen[name], value), name
        assert np.array_equal(from_environment[name], value), name


def test_the_compiled_engine_would_differ_in_the_last_bits() -> None:
    # What the test above guards against: the same training through the compiled engine is
    # not bit-identical to the course (within descentlab.compiled.TOLERANCE, but not equal).
    X, Y = course.load_dataset()
    network = nn.Network((X.shape[0], 5, 2, 1))
    runs = {
        engine: train(network, X, Y.astype(float), optim.adam(0.0007), epochs=EPOCHS, engine=engine)
        for engine in ("numpy", "compiled")
    }
    numpy_params, compiled_params = runs["numpy"].params, runs["compiled"].params
    assert not np.array_equal(numpy_params, compiled_params)
    assert np.allclose(numpy_params, compiled_params, rtol=1e-9, atol=0)
