"""Genome primitives shared by every stage: reference FASTA access (more to move here: docs/architecture plan)."""
