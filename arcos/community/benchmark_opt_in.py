"""Projects opting in to (and out of) community benchmarks.

Opting in lends a project's latest quality metrics, aggregated with at least k others, to
the community benchmark of its industry and project type. It is a decision about the
project's evidence, so it needs the right to write that evidence (`evidence:write`, or
`admin`), not only a community scope.
"""

from __future__ import annotations

from arcos.auth.caller import Caller
from arcos.community.benchmark_input import label
from arcos.community.benchmark_releases import forget_project
from arcos.community.benchmarks_models import BenchmarkOptIn
from arcos.community.project_writers import require_evidence_write
from arcos.evidence.drafts import MAX_SLUG_LENGTH, SLUG
from arcos.evidence.models import Project
from arcos.problems import Problem, ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext


def _check_caller(caller: Caller) -> None:
    require_evidence_write(caller, "opting a project in or out of community benchmarks")


async def _project(slug: str, unit: UnitOfWork) -> Project:
    normalised = slug.strip().lower()
    if len(normalised) > MAX_SLUG_LENGTH or not SLUG.match(normalised):
        raise Refused.one("project", "project must be a slug like github.com/owner/repo",
                          ProblemCode.INVALID)
    project = await Project.get_or_none(slug=normalised).using_db(unit.connection)
    if project is None:
        raise Refused.one("project", f"no project {normalised!r}: it appears once evidence "
                          "names it", ProblemCode.NOT_FOUND)
    return project


async def opt_in(
    project_slug: str, industry: str, project_type: str, caller: Caller, write: WriteContext
) -> tuple[BenchmarkOptIn, str]:
    """Opt the project in (or move it to another industry or type, which takes its values
    out of the old one's releases); returns the row and the project's slug."""
    _check_caller(caller)
    problems: list[Problem] = []
    checked_industry = label("industry", "industry", industry, problems)
    checked_type = label("projectType", "projectType", project_type, problems)
    if problems:
        raise Refused(problems)

    async def work(unit: UnitOfWork) -> tuple[BenchmarkOptIn, str]:
        project = await _project(project_slug, unit)
        row = await BenchmarkOptIn.get_or_none(project_id=project.id).using_db(unit.connection)
        if row is None:
            row = await BenchmarkOptIn.create(
                project_id=project.id, industry=checked_industry, project_type=checked_type,
                opted_in_by=write.principal, created_at=unit.now, updated_at=unit.now,
                using_db=unit.connection)
        else:
            if (row.industry, row.project_type) != (checked_industry, checked_type):
                await forget_project(project.id, (checked_industry, checked_type), unit)
            row.industry, row.project_type = checked_industry, checked_type
            row.opted_in_by, row.updated_at = write.principal, unit.now
            await row.save(using_db=unit.connection)
        return row, project.slug

    return await write.writer.run(work)


async def opt_out(project_slug: str, caller: Caller, write: WriteContext) -> bool:
    """Stop the project contributing and take its values out of every released benchmark
    (the metrics it was part of are withheld until k others changed); False when it was
    not opted in."""
    _check_caller(caller)

    async def work(unit: UnitOfWork) -> bool:
        project = await _project(project_slug, unit)
        removed = await BenchmarkOptIn.filter(project_id=project.id).using_db(
            unit.connection).delete()
        await forget_project(project.id, None, unit)
        return bool(removed)

    return await write.writer.run(work)
