#!/usr/bin/env bash
# The deployment files' linters, as the test command runs them:
# cfn-lint and checkov on infra/ (checkov also on the Dockerfile and the
# workflows; every skip is justified where it is made), actionlint on the
# workflows (with shellcheck on their run: steps), shellcheck on every
# shell script (the db host's boot script included), and the deployment's
# private defaults (below). Installs the pinned linters into target/venv-lint.
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
# The db host's boot script lives in infra/database.yaml's UserData.
boot=$(mktemp) && trap 'rm -f "$boot"' EXIT
awk '/<<.BOOT.$/ {on = 1; match($0, /^ */); cut = RLENGTH; next} on && $1 == "BOOT" {exit} on {print substr($0, cut + 1)}' \
    infra/database.yaml >"$boot"
shellcheck "$boot"

# The deployment is private by default (issue 22): what the linters above
# do not know about this project. tests/deploy.sh runs the rest (TLS, the
# boot script, import.sh's command lines).
"$VENV/bin/python" - <<'PY'
import glob, re, sys
from cfnlint.decode import decode

errors = []
templates = {path: decode(path)[0] for path in sorted(glob.glob("infra/*.yaml"))}

def statements(node):
    """Every IAM policy statement in a template."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Statement":
                yield from (value if isinstance(value, list) else [value])
            else:
                yield from statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from statements(value)

def listed(value):
    return value if isinstance(value, list) else [value]

# No right to data, keys, secrets, tasks or roles on "*": each names the
# project's ARNs (ECR's login and the Describe calls take no resource, and
# are not among these).
SCOPED = ("s3:", "kms:", "secretsmanager:GetSecretValue", "ecs:RunTask", "iam:PassRole")
for path, template in templates.items():
    for st in statements(template.get("Resources", {})):
        actions = [a for a in listed(st.get("Action", [])) if isinstance(a, str) and a.startswith(SCOPED)]
        if st.get("Effect") == "Allow" and actions and "*" in listed(st.get("Resource", [])):
            errors.append(f"{path}: {', '.join(actions)} on Resource '*' ({st.get('Sid', 'a statement')})")

# No network open to everyone by default.
for path, template in templates.items():
    for name, param in template.get("Parameters", {}).items():
        if str(param.get("Default", "")) in ("0.0.0.0/0", "::/0"):
            errors.append(f"{path}: parameter {name} defaults to {param['Default']}")

# Each GitHub role is trusted for one workflow file: the release role for
# release.yml at a version tag.
trust = templates["infra/github-oidc.yaml"]["Resources"]["ReleaseRole"]["Properties"]["AssumeRolePolicyDocument"]
conditions = {k: str(v) for st in trust["Statement"] for op in st.get("Condition", {}).values() for k, v in op.items()}
if "/.github/workflows/release.yml@refs/tags/" not in conditions.get("token.actions.githubusercontent.com:job_workflow_ref", ""):
    errors.append("infra/github-oidc.yaml: the release role's trust does not name release.yml (job_workflow_ref)")

# No password on a command line in what people copy and run: the README,
# the deployment's scripts and the host's UserData.
ON_A_COMMAND_LINE = [
    (re.compile(r"""(-c|--command)\s*["'][^"']*PASSWORD\s+'"""), "ALTER ROLE ... PASSWORD in psql -c"),
    (re.compile(r"--password(=|\s+)(?!-)\S"), "--password VALUE"),
    (re.compile(r"import\.sh\b.*\b[A-Z_]*PASSWORD\b(?!_FILE)"), "a password argument to import.sh"),
    (re.compile(r"PGPASSWORD=\S+\s+\S"), "PGPASSWORD=... before a command"),
]
files = ["README.md", *glob.glob("superset/*.sh"), *glob.glob("docker/**/*.sh", recursive=True), *templates]
for path in files:
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        for pattern, what in ON_A_COMMAND_LINE:
            if pattern.search(line):
                errors.append(f"{path}:{number}: {what}: {line.strip()}")

# TLS with the server verified, by default, for the loader and Superset.
dockerfile = open("Dockerfile", encoding="utf-8").read()
if not re.search(r"FROM [^\n]* AS loader\n(?:(?!FROM)[^\n]*\n)*ENV [^\n]*PGSSLMODE=verify-full", dockerfile):
    errors.append("Dockerfile: the loader image does not default to PGSSLMODE=verify-full")
services = open("infra/services.yaml", encoding="utf-8").read()
if not re.search(r"Name: PGSSLMODE\s+Value: verify-full", services):
    errors.append("infra/services.yaml: the loader task does not connect with PGSSLMODE=verify-full")
if '"SUPERSET_METADATA_SSLMODE", "verify-full"' not in open("superset/superset_config.py", encoding="utf-8").read():
    errors.append("superset/superset_config.py: the metadata connection does not default to verify-full")
if "${DB_SSLMODE:-verify-full}" not in open("superset/import.sh", encoding="utf-8").read():
    errors.append("superset/import.sh: the dashboard's connection does not default to verify-full")

for error in errors:
    print("private by default:", error, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
echo "lint: cfn-lint, checkov, actionlint, shellcheck and the deployment's private defaults clean"
