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
