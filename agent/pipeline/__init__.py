"""The pieces of ``agent.solve()``: matching, sampling, revision, results and run directories."""
