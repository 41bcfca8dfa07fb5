"""Stage `fusion`: genomic features and imaging embeddings joined into a per-patient risk, with CV metrics and SHAP."""
