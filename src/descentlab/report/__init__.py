"""The report: cost-curve and decision-boundary pictures, one self-contained HTML page, and a
benchmark's tables and pictures."""
