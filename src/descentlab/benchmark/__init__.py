"""The benchmark (``descentlab benchmark``): optimizers tuned on an equal budget and compared.

``problems``  ``Problem``, the suite ``SUITES`` and ``load_problem_file``: what is trained,
              on which data and split, for how many epochs, and the target that counts
"""
