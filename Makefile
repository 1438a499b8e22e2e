# carehub: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install browser services-up services-down services-status bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The dashboard test drives Debian's Chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium; }

demo: $(STAMP)
	$(BIN)/carehub demo

services-up:
	tests/services/services.sh up

services-down:
	tests/services/services.sh down

services-status:
	tests/services/services.sh status

test: $(STAMP) browser
	tests/services/services.sh up
	$(BIN)/pytest; status=$$?; tests/services/services.sh down; exit $$status

bench: $(STAMP)
	$(BIN)/carehub bench

clean:
	rm -rf $(VENV) .carehub
