"""Stage `impact`: consequences from a gene annotation, weighted mutation impact per gene and sample, and TMB."""
