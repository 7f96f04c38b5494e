"""Real Whisper on real speech: espeak-ng synthesises a sentence, the base checkpoint must hear it (~15 s)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines import asr
from tubetags import settings

pytestmark = pytest.mark.slow

SENTENCE = (
    "The quick brown fox jumps over the lazy dog. "
    "Volcanoes erupt when molten rock rises through the crust of the planet."
)
KEY_WORDS = {"quick", "brown", "fox", "lazy", "dog", "volcanoes", "rock", "planet"}


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install espeak-ng ffmpeg)")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), SENTENCE], check=True)
    return path


def heard(text: str) -> set[str]:
    return {w.strip(".,!?").lower() for w in text.split()} & KEY_WORDS


def test_openai_whisper_transcribes_speech_and_detects_english(speech):
    checkpoint = settings.whisper_checkpoint()
    if not Path(checkpoint).exists():
        pytest.skip(f"Whisper checkpoint {checkpoint} not found (set TUBETAGS_WHISPER_MODEL)")
    transcript = asr.transcribe(speech, backend="openai-whisper", progress=False)
    assert transcript.source == "whisper" and transcript.language == "en"
    assert len(heard(transcript.text)) >= 6, transcript.text


@pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is None, reason="faster-whisper not installed")
def test_faster_whisper_transcribes_speech(speech):
    try:
        asr.faster_whisper_model_dir()
    except RuntimeError as error:
        pytest.skip(str(error))
    transcript = asr.transcribe(speech, backend="faster-whisper", progress=False)
    assert transcript.language == "en" and len(heard(transcript.text)) >= 6, transcript.text


@pytest.mark.parametrize("backend", asr.BACKENDS)
def test_timed_segments_and_progress_from_samples(speech, backend):
    """What the video jobs use: float32 samples in (ffmpeg's decode), timed segments and progress out."""
    if backend == "openai-whisper" and not Path(settings.whisper_checkpoint()).exists():
        pytest.skip(f"Whisper checkpoint {settings.whisper_checkpoint()} not found (set TUBETAGS_WHISPER_MODEL)")
    if backend == "faster-whisper" and importlib.util.find_spec("faster_whisper") is None:
        pytest.skip("faster-whisper not installed")
    from pipelines import media

    samples = media.decode_audio(speech)
    seconds = len(samples) / media.SAMPLE_RATE
    reported: list[float] = []
    segments, language = asr.transcribe_timed(samples, backend, on_progress=reported.append)
    assert language == "en" and len(heard(" ".join(s.text for s in segments))) >= 6
    assert all(0 <= s.start_s < s.end_s <= seconds + 1 for s in segments)
    assert reported and reported == sorted(reported) and reported[-1] == pytest.approx(seconds, abs=2)
