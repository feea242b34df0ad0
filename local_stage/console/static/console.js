// The local console's page: plain JavaScript (no library, no build step), standard DOM and
// fetch only, so any current browser runs it. Every request carries the stack's token,
// read from the page's own URL.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
// The stage shown, when the stack holds several (`?stage=local-long`); else the only one.
const STAGE = new URLSearchParams(location.search).get("stage") || "";
const API = "api/";

// The console API's URL for `path`, naming the page's stage when it has one.
function apiUrl(path) {
  if (!STAGE) return API + path;
  return API + path + (path.includes("?") ? "&" : "?") + "stage=" + encodeURIComponent(STAGE);
}
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = { "X-Local-Token": TOKEN, ...(options.headers || {}) };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options = { ...options, method: options.method || "POST", body: JSON.stringify(options.json) };
  }
  const answer = await fetch(apiUrl(path), { ...options, headers, cache: "no-store" });
  const text = await answer.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  if (!answer.ok) {
    const message = (body && body.message) || text || answer.statusText;
    throw new Error(`${answer.status}: ${message}`);
  }
  return body;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const clock = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleTimeString() : "");
const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));
function prettyText(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

// -- tabs ---------------------------------------------------------------------------------
const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
function select(tab) {
  for (const other of tabs) {
    const on = other === tab;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !on;
  }
  if (tab.id === "tab-jobs") loadJobs();
  if (tab.id === "tab-objects") loadObjects(currentPrefix);
  if (tab.id === "tab-spend") loadSpend();
}
tabs.forEach((tab, index) => {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(index + step + tabs.length) % tabs.length];
    next.focus();
    select(next);
  });
});

// -- health -------------------------------------------------------------------------------
async function loadHealth() {
  try {
    const health = await api("health");
    $("processes").replaceChildren(
      ...health.processes.map((p) =>
        el("li", { class: p.ok === true ? "ok" : p.ok === false ? "down" : "unknown", title: p.detail },
          `${p.name}: ${p.detail}`)));
    const model = health.model;
    $("model").textContent = model.name
      ? `Model: ${model.name} (${model.backend})` +
        (model.tokens_per_second ? `, ${model.tokens_per_second} tokens/s over the last ${model.answers} answers (end to end)` : ", no answer yet")
      : "Model: not served by local.up";
  } catch (error) {
    $("processes").replaceChildren(el("li", { class: "down" }, `health: ${error.message}`));
  }
}

// -- the feed -----------------------------------------------------------------------------
let lastSeq = 0;
let selected = null;
async function follow() {
  for (;;) {
    try {
      const answer = await api(`requests?after=${lastSeq}&wait=20`);
      $("connection").textContent = "live";
      for (const row of answer.requests) addRow(row);
    } catch (error) {
      $("connection").textContent = `disconnected (${error.message}); retrying`;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function addRow(row) {
  lastSeq = Math.max(lastSeq, row.seq);
  $("feed-empty").hidden = true;
  const tr = el("tr", { tabindex: "0", "data-request-id": row.request_id, "aria-selected": "false" },
    el("td", {}, clock(row.time)),
    el("td", {}, row.method),
    el("td", {}, row.route_key || row.path),
    el("td", { class: `status-${String(row.status)[0]}` }, row.status),
    el("td", {}, `${Math.round(row.latency_ms)} ms`),
    el("td", {}, row.output_tokens ?? ""),
    el("td", {}, el("code", {}, row.request_id)));
  const open = () => showRequest(row.request_id, tr);
  tr.addEventListener("click", open);
  tr.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); } });
  $("feed").tBodies[0].prepend(tr);
  if (row.status === 200 && row.output_tokens) loadHealth();
}

async function showRequest(requestId, tr) {
  if (selected) selected.setAttribute("aria-selected", "false");
  selected = tr;
  tr.setAttribute("aria-selected", "true");
  const detail = $("detail");
  detail.hidden = false;
  $("detail-id").textContent = requestId;
  $("detail-logs").replaceChildren(el("li", {}, "loading…"));
  try {
    const request = await api(`requests/${encodeURIComponent(requestId)}`);
    $("detail-request").textContent = prettyText(request.request_body) || "(empty)";
    $("detail-status").textContent = `${request.status}, ${Math.round(request.latency_ms)} ms`;
    $("detail-answer").textContent = pretty(request.answer) || "(empty)";
    $("detail-logs").replaceChildren(
      ...(request.logs.length
        ? request.logs.map((line) => el("li", {}, el("span", { class: "fn" }, line.function), line.message))
        : [el("li", {}, "no log line yet (the runtime ships them within a second: select the row again)")]));
    $("detail-object").replaceChildren(request.object ? objectView(request.object) : el("p", { class: "muted" }, "none"));
  } catch (error) {
    $("detail-logs").replaceChildren(el("li", {}, error.message));
  }
}

// Highlighted code is HTML made on the server by Pygments, which escapes the code itself.
function objectView(object) {
  const code = el("div", { class: "code" });
  code.innerHTML = object.html;
  const link = el("a", { href: `${apiUrl(`object?key=${encodeURIComponent(object.key)}&download=1`)}&token=${encodeURIComponent(TOKEN)}`, download: object.key.split("/").pop() }, "download");
  const meta = Object.entries(object.metadata).map(([name, value]) => `${name}: ${value}`).join(" · ");
  return el("div", { class: "object" },
    el("p", { class: "meta" }, el("code", {}, object.key), ` (${object.size} bytes) `, link),
    el("p", { class: "meta" }, meta),
    code);
}

// -- spend per caller ---------------------------------------------------------------------
async function loadSpend() {
  try {
    const answer = await api("spend");
    $("spend").tBodies[0].replaceChildren(...answer.callers.map((row) => el("tr", { "data-caller": row.caller },
      el("td", {}, el("code", {}, row.caller)),
      el("td", {}, row.arn),
      el("td", {}, row.day.requests),
      el("td", {}, row.day.input_tokens + row.day.output_tokens),
      el("td", {}, row.month.input_tokens + row.month.output_tokens),
      el("td", {}, `$${row.month.cost_usd.toFixed(4)}`),
      el("td", {}, row.day.reserved_tokens ? `${row.day.reserved_tokens} tokens` : ""))));
  } catch (error) {
    $("spend").tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: "7" }, error.message)));
  }
}
$("spend-refresh").addEventListener("click", loadSpend);

// -- jobs ---------------------------------------------------------------------------------
async function loadJobs() {
  try {
    const answer = await api("jobs");
    $("jobs").tBodies[0].replaceChildren(...answer.jobs.map((job) => el("tr", {},
      el("td", {}, el("code", {}, job.job_id)),
      el("td", {}, job.status),
      el("td", {}, clock(job.created_at)),
      el("td", {}, clock(job.started_at)),
      el("td", {}, clock(job.finished_at)),
      el("td", {}, job.attempts),
      el("td", {}, job.progress_tokens ? `~${job.progress_tokens} tokens` : ""),
      el("td", {}, job.error ? `${job.error.code}: ${job.error.message}` : ""))));
    $("dlq-name").textContent = answer.dead_letter_queue || "(none)";
    $("dead-letters").tBodies[0].replaceChildren(...answer.dead_letters.map((message) => el("tr", { "data-message-id": message.message_id },
      el("td", {}, el("code", {}, message.message_id)),
      el("td", {}, message.job_id || ""),
      el("td", {}, clock(message.sent_at)),
      el("td", {}, message.receives),
      el("td", {}, el("code", {}, message.body.slice(0, 200))),
      el("td", {}, el("button", { type: "button", onclick: (event) => sendBack(message.message_id, event.target) }, "Send back to the queue")))));
  } catch (error) {
    $("jobs").tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: "8" }, error.message)));
  }
}
$("jobs-refresh").addEventListener("click", loadJobs);

async function sendBack(messageId, button) {
  button.disabled = true;
  try {
    const answer = await api(`dead-letters/${encodeURIComponent(messageId)}/send-back`, { json: {} });
    button.textContent = `sent back (${answer.sent})`;
    setTimeout(loadJobs, 1000);
  } catch (error) {
    button.textContent = error.message;
    button.disabled = false;
  }
}

// -- stored objects -------------------------------------------------------------------------
let currentPrefix = "";
async function loadObjects(prefix) {
  currentPrefix = prefix;
  try {
    const listing = await api(`objects?prefix=${encodeURIComponent(prefix)}`);
    $("bucket").textContent = listing.bucket;
    const parts = prefix.split("/").filter(Boolean);
    $("crumbs").replaceChildren(
      el("a", { href: "#", onclick: (event) => { event.preventDefault(); loadObjects(""); } }, "/"),
      ...parts.map((part, index) => el("span", {}, " ",
        el("a", { href: "#", onclick: (event) => { event.preventDefault(); loadObjects(parts.slice(0, index + 1).join("/") + "/"); } }, part), " /")));
    $("folders").replaceChildren(...listing.folders.map((folder) => el("li", {},
      el("a", { href: "#", onclick: (event) => { event.preventDefault(); loadObjects(folder); } }, folder.slice(prefix.length)))));
    $("objects").tBodies[0].replaceChildren(...listing.objects.map((object) => el("tr", {},
      el("td", {}, el("a", { href: "#", onclick: (event) => { event.preventDefault(); viewObject(object.key); } }, object.key.slice(prefix.length))),
      el("td", {}, `${object.size} B`),
      el("td", {}, new Date(object.modified * 1000).toLocaleString()))));
  } catch (error) {
    $("folders").replaceChildren(el("li", {}, error.message));
  }
}

async function viewObject(key) {
  try {
    $("object-view").replaceChildren(objectView(await api(`object?key=${encodeURIComponent(key)}`)));
  } catch (error) {
    $("object-view").replaceChildren(el("p", {}, error.message));
  }
}

// -- try it ---------------------------------------------------------------------------------
$("try-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const asked = {
    message: form.get("message"),
    language: form.get("language"),
    mode: form.get("mode"),
    max_tokens: form.get("max_tokens") ? Number(form.get("max_tokens")) : undefined,
    temperature: form.get("temperature") ? Number(form.get("temperature")) : undefined,
  };
  const send = $("try-send");
  send.disabled = true;
  $("try-code").replaceChildren();
  $("try-answer").hidden = true;
  $("try-status").textContent = asked.mode === "job" ? "submitting the job…" : "generating…";
  try {
    const answer = await api("try", { json: asked });
    if (asked.mode === "job" && answer.status === 202) await followJob(answer.body.job_id);
    else await showAnswer(answer);
  } catch (error) {
    $("try-status").textContent = error.message;
  } finally {
    send.disabled = false;
  }
});

async function showAnswer(answer) {
  const body = answer.body;
  $("try-status").textContent = `${answer.status} in ${Math.round(answer.latency_ms)} ms, request ${answer.request_id}`;
  if (answer.status === 200 && body.key) {
    try {
      $("try-code").replaceChildren(objectView(await api(`object?key=${encodeURIComponent(body.key)}`)));
    } catch {
      $("try-code").replaceChildren(el("pre", {}, body.code));
    }
    const repair = body.syntax.repair ? ` (repair: ${body.syntax.repair})` : "";
    $("try-status").textContent += `: ${body.usage.output_tokens} tokens, syntax ${body.syntax.status}${repair}`;
  } else if (body && body.code) {
    $("try-code").replaceChildren(el("pre", {}, body.code));
  }
  $("try-answer").textContent = pretty(body);
  $("try-answer").hidden = false;
}

async function followJob(jobId) {
  for (;;) {
    const answer = await api(`jobs/${encodeURIComponent(jobId)}`);
    const job = answer.body;
    const progress = job.progress ? `, ~${job.progress.output_tokens} tokens so far` : "";
    $("try-status").textContent = `job ${jobId}: ${job.status}${progress}`;
    if (job.status === "succeeded" || job.status === "failed") {
      await showAnswer({ ...answer, body: job });
      $("try-status").textContent = `job ${jobId}: ${job.status}` + (job.usage ? `, ${job.usage.output_tokens} tokens` : "");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

select(tabs[0]);
loadHealth();
setInterval(loadHealth, 10000);
follow();
