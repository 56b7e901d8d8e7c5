"""Kudos: pricing (pure functions) and the append-only ledger."""
