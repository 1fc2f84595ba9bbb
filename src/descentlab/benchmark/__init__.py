"""The benchmark's parts (issue 15): each module one piece of a fair comparison of optimizers."""
