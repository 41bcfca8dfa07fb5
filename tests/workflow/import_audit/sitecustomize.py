"""Import audit for tests/workflow/test_workflow.py (put this folder on PYTHONPATH).

When ONCORISK_IMPORT_AUDIT names a folder, every Python process started as `oncorisk ...` writes, at exit,
its arguments and the oncorisk modules it loaded into <folder>/<pid>.json. The test checks that each
rule's conda environment (envs/*.yaml) pins every third-party package those modules import.
"""

import atexit
import json
import os
import sys


def _record() -> None:
    folder = os.environ.get("ONCORISK_IMPORT_AUDIT")
    if not folder or os.path.basename(sys.argv[0]) not in ("oncorisk", "__main__.py"):
        return
    own = sorted(name for name in list(sys.modules) if name == "oncorisk" or name.startswith("oncorisk."))
    with open(os.path.join(folder, f"{os.getpid()}.json"), "w") as fh:
        json.dump({"argv": sys.argv[1:], "oncorisk_modules": own}, fh)


atexit.register(_record)
