"""oncorisk: from aligned reads to a traceable per-patient cancer-risk score."""

__version__ = "0.1.0"
