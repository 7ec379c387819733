"""Throughput and peak memory of `crypto` (our age) against the stock `age` command.

Why this exists: the service encrypts every report and attachment with `crypto`, and
caseworkers decrypt large exports with it. Our target is to be at least 1.5x as fast as the
reference `age` binary measured in the same run on the same machine, and to use memory that
does not grow with the file size.

Fairness: `age` is a whole process, so ours is timed as a whole process too: our command line,
`python -m crypto encrypt|decrypt`, start-up and imports included. Our
in-process time (no start-up) is reported as an extra line for context. Both sides read the
same cached input and write to the same temp directory (or /dev/null); outputs are deleted
before every run, outside the timed region, so neither side pays for truncating a file.

    python bench/crypto_throughput.py [--size-mib 256] [--repeat 3] [--skip-1gib]

Progress goes to stderr, results to stdout. MB = 10^6 bytes of plaintext; MiB = 2^20 bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# `subprocess` (~7 ms to import) is imported where it is used, to keep this script light.
from _common import progress, require_project

require_project("crypto")

import cryptography  # noqa: E402

import crypto  # noqa: E402

MIB = 1 << 20
MB = 10**6
BLOCK = MIB  # our worker's read and write buffer
TARGET_RATIO = 1.5
MEMORY_SMALL_MIB = 64
MEMORY_LARGE_MIB = 1024
# Peak RSS may wobble by allocator and readahead noise between runs; holding the whole
# file would add ~960 MiB between a 64 MiB and a 1 GiB input, so a few MiB is a safe line.
MEMORY_TOLERANCE_MIB = 4.0
GNU_TIME = "/usr/bin/time"


# --- ours in-process: the library streaming a file, no start-up ---------------------------


def encrypt_file(src_path: str, dst_path: str, recipient: str) -> None:
    """Stream a file into an age file, 1 MiB at a time, as a command-line tool would."""
    recipients = [crypto.parse_recipient(recipient)]
    with open(src_path, "rb", buffering=0) as src, open(dst_path, "wb", buffering=BLOCK) as dst:
        enc = crypto.Encryptor(dst, recipients)
        while block := src.read(BLOCK):
            enc.write(block)
        enc.close()


def decrypt_file(src_path: str, dst_path: str, identity_file: str) -> None:
    """Stream an age file out in the payload's own chunks (`iter_chunks`: no extra copy)."""
    identities = crypto.parse_identities(Path(identity_file).read_text())
    with open(src_path, "rb", buffering=BLOCK) as src, open(dst_path, "wb", buffering=BLOCK) as dst:
        for chunk in crypto.Decryptor(src, identities).iter_chunks():
            dst.write(chunk)


def run_worker(mode: str, src: str, dst: str, key: str) -> None:
    """One streaming job; KEY is a recipient (age1…) to encrypt, an identity file to decrypt."""
    if mode == "encrypt":
        encrypt_file(src, dst, key)
    else:
        decrypt_file(src, dst, key)


# --- commands and measurements -------------------------------------------------------------


def ours_cmd(mode: str, src: Path | str, dst: Path | str, key: str) -> list[str]:
    """Our side as a whole process: our command line, as a caseworker would run it."""
    flag = "-r" if mode == "encrypt" else "-i"
    return [sys.executable, "-m", "crypto", mode, flag, key, "-o", str(dst), str(src)]


def age_encrypt_cmd(age: str, recipient: str, src: Path | str, dst: Path | str) -> list[str]:
    return [age, "-r", recipient, "-o", str(dst), str(src)]


def age_decrypt_cmd(age: str, key_file: Path, src: Path | str, dst: Path | str) -> list[str]:
    return [age, "-d", "-i", str(key_file), "-o", str(dst), str(src)]


def run(cmd: Sequence[str]) -> None:
    """Run a command to completion; a failure stops the benchmark with its stderr."""
    import subprocess

    result = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(cmd)}\n{stderr}")


def timed(action: Callable[[], None], output: Path | str) -> float:
    """Wall-clock seconds of one run; a previous output is removed first, untimed."""
    if str(output) != os.devnull:
        Path(output).unlink(missing_ok=True)
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def write_random_file(path: Path, size: int) -> None:
    """Incompressible input, generated 1 MiB at a time so 1 GiB never sits in memory."""
    with open(path, "wb") as out:
        remaining = size
        while remaining:
            n = min(BLOCK, remaining)
            out.write(os.urandom(n))
            remaining -= n


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def peak_rss_kib(cmd: Sequence[str], scratch: Path) -> int:
    """Peak resident set size of one child process, in KiB.

    Not `getrusage(RUSAGE_CHILDREN)` or `os.wait4()` from this process: a child starts in
    this process's address space (CPython's subprocess uses vfork(); fork() would copy it),
    and on exec Linux folds that old address space's high-water mark into the child's
    ru_maxrss, so every child would inherit this (much larger) process's RSS: /bin/true came
    out at 600+ MiB under a 300 MiB parent. (RUSAGE_CHILDREN is moreover a max over all
    children so far.) GNU time is a tiny C program that fork()s, exec()s and reports
    wait4()'s ru_maxrss for that one child, so its floor is ~1 MiB, printed as "launcher
    floor"; for our worker it agrees with VmHWM read from /proc/self/status at exit. Without
    GNU time we fall back to wait4() here, and the figures are upper bounds.
    """
    import subprocess

    if os.access(GNU_TIME, os.X_OK):
        report = scratch / "peak-rss.txt"
        run([GNU_TIME, "-f", "%M", "-o", str(report), *cmd])
        return int(report.read_text().split()[-1])
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return usage.ru_maxrss


def rss_method() -> str:
    return "GNU time %M" if os.access(GNU_TIME, os.X_OK) else "wait4 from here (upper bound)"


# --- the benchmark -------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Everything both tools share: one input, one key, one ciphertext to decrypt.

    The ciphertext is age's (made while verifying interop), so both decrypt the same bytes.
    """

    work: Path
    age: str
    plaintext: Path
    size: int
    key_file: Path
    recipient: str
    ciphertext: Path


@dataclass(frozen=True)
class Operation:
    name: str
    mode: str
    to_null: bool


OPERATIONS = (
    Operation("encrypt file -> file", "encrypt", False),
    Operation("encrypt file -> /dev/null", "encrypt", True),
    Operation("decrypt file -> file", "decrypt", False),
    Operation("decrypt file -> /dev/null", "decrypt", True),
)


@dataclass(frozen=True)
class Timing:
    """Best wall-clock seconds of each side for one operation."""

    ours: float
    age: float
    in_process: float


def make_key(work: Path) -> tuple[Path, str]:
    """One X25519 key, written in age-keygen's format so both tools read the same file."""
    identity = crypto.X25519Identity.generate()
    key_file = work / "key.txt"
    key_file.write_text(crypto.identity_file_text(identity))
    key_file.chmod(0o600)
    return key_file, str(identity.recipient)


def verify_interop(setup: Setup, ours_ct: Path, check: Path) -> list[str]:
    """Each tool must read the other's output, or the speed comparison means nothing."""
    expected = sha256_file(setup.plaintext)
    lines = []
    progress("verifying: ours encrypts, age -d decrypts")
    encrypt_file(str(setup.plaintext), str(ours_ct), setup.recipient)
    run(age_decrypt_cmd(setup.age, setup.key_file, ours_ct, check))
    lines.append(_compare("ours encrypt -> age -d", expected, sha256_file(check)))
    progress("verifying: age encrypts, ours decrypts")
    run(age_encrypt_cmd(setup.age, setup.recipient, setup.plaintext, setup.ciphertext))
    decrypt_file(str(setup.ciphertext), str(check), str(setup.key_file))
    lines.append(_compare("age encrypt -> ours decrypt", expected, sha256_file(check)))
    ours_ct.unlink()
    check.unlink()
    return lines


def _compare(label: str, expected: str, actual: str) -> str:
    if actual != expected:
        raise SystemExit(f"interop FAILED: {label}: SHA-256 {actual} != {expected}")
    return f"{label}: SHA-256 matches ({expected[:16]}…)"


def actions(setup: Setup, op: Operation) -> list[tuple[str, Callable[[], None], Path | str]]:
    """The three ways to run one operation: (side, action, output path)."""
    src = setup.plaintext if op.mode == "encrypt" else setup.ciphertext
    outs = {
        side: os.devnull if op.to_null else setup.work / f"out-{side}"
        for side in ("ours", "age", "in-process")
    }
    key = setup.recipient if op.mode == "encrypt" else str(setup.key_file)
    if op.mode == "encrypt":
        age_cmd = age_encrypt_cmd(setup.age, setup.recipient, src, outs["age"])
    else:
        age_cmd = age_decrypt_cmd(setup.age, setup.key_file, src, outs["age"])
    ours = ours_cmd(op.mode, src, outs["ours"], key)
    return [
        ("ours", lambda: run(ours), outs["ours"]),
        ("age", lambda: run(age_cmd), outs["age"]),
        (
            "in-process",
            lambda: run_worker(op.mode, str(src), str(outs["in-process"]), key),
            outs["in-process"],
        ),
    ]


def measure_operation(setup: Setup, op: Operation, repeat: int) -> Timing:
    """Best of `repeat`; the sides take turns so drift (heat, page cache) hits both alike."""
    best: dict[str, float] = {}
    steps = actions(setup, op)
    for i in range(1, repeat + 1):
        for side, action, output in steps:
            progress(f"{op.name}: {side}, run {i}/{repeat}")
            seconds = timed(action, output)
            best[side] = min(best.get(side, seconds), seconds)
    for _, _, output in steps:
        if str(output) != os.devnull:
            Path(output).unlink(missing_ok=True)
    return Timing(ours=best["ours"], age=best["age"], in_process=best["in-process"])


def measure_memory(setup: Setup, sizes_mib: Sequence[int]) -> dict[str, dict[int, float]]:
    """Peak RSS (MiB) of one whole process per (tool, direction, input size).

    Outputs go to /dev/null except our ciphertext, which the decrypt runs then read (age
    decrypting it is also a 1 GiB interop check). Page cache is not RSS, so a file output
    would not change the figures.
    """
    peaks: dict[str, dict[int, float]] = {}
    for size_mib in sizes_mib:
        plain = setup.work / f"mem-{size_mib}.bin"
        ct = setup.work / f"mem-{size_mib}.age"
        progress(f"peak memory: writing a {size_mib} MiB random input")
        write_random_file(plain, size_mib * MIB)
        runs = {
            "ours encrypt": ours_cmd("encrypt", plain, ct, setup.recipient),
            "ours decrypt": ours_cmd("decrypt", ct, os.devnull, str(setup.key_file)),
            "age encrypt": age_encrypt_cmd(setup.age, setup.recipient, plain, os.devnull),
            "age decrypt": age_decrypt_cmd(setup.age, setup.key_file, ct, os.devnull),
        }
        for label, cmd in runs.items():
            progress(f"peak memory: {label}, {size_mib} MiB input")
            peaks.setdefault(label, {})[size_mib] = peak_rss_kib(cmd, setup.work) / 1024
        plain.unlink()
        ct.unlink()
    return peaks


# --- the report ----------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-align columns of figures so their digits line up; left-align words."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    figures = [bool(rows) and _is_figure(rows[0][i]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if figure else c.ljust(w)
            for c, w, figure in zip(cells, widths, figures, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def _is_figure(text: str) -> bool:
    return text[:1].isdigit() or text[:1] in ("+", "-")


def mb_per_s(size: int, seconds: float) -> float:
    return size / MB / seconds


def throughput_report(size: int, timings: dict[str, Timing]) -> str:
    headers = ["operation (whole process)", "ours MB/s", "age MB/s", "ours/age", "target >= 1.5x"]
    rows = []
    met = 0
    for name, t in timings.items():
        ratio = t.age / t.ours
        met += ratio >= TARGET_RATIO
        rows.append(_row(name, size, t.ours, t.age, "yes" if ratio >= TARGET_RATIO else "NO"))
    extra = [
        _row(f"{name} [ours in-process]", size, t.in_process, t.age, "(context)")
        for name, t in timings.items()
    ]
    return "\n".join(
        [
            table(headers, rows + extra),
            f"target (ours >= {TARGET_RATIO}x age, whole process) met on {met} of "
            f"{len(timings)} operations",
            "[ours in-process] rows: ours without interpreter start-up, against age's whole "
            "process (context, not the target)",
        ]
    )


def _row(name: str, size: int, ours_s: float, age_s: float, verdict: str) -> list[str]:
    return [
        name,
        f"{mb_per_s(size, ours_s):.1f}",
        f"{mb_per_s(size, age_s):.1f}",
        f"{age_s / ours_s:.2f}x",
        verdict,
    ]


def memory_report(peaks: dict[str, dict[int, float]], floor_mib: float) -> str:
    sizes = sorted({s for by_size in peaks.values() for s in by_size})
    headers = ["peak RSS, MiB", *(f"{s} MiB input" for s in sizes)]
    if len(sizes) > 1:
        headers.append("difference")
    rows = []
    for label, by_size in peaks.items():
        row = [label, *(f"{by_size[s]:.1f}" for s in sizes)]
        if len(sizes) > 1:
            row.append(f"{by_size[sizes[-1]] - by_size[sizes[0]]:+.1f}")
        rows.append(row)
    lines = [
        table(headers, rows),
        f"method: {rss_method()}; launcher floor (peak RSS reported for `true`): "
        f"{floor_mib:.1f} MiB",
        "Peak memory should be independent of file size: both sides stream in bounded chunks.",
    ]
    if len(sizes) > 1:
        for label in ("ours encrypt", "ours decrypt"):
            growth = peaks[label][sizes[-1]] - peaks[label][sizes[0]]
            flat = "yes" if growth <= MEMORY_TOLERANCE_MIB else "NO"
            lines.append(
                f"{label}: {growth:+.1f} MiB from {sizes[0]} MiB to {sizes[-1]} MiB of input "
                f"-> size-independent (within {MEMORY_TOLERANCE_MIB:g} MiB): {flat}"
            )
    else:
        lines.append("(1 GiB input skipped: no size comparison)")
    return "\n".join(lines)


def environment(age: str) -> str:
    """What the figures depend on, so a run can be compared with another one."""
    import subprocess

    age_version = subprocess.run([age, "--version"], capture_output=True, text=True).stdout
    return (
        f"python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"age {age_version.strip()} ({age}), {os.cpu_count()} CPUs, {platform.machine()}"
    )


def run_benchmark(args: argparse.Namespace) -> None:
    age = shutil.which(args.age)
    if age is None:
        raise SystemExit(f"the reference {args.age!r} is not installed: nothing to compare with")
    size = args.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="crypto-bench-", dir=args.tmpdir) as tmp:
        work = Path(tmp)
        key_file, recipient = make_key(work)
        plaintext = work / "input.bin"
        progress(f"writing a {args.size_mib} MiB random input to {work}")
        write_random_file(plaintext, size)
        setup = Setup(work, age, plaintext, size, key_file, recipient, work / "input.age")
        interop = verify_interop(setup, work / "ours.age", work / "check.bin")
        timings = {op.name: measure_operation(setup, op, args.repeat) for op in OPERATIONS}
        progress("peak memory: launcher floor")
        floor_mib = peak_rss_kib([shutil.which("true") or "/bin/true"], work) / 1024
        sizes = [MEMORY_SMALL_MIB] if args.skip_1gib else [MEMORY_SMALL_MIB, MEMORY_LARGE_MIB]
        peaks = measure_memory(setup, sizes)
        progress("done; removing temp files")
    print(f"crypto vs age: {environment(age)}")
    print(f"input: {args.size_mib} MiB of random data ({size / MB:.1f} MB), one X25519 recipient")
    print("\n".join(f"interop: {line}" for line in interop))
    print()
    print(f"Throughput: best of {args.repeat} wall-clock run(s); MB/s = 10^6 bytes of plaintext/s")
    print(throughput_report(size, timings))
    print()
    print("Peak memory: one whole process per figure")
    print(memory_report(peaks, floor_mib))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256, help="throughput input size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best counts")
    parser.add_argument("--skip-1gib", action="store_true", help="no 1 GiB peak-memory run")
    parser.add_argument("--age", default="age", help="the reference command (default: age)")
    parser.add_argument("--tmpdir", help="where inputs and outputs go (default: system temp)")
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.repeat < 1:
        parser.error("--size-mib and --repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    run_benchmark(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
