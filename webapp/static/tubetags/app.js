// Demo page: posts to /api/tags with fetch and renders the answer.
// Everything from the server is written with textContent, never innerHTML: tags are data.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("tag-form"), fileInput = $("file"), clearFile = $("clear-file");
  // The video the tags came from (a video job): evidence times link to that moment. null for a transcript.
  let video = null;

  function show(el, visible) { el.hidden = !visible; }

  const ORIGINS = {
    transcript: "the video's own words",
    closed: "the tag model",
    history: "your channel's earlier videos",
  };
  const LABELS = { transcript: "video", closed: "model", history: "channel" };

  // The history box: one earlier video per line, "title | tag, tag, …" -> [{title, tags}].
  function parseHistory(text) {
    return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const bar = line.lastIndexOf("|");
      const title = bar < 0 ? "" : line.slice(0, bar).trim();
      const tags = (bar < 0 ? line : line.slice(bar + 1)).split(",").map((t) => t.trim()).filter(Boolean);
      return { title, tags };
    });
  }

  function showError(message) {
    $("error").textContent = message;
    show($("error"), true);
    show($("result"), false);
  }

  // Why a tag is suggested: where it came from and the passage that says it (with its time for subtitles).
  function showEvidence(item, li) {
    for (const other of $("chips").children) other.setAttribute("aria-pressed", "false");
    li.setAttribute("aria-pressed", "true");
    const origin = ORIGINS[item.source] || "the tag model";
    const ev = item.evidence;
    if (ev) {
      $("evidence-head").textContent = `“${item.tag}” comes from ${origin}` + (ev.start ? "; said at " : "; said here:");
      if (ev.start) $("evidence-head").append(video ? video.moment(ev.start_s, ev.start) : ev.start, ":");
      $("evidence-passage").textContent = ev.passage;
    } else {
      $("evidence-head").textContent = item.source === "history"
        ? `“${item.tag}” comes from ${origin}: you used it before. Check that it fits this video.`
        : `“${item.tag}” comes from ${origin}: it is not said in the transcript, ` +
          "the model inferred it. Check that it fits before you use it.";
      $("evidence-passage").textContent = "";
    }
    show($("evidence-passage"), Boolean(ev));
    show($("evidence"), true);
  }

  // data: an /api/tags answer, or a finished video job; context: {moment(start_s, label) -> a link or button}.
  function renderResult(data, context) {
    video = context || null;
    const chips = $("chips");
    chips.replaceChildren();
    show($("evidence"), false);
    for (const item of data.tags) {
      const li = document.createElement("li");
      li.className = "chip";
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      li.setAttribute("aria-pressed", "false");
      li.dataset.tag = item.tag;
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = item.tag;
      const source = document.createElement("span");
      source.className = "source";
      source.textContent = LABELS[item.source] || "model";
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = Number(item.score).toFixed(2);
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = Math.round(Math.max(0, Math.min(1, item.score)) * 100) + "%";  // CSSOM: allowed by CSP
      li.append(tag, source, score, bar);
      li.addEventListener("click", () => showEvidence(item, li));
      li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") showEvidence(item, li); });
      chips.append(li);
    }
    if (!data.tags.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No tags for this transcript.";
      chips.append(li);
    }
    $("youtube-tags").value = data.youtube_tags;
    if (window.TagEditor) window.TagEditor.attach(chips);  // tags removable, your own addable, the 500-char meter
    $("copy").textContent = "Copy";
    const m = data.model;
    $("meta").textContent = `Answered by ${m.name} version ${m.version} (${m.strategy}, alias ${m.alias}) in ` +
      `${Number(data.elapsed_ms).toFixed(0)} ms; language: ${data.language}.`;
    show($("error"), false);
    show($("result"), true);
  }

  // The optional inputs of the form (title, description, channel history), only those filled in.
  function optionalInputs() {
    const title = $("title").value.trim(), description = $("description").value.trim();
    const history = parseHistory($("history").value);
    const optional = {};
    if (title) optional.title = title;
    if (description) optional.description = description;
    if (history.length) optional.channel_history = history;
    return optional;
  }

  // In a multipart form the history is its JSON text.
  function appendOptional(form, optional) {
    for (const [name, value] of Object.entries(optional)) {
      form.append(name, name === "channel_history" ? JSON.stringify(value) : String(value));
    }
  }

  async function submit(event) {
    event.preventDefault();
    const k = Number($("k").value || 10), model = $("model").value, optional = optionalInputs();
    let body, headers = {};
    if (fileInput.files.length) {
      // The server parses the subtitles (timestamps and markup removed there).
      body = new FormData();
      body.append("file", fileInput.files[0]);
      body.append("k", String(k));
      body.append("model", model);
      appendOptional(body, optional);
    } else {
      const transcript = $("transcript").value;
      if (!transcript.trim()) { showError("Paste a transcript or choose a subtitle file first."); return; }
      body = JSON.stringify({ transcript, k, model, ...optional });
      headers = { "Content-Type": "application/json" };
    }
    // No cookies or CSRF token: the API authenticates nobody and reads no cookies.
    $("submit").disabled = true;
    show($("busy"), true);
    try {
      const response = await fetch("/api/tags", { method: "POST", body, headers, credentials: "omit" });
      let data;
      try { data = await response.json(); } catch { data = { error: `HTTP ${response.status}` }; }
      if (!response.ok) showError(data.error || `HTTP ${response.status}`);
      else renderResult(data);
    } catch (err) {
      showError("Could not reach the server: " + err.message);
    } finally {
      $("submit").disabled = false;
      show($("busy"), false);
    }
  }

  async function copyTags() {
    const field = $("youtube-tags");
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      field.select();  // clipboard API needs a secure context; fall back to the old way
      document.execCommand("copy");
    }
    $("copy").textContent = "Copied ✓";
  }

  window.tubetags = { renderResult, showError, optionalInputs, appendOptional };  // for video.js (video jobs)
  fileInput.addEventListener("change", () => show(clearFile, fileInput.files.length > 0));
  clearFile.addEventListener("click", () => { fileInput.value = ""; show(clearFile, false); });
  form.addEventListener("submit", submit);
  $("copy").addEventListener("click", copyTags);
})();
