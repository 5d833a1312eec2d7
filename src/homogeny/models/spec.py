"""Model identity: one string names a model; parse it, redact it, describe it without loading.

Specs: `zoo:ID` (or a bare zoo id), `gguf:PATH`, `hf:PATH` (a GGUF file or a transformers
folder), `openai:URL#MODEL`. Credentials in a URL (`http://user:secret@host/v1`) are split off
at parse time: `str(spec)`, `short`, `target` and every ModelInfo carry the URL without them;
they stay in a private field (not in repr, not compared) used only to authenticate requests.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from homogeny.errors import ModelFileError, UnknownModelError, did_you_mean
from homogeny.models.base import ModelInfo

SCHEMES = ("zoo", "gguf", "hf", "openai", "imported")
# "scheme://user:password@" in any text: the userinfo is dropped when printing or storing.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@#?]*@")


def redact(text: str) -> str:
    """`text` with the userinfo (user:password@) of every URL in it removed."""
    return _USERINFO.sub(r"\1", text)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model string: scheme, target (zoo id, path or URL) and served model name."""

    scheme: str
    target: str
    name: str = ""
    auth: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        if self.scheme == "openai":
            return f"openai:{self.target}#{self.name}"
        return f"{self.scheme}:{self.target}"

    @property
    def short(self) -> str:
        """A short label for tables and plots."""
        if self.scheme in ("zoo", "imported"):
            return self.target
        if self.scheme == "openai":
            return self.name
        return Path(self.target).stem

    @property
    def model_id(self) -> str:
        """The spec as stored and printed (never with credentials)."""
        return str(self)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(URL without userinfo, (user, password) or None)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, (unquote(user), unquote(password))


def _bad_spec(spec: str, hint: str = "") -> UnknownModelError:
    return UnknownModelError(
        f"unknown model {redact(spec)!r}{hint}; use zoo:ID (see `homogeny models`), gguf:PATH, "
        f"hf:PATH or openai:URL#MODEL"
    )


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model string; a bare zoo id is accepted. Raises UnknownModelError on bad input."""
    from homogeny.models import zoo

    spec = spec.strip()
    if not spec:
        raise UnknownModelError(
            "empty model spec; use zoo:ID, gguf:PATH, hf:PATH or openai:URL#MODEL"
        )
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in SCHEMES:
        if spec in zoo.ZOO:
            return ModelSpec("zoo", spec)
        if not sep and spec.endswith(".gguf"):
            return _file_spec("gguf", spec, spec)
        hint = did_you_mean(spec, list(zoo.ZOO)) or did_you_mean(scheme, list(SCHEMES))
        raise _bad_spec(spec, hint)
    if scheme == "zoo":
        zoo.entry(rest)  # raises with a suggestion
        return ModelSpec("zoo", rest)
    if scheme == "openai":
        return _openai_spec(spec, rest)
    if scheme == "imported":
        return _imported_spec(spec, rest)
    return _file_spec(scheme, rest, spec)


def _imported_spec(spec: str, name: str) -> ModelSpec:
    """`imported:NAME`: texts someone else generated (`homogeny import`); NAME is the data's
    `model` field (a treatment arm as `NAME[ARM]`). It has texts only: nothing to load, so no
    generate, score or hidden states (registry.factory_path says so in one line)."""
    if not name.strip():
        raise UnknownModelError(
            f"model spec {spec!r} names no model; write imported:NAME (the data's `model`)"
        )
    return ModelSpec("imported", name.strip())


def imported_info(spec: ModelSpec) -> ModelInfo:
    """Identity of imported texts: the sha256 stands for the name (the only handle)."""
    digest = hashlib.sha256(f"imported|{spec.target}".encode()).hexdigest()
    return ModelInfo(model_id=str(spec), sha256=digest, backend="imported", spec=str(spec))


def _openai_spec(spec: str, rest: str) -> ModelSpec:
    url, _, name = rest.partition("#")
    if not url.startswith(("http://", "https://")) or not name:
        raise UnknownModelError(
            f"bad openai spec {redact(spec)!r}; write openai:http://HOST:PORT/v1#MODEL_NAME"
        )
    clean, auth = split_credentials(url)
    return ModelSpec("openai", clean.rstrip("/"), name, auth)


def _file_spec(scheme: str, path: str, spec: str) -> ModelSpec:
    if not path:
        raise UnknownModelError(f"model spec {spec!r} names no path; write {scheme}:/path/to/model")
    target = Path(path)
    if not target.exists():
        raise ModelFileError(f"model file {path!r} does not exist; check the path in {spec!r}")
    if not (target.is_file() or target.is_dir()):
        raise ModelFileError(f"model path {path!r} is not a regular file or folder")
    return ModelSpec(scheme, path)


def as_spec(spec: str | ModelSpec) -> ModelSpec:
    """A ModelSpec from a string or a ModelSpec."""
    return spec if isinstance(spec, ModelSpec) else parse_spec(spec)


def openai_info(spec: ModelSpec) -> ModelInfo:
    """Identity of a served model: its sha256 stands for (URL, model name), the only handle."""
    digest = hashlib.sha256(f"openai|{spec.target}|{spec.name}".encode()).hexdigest()
    return ModelInfo(
        model_id=spec.name, sha256=digest, backend="openai", spec=str(spec), kind="instruct"
    )


def model_info(spec: str | ModelSpec) -> ModelInfo:
    """Identify a model (id, sha256, kind) without loading its weights."""
    parsed = as_spec(spec)
    if parsed.scheme == "openai":
        return openai_info(parsed)
    if parsed.scheme == "imported":
        return imported_info(parsed)
    if parsed.scheme == "hf" and not parsed.target.endswith(".gguf"):
        from homogeny.models import zoo

        folder = Path(parsed.target)
        kind = "base" if "base" in folder.name.lower() else "instruct"
        return ModelInfo(folder.name, zoo.verified_sha256(folder), "hf", str(parsed), kind=kind)
    return gguf_path_and_info(parsed)[1]


def gguf_path_and_info(spec: ModelSpec) -> tuple[Path, ModelInfo]:
    """Resolve a zoo or gguf spec to its file and a ModelInfo with the file's sha256."""
    from homogeny.models import zoo

    if spec.scheme == "zoo":
        e = zoo.entry(spec.target)
        if e.fmt != "gguf":
            raise UnknownModelError(
                f"zoo model {e.id!r} is an embedding model, not a generator; pick a GGUF model"
            )
        path = zoo.local_path(e.id)
        return path, ModelInfo(
            model_id=e.id,
            sha256=e.sha256 or zoo.verified_sha256(path),
            backend="llamacpp",
            spec=str(spec),
            kind=e.kind,
            params=e.n_params,
            family=e.family,
        )
    path = Path(spec.target)
    kind = "base" if "base" in path.name.lower() else "instruct"
    return path, ModelInfo(
        model_id=path.stem,
        sha256=zoo.verified_sha256(path),
        backend="llamacpp",
        spec=str(spec),
        kind=kind,
        params=0,
        family="",
    )


describe = model_info
