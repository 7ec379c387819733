"""Coverage-guided fuzzing of the decryptor and key parsers (atheris; not part of `make test`).

Anything but a DecryptionError (or KeyFormatError) escaping is a bug: the
portal would turn it into a 500, and the caseworker client into a traceback.

    .venv/bin/pip install atheris
    mkdir -p /tmp/corpus
    .venv/bin/python tests/fuzz/fuzz_decrypt.py /tmp/corpus -max_total_time=600 -max_len=200000
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

import atheris

with atheris.instrument_imports():
    # The package loads its modules lazily: name them, so all are instrumented.
    import importlib

    import crypto

    for name in ("age", "armor", "b64", "bech32", "bufio", "format", "keys", "stream", "x25519"):
        importlib.import_module(f"crypto.{name}")
    importlib.import_module("crypto.mlkem768x25519")
    importlib.import_module("crypto.scrypt")

# Fixed keys, so a crash found once reproduces from its input file alone.
X25519 = crypto.X25519Identity(bytes(range(32)))
HYBRID = crypto.MLKEM768X25519Identity(bytes(range(32)))
PASSPHRASE = crypto.ScryptIdentity("pw", max_work_factor=4)


def one_input(data: bytes) -> None:
    with contextlib.suppress(crypto.DecryptionError):
        reader = crypto.Decryptor(io.BytesIO(data), [X25519, HYBRID, PASSPHRASE])
        for _ in reader.iter_chunks():
            pass
    with contextlib.suppress(crypto.KeyFormatError):
        crypto.parse_identities(data.decode("utf-8", "replace"))


def seed(corpus: str) -> None:
    """Start from valid files of every kind, so the fuzzer reaches the payload quickly."""
    files = [
        crypto.encrypt(os.urandom(size), [X25519.recipient], armor=armor)
        for size in (0, 5, 70_000)
        for armor in (False, True)
    ]
    files.append(crypto.encrypt(b"hybrid", [HYBRID.recipient]))
    files.append(crypto.encrypt(b"passphrase", [crypto.ScryptRecipient("pw", 2)]))
    for i, content in enumerate(files):
        with open(os.path.join(corpus, f"seed-{i}"), "wb") as f:
            f.write(content)


if __name__ == "__main__":
    corpus = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus and not os.listdir(corpus):
        seed(corpus)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
