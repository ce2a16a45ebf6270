"""Evaluation suites comparing backends, revision methods and search methods."""
