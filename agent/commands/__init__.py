"""One module per ``llmgs`` subcommand: ``register(subparsers)`` and ``run(args) -> int``."""
