"""Stage `call`: a CNN + BiLSTM over pileup tensors, trained checkpoints, VCF writing and evaluation."""
