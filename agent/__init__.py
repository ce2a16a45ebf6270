"""The agent layer: LLM gateway, Pythonic-DSL conversion, revision, solve(), CLI and service."""
