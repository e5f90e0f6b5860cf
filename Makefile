# The two commands: `make run` (the portal and everything it needs) and `make test` (what CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin

.PHONY: run test conformance lint format check-python clean messages

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | check-python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/pybabel compile -d locale -D django
	touch $@

# The translations: locale/*/LC_MESSAGES/django.po compiled to .mo by Babel (pure Python, pinned
# in requirements.txt, so no GNU gettext is needed). Built, never committed (.gitignore); compiled
# with the venv and again before each run and test, so an edited .po is always in use.
messages: $(VENV)/.runtime
	$(BIN)/pybabel compile -d locale -D django

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Local demo mode: DEBUG on (a secret key is generated into var/), cloudsim as the cloud.
CLOUDSIM_PORT ?= 9100
run: export DEBUG ?= true
run: export CLOUDSIM_PORT := $(CLOUDSIM_PORT)
run: export CLOUD_ENDPOINT ?= http://127.0.0.1:$(CLOUDSIM_PORT)
# The demo's VPCs carry a `team` tag naming their owner: the periodic sync keeps to it.
run: export INVENTORY_TEAM_TAG ?= team
run: export PATH := $(BIN):$(PATH)
run: $(VENV)/.runtime messages
	python manage.py migrate --noinput
	python manage.py load_demo --start-cloudsim "$${VAR_DIR:-var}/cloudsim-state.json"
	@echo
	@echo "  PrivateLink Portal: http://127.0.0.1:$${WEB_PORT:-8000}/"
	@echo "  Logins (password 'demo'): provider, consumer, partner, admin"
	@echo "  Ctrl-C stops every process."
	@echo
	honcho start --procfile Procfile

test: export PATH := $(BIN):$(PATH)
test: $(VENV)/.dev messages
	ruff check .
	ruff format --check .
	pytest $(PYTEST_ARGS)

# cloudsim's rules against a real test account when CONFORMANCE_ACCESS_KEY_ID and friends are set
# (tests/conformance/target.py), against cloudsim otherwise. README: "Checking a real account".
conformance: export PATH := $(BIN):$(PATH)
conformance: $(VENV)/.dev
	pytest tests/conformance -p no:cacheprovider -v $(PYTEST_ARGS)

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
