"""Environments, the DSL, tasks, rollouts and rendering."""
