#!/usr/bin/env bash
# A CI job in miniature: run this project's tests under coverage, lint it with ruff and
# bandit as SARIF, post every artifact to a running ARCOS the way a CI step would
# (`curl --data-binary @file`), then print the project's metrics through GraphQL.
#
#   ARCOS_URL=http://127.0.0.1:8000 ARCOS_TOKEN=arcos_... examples/ci_pipeline.sh
#
# ARCOS_PROJECT names the project (default github.com/example/arcos); ARCOS_TESTS picks the
# test paths (default: the whole suite); PYTHON the interpreter with the test extra.
#
# Needs: curl, and an interpreter with this project's test extra, which brings pytest,
# coverage, ruff and bandit[sarif]:  python3 -m venv .venv && .venv/bin/pip install -e '.[test]'
# then PYTHON=.venv/bin/python. It checks both before doing anything.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
if ! command -v curl > /dev/null; then
    echo "ci_pipeline.sh needs curl on PATH to post the reports; install it" >&2
    exit 2
fi
missing=()
for module in pytest coverage ruff bandit sarif_om; do
    "$PYTHON" -c "import $module" 2> /dev/null || missing+=("$module")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "ci_pipeline.sh needs the test extra's tools in $PYTHON (missing: ${missing[*]}):" >&2
    echo "  python3 -m venv .venv && .venv/bin/pip install -e '.[test]'" >&2
    echo "  then run it with PYTHON=.venv/bin/python" >&2
    exit 2
fi
cd "$(dirname "$0")/.."

URL="${ARCOS_URL:-http://127.0.0.1:8000}"
TOKEN="${ARCOS_TOKEN:?set ARCOS_TOKEN to a token with evidence:write and evidence:read}"
PROJECT="${ARCOS_PROJECT:-github.com/example/arcos}"
read -r -a TESTS <<< "${ARCOS_TESTS:-tests}"
COMMIT="$(git rev-parse HEAD 2>/dev/null || true)"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
export COVERAGE_FILE="$OUT/.coverage"

query="project=$PROJECT&ref=refs/heads/main&pipeline_run=local-$$"
[ -n "$COMMIT" ] && query="$query&commit=$COMMIT"

post() {  # post ROUTE FILE CONTENT-TYPE: fail loudly, print what ARCOS answered
    local route=$1 file=$2 type=$3 answer
    answer="$(curl -sS --fail-with-body -X POST "$URL$route?$query" \
        -H "Authorization: Bearer $TOKEN" -H "Content-Type: $type" --data-binary "@$file")" || {
        echo "ARCOS refused $file at $route: $answer" >&2; return 1; }
    "$PYTHON" -c 'import json, sys; a = json.load(sys.stdin)
print("  %-34s job %s  findings %s" % (sys.argv[1], a["job_id"], a["findings"]))' \
        "$route $(basename "$file")" <<< "$answer"
}

started=$(date +%s)
echo "running tests under coverage..."
status=success
"$PYTHON" -m coverage run --branch --source=arcos -m pytest -q -p no:cacheprovider \
    --junitxml="$OUT/junit.xml" "${TESTS[@]}" > "$OUT/pytest.log" 2>&1 || status=failure
tail -n 1 "$OUT/pytest.log"
"$PYTHON" -m coverage xml -q -o "$OUT/coverage.xml"
echo "linting..."
"$PYTHON" -m ruff check --no-cache --exit-zero --output-format=sarif -o "$OUT/ruff.sarif" arcos
"$PYTHON" -m bandit -q -r arcos -f sarif -o "$OUT/bandit.sarif" --exit-zero
finished=$(date +%s)
printf '{"status": "%s", "duration_seconds": %d, "pipeline_id": "local-%d"}\n' \
    "$status" "$((finished - started))" "$$" > "$OUT/build.json"

echo "posting to $URL ..."
post /api/cicd/test "$OUT/junit.xml" application/xml
post /api/cicd/test "$OUT/coverage.xml" application/xml
post /api/security/scan "$OUT/ruff.sarif" application/sarif+json
post /api/security/scan "$OUT/bandit.sarif" application/sarif+json
post /api/cicd/build "$OUT/build.json" application/json

echo "metrics of $PROJECT:"
curl -sS --fail-with-body "$URL/graphql" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" \
    -d "{\"query\": \"{ project(slug: \\\"$PROJECT\\\") { latestMetrics { name value } } }\"}" |
    "$PYTHON" -c 'import json, sys
for m in json.load(sys.stdin)["data"]["project"]["latestMetrics"]:
    print("  %-32s %g" % (m["name"], m["value"]))'
