"""Profiling and data quality: know the data before and after moving it.

Parts, in the order a profile is made:

- ``pushdown``: aggregates inside the database (counts, nulls, min/max, mean, stddev,
  lengths, exact distinct) and HyperLogLog sketches for approximate distinct counts;
- ``sampling``: the sample for everything else (TABLESAMPLE on PostgreSQL, random key ranges
  elsewhere), size configurable and reported;
- ``stats`` and ``semantic``: quantiles, histogram, top values, shape patterns, semantic
  types with their share, PII flags;
- ``quality``: scores per column and table with the rules shown (weights documented there);
- ``profile``: :func:`profile_table`, the one entry point; ``model``: the dataclasses;
- ``fingerprint`` and ``stored``: profiles kept in the store and reused while unchanged;
- ``parallel``: many tables on Dask; ``drift``: before/after a migration job;
- ``report``: the ydata-profiling HTML report (optional extra ``profiling``).

    from workbench.connectors import connect
    from workbench.profiling import profile_table
    profile = profile_table(connect("sqlite:///chinook.sqlite"), "Customer")
    profile.column("Email").semantic  # "email"
"""

from workbench.profiling.drift import DriftPair, DriftReport, drift_report
from workbench.profiling.model import ColumnProfile, QualityScore, TableProfile
from workbench.profiling.parallel import profile_tables
from workbench.profiling.profile import ProfileOptions, find_table, profile_table
from workbench.profiling.quality import WEIGHTS
from workbench.profiling.report import full_report
from workbench.profiling.stored import profile_stored, profiles_for

__all__ = [
    "WEIGHTS",
    "ColumnProfile",
    "DriftPair",
    "DriftReport",
    "ProfileOptions",
    "QualityScore",
    "TableProfile",
    "drift_report",
    "find_table",
    "full_report",
    "profile_stored",
    "profile_table",
    "profile_tables",
    "profiles_for",
]
