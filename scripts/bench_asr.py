"""Real-time factor (transcription seconds / audio seconds) of the ASR backends on this machine.

    python scripts/bench_asr.py [--seconds 75] [--backend openai-whisper faster-whisper]

Speech is synthesised with espeak-ng (apt-get install espeak-ng ffmpeg), so no download is needed.
Model loading is timed apart: it happens once per collector run, not once per video.
The last line is `rtf=<float>` for the first backend named.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import asr  # noqa: E402

# Distinct sentences, not one paragraph repeated: repeated text makes Whisper's compression-ratio
# check fail and re-decode at higher temperatures, which measures the fallback, not the model.
TEXT = (
    "Volcanoes form where molten rock rises through the crust of the planet. "
    "Scientists measure gas, heat and small earthquakes to predict an eruption. "
    "In this video we travel to Iceland and talk with geologists about lava, ash and the history of the island. "
    "Then we build a simple model of a volcano in the kitchen with baking soda and vinegar. "
    "Finally we explain why some eruptions are explosive while others pour out quiet rivers of glowing rock. "
    "Bees visit thousands of flowers every day, and a single hive can hold fifty thousand workers. "
    "Farmers rent hives in spring because almonds, apples and cherries need them to set fruit. "
    "A beekeeper opens the box slowly, checks the frames for eggs and looks for signs of disease. "
    "Honey is nectar that the bees have dried and stored in wax cells for the winter. "
    "The stock market went up on Tuesday after the central bank kept interest rates where they were. "
    "Economists expect inflation to slow down next year, although energy prices remain a risk. "
    "Our guest today is a chef who cooks vegetarian dishes with beans, lentils and fresh herbs. "
    "She shows how to make a spicy tomato soup in twenty minutes with only one pot. "
    "Football fans filled the stadium as the home team scored twice in the second half. "
    "The goalkeeper saved a penalty in the last minute and the crowd sang until midnight. "
    "Programmers write tests so that a change in one place does not quietly break another. "
    "A good test is fast, it checks one behaviour and it explains what went wrong when it fails. "
    "The telescope in the desert records light that left distant galaxies billions of years ago. "
    "Astronomers combine many images to find faint planets that circle other stars. "
)


def synthesise(path: Path, min_seconds: float) -> float:
    """espeak-ng speech of at least min_seconds (slower speech if the text is too short); its duration."""
    if not shutil.which("espeak-ng"):
        raise SystemExit("espeak-ng is missing: apt-get install espeak-ng ffmpeg")
    words_per_minute = 160
    while True:
        subprocess.run(["espeak-ng", "-s", str(words_per_minute), "-w", str(path), TEXT], check=True)
        with wave.open(str(path)) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        if seconds >= min_seconds or words_per_minute <= 80:
            return seconds
        words_per_minute = max(80, int(words_per_minute * seconds / min_seconds))


def word_recall(reference: str, hypothesis: str) -> float:
    words = lambda text: set(re.findall(r"[a-z]+", text.lower()))  # noqa: E731
    return len(words(reference) & words(hypothesis)) / len(words(reference))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=75.0, help="minimum audio length")
    parser.add_argument("--backend", nargs="+", default=["openai-whisper"], choices=asr.BACKENDS)
    parser.add_argument(
        "--beam-size",
        type=int,
        default=asr.FASTER_WHISPER_OPTIONS["beam_size"],
        help="faster-whisper's beam (the library's default is 5; the project's 1)",
    )
    args = parser.parse_args()
    asr.FASTER_WHISPER_OPTIONS["beam_size"] = args.beam_size
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        audio = Path(folder) / "speech.wav"
        seconds = synthesise(audio, args.seconds)
        print(f"audio: {seconds:.1f} s of espeak-ng speech")
        for backend in args.backend:
            started = time.perf_counter()
            asr.load_model(backend)
            loaded, cpu_loaded = time.perf_counter(), time.process_time()
            transcript = asr.transcribe(audio, backend=backend, progress=False)
            done, cpu_done = time.perf_counter(), time.process_time()
            results[backend] = (done - loaded) / seconds
            # CPU seconds too: on a shared machine wall time also measures the neighbours.
            print(
                f"{backend}: load {loaded - started:.1f} s, transcribe {done - loaded:.1f} s "
                f"({cpu_done - cpu_loaded:.1f} CPU s), rtf {results[backend]:.3f}, "
                f"language {transcript.language}, word recall {word_recall(TEXT, transcript.text):.2f}"
            )
    print(f"cores: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"rtf={results[args.backend[0]]:.4f}")


if __name__ == "__main__":
    main()
