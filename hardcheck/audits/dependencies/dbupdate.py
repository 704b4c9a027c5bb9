"""`hardcheck db update`: fetch OSV's PyPI export, check it, and swap it in atomically.

OSV publishes one zip per ecosystem (`all.zip`: one JSON record per advisory). The
download goes to a temporary file beside the database and is checked before anything
changes: a zip whose every member is a small JSON OSV record with a flat, safe name,
within size caps (a truncated download or a zip bomb is refused). The records are then
written to a new versioned directory, and the database path — a symlink — is replaced in
one rename, so an audit reading the database meanwhile sees the old one or the new one,
never half of either, and a failed update leaves the old one as it was.

The database lives in the user data directory (platformdirs; HARDCHECK_DATA_DIR moves it);
`--vuln-db` defaults to it once it exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
URL_ENV, DIR_ENV = "HARDCHECK_OSV_DB_URL", "HARDCHECK_DATA_DIR"
PROVENANCE = "hardcheck-db.json"  # written beside the records: where and when they came from
# Bounds for what the server sends. PyPI's export is tens of MB zipped, a few hundred MB
# unpacked; these leave room for growth and refuse a bomb.
MAX_DOWNLOAD = 512 * 1024 * 1024
MAX_UNPACKED = 2 * 1024 * 1024 * 1024
MAX_RECORD = 16 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, per member
MAX_MEMBERS = 500_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json$")


class UpdateError(Exception):
    """Why the update did not happen; the database in place is unchanged."""


@dataclass(frozen=True)
class Installed:
    path: Path
    records: int
    newest: str  # the newest record's `modified`, yyyy-mm-dd
    source: str
    fetched: str  # when, UTC ISO 8601


def default_db_dir() -> Path:
    configured = os.environ.get(DIR_ENV)
    if configured:
        return Path(configured) / "osv-pypi"
    import platformdirs

    return Path(platformdirs.user_data_dir("hardcheck", appauthor=False)) / "osv-pypi"


def installed_db() -> Path | None:
    """The database `db update` installed, if there is one: `--vuln-db`'s default."""
    path = default_db_dir()
    return path if path.is_dir() else None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be the export to fetch, or None."""
    if url.startswith(("https://", "http://")):
        return None
    return f"--from {_redacted(url)!r}: not an http(s) URL"


def update(directory: Path, url: str, timeout: float = 120.0) -> Installed:
    problem = url_problem(url)
    if problem:
        raise UpdateError(problem)
    directory = Path(os.path.abspath(directory))
    if directory.exists() and not directory.is_symlink():
        raise UpdateError(
            f"{directory} exists and is not a database installed by `hardcheck db update` "
            "(a symlink to its versioned directory); pass --dir to a new path"
        )
    parent = directory.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UpdateError(f"cannot create {parent}: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix=f".{directory.name}.", dir=parent) as work:
        archive = Path(work) / "all.zip"
        _download(url, archive, timeout)
        staged = Path(work) / "records"
        records, newest = _unpack(archive, staged)
        fetched = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        stamp = fetched.replace(":", "").replace("+0000", "Z")
        (staged / PROVENANCE).write_text(
            json.dumps(
                {
                    "source": _redacted(url),
                    "fetched": fetched,
                    "records": records,
                    "newest": newest,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        # a new name even for two updates in one second (never the one in use)
        version = Path(tempfile.mkdtemp(prefix=f"{directory.name}.{stamp}.", dir=parent))
        os.rename(staged, version)  # onto the empty directory mkdtemp made
        link = Path(work) / "link"
        os.symlink(version.name, link)  # relative: the pair can be moved together
        previous = os.path.realpath(directory) if directory.is_symlink() else None
        os.replace(link, directory)  # the one atomic step
    if previous and os.path.realpath(previous) != str(version) and os.path.isdir(previous):
        shutil.rmtree(previous, ignore_errors=True)
    return Installed(directory, records, newest, _redacted(url), fetched)


def _redacted(url: str) -> str:
    from ...safetext import redact_urls

    return redact_urls(url)


def _download(url: str, to: Path, timeout: float) -> None:
    from ...httpximport import without_cli

    without_cli()
    import httpx

    try:
        with httpx.stream(
            "GET", url, timeout=timeout, follow_redirects=True, trust_env=False
        ) as response:
            if response.status_code != 200:
                raise UpdateError(f"{_redacted(url)} answered HTTP {response.status_code}")
            expected = response.headers.get("content-length")
            size = 0
            with open(to, "wb") as fh:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DOWNLOAD:
                        raise UpdateError(f"download larger than {MAX_DOWNLOAD >> 20} MB: refused")
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise UpdateError(
            f"download from {_redacted(url)} failed: {type(exc).__name__}: {exc}"
        ) from None
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise UpdateError(f"download truncated: {size} of {expected} bytes")


def _unpack(archive: Path, into: Path) -> tuple[int, str]:
    """Check every member, then write the records; (count, newest modified date)."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UpdateError(f"not a zip archive: {exc}") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if not members:
            raise UpdateError("the archive holds no OSV records")
        if len(members) > MAX_MEMBERS:
            raise UpdateError(f"the archive holds {len(members)} files, over {MAX_MEMBERS}")
        total = 0
        for m in members:
            if not _NAME.match(m.filename):
                raise UpdateError(f"unexpected file in the archive: {m.filename[:200]!r}")
            if m.file_size > MAX_RECORD or m.file_size > MAX_RATIO * max(m.compress_size, 1024):
                raise UpdateError(f"{m.filename}: {m.file_size} bytes unpacked: refused")
            total += m.file_size
        if total > MAX_UNPACKED:
            raise UpdateError(f"{total >> 20} MB unpacked, over {MAX_UNPACKED >> 20} MB: refused")
        into.mkdir()
        newest = ""
        for m in members:
            try:
                data = zf.read(m)  # checks the CRC
                record = json.loads(data)
            except (
                zipfile.BadZipFile,
                zipfile.LargeZipFile,
                zlib.error,
                EOFError,
                OSError,
                ValueError,
            ) as exc:
                raise UpdateError(f"{m.filename}: {type(exc).__name__}: {exc}") from None
            if not (
                isinstance(record, dict)
                and isinstance(record.get("id"), str)
                and isinstance(record.get("modified"), str)
            ):
                raise UpdateError(f"{m.filename}: not an OSV record (no id or modified)")
            newest = max(newest, record["modified"][:10])
            (into / m.filename).write_bytes(data)
        return len(members), newest


def age_days(newest: str, today: dt.date | None = None) -> int | None:
    """Days since the newest record was modified (yyyy-mm-dd...), or None if unknown."""
    with contextlib.suppress(ValueError):
        return ((today or dt.date.today()) - dt.date.fromisoformat(newest[:10])).days
    return None
