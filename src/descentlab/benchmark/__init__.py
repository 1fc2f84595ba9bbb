"""The benchmark's parts (issue 15): problems, equal tuning budgets and scores, each module one
piece of a fair comparison of optimizers, built in slices before the command that joins them."""
