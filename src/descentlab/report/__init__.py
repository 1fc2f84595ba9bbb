"""The report: cost-curve and decision-boundary pictures, and one self-contained HTML page."""
