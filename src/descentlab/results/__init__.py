"""What the Python API returns: one results object per kind of run, for notebooks and scripts.

``ExperimentResults`` (``compare``, ``train``), ``SweepResults`` (``sweep``) and
``LandscapeResults`` (``landscape``) each hold the library's own outcome objects and add:

- a ``repr`` of a few lines (what ran, then one line per optimizer) and ``_repr_html_``, the
  same table in Jupyter (every string escaped);
- ``plot(kind)``: one of the command's pictures as a ``matplotlib.figure.Figure``, drawn by the
  same ``descentlab.report`` functions (matplotlib is imported only here);
- ``to_pandas()``: one row per run, the numbers results.json holds, and ``history_frame()``, the
  costs in long format (pandas is optional and imported only here);
- ``save(dir)``: the run folder the command writes, by the same writer (``descentlab.runs``).

``experiment``, ``sweep``, ``landscape``: one module per kind; ``display``: the table (text and
HTML), pandas on demand and figures Jupyter shows.
"""

from descentlab.results.experiment import ExperimentResults
from descentlab.results.landscape import LandscapeResults
from descentlab.results.sweep import SweepResults

__all__ = ["ExperimentResults", "LandscapeResults", "SweepResults"]
