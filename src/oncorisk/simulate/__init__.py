"""Seeded simulator of a complete demo cohort: reference, genes, BAMs, truth, labels and imaging embeddings."""
