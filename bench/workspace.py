"""One run's working directory and the stores its stages share.

The 153k store is built once (through the real import path, which is the import
stage's figure) and reused by search, the weekly report and the API stage; the
synthetic scale store is built once by the scale stage. Everything lives in a
temporary directory that is removed at the end unless ``--keep`` names one.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bench.common import REPO, Row
from dophu.config import Plan, Source, find_plan_file, load_plan, load_sources
from store import STORE_FILENAME


@dataclass
class Workspace:
    root: Path
    quick: bool = False
    keep: bool = False
    corpus_limit: int | None = None         # None: all 153,825 items
    import_rows: list[Row] = field(default_factory=list)

    @classmethod
    def create(cls, keep: Path | None, quick: bool) -> Workspace:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            root = keep
        else:
            root = Path(tempfile.mkdtemp(prefix="dophu-bench-"))
        return cls(root=root, quick=quick, keep=keep is not None,
                   corpus_limit=20_000 if quick else None)

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def config_dir(self) -> Path:
        return REPO / "config"

    @cached_property
    def plan(self) -> Plan:
        return load_plan(find_plan_file(self.config_dir))

    @cached_property
    def sources(self) -> list[Source]:
        return load_sources(self.config_dir / "sources.yaml", self.plan)

    @property
    def corpus_data_dir(self) -> Path:
        """A data dir (``--data``) holding the 153k store, as ``dophu serve`` expects."""
        return self.root / "corpus"

    @property
    def corpus_store_path(self) -> Path:
        return self.corpus_data_dir / STORE_FILENAME

    def corpus_store(self) -> Path:
        """The real-corpus store, imported (and timed) on first use in this run."""
        if not self.import_rows:
            from bench.bench_store import import_corpus

            self.import_rows = import_corpus(self)
        return self.corpus_store_path
