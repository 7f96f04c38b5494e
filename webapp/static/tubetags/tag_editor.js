// The tag list made editable: remove a suggested tag, add your own, and see YouTube's 500-character budget.
// The budget is counted by the server (POST /api/tags/fit: tubetags/tags.py, the rules behind youtube_tags), so
// the meter and the copyable string are exactly what the server would make of the list; a tag that does not fit
// (or duplicates an earlier one) is marked, with the reason. Everything is written with textContent.
"use strict";

window.TagEditor = (function () {
  const $ = (id) => document.getElementById(id);
  let chips = null, pending = null;

  function tags() {
    return Array.from(chips.querySelectorAll(".chip")).map((li) => li.dataset.tag);
  }

  async function refit() {
    const asked = tags();
    const request = fetch("/api/tags/fit", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ tags: asked }),
      credentials: "omit",
    });
    pending = request;
    let data;
    try {
      const response = await request;
      data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    } catch (err) {
      $("meter-text").textContent = "Could not count the tags: " + err.message;
      return;
    }
    if (pending !== request) return;  // a newer edit is being counted
    $("youtube-tags").value = data.youtube_tags;
    $("meter").value = data.length;
    $("meter").max = data.limit;
    $("meter-text").textContent = `${data.length} / ${data.limit} characters` +
      (data.dropped.length ? `; ${data.dropped.length} not in the string (marked)` : "");
    const reasons = new Map(data.dropped.map((d) => [d.tag, d.reason]));
    for (const li of chips.querySelectorAll(".chip")) {
      const reason = reasons.get(li.dataset.tag);
      li.classList.toggle("dropped", Boolean(reason));
      li.title = reason ? `Not in the string: ${reason}` : "";
    }
  }

  function removable(li) {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove ${li.dataset.tag}`);
    remove.addEventListener("click", (event) => {
      event.stopPropagation();  // not a click on the chip (its evidence)
      if (li.getAttribute("aria-pressed") === "true") $("evidence").hidden = true;
      li.remove();
      refit();
    });
    remove.addEventListener("keydown", (event) => event.stopPropagation());
    li.append(remove);
  }

  function addOwn(event) {
    event.preventDefault();
    const field = $("own-tag"), tag = field.value.trim();
    if (!tag || !chips) return;
    const li = document.createElement("li");
    li.className = "chip own";
    li.dataset.tag = tag;
    const text = document.createElement("span");
    text.className = "tag";
    text.textContent = tag;
    const source = document.createElement("span");
    source.className = "source";
    source.textContent = "yours";
    li.append(text, source);
    removable(li);
    chips.append(li);
    field.value = "";
    refit();
  }

  function attach(list) {
    chips = list;
    for (const li of chips.querySelectorAll(".chip")) removable(li);
    show(true);
    refit();
  }

  function show(visible) {
    $("tag-editor").hidden = !visible;
  }

  document.addEventListener("DOMContentLoaded", () => $("own-tag-form").addEventListener("submit", addOwn));
  return { attach, refit, tags };
})();
