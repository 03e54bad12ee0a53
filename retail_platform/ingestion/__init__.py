"""Ingestion: reading drops in every supported format and loading them exactly once (SPEC §2-3)."""
