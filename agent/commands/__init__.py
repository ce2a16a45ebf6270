"""One module per ``llmgs`` subcommand: ``register(subparsers)`` and ``run(args) -> int``.

:data:`SUMMARIES` is the one line each command shows in ``llmgs --help``; it lives here, not in
the command's module, so that listing the commands imports none of them.
"""

SUMMARIES: dict[str, str] = {
    "solve": "turn a task described in words into a program (LLM proposals + search)",
    "tasks": "list the tasks (ids, grids, descriptions)",
    "render": "run a program on one instance and draw it (ASCII, PNG, GIF)",
    "bench": "measure the Karel evaluators (programs/s, actions/s, memory, JIT cost)",
    "search": "search for a program with mosaic, Scheduled HC, HC or random search (no LLM)",
    "llm": "ask a model one question through the gateway (checks a backend)",
    "models": "list model backends, whether each is reachable, and the local models' status",
    "eval": "run eval suites (backends, revision, search methods) and report them",
    "serve": "run the HTTP API and web page",
}
"""Every subcommand, in the order ``llmgs --help`` lists them, with its one-line summary."""
