// The llmgs web page: submit a task, follow its events live, show the program and its GIF.
// Server-sent events are read with fetch() rather than EventSource so that the bearer token
// travels in a header, never in a URL (URLs end up in logs).
"use strict";

const $ = (id) => document.getElementById(id);
let currentJob = null;

function headers(extra = {}) {
  const token = $("token").value.trim();
  if (token) sessionStorage.setItem("llmgs-token", token);
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error((body && body.detail) || `HTTP ${response.status}`);
  return body;
}

function showMessage(text) {
  $("message").textContent = text;
}

async function loadTasks() {
  try {
    const { tasks } = await api("/v1/tasks");
    showMessage("");
    $("task").replaceChildren($("task").options[0]);
    for (const task of tasks) {
      const option = document.createElement("option");
      option.value = task.id;
      option.textContent = `${task.id}: ${task.description.slice(0, 60)}`;
      $("task").append(option);
    }
  } catch (err) {
    showMessage(`could not list tasks: ${err.message}`);
  }
}

function requestBody() {
  const body = { description: $("description").value, seed: Number($("seed").value || 0) };
  const model = $("model").value.trim();
  body.model = model === "" ? null : model;
  if ($("task").value) body.task = $("task").value;
  if ($("budget").value) body.budget = Number($("budget").value);
  if ($("revision").value) body.revision = $("revision").value;
  return body;
}

function describe(event) {
  const parts = [event.event];
  for (const key of ["stage", "task", "round", "evaluations", "best_return", "reward", "status", "error", "message"]) {
    if (event[key] !== undefined && event[key] !== null && !(key === "stage" && event.event !== "stage_started")) {
      parts.push(`${key}=${typeof event[key] === "number" ? +event[key].toFixed(4) : event[key]}`);
    }
  }
  return parts.join(" ");
}

function showProgress(job) {
  const p = job.progress || {};
  const budget = p.budget || (job.request && job.request.budget);
  if (budget && p.evaluations !== undefined) $("progress-bar").value = Math.min(1, p.evaluations / budget);
  if (job.status === "succeeded") $("progress-bar").value = 1;
  const bits = [];
  if (p.stage) bits.push(`stage ${p.stage}`);
  if (p.evaluations !== undefined) bits.push(`${p.evaluations} evaluations`);
  if (p.best_return !== undefined) bits.push(`best return ${p.best_return}`);
  $("progress-text").textContent = bits.join(", ");
}

async function showResult(job) {
  $("status").textContent = job.status;
  $("cancel").hidden = !["queued", "running"].includes(job.status);
  showProgress(job);
  if (job.error) showMessage(job.error);
  if (job.status !== "succeeded" || !job.result) return;
  const r = job.result;
  $("result-task").textContent = r.task;
  $("result-return").textContent = r.reward;
  $("result-evaluations").textContent = r.evaluations;
  $("program").textContent = r.program;
  $("python").textContent = r.python || "";
  $("outcome").hidden = false;
  if (job.has_gif) {
    const response = await fetch(job.links.gif, { headers: headers() });
    if (response.ok) {
      $("gif").src = URL.createObjectURL(await response.blob());
      $("gif").hidden = false;
    }
  }
}

function addEvent(event) {
  const item = document.createElement("li");
  item.textContent = describe(event);
  item.dataset.event = event.event;
  $("events").append(item);
  $("events").scrollTop = $("events").scrollHeight;
}

async function follow(job) {
  let lastId = 0;
  let lastRefresh = 0;
  // Reconnect (bounded) when the stream drops before the job ends.
  for (let attempt = 0; attempt < 20 && currentJob === job.id; attempt++) {
    const response = await fetch(`${job.links.events}?after=${lastId}`, { headers: headers() });
    if (!response.ok) throw new Error(`event stream: HTTP ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let ended = false;
    while (!ended) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const message = parseMessage(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (!message) continue;
        if (message.id) lastId = Number(message.id);
        if (message.event === "end") { ended = true; break; }
        addEvent(message.data);
        if (message.data.event && message.data.event.startsWith("job_")) $("status").textContent = message.data.status;
        if (Date.now() - lastRefresh > 500) {
          lastRefresh = Date.now();
          showProgress(await api(job.links.self));
        }
      }
    }
    if (ended) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await showResult(await api(job.links.self));
}

function parseMessage(text) {
  const message = { data: "" };
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") message.data += value;
    else message[field] = value;
  }
  if (!message.data) return null;
  message.data = JSON.parse(message.data);
  return message;
}

async function submit(event) {
  event.preventDefault();
  showMessage("");
  $("submit").disabled = true;
  try {
    const job = await api("/v1/solve", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(requestBody()),
    });
    currentJob = job.id;
    $("job").hidden = false;
    $("outcome").hidden = true;
    $("gif").hidden = true;
    $("events").replaceChildren();
    $("job-id").textContent = job.id;
    await showResult(job);
    await follow(job);
  } catch (err) {
    showMessage(err.message);
  } finally {
    $("submit").disabled = false;
  }
}

async function cancel() {
  if (!currentJob) return;
  try {
    await showResult(await api(`/v1/jobs/${currentJob}`, { method: "DELETE" }));
  } catch (err) {
    showMessage(err.message);
  }
}

$("token").value = sessionStorage.getItem("llmgs-token") || "";
$("solve-form").addEventListener("submit", submit);
$("cancel").addEventListener("click", cancel);
$("token").addEventListener("change", loadTasks);
loadTasks();
