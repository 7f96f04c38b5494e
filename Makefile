# tubetags — `make demo` sets up and runs the whole product; `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MLFLOW_DISABLE_TELEMETRY := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export TOKENIZERS_PARALLELISM := false
# sqlite: the model registry needs a database; override to use a tracking server.
export MLFLOW_TRACKING_URI ?= sqlite:///$(CURDIR)/mlruns/mlflow.db
MLRUN := mlflow run . --env-manager local
SEEDS ?= 5
QUICK ?= false
UI_PORT ?= 5000
DEMO_STRATEGIES ?= baseline,zero_shot
PORT ?= 8000
# make channel-report CHANNEL=@handle: the videos `ingest` collected (or any file with a transcript column)
BATCH_INPUT ?= data/collected
# 2, not the 64 the Spark benchmark was designed for: at 8x its leakage check outgrows a 50 GB disk (docs/benchmarks.md#spark).
SPARK_BENCH_SCALE ?= 2

.PHONY: setup demo corpus train experiment compare monitor channel-report serve ui tracking-server image lint test bench clean help

help:
	@grep -E '^[a-z]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(STAMP): requirements/lock.txt scripts/setup.sh
	./scripts/setup.sh
	mkdir -p mlruns

setup: $(STAMP) ## create .venv and install system + Python dependencies

corpus: $(STAMP) ## build the corpus shards from ../shared/data (MLflow run)
	$(MLRUN) -e build_corpus --experiment-name tubetags-corpus

demo: corpus ## set up, build the corpus, train (quick), register, promote and serve
	$(MLRUN) -e experiment --experiment-name tubetags-demo -P seeds=1 -P strategies=$(DEMO_STRATEGIES) -P quick=true
	python -m tubetags compare --experiment tubetags-demo --latency-runs 3 --out data/demo-reports
	$(MAKE) serve

experiment: corpus ## every strategy, $(SEEDS) seeds each (MLflow parent run); QUICK=true, STRATEGIES=a,b: fewer
	$(MLRUN) -e experiment --experiment-name tubetags -P seeds=$(SEEDS) -P quick=$(QUICK) \
	  $(if $(STRATEGIES),-P strategies=$(STRATEGIES))

compare: $(STAMP) ## CIs, chart, error analysis, costs, promotion, production refit, open vocabulary -> reports/
	$(MLRUN) -e compare --experiment-name tubetags-compare
	$(MLRUN) -e refit --experiment-name tubetags-refit
	$(MLRUN) -e open_vocab --experiment-name tubetags-open-vocab

channel-report: $(STAMP) ## tag one channel's collected videos on Spark and report -> reports/channels/ (CHANNEL=@handle)
	@test -n "$(CHANNEL)" || { echo "usage: make channel-report CHANNEL=@handle [BATCH_INPUT=$(BATCH_INPUT)]" >&2; exit 2; }
	python -m tubetags batch-tag --input "$(BATCH_INPUT)" --output "data/batch/$(CHANNEL)" --channel "$(CHANNEL)" --report true

serve: $(STAMP) ## serve on 127.0.0.1:$(PORT): nginx in front of gunicorn (scripts/serve.py), + Redis and a video worker
	PORT=$(PORT) ./scripts/with_jobs.sh python scripts/serve.py

tracking-server: $(STAMP) ## MLflow tracking server + registry on PostgreSQL, artifacts served (http://127.0.0.1:5000)
	./scripts/tracking_server.sh

monitor: $(STAMP) ## drift of the last 7 days of requests against the reference profile -> reports/monitoring/
	$(MLRUN) -e monitor --experiment-name tubetags-monitor

ui: $(STAMP) ## MLflow UI on the project's tracking store; prints the link to the training runs
	@python -c 'from tubetags import tracking; tracking.configure(); \
	  print("Training runs:", tracking.runs_page_url("http://127.0.0.1:$(UI_PORT)", "tubetags"))'
	mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --port $(UI_PORT)

image: ## build the container image without Docker (root, buildah), run it, check /api/health and /api/tags
	./scripts/build_image.sh

lint: $(STAMP) ## ruff (rules in pyproject.toml), ruff format --check, mypy (default mode)
	ruff check .
	ruff format --check .
	mypy

test: lint ## lint, then the whole test suite (code, data, model-behaviour, web)
	python -m pytest -q

bench: $(STAMP) ## benchmarks: streaming memory/speed, Whisper real-time factor, API load, a video's time to tags, Spark (SPARK_BENCH_SCALE)
	python scripts/bench_streaming.py
	python scripts/bench_asr.py
	python scripts/bench_api.py
	python scripts/bench_video.py
	python scripts/bench_spark.py --scale $(SPARK_BENCH_SCALE)

clean:
	rm -rf data/corpus data/cache reports/*.png
