"""Prompt templates as package data, read by ``agent``."""
