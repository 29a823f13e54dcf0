#!/usr/bin/env node
// A camera server in Node.js that speaks docs/protocol.md and nothing else of is21's:
// the documented Redis commands, with the npm packages `redis` and `@msgpack/msgpack`.
// It submits every JPEG of a folder as frames of N cameras, waits for each result, and
// prints one JSON line per frame: file, camera, frame id, primary_event, detections.
//
//   node submit.mjs --images DIR [--cameras 4] [--url redis://HOST:6379/0 | unix:///PATH]

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { decode, encode } from '@msgpack/msgpack';
import { connect, failer, fieldsOf } from './fleet.mjs';

const PROTOCOL = 1; // the protocol version this client speaks (docs/protocol.md)
const WAIT_MS = 20000; // how long a frame's result may take before we call it no_event

const USAGE =
  'usage: node submit.mjs --images DIR [--cameras 4] [--url redis://HOST:6379/0 | unix:///PATH]';

const fail = failer('submit.mjs', USAGE);

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      images: { type: 'string' },
      cameras: { type: 'string', default: '4' },
      url: { type: 'string', default: process.env.IS21_REDIS_URL ?? 'redis://127.0.0.1:6379/0' },
    },
  }));
} catch (err) {
  fail(2, err.message);
}
if (!opts.images) fail(2, '--images DIR is required: a folder of JPEG files');
if (!/^[1-9][0-9]*$/.test(opts.cameras)) fail(2, `--cameras must be at least 1, not ${opts.cameras}`);
let files;
try {
  files = readdirSync(opts.images).filter((f) => /\.jpe?g$/i.test(f)).sort();
} catch (err) {
  fail(2, `--images ${opts.images}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}`);
}

// Entry ids order frames in time: compare them as (milliseconds, sequence).
function order(id) {
  const [ms, seq] = String(id).split('-');
  return [BigInt(ms), BigInt(seq ?? 0)];
}
function atLeast(a, b) {
  const [x, y] = [order(a), order(b)];
  return x[0] > y[0] || (x[0] === y[0] && x[1] >= y[1]);
}

const redis = await connect(opts.url, fail);

// The liveness check: no live worker (or a newer protocol) means no_event, not waiting.
async function fleetCanAnswer() {
  const [alive, version] = await Promise.all([
    redis.sendCommand(['FCALL_RO', 'is21_alive', '0']),
    redis.sendCommand(['HGET', 'is21:protocol', 'version']),
  ]);
  if (version !== null && Number(version) > PROTOCOL) {
    throw new Error(`the fleet speaks protocol ${version}, this client ${PROTOCOL}`);
  }
  return Number(alive) > 0;
}

// Every no_event of the client's own is counted where operators look (is21 status,
// /metrics): is21:counters, fallback and fallback:REASON.
async function countFallback(reason) {
  await Promise.all([
    redis.sendCommand(['HINCRBY', 'is21:counters', 'fallback', '1']),
    redis.sendCommand(['HINCRBY', 'is21:counters', `fallback:${reason}`, '1']),
  ]);
}

// Submit: XADD and FCALL is21_register, written in one tick, so one round trip. After an
// error reply the frame is not registered: delete it, and the frame is no_event.
async function submit(camera, jpeg) {
  const frames = `is21:frames:${camera}`;
  const meta = Buffer.from(encode({ captured_at: new Date().toISOString() }));
  const [added, registered] = await Promise.allSettled([
    redis.sendCommand(['XADD', frames, 'MAXLEN', '=', '30', '*', 'meta', meta, 'jpeg', jpeg]),
    redis.sendCommand(['FCALL', 'is21_register', '1', frames]),
  ]);
  if (added.status === 'rejected') throw added.reason;
  const frameId = String(added.value);
  if (registered.status === 'rejected') {
    console.error(`frame of ${camera} refused: ${registered.reason.message}`);
    await redis.sendCommand(['XDEL', frames, frameId]);
    await countFallback('protocol');
    return null;
  }
  return { camera, frameId, resultsAfter: String(registered.value[1]) };
}

// The result of this frame, or of a newer frame of its camera that superseded it.
async function waitFor(ticket) {
  const stream = `is21:results:${ticket.camera}`;
  let after = ticket.resultsAfter;
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const reply = await redis.sendCommand(['XREAD', 'BLOCK', '1000', 'STREAMS', stream, after]);
    for (const [, entries] of reply ?? []) {
      for (const [id, flat] of entries) {
        after = String(id);
        const fields = fieldsOf(flat);
        if (fields.frame_id && atLeast(String(fields.frame_id), ticket.frameId)) {
          return decode(fields.data);
        }
      }
    }
  }
  return null;
}

const cameras = Number(opts.cameras);
for (const [i, file] of files.entries()) {
  const camera = `node-cam-${i % cameras}`;
  let result = null;
  if (!(await fleetCanAnswer())) {
    await countFallback('no_worker');
  } else {
    const ticket = await submit(camera, readFileSync(join(opts.images, file)));
    if (ticket !== null) result = await waitFor(ticket);
  }
  result ??= { camera_id: camera, status: 'fallback', primary_event: 'no_event', events: [] };
  console.log(
    JSON.stringify({
      file,
      camera_id: result.camera_id,
      frame_id: result.frame_id ?? null,
      status: result.status,
      primary_event: result.primary_event,
      events: result.events ?? [],
      detections: result.detections ?? [],
    }),
  );
}
await redis.quit();
