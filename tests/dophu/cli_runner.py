"""Run the ``dophu`` command line in-process, with stdout and stderr kept apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dophu.cli import app


class Dophu:
    def __init__(self, config_dir: Path, data_dir: Path):
        self.config_dir, self.data_dir = config_dir, data_dir
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, ["--config", str(self.config_dir), "--data",
                                        str(self.data_dir), *args], input=input)

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)
