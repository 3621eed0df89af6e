"""Chapter 06: why do two runs disagree? Plant a disagreement, re-run a run from its record.

These run experiments; the tracking package below them only keeps results.
"""

from reproml_course.chapters.audit.disagreement import plant_disagreement, reveal_cause
from reproml_course.chapters.audit.rerun import Comparison, MetricComparison, rerun

__all__ = ["Comparison", "MetricComparison", "plant_disagreement", "rerun", "reveal_cause"]
