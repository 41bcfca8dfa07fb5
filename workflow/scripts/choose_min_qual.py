#!/usr/bin/env python
"""Print the QUAL threshold for PASS with the best F1 over one or more `oncorisk evaluate --qual-thresholds` results.

Usage: python workflow/scripts/choose_min_qual.py METRICS.json [METRICS.json ...]

The results' counts are summed (the held-out folds of a cross-validation), and the threshold with the highest F1 of
all alleles, SNVs and indels together, is printed (the lowest on ties). train_shipped_models.sh passes it to
`oncorisk train-caller --min-qual`, which records it in model_info.json; `oncorisk call` applies it when
`--min-qual` (config call.min_qual) is not given.
"""

from __future__ import annotations

import json
import sys

from oncorisk.caller.evaluate import best_min_qual

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    print(f"{best_min_qual([json.loads(open(p).read()) for p in sys.argv[1:]]):g}")
