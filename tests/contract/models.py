"""How many examples the stateful models run: a bounded number in CI, where each SQL example
costs real transactions; ``JIMU_MODEL_EXAMPLES`` raises every model to that many (the long
profile: ``JIMU_MODEL_EXAMPLES=500 pytest tests/contract -k model``)."""

from __future__ import annotations

import os


def model_examples(bounded: int) -> int:
    return max(bounded, int(os.environ.get("JIMU_MODEL_EXAMPLES", "0")))
