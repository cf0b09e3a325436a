"""Everything after loading: sources, solver, lockfile, graph, rendering, reports, CLI."""
