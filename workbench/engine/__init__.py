"""The engine: plan, copy partitions on Dask, checkpoints, quarantine, validation, lineage.

Entry points: ``run.copy_database`` (a whole database), ``migrate`` (a project's mapped
tables), ``repair`` (re-copy what validation found different).
"""
