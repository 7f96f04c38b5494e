"""Time from upload to tags for a video, end to end, with each Whisper backend (one run, so the ratios compare).

    python scripts/bench_video.py [--minutes 10] [--backend faster-whisper openai-whisper] [--tracking-uri URI]

The video: TED talk transcripts (../shared/data, distinct sentences: repeated text makes Whisper re-decode) read by
espeak-ng for `--minutes`, muxed with a black picture into an H.264/AAC mp4 by ffmpeg. The stack: a private
redis-server, gunicorn on a free loopback port (scripts/bench_api.serve) and one worker process
(`manage.py rqworker --worker-class api.jobs_worker.VideoWorker`) per backend in turn, warmed up with a short clip
first (a worker loads Whisper once, at start). Timed: POST /api/jobs with the file (upload, ffprobe, queueing) until
GET /api/jobs/{id} says done, polled every 0.5 s; the worker's CPU seconds from /proc; word recall of the
transcript against the text spoken. Models: the registry's @production (MLFLOW_TRACKING_URI or --tracking-uri).

The last line is machine-readable, for the worker's default backend (TUBETAGS_JOBS_ASR_BACKEND, faster-whisper):
    time_to_tags_s=<float> rtf=<float> recall=<float>
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "code" / "webapp"))  # jobs_support: Redis, worker and speech helpers

from jobs_support import redis_server, speech_video, start_worker, stop, worker_env  # noqa: E402

from scripts.bench_api import serve  # noqa: E402
from scripts.bench_asr import word_recall  # noqa: E402

DEFAULT_BACKEND = "faster-whisper"


def spoken_text(words: int) -> str:
    """About `words` words of TED transcripts, whole sentences, stage markers such as (Laughter) removed."""
    import pandas as pd

    from tubetags import settings
    from tubetags.text import normalise_transcript

    talks = pd.read_csv(settings.require_source_file("ted"), usecols=["transcript"])
    out: list[str] = []
    for transcript in talks["transcript"].head(20):
        for sentence in re.split(r"(?<=[.!?])\s+", normalise_transcript(str(transcript))):
            out.append(sentence)
            if sum(len(s.split()) for s in out) >= words:
                return " ".join(out)
    return " ".join(out)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children (/proc/PID/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def post_file(base: str, path: Path) -> dict:
    boundary = "tubetagsbench"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{base}/api/jobs", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def wait_done(base: str, created: dict, timeout_s: float) -> tuple[dict, dict[str, float]]:
    """The finished job, and when each state was first seen (seconds from now)."""
    started, seen = time.perf_counter(), dict[str, float]()
    request = urllib.request.Request(
        base + created["status_url"], headers={"Authorization": f"Bearer {created['token']}"}
    )
    while True:
        with urllib.request.urlopen(request, timeout=60) as response:
            status = json.loads(response.read())
        seen.setdefault(status["state"], time.perf_counter() - started)
        if status["state"] in ("done", "failed"):
            return status, seen
        if time.perf_counter() - started > timeout_s:
            raise SystemExit(f"job not done after {timeout_s:.0f} s: {status}")
        time.sleep(0.5)


def run_backend(backend: str, base: str, env: dict[str, str], video: Path, warmup: Path, text: str, log: Path) -> dict:
    worker = start_worker({**env, "TUBETAGS_JOBS_ASR_BACKEND": backend}, log)
    try:
        warm, _ = wait_done(base, post_file(base, warmup), 900)  # the worker loads Whisper, then this job
        if warm["state"] != "done":
            raise SystemExit(f"{backend}: warm-up job failed: {warm['error']} (see {log})")
        load_before, cpu_before = os.getloadavg()[0], cpu_seconds(worker.pid)
        started = time.perf_counter()
        created = post_file(base, video)
        uploaded = time.perf_counter() - started
        done, seen = wait_done(base, created, 4 * 3600)
        total = time.perf_counter() - started
        cpu = cpu_seconds(worker.pid) - cpu_before
    finally:
        stop(worker)
    if done["state"] != "done":
        raise SystemExit(f"{backend}: job failed: {done['error']}")
    duration = done["video"]["duration_s"]
    heard = " ".join(s["text"] for s in done["transcript"]["segments"])
    transcribing = seen.get("tagging", total) - seen.get("transcribing", uploaded)
    return {
        "backend": backend,
        "audio_s": duration,
        "time_to_tags_s": total,
        "upload_s": uploaded,
        "transcribe_s": transcribing,
        "worker_cpu_s": cpu,
        "rtf": total / duration,
        "recall": word_recall(text, heard),
        "load": (load_before + os.getloadavg()[0]) / 2,
        "tags": [t["tag"] for t in done["tags"]][:5],
    }


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers it started on the way out
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--backend", nargs="+", default=[DEFAULT_BACKEND, "openai-whisper"])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tubetags-bench-video-") as scratch:
        folder = Path(scratch)
        text = spoken_text(int(args.minutes * 170))  # espeak-ng at -s 150 reads ~165 words a minute
        video = speech_video(folder, text, "talk.mp4")
        warmup = speech_video(folder, "A short warm-up clip about bread and the oven.", "warmup.mp4")
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(video)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"video: {float(probe.stdout):.0f} s, {video.stat().st_size / 1e6:.1f} MB, {len(text.split())} words")
        print(f"cores: {os.cpu_count()}, load average at the start: {os.getloadavg()[0]:.1f}")
        results = []
        with redis_server() as redis_url:
            env = worker_env(redis_url, args.tracking_uri or "", folder / "media")
            jobs_env = {
                "TUBETAGS_JOBS_REDIS_URL": redis_url,
                "TUBETAGS_MEDIA_DIR": str(folder / "media"),
                # The job time-out (300 s + 1 s per second of audio by default) would stop openai-whisper on a
                # loaded machine: the benchmark measures, it does not enforce.
                "TUBETAGS_JOBS_TIMEOUT_PER_AUDIO_S": "20",
            }
            with serve(args.tracking_uri, workers=1, **jobs_env) as (base, _health):
                for backend in args.backend:
                    result = run_backend(backend, base, env, video, warmup, text, folder / f"{backend}.log")
                    results.append(result)
                    print(
                        f"{backend}: time to tags {result['time_to_tags_s']:.1f} s for {result['audio_s']:.0f} s "
                        f"(rtf {result['rtf']:.3f}; upload+probe {result['upload_s']:.1f} s, transcribing "
                        f"{result['transcribe_s']:.1f} s), worker CPU {result['worker_cpu_s']:.0f} s, "
                        f"word recall {result['recall']:.3f}, load average {result['load']:.1f}, "
                        f"tags {', '.join(result['tags'])}",
                        flush=True,
                    )
        if len(results) > 1:
            first, *others = results
            for other in others:
                time_ratio = other["time_to_tags_s"] / first["time_to_tags_s"]
                cpu_ratio = other["worker_cpu_s"] / first["worker_cpu_s"]
                print(
                    f"{other['backend']} / {first['backend']}: time to tags x{time_ratio:.2f}, "
                    f"worker CPU x{cpu_ratio:.2f}, recall {other['recall'] - first['recall']:+.3f}"
                )
        print(f"cores: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.1f}")
        chosen = next((r for r in results if r["backend"] == DEFAULT_BACKEND), results[0])
        print(f"time_to_tags_s={chosen['time_to_tags_s']:.2f} rtf={chosen['rtf']:.4f} recall={chosen['recall']:.3f}")


if __name__ == "__main__":
    main()
