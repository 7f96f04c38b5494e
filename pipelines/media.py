"""Audio and video files: what ffprobe says about them, and their sound as Whisper wants it (16 kHz mono).

`probe` answers in a fraction of a second from the container's header, so the web app can refuse a file before
anything is queued (not a media file, an image, no sound track, too long). `decode_audio` runs in the worker:
ffmpeg decodes the first audio stream to 16-bit PCM on a pipe, resampled to 16 kHz mono, and the samples become
float32 in [-1, 1], what both Whisper backends take. Nothing is written to disk.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000  # Whisper's
# Codecs of still pictures: a PNG or JPEG probes as a one-frame "video" stream.
IMAGE_CODECS = {"png", "mjpeg", "jpeg2000", "bmp", "gif", "webp", "tiff", "apng", "jpegxl", "heif", "avif", "qoi"}


class MediaError(ValueError):
    """The file cannot be used; the message says why, in words a creator understands."""


@dataclass(frozen=True)
class MediaInfo:
    format_name: str  # ffprobe's demuxer name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration_s: float
    audio_codec: str  # of the first audio stream
    has_video: bool


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: apt-get install ffmpeg")
    return found


def probe(path: Path, timeout_s: float = 30.0) -> MediaInfo:
    """What the file holds, or MediaError: empty, not a media file, a picture, no sound track, unknown length."""
    if Path(path).stat().st_size == 0:
        raise MediaError("The file is empty.")
    result = subprocess.run(
        [_tool("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise MediaError(
            "This is not a video or audio file that can be read (it may be damaged, or another kind of file)."
        )
    found = json.loads(result.stdout or "{}")
    streams = found.get("streams", [])
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [s for s in streams if s.get("codec_type") == "video"]
    format_name = found.get("format", {}).get("format_name", "")
    if not audio:
        if video and all(s.get("codec_name") in IMAGE_CODECS for s in video):
            raise MediaError(f"This is a picture ({video[0]['codec_name']}), not a video: upload the video file.")
        if video:
            raise MediaError("The video has no sound track: there is no speech to transcribe.")
        raise MediaError("This is not a video or audio file (no audio or video stream in it).")
    durations = [found.get("format", {}).get("duration"), *(s.get("duration") for s in audio)]
    known = [float(d) for d in durations if d not in (None, "N/A")]
    if not known or max(known) <= 0:
        raise MediaError("Could not tell how long this file is: it may be damaged or still being written.")
    return MediaInfo(format_name, max(known), audio[0].get("codec_name", ""), bool(video))


def decode_audio(path: Path, timeout_s: float | None = None) -> np.ndarray:
    """The first audio stream as float32 samples at 16 kHz, mono. MediaError if ffmpeg cannot decode it."""
    result = subprocess.run(
        [
            _tool("ffmpeg"),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0 or not result.stdout:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no audio decoded"]
        raise MediaError(f"The sound track could not be decoded ({detail[0][:200]}).")
    return np.frombuffer(result.stdout, dtype=np.int16).astype(np.float32) / 32768.0
