"""The status page: one HTML page and its script, served by the health endpoint at ``/``
and ``/page.js``, with no build step and no framework. The script polls ``/v1/status``
(the facts of ``is21 status --json``) every 2 s and the cameras' thumbnails
(``/v1/cameras/{id}/latest.jpg?thumb=1``) every 10 s, and writes every value with
``textContent``: nothing a camera or a worker names is ever parsed as HTML. The page is
read-only, like everything it reads."""

from __future__ import annotations

# No inline script, no resource from elsewhere: the page's own script and pictures only.
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>is21 fleet</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
#meta { color: #555; }
#banner div { background: #fde2e1; border-left: 4px solid #c0392b; padding: .3em .6em;
  margin: .2em 0; }
#banner div.ok { background: #e3f6e8; border-color: #27ae60; }
table { border-collapse: collapse; } td, th { padding: .2em .7em; text-align: left; }
th { border-bottom: 1px solid #999; } tr.bad td { color: #c0392b; }
#cameras { display: flex; flex-wrap: wrap; gap: 1em; }
.camera { width: 320px; } .camera img { width: 320px; background: #eee; min-height: 60px; }
.camera .name { font-weight: bold; } .camera .facts { color: #444; font-size: 12px; }
</style>
</head>
<body>
<h1>is21 fleet</h1>
<div id="meta">loading...</div>
<div id="banner"></div>
<h2>Workers</h2>
<table id="workers"><thead><tr><th>worker</th><th>state</th><th>core</th><th>backend</th>
<th>fps</th><th>heartbeat</th></tr></thead><tbody></tbody></table>
<h2>Open incidents</h2>
<table id="incidents"><thead><tr><th>incident</th><th>camera</th><th>kind</th>
<th>open</th><th>tracks</th></tr></thead><tbody></tbody></table>
<h2>Cameras</h2>
<div id="cameras"></div>
<script src="/page.js"></script>
</body>
</html>
"""

JS = """'use strict';
const $ = (id) => document.getElementById(id);
const fmt = (v, unit = '') => (v === null || v === undefined ? '-' : `${v}${unit}`);
let thumbsAt = 0;

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
}

function rows(table, items, fill) {
  const body = $(table).querySelector('tbody');
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement('tr');
    fill(row, item);
    body.appendChild(row);
  }
}

function banner(snap) {
  const box = $('banner');
  box.replaceChildren();
  const lines = snap.banner.length ? snap.banner : ['no problems'];
  for (const line of lines) {
    const div = document.createElement('div');
    div.textContent = line;
    if (!snap.banner.length) div.className = 'ok';
    box.appendChild(div);
  }
}

function camera(c, reload) {
  let card = document.querySelector(`[data-camera="${CSS.escape(c.camera_id)}"]`);
  if (!card) {
    card = document.createElement('div');
    card.className = 'camera';
    card.dataset.camera = c.camera_id;
    const img = document.createElement('img');
    img.alt = c.camera_id;
    const name = document.createElement('div');
    name.className = 'name';
    const facts = document.createElement('div');
    facts.className = 'facts';
    card.append(img, name, facts);
    $('cameras').appendChild(card);
    reload = true;
  }
  const [img, name, facts] = card.children;
  if (reload) {
    img.src = `/v1/cameras/${encodeURIComponent(c.camera_id)}/latest.jpg?thumb=1&t=${Date.now()}`;
  }
  name.textContent = c.camera_id;
  facts.textContent = `in ${fmt(c.fps_in, '/s')}, out ${fmt(c.fps_out, '/s')}, ` +
    `lag ${fmt(c.lag_s, ' s')}; last event ${fmt(c.last_primary_event)}, ` +
    `${fmt(c.last_result_age_s, ' s')} ago`;
}

function render(snap) {
  $('meta').textContent = `${snap.at} - schema ${snap.schema_version} - workers ` +
    `${snap.workers_alive} alive of ${snap.workers_expected} expected`;
  banner(snap);
  rows('workers', snap.workers, (row, w) => {
    const state = !w.alive ? 'missing' : (w.stuck ? 'stuck' : 'ok');
    if (state !== 'ok') row.className = 'bad';
    for (const v of [w.worker, state, fmt(w.npu_core), fmt(w.backend), fmt(w.fps),
      fmt(w.heartbeat_age_s, ' s')]) cell(row, v);
  });
  rows('incidents', snap.incidents, (row, i) => {
    for (const v of [i.id, i.camera_id, i.kind, `${i.open_s} s`, i.tracks]) cell(row, v);
  });
  const reload = Date.now() - thumbsAt > 10000;
  if (reload) thumbsAt = Date.now();
  const shown = new Set(snap.cameras.map((c) => c.camera_id));
  for (const card of [...$('cameras').children]) {
    if (!shown.has(card.dataset.camera)) card.remove();
  }
  for (const c of snap.cameras) camera(c, reload);
}

async function poll() {
  try {
    const answer = await fetch('/v1/status', { cache: 'no-store' });
    if (!answer.ok) throw new Error(`status ${answer.status}`);
    render(await answer.json());
  } catch (err) {
    $('meta').textContent = `cannot read /v1/status: ${err.message}`;
  }
  setTimeout(poll, 2000);
}

poll();
"""
