"""Model metadata for imported samples: family, params, kind, vendor per model name.

Shipped entries (models.toml, package data) cover the public models of NoveltyBench's released
generations; sizes only where published. A user's `--meta FILE.toml` adds or overrides entries
with the same tables:

    [models."gemma-3-4b-it"]
    family = "gemma-3"
    params = 4e9
    kind = "instruct"
    vendor = "google"

A name is looked up as written, then by its last path part (`google/gemma-2-9b-it` ->
`gemma-2-9b-it`); a treatment arm `NAME[ARM]` takes NAME's entry.
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from homogeny.errors import HomogenyError, did_you_mean

FIELDS = ("family", "params", "kind", "vendor")
KINDS = ("base", "instruct", "human")


@dataclass(frozen=True)
class ModelMeta:
    """What is known about a model whose texts were imported (empty when nothing is)."""

    family: str = ""
    params: float = 0.0  # 0: unknown (unpublished)
    kind: str = "instruct"
    vendor: str = ""

    def as_info(self) -> dict[str, Any]:
        """The fields as stored in the models table's info (params as a whole number)."""
        return {**asdict(self), "params": int(self.params), "imported": True}


Manifest = dict[str, ModelMeta]


@functools.cache
def shipped() -> Manifest:
    """The shipped manifest (homogeny/importing/models.toml)."""
    text = importlib.resources.files("homogeny.importing").joinpath("models.toml").read_text()
    return parse(tomllib.loads(text), "models.toml (shipped)")


def read(path: Path | None) -> Manifest:
    """The shipped manifest with a user's TOML file over it (entries replaced by name)."""
    if path is None:
        return dict(shipped())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HomogenyError(f"--meta file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HomogenyError(f"cannot read --meta file {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise HomogenyError(f"{path}: not valid TOML ({exc})") from None
    return {**shipped(), **parse(data, str(path))}


def parse(data: dict[str, Any], where: str) -> Manifest:
    """Check a manifest's tables: [models."NAME"] with family, params, kind, vendor."""
    extra = [k for k in data if k != "models"]
    models = data.get("models", {})
    if extra or not isinstance(models, dict):
        raise HomogenyError(f'{where}: expected only [models."NAME"] tables, found {extra}')
    return {name: _entry(where, name, table) for name, table in models.items()}


def _entry(where: str, name: str, table: Any) -> ModelMeta:
    at = f'{where}: [models."{name}"]'
    if not isinstance(table, dict):
        raise HomogenyError(f"{at} must be a table of {', '.join(FIELDS)}")
    for key in table:
        if key not in FIELDS:
            hint = did_you_mean(key, list(FIELDS))
            raise HomogenyError(f"{at} has unknown field {key!r}{hint}; use {', '.join(FIELDS)}")
    params = table.get("params", 0)
    if isinstance(params, bool) or not isinstance(params, (int, float)) or params < 0:
        raise HomogenyError(f"{at}: params must be a number of parameters >= 0 (e.g. 4e9)")
    for key in ("family", "kind", "vendor"):
        if key in table and not isinstance(table[key], str):
            raise HomogenyError(f"{at}: {key} must be a string")
    kind = table.get("kind", "instruct")
    if kind not in KINDS:
        raise HomogenyError(f"{at}: kind {kind!r} is unknown; use {', '.join(KINDS)}")
    return ModelMeta(table.get("family", ""), float(params), kind, table.get("vendor", ""))


def lookup(manifest: Manifest, name: str) -> ModelMeta:
    """The entry for a model name (an arm `NAME[ARM]` takes NAME's), or an empty one."""
    base = name.split("[", 1)[0] if name.endswith("]") else name
    for candidate in (base, base.rsplit("/", 1)[-1]):
        if candidate in manifest:
            return manifest[candidate]
    tail = base.rsplit("/", 1)[-1].lower()
    for key, meta in manifest.items():
        if key.rsplit("/", 1)[-1].lower() == tail:
            return meta
    return ModelMeta()
