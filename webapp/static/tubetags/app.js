// Demo page: posts to /api/tags with fetch and renders the answer.
// Everything from the server is written with textContent, never innerHTML: tags are data.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("tag-form"), fileInput = $("file"), clearFile = $("clear-file");

  function show(el, visible) { el.hidden = !visible; }

  function showError(message) {
    $("error").textContent = message;
    show($("error"), true);
    show($("result"), false);
  }

  function renderResult(data) {
    const chips = $("chips");
    chips.replaceChildren();
    for (const item of data.tags) {
      const li = document.createElement("li");
      li.className = "chip";
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = item.tag;
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = Number(item.score).toFixed(2);
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = Math.round(Math.max(0, Math.min(1, item.score)) * 100) + "%";  // CSSOM: allowed by CSP
      li.append(tag, score, bar);
      chips.append(li);
    }
    if (!data.tags.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No tags for this transcript.";
      chips.append(li);
    }
    $("youtube-tags").value = data.youtube_tags;
    $("copy").textContent = "Copy";
    const m = data.model;
    $("meta").textContent = `Answered by ${m.name} version ${m.version} (${m.strategy}, alias ${m.alias}) in ` +
      `${Number(data.elapsed_ms).toFixed(0)} ms.`;
    show($("error"), false);
    show($("result"), true);
  }

  async function submit(event) {
    event.preventDefault();
    const k = Number($("k").value || 10), model = $("model").value;
    let body, headers = {};
    if (fileInput.files.length) {
      // The server parses the subtitles (timestamps and markup removed there).
      body = new FormData();
      body.append("file", fileInput.files[0]);
      body.append("k", String(k));
      body.append("model", model);
    } else {
      const transcript = $("transcript").value;
      if (!transcript.trim()) { showError("Paste a transcript or choose a subtitle file first."); return; }
      body = JSON.stringify({ transcript, k, model });
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

  fileInput.addEventListener("change", () => show(clearFile, fileInput.files.length > 0));
  clearFile.addEventListener("click", () => { fileInput.value = ""; show(clearFile, false); });
  form.addEventListener("submit", submit);
  $("copy").addEventListener("click", copyTags);
})();
