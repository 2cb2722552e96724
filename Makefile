# The two commands: `make run` (server with demo data on the embedded defaults) and
# `make test` (the whole test suite). Both create the virtualenv and install what they need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=
QUEUES := emails,certificates,progress,webhooks,default

.PHONY: run test lint worker beat clean bench bench-quick

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

run: $(VENV)/.installed-runtime  ## migrate, load the demo data, serve on 127.0.0.1:8000
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev  ## the whole pytest suite
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev  ## ruff, formatting, mypy and the import layers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

worker: $(VENV)/.installed-runtime  ## a Celery worker on every queue (needs CELERY_BROKER_URL)
	$(BIN)/celery -A lms worker --loglevel INFO --queues $(QUEUES)

beat: $(VENV)/.installed-runtime  ## Celery beat with the database scheduler
	$(BIN)/celery -A lms beat --loglevel INFO

bench: $(VENV)/.installed-runtime  ## the benchmark (bench/README.md): seed, serve with gunicorn, load with wrk
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-quick: $(VENV)/.installed-runtime  ## the benchmark as a ~2-minute smoke run on a small data set
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
