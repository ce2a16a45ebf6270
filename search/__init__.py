"""Programmatic search: search space, hill climbing, Scheduled HC and the LLM-GS loop."""
