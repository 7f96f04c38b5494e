"""The RQ worker of the video jobs:

    cd webapp && python manage.py rqworker --worker-class api.jobs_worker.VideoWorker videos

RQ's default worker forks a fresh process for every job, so a Whisper model loaded by one job dies with it, and
loading it in the parent before the fork is unsafe (CTranslate2's and PyTorch's thread pools do not survive a
fork). This worker runs jobs in its own process, as RQ's SimpleWorker does, and loads Whisper (and the production
tag model) once, before its first job: each job then starts transcribing at once.

SimpleWorker tells Redis a job may run for its whole time-out plus a minute before it counts as abandoned, so a
killed worker's job would look "running" for up to hours. This one keeps RQ's short heartbeat: a thread beats every
TUBETAGS_JOBS_HEARTBEAT_S seconds while a job runs, and the job's entry in the started registry expires
HEARTBEAT_GRACE_S after the last beat. Then RQ's clean-up (this worker's maintenance, or a GET /api/jobs/{id})
requeues the job while it has retries left, or fails it with its reason.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker
from typing_extensions import override

from api import video_jobs
from api.errors import ApiError
from api.model_cache import PRODUCTION, get_cache
from pipelines import asr

log = logging.getLogger("api")

HEARTBEAT_GRACE_S = 15  # a missed beat or two (a loaded machine) is not a death


class VideoWorker(SimpleWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("job_monitoring_interval", settings.TUBETAGS_JOBS_HEARTBEAT_S)
        super().__init__(*args, **kwargs)
        self.push_exc_handler(video_jobs.failure_handler)
        self._beat_lock = threading.Lock()
        self._stop_beating = threading.Event()
        self._ready = False

    @override
    def get_heartbeat_ttl(self, job: Job) -> int:
        return int(self.job_monitoring_interval + HEARTBEAT_GRACE_S)

    def prepare(self) -> None:
        """Whisper and the production tag model into memory, stale job folders away: once, before the first job
        (after a --with-scheduler fork, if any: a process holding thread pools is never forked)."""
        backend = settings.TUBETAGS_JOBS_ASR_BACKEND
        asr.load_model(backend)
        log.info("worker %s: %s loaded", self.name, backend)
        try:
            get_cache().get(PRODUCTION)
        except ApiError as exc:
            log.warning("worker %s: %s", self.name, exc.message)
        removed = video_jobs.sweep_media()
        if removed:
            log.info("worker %s: removed %d job folders left by ended jobs", self.name, removed)
        self._ready = True

    @override
    def dequeue_job_and_maintain_ttl(self, *args: Any, **kwargs: Any) -> Any:
        if not self._ready:
            self.prepare()
        return super().dequeue_job_and_maintain_ttl(*args, **kwargs)

    @override
    def execute_job(self, job: Job, queue: Queue) -> None:
        self._stop_beating = threading.Event()
        beats = threading.Thread(target=self._beat, args=(job, self._stop_beating), name="heartbeat", daemon=True)
        beats.start()
        try:
            super().execute_job(job, queue)
        finally:
            self._stop_beats()
            beats.join(timeout=10)

    @override
    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        self._stop_beats()  # before RQ removes the execution the thread beats for
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    def _stop_beats(self) -> None:
        with self._beat_lock:
            self._stop_beating.set()

    def _beat(self, job: Job, stop: threading.Event) -> None:
        while not stop.wait(self.job_monitoring_interval):
            with self._beat_lock:
                if stop.is_set() or self.execution is None:
                    continue
                try:
                    self.maintain_heartbeats(job)
                except Exception as exc:  # Redis away for a moment: the next beat may get through
                    log.warning("worker %s: heartbeat failed: %s", self.name, exc)
