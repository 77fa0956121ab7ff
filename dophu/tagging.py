"""Finds the tagger for a context: the classifier when one is installed, else none.

Until a classifier exists, items are stored untagged (``relevant`` is null):
no tag is ever invented. The tagger is wrapped so that each ``tag_item`` call is
timed into the ``dophu_tagging_seconds`` histogram (``dophu.metrics``).
"""

from __future__ import annotations

from dophu.context import Context
from dophu.pipeline import ItemTagger


def load_tagger(context: Context) -> ItemTagger | None:
    try:
        from classifier.tagger import build_tagger  # type: ignore[attr-defined]
    except ImportError:
        return None
    from dophu.metrics import TimedTagger

    return TimedTagger(build_tagger(context.plan, model_path=context.model_path))
