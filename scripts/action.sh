#!/usr/bin/env bash
# The GitHub Action's step: build Rampart from its repository, scan, write the
# job summary and the step outputs. The scan's exit code (gates) is the
# step's, after every file and output is written.
set -uo pipefail

src=${RAMPART_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
out=${RAMPART_OUT_DIR:-${RUNNER_TEMP:-/tmp}/rampart}
mkdir -p "$out"
bin="$out/rampart"
if ! (cd "$src" && go build -o "$bin" ./cmd/rampart); then
  echo "::error title=Rampart::could not build rampart from $src"
  exit 2
fi

args=(scan)
[[ -n "${INPUT_TARGET:-}" ]] && args+=("$INPUT_TARGET")
[[ -n "${INPUT_SPEC:-}" ]] && args+=(--spec "$INPUT_SPEC")
[[ -n "${INPUT_CONFIG:-}" ]] && args+=(--config "$INPUT_CONFIG")
[[ -n "${INPUT_FAIL_ON:-}" ]] && args+=(--fail-on "$INPUT_FAIL_ON")
[[ -n "${INPUT_FAIL_UNDER:-}" ]] && args+=(--fail-under "$INPUT_FAIL_UNDER")
[[ -n "${INPUT_BASELINE:-}" ]] && args+=(--baseline "$INPUT_BASELINE")
if [[ -n "${INPUT_ARGS:-}" ]]; then
  read -r -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi
args+=(--format github --output "json=$out/report.json" --output "sarif=$out/report.sarif" --output "markdown=$out/report.md" --output "html=$out/report.html")

"$bin" "${args[@]}"
code=$?

if [[ -f "$out/report.json" ]]; then
  score=$(grep -m1 -o '"score": [0-9a-z]*' "$out/report.json" | sed 's/.*: //')
  grade=$(grep -m1 -o '"grade": "\?[A-F]\?' "$out/report.json" | sed 's/.*: "\?//')
  # Live findings: every finding minus suppressed and fixed ones.
  total=$(grep -c '"fingerprint": ' "$out/report.json" || true)
  hidden=$(grep -c -E '"(suppressed": "|baseline": "fixed")' "$out/report.json" || true)
  findings=$(( total - hidden ))
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    cat "$out/report.md" >>"$GITHUB_STEP_SUMMARY"
  fi
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    {
      echo "score=${score:-null}"
      echo "grade=${grade:-}"
      echo "findings=$findings"
      echo "report=$out/report.json"
      echo "sarif=$out/report.sarif"
      echo "html=$out/report.html"
    } >>"$GITHUB_OUTPUT"
  fi
fi
exit "$code"
