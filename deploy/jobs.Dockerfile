# The image the scheduled jobs run in (deploy/k8s/retrain-cronjob.yaml): the web image's locked environment
# (it installs all of requirements/lock.txt but the test tools) plus the code the jobs need, which the web image
# leaves out. Build it after the web image, from the repository root (BuildKit reads the ignore file beside it):
#   docker build -f deploy/jobs.Dockerfile --build-arg WEB_IMAGE=registry.example.com/tubetags:0.1.0 \
#     -t registry.example.com/tubetags-jobs:0.1.0 .
ARG WEB_IMAGE=registry.example.com/tubetags:0.1.0
FROM ${WEB_IMAGE}
WORKDIR /app
# Owned by root and read-only to the job user, as the library is; the jobs write under TUBETAGS_WORK_DIR and /tmp.
COPY experiments/ experiments/
COPY configs/ configs/
COPY MLproject python_env.yaml ./
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["python", "-m", "tubetags", "--help"]
