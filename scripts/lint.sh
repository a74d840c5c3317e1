#!/usr/bin/env bash
# The deployment files' linters, as the test command runs them:
# cfn-lint and checkov on infra/ (checkov also on the Dockerfile and the
# workflows; every skip is justified where it is made), actionlint on the
# workflows (with shellcheck on their run: steps), shellcheck on every
# shell script. Installs the pinned linters into target/venv-lint.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/venv-lint
if ! cmp -s scripts/lint-requirements.txt "$VENV/requirements.txt" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r scripts/lint-requirements.txt
    cp scripts/lint-requirements.txt "$VENV/requirements.txt"
fi
"$VENV/bin/cfn-lint" infra/*.yaml
checkov() { "$VENV/bin/checkov" --quiet --compact --skip-download "$@"; }
checkov -d infra --framework cloudformation
checkov -f Dockerfile --framework dockerfile
checkov -d .github/workflows --framework github_actions
"$VENV/bin/actionlint" .github/workflows/*.yml
git ls-files -z '*.sh' .ci/run | xargs -0 shellcheck -x
echo "lint: cfn-lint, checkov, actionlint and shellcheck clean"
