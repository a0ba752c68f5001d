# The two commands a new machine needs (see README.md):
#   make demo   - sets up .venv and runs the end-to-end demo on the embedded AWS stack
#   make test   - sets up .venv and runs the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIPELINES_STAMP := $(VENV)/.installed-pipelines
SECURITY_VENV := .venv-security
SECURITY_STAMP := $(SECURITY_VENV)/.installed
# A second ASL validator beside statelint (npm, pinned): what the AWS Toolkit's own checks are built on.
ASL_VALIDATOR := build/asl-validator/node_modules/.bin/asl-validator
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint security bench clean pipelines statemachines package deploy
STAGE ?= dev

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(SECURITY_STAMP): requirements-security.txt
	$(PYTHON) -m venv $(SECURITY_VENV)
	$(SECURITY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-security.txt
	touch $(SECURITY_STAMP)

$(ASL_VALIDATOR):
	npm install --no-audit --no-fund --silent --prefix build/asl-validator asl-validator@4.0.0

# The console's browser tests drive Debian's Chromium (tests/functional/test_console_browser.py); the emoji font
# draws the alerts' symbols in the screenshots.
$(CHROMIUM):
	command -v apt-get > /dev/null || { echo "install Chromium at $(CHROMIUM) (Debian: apt-get install chromium)"; exit 1; }
	@mkdir -p build
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji > build/chromium-install.log 2>&1 \
		|| { cat build/chromium-install.log; exit 1; }

$(PIPELINES_STAMP): $(STAMP) requirements-pipelines.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-pipelines.txt
	touch $(PIPELINES_STAMP)

demo: $(STAMP)
	$(BIN)/mlrelay demo

# Unit tests alone first: some use moto in memory, which would reset the backends an embedded stack
# lives in. Then the functional modules on two workers, each with an embedded stack of its own.
# The functional tests evaluate every AWS call against the template's IAM (mlrelay/local/iam): the census they
# write says what each role used, and fails on a statement no test used unless infra/iam-unexercised.json says why.
# The images' environments the functional tests run code in (pip, from PyPI, about 6 GB with PyTorch's) are built
# beside the security checks, lint and unit tests.
test: $(PIPELINES_STAMP) $(SECURITY_STAMP) $(ASL_VALIDATOR) $(CHROMIUM)
	@mkdir -p build
	export MLRELAY_IMAGE_ENVS=$(CURDIR)/build/image-envs; \
	$(BIN)/mlrelay local envs --image pytorch/2.6.0 > build/image-envs-pytorch.log 2>&1 & torch=$$!; \
	$(BIN)/mlrelay local envs --image sklearn/1.2-1 --image xgboost/1.7-1 --image xgboost/3.0-5 \
		> build/image-envs.log 2>&1 & envs=$$!; \
	$(MAKE) --no-print-directory security && $(BIN)/ruff check . && $(BIN)/mypy && $(BIN)/python -m pytest tests/unit; \
	status=$$?; built=0; wait $$torch || built=1; wait $$envs || built=1; \
	cat build/image-envs.log build/image-envs-pytorch.log; [ $$built = 0 ] || exit 1; exit $$status
	rm -rf build/iam-census
	MLRELAY_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -n 2 --dist loadfile tests/functional
	$(BIN)/python -m mlrelay.iam_census build/iam-census

# What a security review runs: bandit over the code, checkov and cfn-lint (with the serverless rules) over the packaged
# prod template, parliament over its resolved IAM policies, and two ASL validators. Each fails on any finding; each
# exception carries its reason inline (# nosec, the resource's checkov skip or cfn-lint ignore with its reason,
# tools/parliament_check.py's ACCEPTED). docs/security.md.
security: $(STAMP) $(SECURITY_STAMP) $(ASL_VALIDATOR)
	$(BIN)/bandit --quiet --recursive --severity-level medium app.py chalicelib mlrelay pipelines
	$(BIN)/mlrelay deploy --stage prod --dry-run > /dev/null
	$(SECURITY_VENV)/bin/checkov --file build/package/prod/sam.json --framework cloudformation --quiet --compact --skip-download
	$(BIN)/cfn-lint --append-rules cfn_lint_serverless.rules -- build/package/prod/sam.json
	$(BIN)/python -m mlrelay.iam_policies build/package/prod/sam.json infra/parameters/prod.json > build/package/prod/policies.json
	$(SECURITY_VENV)/bin/python tools/parliament_check.py build/package/prod/policies.json
	$(BIN)/mlrelay statemachines resolve --out build/statemachines-aws > /dev/null
	$(BIN)/statelint build/statemachines-aws/*.asl.json
	for definition in statemachines/*.asl.json; do $(ASL_VALIDATOR) --silent --json-path $$definition || exit 1; done

# make package STAGE=prod: build/package/prod/sam.json and deployment.zip, nothing deployed
package: $(STAMP)
	$(BIN)/mlrelay deploy --stage $(STAGE) --dry-run

# make deploy STAGE=prod: the same, then CloudFormation in the account your AWS credentials name
deploy: $(STAMP)
	$(BIN)/mlrelay deploy --stage $(STAGE)

pipelines: $(PIPELINES_STAMP)
	$(BIN)/mlrelay pipelines build

# rewrite statemachines/*.asl.json from mlrelay/asl/, and chalicelib/resume/states.json from them (a test fails while they differ)
statemachines: $(STAMP)
	$(BIN)/mlrelay statemachines build

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mlrelay statemachines resolve --out build/statemachines-aws > /dev/null
	$(BIN)/statelint build/statemachines-aws/*.asl.json

bench: $(STAMP)
	$(BIN)/python benchmarks/import_time.py

clean:
	rm -rf $(VENV) $(SECURITY_VENV) .pytest_cache .mlrelay build
