"""Stage `tensors`: BAM/CRAM pileups around candidate variants to fixed-layout tensors."""
