"""Shared input/output helpers."""
