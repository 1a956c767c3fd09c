// The mockserver dashboard: plain JavaScript, no build step, no library, nothing loaded from elsewhere.
// Every value shown is put in the page with textContent (never parsed as HTML): batch metadata, file
// names, CSV parameters and request paths are whatever a client sent.
"use strict";

(function () {
  const ADMIN = new URL(".", window.location.href); // the admin API: the page is served at <admin>/ui
  const POLL_MS = 1000;
  const TOKEN_KEY = "mockserver.adminToken";
  const state = { data: null, selected: null, detail: null, tab: "batches", errorUntil: 0 };

  // -- the admin token: typed in, or ?token= once (then removed from the address bar) --------------------
  const params = new URLSearchParams(window.location.search);
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
  }
  const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

  // -- small helpers --------------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "onclick") node.addEventListener("click", value);
      else if (key === "style") Object.assign(node.style, value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function iso(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
  }

  function span(seconds) {
    const s = Math.abs(seconds);
    if (s < 60) return `${+s.toFixed(s < 10 ? 1 : 0)} s`;
    if (s < 3600) return `${+(s / 60).toFixed(1)} min`;
    if (s < 86400) return `${+(s / 3600).toFixed(1)} h`;
    return `${+(s / 86400).toFixed(1)} d`;
  }

  function relative(at, now) {
    if (at === null || at === undefined) return "—";
    const d = at - now;
    if (Math.abs(d) < 0.05) return "now";
    return d < 0 ? `${span(d)} ago` : `in ${span(d)}`;
  }

  function showStatus(text, isError) {
    const node = $("status");
    node.textContent = text;
    node.classList.toggle("error", !!isError);
  }

  async function api(path, options) {
    const headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    if (token()) headers.Authorization = "Bearer " + token();
    const response = await fetch(new URL(path, ADMIN), Object.assign({}, options, { headers, cache: "no-store" }));
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (response.status === 401 || response.status === 403) {
      const error = new Error(token() ? "the admin token was refused: enter the right one above" : "the admin API needs a token: enter it above");
      error.auth = true;
      throw error;
    }
    if (!response.ok) {
      const message = body && body.error ? (body.error.message || JSON.stringify(body.error)) : `HTTP ${response.status}`;
      throw new Error(message);
    }
    return body;
  }

  async function act(promise) {
    try {
      const result = await promise;
      await refresh();
      return result;
    } catch (error) {
      showStatus(error.message, true);
      state.errorUntil = Date.now() + 6000; // an action's error stays visible over the next polls
      return null;
    }
  }

  const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const del = (path) => api(path, { method: "DELETE" });

  // -- clock ------------------------------------------------------------------------------------------------
  function renderClock(clock) {
    $("clock-now").textContent = iso(clock.now);
    $("clock-now").setAttribute("datetime", new Date(clock.now * 1000).toISOString());
    $("clock-epoch").textContent = `${clock.now.toFixed(1)} s`;
    $("clock-speed").textContent = clock.speed === 0 ? "frozen" : `×${clock.speed}`;
    $("clock-speed").dataset.speed = String(clock.speed);
  }

  $("freeze").addEventListener("click", () => act(post("clock/speed", { speed: 0 })));
  $("resume").addEventListener("click", () => act(post("clock/speed", { speed: 1 })));
  $("set-speed").addEventListener("click", () => act(post("clock/speed", { speed: Number($("speed").value) })));
  $("advance").addEventListener("click", () => {
    const seconds = Number($("advance-amount").value) * Number($("advance-unit").value);
    act(post("clock/advance", { seconds }));
  });

  // -- token --------------------------------------------------------------------------------------------------
  $("token").value = token();
  $("save-token").addEventListener("click", () => { sessionStorage.setItem(TOKEN_KEY, $("token").value); refresh(); });
  $("forget-token").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); $("token").value = ""; refresh(); });

  // -- tabs ---------------------------------------------------------------------------------------------------
  for (const button of document.querySelectorAll(".tabs button")) {
    button.addEventListener("click", () => {
      state.tab = button.dataset.tab;
      for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b === button);
      for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.id === "tab-" + state.tab);
      refresh();
    });
  }

  // -- batches table --------------------------------------------------------------------------------------------
  function fillSelect(select, values, labelOf) {
    const current = select.value;
    const wanted = ["", ...values.map((v) => (typeof v === "string" ? v : v.value))];
    const have = Array.from(select.options).map((o) => o.value);
    if (wanted.join("\u0000") !== have.join("\u0000")) {
      clear(select).append(el("option", { value: "", text: "all" }));
      for (const v of values) {
        const value = typeof v === "string" ? v : v.value;
        select.append(el("option", { value, text: labelOf ? labelOf(v) : value }));
      }
    }
    select.value = wanted.includes(current) ? current : "";
  }

  function progressBar(progress) {
    const total = progress.total || 0;
    const ok = total ? (100 * progress.succeeded) / total : 0;
    const bad = total ? (100 * progress.failed) / total : 0;
    return el("span", { class: "progress-wrap" },
      el("span", { class: "progress", title: `${progress.succeeded} succeeded, ${progress.failed} failed of ${total}` },
        el("span", { class: "ok", style: { width: ok + "%" } }),
        el("span", { class: "bad", style: { left: ok + "%", width: bad + "%" } })),
      el("span", { class: "progress-text", "data-testid": "progress-text", text: `${progress.succeeded + progress.failed}/${total}` + (progress.failed ? ` (${progress.failed} failed)` : "") }));
  }

  const rowKey = (b) => `${b.provider}\u0000${b.ns}\u0000${b.id}`;

  function filtered(rows) {
    const provider = $("filter-provider").value;
    const key = $("filter-key").value;
    const status = $("filter-status").value;
    const text = $("filter-text").value.trim().toLowerCase();
    return rows.filter((b) =>
      (!provider || b.provider === provider) && (!key || b.ns === key) && (!status || b.status === status) &&
      (!text || `${b.id} ${b.label} ${b.key}`.toLowerCase().includes(text)));
  }

  function renderBatches(data) {
    fillSelect($("filter-provider"), data.providers);
    fillSelect($("filter-key"), data.keys.map((k) => ({ value: k.ns, label: `${k.provider}: ${k.key}` })), (k) => k.label);
    fillSelect($("filter-status"), data.statuses);
    const rows = filtered(data.batches);
    const body = clear($("batch-rows"));
    const now = data.clock.now;
    for (const b of rows) {
      const next = b.planned.length ? b.planned[0] : null;
      const tr = el("tr", { "data-testid": "batch-row", "data-provider": b.provider, "data-id": b.id, "data-kind": b.kind, "data-status": b.status, class: state.selected === rowKey(b) ? "selected" : null },
        el("td", { text: b.provider }),
        el("td", { class: "mono", text: b.key }),
        el("td", { class: "id", text: b.id }),
        el("td", { class: "label-cell", title: b.label, text: b.label }),
        el("td", {}, el("span", { class: "st " + b.status, "data-testid": "batch-status", text: b.status })),
        el("td", {}, progressBar(b.progress)),
        el("td", { title: iso(b.created), text: relative(b.created, now) }),
        el("td", { text: next ? `${next.state} ${relative(next.at, now)}` : "—" }));
      tr.addEventListener("click", () => { state.selected = rowKey(b); state.detail = null; refresh(); });
      body.append(tr);
    }
    $("batch-count").textContent = `${rows.length} of ${data.batches.length} batches`;
    $("no-batches").hidden = data.batches.length > 0;
    $("journal-count").textContent = data.counts.requests ? String(data.counts.requests) : "";
    if (state.selected && !data.batches.some((b) => rowKey(b) === state.selected)) {
      state.selected = null;
      state.detail = null;
    }
  }

  // -- one batch ----------------------------------------------------------------------------------------------------
  function timeline(d) {
    // a bar of the states on the simulated clock (planned ones hatched), the "now" marker, then each moment
    const moments = d.timeline.concat(d.planned.map((m) => Object.assign({ planned: true }, m)));
    const start = moments.length ? moments[0].at : d.now;
    const last = Math.max(d.now, ...moments.map((m) => m.at));
    const width = Math.max(last - start, 1e-6) * 1.03;
    const pos = (at) => `${(100 * (at - start)) / width}%`;
    const bar = el("div", { class: "timeline", "data-testid": "timeline" }, el("div", { class: "track" }));
    const marks = el("ol", { class: "moments" });
    moments.forEach((m, i) => {
      const next = i + 1 < moments.length ? moments[i + 1].at : (m.planned ? m.at : Math.max(d.now, m.at));
      const end = next > m.at ? next : m.at + width * 0.006;
      bar.append(el("div", { class: `seg ${m.state}` + (m.planned ? " planned" : ""), title: `${m.state} at ${iso(m.at)}`,
        style: { left: pos(m.at), width: `${(100 * (end - m.at)) / width}%` } }));
      marks.append(el("li", { class: "mark" + (m.planned ? " planned" : ""), "data-testid": m.planned ? "planned-mark" : "timeline-mark", title: iso(m.at) },
        el("span", { class: `dot seg ${m.state}` }), el("b", { text: m.state }), ` +${span(m.at - start)}`, m.planned ? el("span", { class: "muted", text: " (planned)" }) : null));
    });
    bar.append(el("div", { class: "now", style: { left: pos(d.now) }, "data-testid": "now-marker" }, el("span", { text: "now" })));
    marks.append(el("li", { class: "mark now-mark" }, el("b", { text: "now" }), ` +${span(d.now - start)}`));
    return el("div", {}, bar, marks);
  }

  function counts(values) {
    return el("p", { class: "counts", "data-testid": "detail-counts" },
      ...Object.entries(values).map(([k, v]) => el("span", { class: "count" }, el("span", { class: "muted", text: k + ": " }),
        el("b", { text: typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v }))));
  }

  function kv(pairs) {
    const dl = el("dl", { class: "kv" });
    for (const [key, value] of pairs) {
      if (value === undefined) continue;
      dl.append(el("dt", { text: key }), el("dd", { text: value === null ? "—" : typeof value === "object" ? JSON.stringify(value) : value }));
    }
    return dl;
  }

  function filePanel(title, file, note) {
    if (!file) return el("div", { class: "panel" }, el("h3", { text: title }), el("p", { class: "note", text: note || "none" }));
    return el("div", { class: "panel", "data-testid": "file-" + title },
      el("h3", { text: `${title}: ${file.line_count} line${file.line_count === 1 ? "" : "s"}` }),
      el("p", { class: "note", text: `${file.filename} · ${file.id} · ${file.bytes} bytes` }),
      el("pre", { class: "lines", "data-testid": "lines-" + title, text: file.lines.join("\n") + (file.line_count > file.lines.length ? `\n… ${file.line_count - file.lines.length} more` : "") }));
  }

  function renderDetail() {
    const box = $("detail");
    const d = state.detail;
    if (!state.selected || !d) { box.hidden = true; return; }
    box.hidden = false;
    clear(box);
    box.append(el("h2", {}, `${d.provider} ${d.kind} `, el("span", { class: "mono", "data-testid": "detail-id", text: d.id }), " ",
      el("span", { class: "st " + d.status, "data-testid": "detail-status", text: d.status })));
    box.append(el("p", { class: "note", text: `key ${d.key} · created ${iso(d.created)}` + (d.label ? ` · ${d.label}` : "") }));
    box.append(timeline(d));
    box.append(el("h3", { text: d.counts_label }), progressBar(d.progress), counts(d.counts));
    if (d.kind === "batch") renderOpenAI(box, d);
    else if (d.kind === "batch_test") renderRetell(box, d);
    else if (d.phone_calls) renderPhoneCalls(box, d);
    else if (d.kind === "batch_call") renderFormant(box, d);
  }

  function renderOpenAI(box, d) {
    box.append(kv([["endpoint", d.endpoint], ["model", d.model], ["scenario", d.scenario], ["metadata", d.metadata], ["expires", iso(d.expires_at)],
      ["usage", d.usage], ["webhook", d.webhook === null ? undefined : d.webhook]]));
    if (d.errors.length) box.append(el("h3", { text: "validation errors" }), el("pre", { class: "json", text: d.errors.map((e) => JSON.stringify(e)).join("\n") }));
    const files = el("div", { class: "files" });
    files.append(filePanel("input", d.files.input, "the input file was deleted"));
    files.append(filePanel("output", d.files.output, "no output yet"));
    files.append(filePanel("error", d.files.error, "no errors"));
    box.append(files);
  }

  function renderRetell(box, d) {
    box.append(kv([["response engine", d.response_engine], ["scenario", d.scenario]]));
    box.append(el("h3", { text: `test runs (${d.runs_total})` }));
    const table = el("table", { class: "grid", "data-testid": "runs" }, el("thead", {}, el("tr", {}, ...["run", "test case", "status", "starts", "ends", "explanation"].map((h) => el("th", { text: h })))));
    const body = el("tbody");
    for (const r of d.runs) {
      body.append(el("tr", { "data-testid": "run-row" }, el("td", { class: "id", text: r.id }), el("td", { text: r.name }),
        el("td", {}, el("span", { class: "st " + r.status, text: r.status })), el("td", { text: relative(r.starts_at, d.now) }),
        el("td", { text: relative(r.ends_at, d.now) }), el("td", { text: r.explanation || "" })));
    }
    table.append(body);
    box.append(table);
  }

  function renderPhoneCalls(box, d) {
    box.append(kv([["from", d.from_number], ["scenario", d.scenario], ["reserved concurrency", d.reserved_concurrency === null ? undefined : d.reserved_concurrency],
      ["call time window", d.call_time_window === null ? undefined : d.call_time_window]]));
    box.append(el("h3", { text: `tasks (${d.phone_calls_total})` }));
    const table = el("table", { class: "grid", "data-testid": "phone-calls" }, el("thead", {}, el("tr", {}, ...["task", "to", "call", "status", "dials", "ends", "reason"].map((h) => el("th", { text: h })))));
    const body = el("tbody");
    for (const c of d.phone_calls) {
      body.append(el("tr", { "data-testid": "phone-call-row" }, el("td", { text: c.index }), el("td", { class: "mono", text: c.to_number }),
        el("td", { class: "id", text: c.call_id || "not dialled yet" }), el("td", {}, el("span", { class: "st " + c.status, text: c.status })),
        el("td", { text: relative(c.dial_at, d.now) }), el("td", { text: relative(c.end_at, d.now) }), el("td", { text: c.disconnection_reason || "" })));
    }
    table.append(body);
    box.append(table);
    if (d.phone_calls_total > d.phone_calls.length) box.append(el("p", { class: "note", text: `… ${d.phone_calls_total - d.phone_calls.length} more tasks` }));
  }

  function renderFormant(box, d) {
    box.append(kv([["agent", d.agent_id], ["scenario", d.scenario]]));
    const metrics = el("div", { class: "metrics", "data-testid": "metrics" });
    for (const [key, value] of Object.entries(d.metrics)) {
      metrics.append(el("div", { class: "metric" }, el("b", { text: typeof value === "number" && !Number.isInteger(value) ? value.toFixed(2) : value }), el("span", { text: key })));
    }
    box.append(el("h3", { text: "calls" }), metrics);
    const table = el("table", { class: "grid", "data-testid": "calls" }, el("thead", {}, el("tr", {}, ...["row", "phone", "parameters", "status", "attempt", "outcomes"].map((h) => el("th", { text: h })))));
    const body = el("tbody");
    for (const c of d.calls) {
      body.append(el("tr", { "data-testid": "call-row" }, el("td", { text: c.index }), el("td", { class: "mono", text: c.phone }),
        el("td", { class: "mono", text: JSON.stringify(c.parameters) }), el("td", {}, el("span", { class: "st " + c.status, text: c.status })),
        el("td", { text: `${c.attempt}/${c.attempts.length}` }), el("td", { text: c.attempts.map((a) => a.outcome).join(" → ") })));
    }
    table.append(body);
    box.append(table);
    if (d.calls_total > d.calls.length) box.append(el("p", { class: "note", text: `… ${d.calls_total - d.calls.length} more calls` }));
  }

  // -- scenarios and faults ----------------------------------------------------------------------------------------
  async function renderRules() {
    const [scenarios, faults] = await Promise.all([api("scenarios"), api("faults")]);
    $("scenario-default").textContent = scenarios.default || "(none)";
    $("scenario-builtin").textContent = scenarios.builtin.join(", ");
    $("scenario-user").textContent = Object.keys(scenarios.scenarios).length ? JSON.stringify(scenarios.scenarios, null, 1) : "no user scenarios";
    const body = clear($("fault-rows"));
    for (const f of faults.data) {
      const rule = Object.entries(f).filter(([k, v]) => k !== "id" && v !== null && v !== false && !(k === "after" && v === 0)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
      body.append(el("tr", { "data-testid": "fault-row" }, el("td", { class: "id", text: f.id }), el("td", { class: "mono", text: rule }),
        el("td", {}, el("button", { type: "button", class: "ghost", onclick: () => act(del("faults/" + encodeURIComponent(f.id))), text: "remove" }))));
    }
    if (!faults.data.length) body.append(el("tr", {}, el("td", { colspan: 3, class: "empty", text: "no faults" })));
  }

  function parsed(id) {
    try { return JSON.parse($(id).value); } catch (error) { showStatus(`not JSON: ${error.message}`, true); return undefined; }
  }
  $("scenario-add").addEventListener("click", () => { const body = parsed("scenario-input"); if (body !== undefined) act(post("scenarios", body)); });
  $("scenario-clear").addEventListener("click", () => act(del("scenarios")));
  $("fault-add").addEventListener("click", () => { const body = parsed("fault-input"); if (body !== undefined) act(post("faults", body)); });
  $("fault-clear").addEventListener("click", () => act(del("faults")));

  // -- journal --------------------------------------------------------------------------------------------------------
  async function renderJournal(data) {
    fillSelect($("journal-provider"), ["anyapi", "portkey", "phaseo", "retell", "formant"]);
    const query = new URLSearchParams();
    if ($("journal-provider").value) query.set("provider", $("journal-provider").value);
    if ($("journal-method").value) query.set("method", $("journal-method").value);
    if ($("journal-status").value.trim()) query.set("status", $("journal-status").value.trim());
    const journal = await api("requests" + (query.toString() ? "?" + query : ""));
    const path = $("journal-path").value.trim();
    const faultsOnly = $("journal-faults").checked;
    const rows = journal.data.filter((e) => (!path || e.path.includes(path)) && (!faultsOnly || e.fault)).slice(-300).reverse();
    const body = clear($("journal-rows"));
    for (const e of rows) {
      body.append(el("tr", { "data-testid": "journal-row" }, el("td", { title: iso(e.at), text: relative(e.at, data.clock.now) }), el("td", { text: e.provider }),
        el("td", { class: "mono", text: e.namespace || "—" }), el("td", { text: e.method }), el("td", { class: "mono", text: e.path + (e.query ? "?" + e.query : "") }),
        el("td", { text: e.operation || "—" }), el("td", {}, el("span", { class: "st " + (e.status >= 400 || e.status === 0 ? "failed" : "completed"), text: e.status || "dropped" })),
        el("td", { class: "id", text: e.fault || "" })));
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "empty", text: "no requests" })));
  }
  $("journal-clear").addEventListener("click", () => act(del("requests")));
  for (const id of ["filter-provider", "filter-key", "filter-status", "journal-provider", "journal-method", "journal-faults"]) $(id).addEventListener("change", () => refresh());
  for (const id of ["filter-text", "journal-status", "journal-path"]) $(id).addEventListener("input", () => refresh());

  // -- live: one poll a second (and right after every action) --------------------------------------------------------------
  let running = null;
  let queued = null;
  function refresh() {
    // one poll at a time; a refresh asked for meanwhile (after an action) runs once the current one ends
    if (running) {
      if (!queued) queued = running.then(() => { queued = null; return refresh(); });
      return queued;
    }
    running = (async () => {
      try {
        const data = await api("ui/state");
        state.data = data;
        renderClock(data.clock);
        renderBatches(data);
        if (state.selected) {
          const [provider, ns, id] = state.selected.split("\u0000");
          try {
            state.detail = await api(`ui/batch?${new URLSearchParams({ provider, ns, id })}`);
          } catch (error) {
            if (error.auth) throw error;
            state.detail = null;
          }
        }
        renderDetail();
        if (state.tab === "rules") await renderRules();
        if (state.tab === "journal") await renderJournal(data);
        if (Date.now() > state.errorUntil) showStatus(`live · updated ${new Date().toLocaleTimeString()}`, false);
      } catch (error) {
        showStatus(error instanceof TypeError ? "the server does not answer (stopped?)" : error.message, true);
      }
    })().finally(() => { running = null; });
    return running;
  }

  async function loop() {
    await refresh();
    window.setTimeout(loop, POLL_MS);
  }
  loop();
})();
