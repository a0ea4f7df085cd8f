# Pustaka Kiosk — the two commands: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench soak screenshots lint clean

$(STAMP): pyproject.toml
	@tools/debs.sh venv
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,camera]'
	@touch $(STAMP)

## make run: central server on embedded SQLite with demo data + the kiosk window
run: $(STAMP)
	@tools/debs.sh run
	$(BIN)/python -m kiosk.demo

## make test: ruff, mypy and the whole pytest suite (Xvfb and PostgreSQL when available)
test: $(STAMP)
	@tools/test.sh

## make bench: every benchmark in bench/, figures to bench/results/latest.json
bench: $(STAMP)
	@tools/debs.sh test
	@KIOSK_BENCH_PG_URL=$${KIOSK_BENCH_PG_URL:-$$(tools/pg.sh)} \
	  KIOSK_BENCH_MARIADB_URL=$${KIOSK_BENCH_MARIADB_URL:-$$(tools/mariadb.sh)} xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/python -m bench.harness

## make soak: the long crash loop (200+ kill points, 10,000 transactions)
soak: $(STAMP)
	$(BIN)/python tools/soak.py

## make screenshots: every kiosk screen and console page in both languages to docs/screenshots/
screenshots: $(STAMP)
	@tools/debs.sh test
	xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/python tools/screenshots.py
	KIOSK_TEST_MARIADB_URL=$${KIOSK_TEST_MARIADB_URL:-$$(tools/mariadb.sh)} $(BIN)/python tools/console_screenshots.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy $$(cat tools/mypy-scope)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
