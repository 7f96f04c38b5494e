// A video or its YouTube link -> a background job (POST /api/jobs) -> a progress bar polling the job's status_url
// (with the job's token) -> the tags, rendered by app.js, with evidence times that open the video at that moment.
// Uses the title, description, channel history, model and number of tags of the form above. Everything from the server goes in by textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const STATES = {
    uploading: "Uploading",
    queued: "Waiting for a worker",
    fetching: "Getting the video's words",
    transcribing: "Transcribing the speech",
    tagging: "Choosing the tags",
    done: "Done",
    failed: "Failed",
  };
  let preview = null;  // object URL of the dropped file, shown in <video> so that evidence times can seek it
  let busy = false;

  function duration(seconds) {
    const s = Math.max(1, Math.round(seconds));
    return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  }

  function progress(state, fraction, detail, eta) {
    $("job").hidden = false;
    $("job-progress").value = Math.max(0, Math.min(1, fraction));
    $("job-state").dataset.state = state;
    $("job-state").textContent = `${STATES[state] || state} · ${Math.round(fraction * 100)}%` +
      (eta != null ? ` · about ${duration(eta)} left` : "") + (detail && state !== "done" ? ` — ${detail}` : "");
  }

  function options() {
    return { k: Number($("k").value || 10), model: $("model").value, ...window.tubetags.optionalInputs() };
  }

  // The evidence's time as a link: the YouTube page at that second, or a button that seeks the uploaded video.
  function context(job) {
    return {
      moment(seconds, label) {
        if (job.video && job.video.url) {
          const link = document.createElement("a");
          link.href = `${job.video.url}&t=${Math.floor(seconds)}s`;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          link.textContent = label;
          return link;
        }
        const seek = document.createElement("button");
        seek.type = "button";
        seek.className = "link";
        seek.textContent = label;
        seek.addEventListener("click", () => {
          const player = $("video-preview");
          player.hidden = false;
          player.currentTime = seconds;
          player.play().catch(() => {});  // autoplay rules may refuse; the player is at the moment anyway
        });
        return seek;
      },
    };
  }

  function fail(message) {
    busy = false;
    $("video-submit").disabled = false;
    $("job").hidden = true;
    window.tubetags.showError(message);
  }

  async function poll(created) {
    let job;
    try {
      const response = await fetch(created.status_url, {
        headers: { Authorization: `Bearer ${created.token}` }, credentials: "omit", cache: "no-store",
      });
      job = await response.json();
      if (!response.ok) return fail(job.error || `HTTP ${response.status}`);
    } catch (err) {
      setTimeout(() => poll(created), 3000);  // the server was away for a moment: keep waiting
      return;
    }
    progress(job.state, job.progress, job.detail, job.eta_s);
    if (job.state === "failed") return fail(job.error);
    if (job.state !== "done") {
      setTimeout(() => poll(created), 1000);
      return;
    }
    busy = false;
    $("video-submit").disabled = false;
    const source = `Transcript: ${job.transcript.source}, ${job.transcript.language}, ` +
      `${job.transcript.segments.length} timed segments.`;
    window.tubetags.renderResult(job, context(job));
    $("meta").textContent += " " + source;
  }

  function started(answer) {
    if (answer.status !== 202) {
      let body = {};
      try { body = JSON.parse(answer.body); } catch { /* not JSON: a proxy's page */ }
      return fail(body.error || `HTTP ${answer.status}`);
    }
    const created = JSON.parse(answer.body);
    progress("queued", 0, "", null);
    poll(created);
  }

  // XMLHttpRequest, not fetch: it reports upload progress, which a large video needs.
  function send(body, headers) {
    if (busy) return;
    busy = true;
    $("video-submit").disabled = true;
    $("error").hidden = true;
    $("result").hidden = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/jobs");
    xhr.withCredentials = false;
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress("uploading", e.loaded / e.total, "", null);
    });
    xhr.addEventListener("load", () => started({ status: xhr.status, body: xhr.responseText }));
    xhr.addEventListener("error", () => fail("Could not reach the server."));
    xhr.send(body);
  }

  function sendFile(file) {
    if (preview) URL.revokeObjectURL(preview);
    preview = URL.createObjectURL(file);
    const player = $("video-preview");
    player.src = preview;
    player.hidden = true;  // shown when an evidence time is clicked
    $("video-name").textContent = file.name;
    $("video-file").value = "";  // the same file again is a new change
    const form = new FormData();
    form.append("file", file);
    window.tubetags.appendOptional(form, options());
    progress("uploading", 0, file.name, null);
    send(form, {});
  }

  function sendLink() {
    const url = $("video-url").value.trim();
    if (!url) return fail("Paste a YouTube link, or drop a video file.");
    $("video-preview").hidden = true;
    send(JSON.stringify({ url, ...options() }), { "Content-Type": "application/json" });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const drop = $("drop");
    for (const type of ["dragenter", "dragover"]) {
      drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
    }
    for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      if (e.dataTransfer.files.length) sendFile(e.dataTransfer.files[0]);
    });
    $("video-file").addEventListener("change", () => {
      if ($("video-file").files.length) sendFile($("video-file").files[0]);
    });
    $("video-form").addEventListener("submit", (e) => { e.preventDefault(); sendLink(); });
  });
})();
