"""The benchmark (issue 15): problems, equal tuning budgets and scores, built in slices."""
