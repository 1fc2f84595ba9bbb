"""descentlab: train small neural networks with classic optimizers and compare how each learns."""

__version__ = "0.1.0"

__all__ = ["__version__"]
