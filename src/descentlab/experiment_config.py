"""``ExperimentConfig``: everything that decides the result of a ``compare`` or ``train``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from descentlab import optim
from descentlab.datasets import Dataset
from descentlab.nn import Network
from descentlab.optim import Optimizer
from descentlab.schedules import ScheduleSpec
from descentlab.seeds import run_seeds
from descentlab.validation import check_epochs, check_int, check_positive_float

COURSE_OPTIMIZERS = ("gd", "momentum", "adam")


SHARED_HYPERPARAMETERS = ("beta", "beta1", "beta2", "epsilon", "eps_inside_sqrt")
"""Settings that every optimizer with a keyword of that name takes (``--beta`` and friends)."""


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides a comparison's result. The defaults are the published experiment.

    ``optimizers`` names the optimizers (one name alone may be a string). ``learning_rate`` is
    one rate for every optimizer or a mapping from optimizer name to its rate. Each optimizer
    takes the shared settings whose names it knows (momentum takes ``beta``; adam takes
    ``beta1``, ``beta2``, ``epsilon`` and ``eps_inside_sqrt``); a shared setting left at
    ``None`` keeps each optimizer's own default. ``hyperparameters`` gives per-optimizer
    keywords on top (``{"sgd": {"momentum": 0.9, "nesterov": True}}``). ``schedule`` decays
    every optimizer's rate from its initial value; ``batch_size=None`` means one batch of all
    examples.
    """

    optimizers: tuple[str, ...] = COURSE_OPTIMIZERS
    learning_rate: float | Mapping[str, float] = 0.0007
    batch_size: int | None = 64
    epochs: int = 10000
    hidden_layers: tuple[int, ...] = (5, 2)
    beta: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    epsilon: float | None = None
    eps_inside_sqrt: bool = False
    hyperparameters: Mapping[str, Mapping[str, float | bool]] = field(default_factory=dict)
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    seed: int = 0
    validation_fraction: float = 0.0
    test_fraction: float = 0.0
    standardize: bool | None = None
    early_stopping: bool = False
    patience: int = 10
    dtype: str = "float64"

    def __post_init__(self) -> None:
        given: object = self.optimizers
        if isinstance(given, str):  # one name ("adam"), not its letters
            object.__setattr__(self, "optimizers", (given,))
        elif isinstance(given, Sequence) and not isinstance(given, tuple):
            object.__setattr__(self, "optimizers", tuple(given))
        if not self.optimizers:
            raise ValueError("optimizers must name at least one optimizer")
        duplicates = sorted({name for name in self.optimizers if self.optimizers.count(name) > 1})
        if duplicates:
            raise ValueError(f"optimizer {duplicates[0]!r} is listed twice")
        for name in self.optimizers:
            optim.check_name(name)  # an unknown name or a wrapper alone fails here
        if isinstance(self.learning_rate, Mapping):
            unknown = sorted(set(self.learning_rate) - set(self.optimizers))
            missing = [name for name in self.optimizers if name not in self.learning_rate]
            if unknown:
                raise ValueError(
                    f"learning rate given for {unknown[0]!r}, which is not among the "
                    f"optimizers ({', '.join(self.optimizers)})"
                )
            if missing:
                raise ValueError(f"no learning rate given for optimizer {missing[0]!r}")
            for name, rate in self.learning_rate.items():
                check_positive_float(f"learning rate of {name}", rate)
        else:
            check_positive_float("learning_rate", self.learning_rate)
        for name in self.hyperparameters:
            if name not in self.optimizers:
                raise ValueError(
                    f"hyperparameters given for {name!r}, which is not among the optimizers "
                    f"({', '.join(self.optimizers)})"
                )
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        optim.check_full_batch(self.optimizers, self.batch_size)
        check_epochs(self.epochs)
        for size in self.hidden_layers:
            check_int("hidden layer size", size, minimum=1)
        check_int("seed", self.seed, minimum=0)
        check_int("patience", self.patience, minimum=1)
        if self.early_stopping and not self.validation_fraction:
            raise ValueError(
                "early stopping needs a validation split (--validation-fraction > 0), got "
                f"validation fraction {self.validation_fraction!r}"
            )
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        # Bad hyperparameters fail here, up front. A schedule counted in steps learns its length
        # from the data (``prepare_data`` checks it then): a nominal length here fits its warmup.
        per_epoch = self.schedule.warmup + 1 if self.schedule.unit == "step" else 1
        self.built_optimizers(batches_per_epoch=per_epoch)

    def learning_rate_for(self, name: str) -> float:
        """The initial learning rate of optimizer ``name``."""
        if isinstance(self.learning_rate, Mapping):
            return float(self.learning_rate[name])
        return float(self.learning_rate)

    def optimizer_settings(self, name: str) -> dict[str, float | bool]:
        """The keywords ``optim.get(name, ...)`` receives, learning rate aside."""
        accepted = optim.hyperparameter_names(name)
        settings: dict[str, float | bool] = {}
        for key in SHARED_HYPERPARAMETERS:
            value = getattr(self, key)
            if key in accepted and value is not None and value is not False:
                settings[key] = value
        settings.update(self.hyperparameters.get(name, {}))
        return settings

    def learning_rate_of(self, name: str, batches_per_epoch: int) -> optim.ScalarOrSchedule:
        """Optimizer ``name``'s rate: a number, or a function of its step count when a
        schedule is set (a constant rate stays a number, so its arithmetic is unchanged)."""
        lr0 = self.learning_rate_for(name)
        if self.schedule.is_constant:
            return lr0
        return self.schedule.for_optimizer(
            lr0, epochs=self.epochs, batches_per_epoch=batches_per_epoch
        )

    def built_optimizers(self, batches_per_epoch: int) -> tuple[Optimizer, ...]:
        """One configured optimizer per name, its rate scheduled over ``batches_per_epoch``."""
        return tuple(
            optim.get(
                name,
                learning_rate=self.learning_rate_of(name, batches_per_epoch),
                **self.optimizer_settings(name),
            )
            for name in self.optimizers
        )

    def batches_per_epoch(self, n_examples: int) -> int:
        batch = n_examples if self.batch_size is None else self.batch_size
        return -(-n_examples // batch)

    def network(self, n_features: int, n_classes: int = 2) -> Network:
        """The network [n_features, *hidden_layers, n_out]: one sigmoid output for two classes,
        ``n_classes`` softmax outputs for more."""
        return Network.for_classes(n_features, self.hidden_layers, n_classes)

    def standardizes(self, dataset: Dataset) -> bool:
        """Whether features are standardised: as set, or by default for every dataset but the
        course's moons (whose published numbers need the raw features)."""
        return dataset.name != "moons" if self.standardize is None else self.standardize

    def to_dict(self) -> dict[str, object]:
        settings = asdict(self)
        settings["optimizers"] = list(self.optimizers)
        settings["hidden_layers"] = list(self.hidden_layers)
        settings["learning_rate"] = (
            dict(self.learning_rate)
            if isinstance(self.learning_rate, Mapping)
            else self.learning_rate
        )
        settings["hyperparameters"] = {k: dict(v) for k, v in self.hyperparameters.items()}
        settings["schedule"] = self.schedule.to_dict()
        seeds = run_seeds(self.seed)
        settings["init_seed"] = seeds.init_seed
        settings["shuffle_seed"] = seeds.shuffle_seed
        return settings
