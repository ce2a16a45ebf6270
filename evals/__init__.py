"""Evaluation suites comparing backends, revision methods and search methods.

- :mod:`evals.suite`: suites as YAML data (tasks x methods x backends x seeds x budgets).
- :mod:`evals.runner`: runs the cells in parallel (processes or Ray) and resumes.
- :mod:`evals.cells`: one cell (search, ``solve()`` or the revision experiment) -> one row.
- :mod:`evals.store`: ``rows.jsonl`` and the SQLite store ``results.sqlite``.
- :mod:`evals.report` and :mod:`evals.plots`: markdown tables and PNG plots.

The command line is ``llmgs eval run|report|list`` (docs/evals.md).
"""
