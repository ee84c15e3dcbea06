"""Plain-text and JSON renderings of a snapshot (no textual, no rich)."""
