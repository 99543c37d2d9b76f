"""CLI command groups; each module exposes ``register(app)`` and keeps its options next to its code."""
