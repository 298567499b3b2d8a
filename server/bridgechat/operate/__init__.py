"""Operator commands: effective configuration, preflight checks, doctor, moving data."""
