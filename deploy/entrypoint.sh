#!/bin/sh
# Container entry point of the web image: the model comes from the MLflow registry named by
# MLFLOW_TRACKING_URI (gunicorn's post_worker_init loads models:/tubetags@production in each worker).
# Without it tubetags would fall back to an empty sqlite file inside the container: refuse instead.
set -eu
if [ -z "${MLFLOW_TRACKING_URI:-}" ]; then
  echo "MLFLOW_TRACKING_URI is not set: point it at the MLflow tracking server that holds" >&2
  echo "models:/tubetags@production, e.g. -e MLFLOW_TRACKING_URI=http://mlflow:5000" >&2
  exit 64
fi
exec "$@"
