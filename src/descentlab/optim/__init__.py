"""Optimizers as pure ``init`` / ``update`` pairs (see ``descentlab.optim.base``).

``get(name, **hyperparameters)`` builds one by name; ``names()`` lists them. Which optimizers
exist, and what descentlab knows about each (its summary, hyperparameters and defaults,
family, what it needs of the training loop, and where it applies), is
``descentlab.optim.registry``; the wrappers (lookahead, sam) are named with the optimizer they
wrap, ``get("lookahead:adam", ...)``. ``descentlab.optim.drive`` runs any of them on a
function, ``descentlab.optim.layout`` describes the layers of the flat parameter buffer.
"""

from __future__ import annotations

from descentlab.optim.adabelief import AdaBeliefState, adabelief
from descentlab.optim.adadelta import AdadeltaState, adadelta
from descentlab.optim.adafactor import AdafactorState, adafactor
from descentlab.optim.adagrad import AdagradState, adagrad
from descentlab.optim.adam import AdamState, adam, adamw
from descentlab.optim.adamax import AdamaxState, adamax
from descentlab.optim.adan import AdanState, adan
from descentlab.optim.asgd import ASGDState, asgd
from descentlab.optim.base import (
    Optimizer,
    OptState,
    Params,
    ScalarOrSchedule,
    Schedule,
    apply_updates,
    learning_rate_at,
    record_hyperparameters,
    reported_params,
)
from descentlab.optim.gd import GDState, gd
from descentlab.optim.lamb import LambState, lamb
from descentlab.optim.lars import LarsState, lars
from descentlab.optim.layout import Layout, Slot
from descentlab.optim.lbfgs import LBFGSState, lbfgs
from descentlab.optim.lion import LionState, lion
from descentlab.optim.lookahead import LookaheadState, lookahead
from descentlab.optim.momentum import MomentumState, momentum
from descentlab.optim.muon import MuonState, muon
from descentlab.optim.nadam import NAdamState, nadam
from descentlab.optim.prodigy import ProdigyState, prodigy
from descentlab.optim.radam import RAdamState, radam
from descentlab.optim.registry import (
    COMMANDS,
    FAMILIES,
    NEEDS,
    Hyperparameter,
    OptimizerSpec,
    check_full_batch,
    check_name,
    family_members,
    get,
    hyperparameter_names,
    names,
    names_with,
    runnable_names,
    scope_hyperparameters,
    spec,
    summaries,
    wrapper_names,
)
from descentlab.optim.rmsprop import RMSpropState, rmsprop
from descentlab.optim.rprop import RpropState, rprop
from descentlab.optim.sam import SAMState, sam
from descentlab.optim.schedule_free import (
    ScheduleFreeAdamWState,
    ScheduleFreeSGDState,
    schedule_free_adamw,
    schedule_free_sgd,
)
from descentlab.optim.sgd import SGDState, sgd
from descentlab.optim.yogi import YogiState, yogi

__all__ = [
    "COMMANDS",
    "FAMILIES",
    "NEEDS",
    "ASGDState",
    "AdaBeliefState",
    "AdadeltaState",
    "AdafactorState",
    "AdagradState",
    "AdamState",
    "AdamaxState",
    "AdanState",
    "GDState",
    "Hyperparameter",
    "LBFGSState",
    "LambState",
    "LarsState",
    "Layout",
    "LionState",
    "LookaheadState",
    "MomentumState",
    "MuonState",
    "NAdamState",
    "OptState",
    "Optimizer",
    "OptimizerSpec",
    "Params",
    "ProdigyState",
    "RAdamState",
    "RMSpropState",
    "RpropState",
    "SAMState",
    "SGDState",
    "ScalarOrSchedule",
    "Schedule",
    "ScheduleFreeAdamWState",
    "ScheduleFreeSGDState",
    "Slot",
    "YogiState",
    "adabelief",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "adan",
    "apply_updates",
    "asgd",
    "check_full_batch",
    "check_name",
    "family_members",
    "gd",
    "get",
    "hyperparameter_names",
    "lamb",
    "lars",
    "lbfgs",
    "learning_rate_at",
    "lion",
    "lookahead",
    "momentum",
    "muon",
    "nadam",
    "names",
    "names_with",
    "prodigy",
    "radam",
    "record_hyperparameters",
    "reported_params",
    "rmsprop",
    "rprop",
    "runnable_names",
    "sam",
    "schedule_free_adamw",
    "schedule_free_sgd",
    "scope_hyperparameters",
    "sgd",
    "spec",
    "summaries",
    "wrapper_names",
    "yogi",
]
