"""Configuration: hyperparameters from a dict, or from a JSON or YAML file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def config_from(source: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """A dict as it is; a ``.json``, ``.yaml`` or ``.yml`` file read. The result must be a
    JSON object (a mapping at the top)."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        path = Path(source)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml  # type: ignore[import-untyped]  # only when a YAML file is given

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"configuration must be a mapping at the top, not {type(data).__name__}")
    json.dumps(data)  # TypeError now, not at push, for values JSON cannot carry
    return data
