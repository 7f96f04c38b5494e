"""Video jobs, the web side: POST /api/jobs queues one, GET /api/jobs/{id} says where it is.

The work itself (captions or Whisper, then the tags) runs in an RQ worker (`api.video_jobs.run`, worker class
`api.jobs_worker.VideoWorker`) on the Redis at TUBETAGS_JOBS_REDIS_URL.

Who may read a job: whoever holds its token. A job id is 128 random bits and the token another 192, returned
once, at creation; Redis keeps only the token's SHA-256. GET needs `Authorization: Bearer <token>`: the id alone
(which is in URLs, so in access logs and proxies) reads nothing, and a wrong token answers the same 404 as an
unknown id, so ids cannot be probed. No cookies or sessions: the API stays free of CSRF concerns (docs/serving.md).

A job is never left "running" for ever: the worker beats every few seconds while it works; on a read, a started
job whose beats stopped (the worker was killed) is handed to RQ's own clean-up of abandoned jobs, which requeues it
while it has retries left and fails it with its reason after that.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.core.files.move import file_move_safe
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from api.errors import ApiError
from tubetags.inputs import history_json

log = logging.getLogger("api")

STATES = ("queued", "fetching", "transcribing", "tagging", "done", "failed")
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
# Overall progress: each stage's share of the bar.
STAGE_SPAN = {"queued": (0.0, 0.0), "fetching": (0.0, 0.05), "transcribing": (0.05, 0.95), "tagging": (0.95, 1.0)}
# A job whose worker was killed (out of memory, a restart) is queued again, twice at most, at once: no scheduler
# needed (a killed worker's scheduler lock would hold back delayed retries for minutes). Transient faults inside a
# job (YouTube not answering) are retried by the job itself (api.video_jobs.RETRY_WAITS_S).
RETRY = Retry(max=2)
NOT_FOUND = (
    "No such job: the id is unknown, the token is not this job's, or the job expired (results are kept {hours:g} h)."
)


@cache
def connection() -> redis.Redis:
    """Short time-outs: with Redis down, POST /api/jobs answers 503 in seconds, not after a hung request."""
    return redis.Redis.from_url(
        settings.TUBETAGS_JOBS_REDIS_URL, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )


def queue() -> Queue:
    return Queue(settings.TUBETAGS_JOBS_QUEUE, connection=connection())


@contextmanager
def redis_answers() -> Iterator[None]:
    """Redis errors as a 503 that says what still works."""
    try:
        yield
    except redis.RedisError as exc:
        log.warning("jobs Redis unavailable: %s", exc)
        raise ApiError(
            503,
            "Video jobs are unavailable right now (their queue does not answer). Try again in a minute; "
            "tagging a transcript or subtitle file (POST /api/tags) still works.",
            retry_after_s=60,
        ) from exc


def media_dir() -> Path:
    return Path(settings.TUBETAGS_MEDIA_DIR)


def job_folder(job_id: str) -> Path:
    """Where a job's upload and downloads live (shared by web and worker); removed when the job ends."""
    return media_dir() / job_id


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def job_timeout_s(duration_s: float | None) -> int:
    """Model loading and fetching, plus up to TUBETAGS_JOBS_TIMEOUT_PER_AUDIO_S seconds per second of audio."""
    seconds = duration_s if duration_s is not None else settings.TUBETAGS_JOBS_MAX_DURATION_S
    return int(300 + seconds * settings.TUBETAGS_JOBS_TIMEOUT_PER_AUDIO_S)


@dataclass(frozen=True)
class Created:
    job_id: str
    token: str


def new_job_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters


def create(params: dict[str, Any]) -> Created:
    """Queue a job for a checked request (`serializers_jobs.JobRequest.read`): a link, or an upload moved into the
    job's folder first."""
    job_id = new_job_id()
    spec = {key: params[key] for key in ("kind", "k", "alias", "title", "description")} | {"job_id": job_id}
    if params.get("channel_history"):
        spec["channel_history"] = history_json(params["channel_history"])  # as JSON text, like the job's other fields
    if params["kind"] == "url":
        spec["video_id"] = params["video"].video_id
        return submit(job_id, spec, None)
    spec["file"] = "input" + Path(params["upload"].name or "").suffix.lower()
    store_upload(params["upload"], job_folder(job_id) / spec["file"])
    return submit(job_id, spec, params["media"].duration_s)


def store_upload(upload: UploadedFile, target: Path) -> None:
    """The upload at `target`: a temporary file is moved (renamed when on the same file system), a small upload
    held in memory is written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(upload, TemporaryUploadedFile):
        file_move_safe(upload.temporary_file_path(), str(target), allow_overwrite=True)
        return
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)


def submit(job_id: str, spec: dict[str, Any], duration_s: float | None) -> Created:
    """Queue a job whose inputs are ready (an upload already in `job_folder(job_id)`). 503 if the queue is down or
    full; the job's folder is removed when it could not be queued."""
    token = secrets.token_urlsafe(24)
    try:
        with redis_answers():
            waiting = queue().count
            if waiting >= settings.TUBETAGS_JOBS_MAX_QUEUED:
                raise ApiError(
                    503,
                    f"{waiting} videos are waiting to be transcribed; try again in a few minutes.",
                    retry_after_s=120,
                )
            queue().enqueue(
                "api.video_jobs.run",
                spec,
                job_id=job_id,
                job_timeout=job_timeout_s(duration_s),
                result_ttl=settings.TUBETAGS_JOBS_RESULT_TTL_S,
                failure_ttl=settings.TUBETAGS_JOBS_RESULT_TTL_S,
                ttl=settings.TUBETAGS_JOBS_RESULT_TTL_S,  # longest wait in the queue
                retry=RETRY,
                meta={"token": token_digest(token), "kind": spec["kind"], "duration_s": duration_s},
                description=f"tag a video ({spec['kind']})",
            )
    except BaseException:
        shutil.rmtree(job_folder(job_id), ignore_errors=True)
        raise
    log.info("queued job %s (%s)", job_id, spec["kind"])
    return Created(job_id, token)


def _not_found() -> ApiError:
    return ApiError(404, NOT_FOUND.format(hours=settings.TUBETAGS_JOBS_RESULT_TTL_S / 3600))


def fetch(job_id: str, token: str | None) -> Job:
    """The job, if `token` is its token; else the same 404 as for an unknown id."""
    if not JOB_ID.match(job_id) or not token:
        raise _not_found()
    with redis_answers():
        job = Job.fetch_many([job_id], connection=connection())[0]
    if job is None or not hmac.compare_digest(token_digest(token), str(job.meta.get("token", ""))):
        raise _not_found()
    return job


def recover_if_abandoned(job: Job) -> None:
    """A started job whose worker stopped beating: RQ's clean-up requeues it (retries left) or fails it."""
    StartedJobRegistry(job.origin, connection=job.connection).cleanup()
    job.refresh()


def eta_s(meta: dict[str, Any], now: float) -> float | None:
    """Seconds left while transcribing: from the pace so far once 5% is done, before that from the expected
    real-time factor of this worker's backend."""
    duration, done, started = meta.get("duration_s"), meta.get("audio_done_s", 0.0), meta.get("transcribe_started")
    if meta.get("state") != "transcribing" or not duration or started is None:
        return None
    elapsed = max(now - started, 0.0)
    if done >= 0.05 * duration and elapsed > 1:
        return round(elapsed / done * (duration - done), 1)
    return round(max(duration * meta.get("rtf", 0.3) - elapsed, 1.0), 1)


def status(job: Job) -> dict[str, Any]:
    """The job as GET /api/jobs/{id} shows it (`serializers_jobs.JobStatus`)."""
    with redis_answers():
        rq_status = job.get_status()
        if rq_status == JobStatus.STARTED:
            recover_if_abandoned(job)
            rq_status = job.get_status()
        meta = job.meta
        answer: dict[str, Any] = {"job_id": job.id, "eta_s": None, "error": None, "detail": ""}
        if rq_status == JobStatus.FINISHED:
            result: dict[str, Any] = job.return_value() or {}
            return {**answer, **result, "state": "done", "progress": 1.0, "detail": "Done."}
        if rq_status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            shutil.rmtree(job_folder(job.id), ignore_errors=True)  # the worker may have died before it could
            error = meta.get("error") or failure_reason(job)
            return {**answer, "state": "failed", "progress": 0.0, "error": error, "detail": error}
    if rq_status == JobStatus.STARTED:
        state = str(meta.get("state")) if meta.get("state") in STAGE_SPAN else "fetching"
        low, high = STAGE_SPAN[state]
        progress = low + (high - low) * min(max(float(meta.get("stage_progress", 0.0)), 0.0), 1.0)
        return {
            **answer,
            "state": state,
            "progress": round(progress, 3),
            "eta_s": eta_s(meta, time.time()),
            "detail": meta.get("detail", ""),
        }
    detail = "Waiting for a worker."
    if job.retries_left is not None and job.retries_left < (RETRY.max or 0):
        detail = "Queued again: the worker stopped while working on this video."
    return {**answer, "state": "queued", "progress": 0.0, "detail": detail}


def failure_reason(job: Job) -> str:
    """A failure the job itself did not explain: a killed worker, or a time-out."""
    result = job.latest_result()
    exc_string = (result.exc_string if result else "") or ""
    if "AbandonedJobError" in exc_string or "Work-horse terminated" in exc_string:
        return (
            "The worker stopped while working on this video (it may have run out of memory or been restarted), "
            "also on the retries. Try again later, or try a shorter video."
        )
    if "JobTimeoutException" in exc_string:
        return "Transcribing took longer than allowed. Try a shorter video."
    return "Something went wrong on our side while tagging this video; it has been logged. Please try again."
