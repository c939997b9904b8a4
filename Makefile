# Two entry points (see README): `make run` serves the app on the demo cohort, `make test` runs every test.
# `make test-fast`: the edit-test loop, unit and engine tests only (no browser, no AppTest, nothing marked slow).
# Both create .venv on first use and reinstall only when a requirements file changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
# Localhost only by default; `make run ADDRESS=0.0.0.0` serves to the network (README: Reliability and security).
ADDRESS ?= 127.0.0.1
CHROMIUM ?= /usr/bin/chromium
DCIODVFY ?= /usr/bin/dciodvfy

.PHONY: run test test-fast setup browser dicom-tools lint bench phantom-data train clean viewer-bundle

run: setup
	@# beside the server: open Home once it is up, so it prepares every page before the first user (ui/warm_visitor.py)
	@$(BIN)/python -m ui.warm_visitor --url http://127.0.0.1:$(PORT) >/dev/null 2>&1 &
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) --server.address $(ADDRESS)

test: setup browser dicom-tools
	$(BIN)/ruff check --quiet .
	FUSION_REQUIRE_BROWSER=1 CHROMIUM=$(CHROMIUM) DCIODVFY=$(DCIODVFY) $(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not e2e and not app"

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# Debian's Chromium for the end-to-end tests (never a downloaded browser build).
browser:
	@test -x $(CHROMIUM) || { \
		echo "Installing Chromium for the browser tests (apt-get)…"; \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "Chromium is missing at $(CHROMIUM); install Debian's 'chromium' package"; exit 1; }

# Debian's DICOM validator (dicom3tools' dciodvfy) checks the DICOM series we write.
dicom-tools:
	@test -x $(DCIODVFY) || { \
		echo "Installing dicom3tools for the DICOM tests (apt-get)…"; \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dicom3tools >/dev/null; }
	@test -x $(DCIODVFY) || { echo "dciodvfy is missing at $(DCIODVFY); install Debian's 'dicom3tools' package"; exit 1; }

# Rebuild the scan viewer's JavaScript (NiiVue, pinned in package-lock.json); the built bundle is checked in,
# so `make run` and `make test` need neither npm nor a network.
viewer-bundle:
	cd ui/viewer/frontend && npm ci --no-audit --no-fund && npm run build

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
