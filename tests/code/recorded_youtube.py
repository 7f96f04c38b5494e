"""YouTube at its network boundaries, for tests without network: the transcript API's caption tracks (real
TranscriptList / Transcript objects over a fake HTTP session) and yt-dlp (a recorded audio file "downloaded")."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

import requests
from youtube_transcript_api import TranscriptList, TranscriptsDisabled
from youtube_transcript_api._transcripts import Transcript as CaptionTrack


class FakeCaptionSession:
    """Stands in for requests.Session: answers a caption track URL with timedtext XML."""

    def __init__(self, texts: dict[str, str]):
        self.texts = texts

    def get(self, url: str) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        words = self.texts[url].split()
        lines = [" ".join(words[i : i + 6]) for i in range(0, len(words), 6)]
        cues = "".join(f'<text start="{2.5 * n}" dur="2.5">{line}</text>' for n, line in enumerate(lines))
        response._content = f"<transcript>{cues}</transcript>".encode()
        return response


class FakeTranscriptApi:
    """Replaces YouTubeTranscriptApi. tracks: video id -> [(language code, is_generated, text)] or an exception."""

    tracks: dict[str, Any] = {}

    def list(self, video_id: str) -> TranscriptList:
        tracks = self.tracks.get(video_id, TranscriptsDisabled(video_id))
        if isinstance(tracks, Exception):
            raise tracks
        urls = {
            f"https://www.youtube.com/api/timedtext?v={video_id}&lang={code}&asr={gen}": text
            for code, gen, text in tracks
        }
        session = FakeCaptionSession(urls)
        manual, generated = {}, {}
        for (code, gen, _), url in zip(tracks, urls):
            (generated if gen else manual)[code] = CaptionTrack(session, video_id, url, code, code, gen, [])
        return TranscriptList(video_id, manual, generated, [])


class FakeYoutubeDL:
    """Replaces yt_dlp.YoutubeDL: `serving({video_id: (recorded audio file, duration s)})` makes a class whose
    extract_info reads the "page" (id, duration) and process_ie_result "downloads" the recorded file where the
    options' outtmpl says, calling the progress hooks as yt-dlp does. Unknown ids fail like a removed video."""

    videos: ClassVar[dict[str, tuple[Path, float]]] = {}
    urls: ClassVar[list[str]] = []
    last_options: ClassVar[dict[str, Any]] = {}

    @classmethod
    def serving(cls, videos: dict[str, tuple[Path, float]]) -> type[FakeYoutubeDL]:
        return type("RecordedYoutubeDL", (cls,), {"videos": videos, "urls": [], "last_options": {}})

    def __init__(self, options: dict[str, Any]):
        self.options = options
        type(self).last_options.update(options)

    def __enter__(self) -> FakeYoutubeDL:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def extract_info(self, url: str, download: bool = True) -> dict[str, Any]:
        import yt_dlp

        type(self).urls.append(url)
        video_id = url.rsplit("v=", 1)[-1]
        if video_id not in self.videos:
            raise yt_dlp.utils.DownloadError(
                f"ERROR: [youtube] {video_id}: Video unavailable. This video has been removed"
            )
        recorded, duration = self.videos[video_id]
        info = {"id": video_id, "ext": recorded.suffix.lstrip("."), "duration": duration, "is_live": False}
        return self.process_ie_result(info, download=True) if download else info

    def process_ie_result(self, info: dict[str, Any], download: bool = True) -> dict[str, Any]:
        target = Path(self.options["outtmpl"].replace("%(id)s", info["id"]).replace("%(ext)s", info["ext"]))
        if download:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.videos[info["id"]][0], target)
            size = target.stat().st_size
            for hook in self.options.get("progress_hooks", []):
                hook({"status": "downloading", "downloaded_bytes": size // 2, "total_bytes": size})
                hook({"status": "finished", "downloaded_bytes": size, "total_bytes": size})
        return {**info, "requested_downloads": [{"filepath": str(target)}]}

    def prepare_filename(self, info: dict[str, Any]) -> str:
        return self.options["outtmpl"].replace("%(id)s", info["id"]).replace("%(ext)s", info["ext"])


class RecordedOembed:
    """Stands in for youtube_links.http_session(): answers oEmbed requests from recorded files in
    tests/fixtures/youtube, per video id: {video_id: (HTTP status, file name)}; other ids get YouTube's 404."""

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "youtube"

    def __init__(self, answers: dict[str, tuple[int, str]]):
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self) -> RecordedOembed:  # used as the session factory
        return self

    def get(self, url: str, params: dict[str, str], timeout: float) -> requests.Response:
        video_id = params["url"].rsplit("v=", 1)[-1]
        self.asked.append(video_id)
        status, name = self.answers.get(video_id, (404, "oembed_404.txt"))
        response = requests.Response()
        response.status_code = status
        response._content = (self.fixtures / name).read_bytes()
        return response
