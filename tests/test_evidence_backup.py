"""`arcos export` / `arcos import` (arcos/evidence/export.py, restore.py), run as an
operator runs them: the real CLI on real stores.

A round trip between SQLite and PostgreSQL must restore every item and relation as it was
(export the target again: the same lines) and put each item's event in the outbox;
importing twice writes nothing new; a tampered, truncated or foreign file is refused with
its line number, a nonzero status and nothing written.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import _truncate_postgres, running_app

from arcos.evidence.canonical import canonical_json, sha256_hex
from arcos.evidence.export import as_hashed
from arcos.settings import Settings

ITEMS: list[dict[str, Any]] = [
    {"type": "build", "source": "jenkins", "project": "github.com/acme/app",
     "commitSha": "a" * 40, "ref": "refs/heads/main", "data": {"status": "success", "n": 1.5},
     "metadata": {"runner": "r1"}, "idempotencyKey": "build-1"},
    {"type": "test_result", "source": "pytest", "data": {"unicode": "été ✓ 𝄞", "z": [1, {"b": 2}],
                                                       "a": None}},
    {"type": "scan", "source": "trivy", "project": "github.com/acme/lib",
     "data": {"findings": [{"id": f"CVE-{i}", "score": i / 7} for i in range(30)]}},
    # PostgreSQL's jsonb gives 1e+20 back as 100000000000000000000 (see export.as_hashed).
    {"type": "metric", "source": "bench", "data": {"big": 1e20, "exact": 12345678901234567890123,
                                                  "tiny": 1.5e-7, "neg": -2.5e17}},
]
LINK = """mutation($from: ID!, $to: ID!) {
  linkEvidence(input: {from: $from, to: $to, relation: DERIVED_FROM}) { errors { message } } }"""


def arcos(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arcos", *map(str, arguments)],
                          capture_output=True, text=True, timeout=300, check=False)


async def _fill(url: str, tmp_path: Path, copies: int = 1) -> None:
    """Evidence of several shapes, with projects, metadata and relations, written through
    the API."""
    settings = Settings(database_url=url, plugin_signing_key_path=str(tmp_path / "key"))
    async with running_app(settings) as app, app.client(app.admin_token) as client:
        ids = []
        for copy in range(copies):
            for item in ITEMS:
                body = {**item, "idempotencyKey": f"{item['idempotencyKey']}-{copy}"} \
                    if "idempotencyKey" in item else item
                answer = await client.post("/api/v1/evidence", json=body)
                assert answer.status_code == 201, answer.text
                ids.append(answer.json()["id"])
        for source, target in itertools.pairwise(ids):
            linked = await client.post("/graphql", json={
                "query": LINK, "variables": {"from": source, "to": target}})
            assert linked.json()["data"]["linkEvidence"]["errors"] == [], linked.text


def _export(url: str, path: Path) -> list[dict[str, Any]]:
    result = arcos("export", "--database-url", url, "--output", path)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in path.read_text().splitlines()]


def _import(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    return arcos("import", "--database-url", url, path)


def _round_trip(source: str, target: str, tmp_path: Path) -> None:
    asyncio.run(_fill(source, tmp_path, copies=2))
    exported = _export(source, tmp_path / "source.ndjson")
    assert exported[0]["format"] == "arcos-evidence" and exported[0]["version"] == 1
    assert exported[-1] == {"record": "end", "evidence": 8, "relations": 7}

    first = _import(target, tmp_path / "source.ndjson")
    assert first.returncode == 0, first.stderr
    assert "evidence 8 written, 0 already present; relations 7 written" in first.stderr
    # Everything as it was: the target exports the same lines.
    assert _export(target, tmp_path / "target.ndjson")[1:] == exported[1:]
    assert _outbox_events(target) == 8

    again = _import(target, tmp_path / "source.ndjson")
    assert again.returncode == 0, again.stderr
    assert "evidence 0 written, 8 already present; relations 0 written, 7 already" in (
        again.stderr)
    assert _outbox_events(target) == 8


def _outbox_events(url: str) -> int:
    query = "SELECT count(*) FROM arcos_outbox WHERE topic = 'evidence.added'"
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            return int(connection.execute(query).fetchone()[0])

    async def count() -> int:
        import asyncpg

        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return int(await connection.fetchval(query))
        finally:
            await connection.close()

    return asyncio.run(count())


def _evidence_rows(url: str) -> int:
    path = Path(url.removeprefix("sqlite://"))
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM evidence").fetchone()[0])


def test_export_reads_data_in_the_form_its_hash_was_taken() -> None:
    original = {"big": 1e20, "exact": 12345678901234567890123, "list": [2.5e17]}
    digest = sha256_hex(canonical_json(original))
    as_jsonb_returns = {"big": 100000000000000000000, "exact": 12345678901234567890123,
                        "list": [250000000000000000]}
    repaired, verified = as_hashed(as_jsonb_returns, digest)
    assert verified and canonical_json(repaired) == canonical_json(original)
    assert as_hashed(original, digest) == (original, True)
    assert as_hashed({"other": 1}, digest) == ({"other": 1}, False)


def test_round_trip_sqlite_to_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite://{tmp_path / 'a.db'}", f"sqlite://{tmp_path / 'b.db'}", tmp_path)


@pytest.mark.postgres
def test_round_trip_sqlite_to_postgres(postgres_database: str, tmp_path: Path) -> None:
    asyncio.run(_truncate_postgres(postgres_database))
    _round_trip(f"sqlite://{tmp_path / 'a.db'}", postgres_database, tmp_path)


@pytest.mark.postgres
def test_round_trip_postgres_to_sqlite(postgres_database: str, tmp_path: Path) -> None:
    asyncio.run(_truncate_postgres(postgres_database))
    _round_trip(postgres_database, f"sqlite://{tmp_path / 'b.db'}", tmp_path)


@pytest.fixture(scope="module")
def export_lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A good export's lines (with their newlines), made once for the module."""
    tmp_path = tmp_path_factory.mktemp("export")
    source = f"sqlite://{tmp_path / 'source.db'}"
    asyncio.run(_fill(source, tmp_path))
    path = tmp_path / "good.ndjson"
    _export(source, path)
    return path.read_text().splitlines(keepends=True)


def _refused(tmp_path: Path, lines: list[str], *expected: str) -> str:
    """Import `lines` into a fresh SQLite store: refused, naming `expected`, nothing
    written (not even the store created)."""
    path = tmp_path / "bad.ndjson"
    path.write_text("".join(lines))
    target = f"sqlite://{tmp_path / 'target.db'}"
    result = _import(target, path)
    assert result.returncode == 1, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "nothing was written" in result.stderr
    assert _evidence_rows(target) == 0
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_tampered_line_is_refused_by_number(tmp_path: Path, export_lines: list[str]) -> None:
    record = json.loads(export_lines[2])
    record["data"]["unicode"] = "tampered"
    _refused(tmp_path, [*export_lines[:2], json.dumps(record) + "\n", *export_lines[3:]],
             "line 3:", "sha256")


def test_a_tampered_line_with_its_hash_recomputed_still_needs_the_counts(
    tmp_path: Path, export_lines: list[str]
) -> None:
    """Someone who recomputes the hash passes the hash check; a removed line does not
    pass the end record."""
    record = json.loads(export_lines[2])
    record["data"] = {"forged": True}
    record["sha256"] = sha256_hex(canonical_json(record["data"]))
    forged = [*export_lines[:2], json.dumps(record) + "\n", *export_lines[3:]]
    result = _import(f"sqlite://{tmp_path / 'ok.db'}", _write(tmp_path, forged))
    assert result.returncode == 0, result.stderr  # a valid item: nothing says otherwise
    _refused(tmp_path, [*export_lines[:2], *export_lines[3:]], "end record counts")


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "file.ndjson"
    path.write_text("".join(lines))
    return path


def test_a_truncated_file_is_refused(tmp_path: Path, export_lines: list[str]) -> None:
    _refused(tmp_path, export_lines[:-2], f"line {len(export_lines) - 1}:", "truncated")
    cut = "".join(export_lines)
    middle = cut.index(export_lines[3]) + len(export_lines[3]) // 2
    _refused(tmp_path, [cut[:middle]], "line 4:", "truncated")


def test_another_format_version_is_refused(tmp_path: Path, export_lines: list[str]) -> None:
    header = {**json.loads(export_lines[0]), "version": 2}
    _refused(tmp_path, [json.dumps(header) + "\n", *export_lines[1:]],
             "line 1:", "format version 2")
    _refused(tmp_path, ['{"format": "something-else"}\n', *export_lines[1:]],
             "line 1:", "not an ARCOS evidence export")


@pytest.mark.parametrize("bad_line, expected", [
    ("not json\n", "not a JSON object"),
    ("[1, 2]\n", "not a JSON object"),
    ('{"record": "mystery"}\n', "record must be"),
    ('{"record": "evidence", "uid": "x"}\n', "missing"),
    ("\xff\xfe\n", "not a JSON object"),
])
def test_malformed_lines_are_refused(
    tmp_path: Path, export_lines: list[str], bad_line: str, expected: str
) -> None:
    _refused(tmp_path, [*export_lines[:2], bad_line, *export_lines[2:]], "line 3:", expected)


def test_an_item_that_breaks_the_evidence_rules_is_refused(
    tmp_path: Path, export_lines: list[str]
) -> None:
    record = json.loads(export_lines[1])
    record["type"] = "Not A Type"
    _refused(tmp_path, [export_lines[0], json.dumps(record) + "\n", *export_lines[2:]],
             "line 2:", "type must be")


def test_a_conflict_found_while_writing_rolls_back_its_whole_batch(
    tmp_path: Path, export_lines: list[str]
) -> None:
    """An item stored here under the same uid with other data is only seen while writing:
    its batch (the good item before it included) is not written."""
    target = f"sqlite://{tmp_path / 'target.db'}"
    first = json.loads(export_lines[1])
    assert _import(target, _write(tmp_path, [export_lines[0], export_lines[1],
                                             '{"record":"end","evidence":1,"relations":0}\n'])
                   ).returncode == 0
    fresh = json.loads(export_lines[2])
    clash = {**first, "data": {"other": 1}}
    clash["sha256"] = sha256_hex(canonical_json(clash["data"]))
    result = _import(target, _write(tmp_path, [
        export_lines[0], json.dumps(fresh) + "\n", json.dumps(clash) + "\n",
        '{"record":"end","evidence":2,"relations":0}\n',
    ]))
    assert result.returncode == 1
    assert "line 3:" in result.stderr and "already stored here with other data" in result.stderr
    assert _evidence_rows(target) == 1  # the fresh item of the refused batch is not there


def test_check_only_verifies(tmp_path: Path, export_lines: list[str]) -> None:
    target = tmp_path / "never.db"
    result = arcos("import", "--check", "--database-url", f"sqlite://{target}",
                   _write(tmp_path, export_lines))
    assert result.returncode == 0 and "intact" in result.stderr
    assert not target.exists()


def test_export_refuses_a_store_that_does_not_exist(tmp_path: Path) -> None:
    result = arcos("export", "--database-url", f"sqlite://{tmp_path / 'nowhere.db'}")
    assert result.returncode == 1 and "no ARCOS store" in result.stderr
    assert not (tmp_path / "nowhere.db").exists()


async def test_a_batch_closes_early_once_its_lines_are_large(
    tmp_path: Path, export_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory is bounded by bytes as well as by lines: with a tiny byte bound every item
    is its own unit of work."""
    from arcos.broker import InMemoryBroker
    from arcos.db import store
    from arcos.evidence import restore
    from arcos.evidence.events import EVIDENCE_ADDED
    from arcos.evidence.service import draft_limits
    from arcos.store.unit_of_work import Writer

    sizes: list[int] = []
    write = restore._write

    async def counted(pending, report, writer):
        sizes.append(len(pending))
        await write(pending, report, writer)

    monkeypatch.setattr(restore, "_write", counted)
    monkeypatch.setattr(restore, "BATCH_BYTES", 1)
    settings = Settings(database_url=f"sqlite://{tmp_path / 'target.db'}")
    async with store(settings):
        report = await restore.import_file(
            _write(tmp_path, export_lines), draft_limits(settings),
            Writer(InMemoryBroker(), frozenset({EVIDENCE_ADDED})))
    assert report.evidence_written == len(ITEMS)
    assert [size for size in sizes if size] == [1] * (len(export_lines) - 2)
