"""Finds the tagger for a context: the classifier when one is installed, else none.

Until a classifier exists, items are stored untagged (``relevant`` is null):
no tag is ever invented.
"""

from __future__ import annotations

from dophu.context import Context
from dophu.pipeline import ItemTagger


def load_tagger(context: Context) -> ItemTagger | None:
    try:
        from classifier.tagger import build_tagger  # type: ignore[attr-defined]
    except ImportError:
        return None
    return build_tagger(context.plan, model_path=context.model_path)
