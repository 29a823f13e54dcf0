#!/usr/bin/env node
// A camera server's incident log in Node.js, from docs/protocol.md section 7 alone: read
// is21:incidents through a consumer group (its own unacknowledged messages first, after
// a restart), print one JSON line per message, save each incident's best frame when it
// ends, and acknowledge only what was handled.
//
//   node incidents.mjs [--group is22] [--consumer one] [--count N] [--snapshots DIR]
//                      [--url redis://HOST:6379/0 | unix:///PATH]

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { decode } from '@msgpack/msgpack';

import { connect, failer, fieldsOf } from './fleet.mjs';

const PROTOCOL = 1;
const USAGE =
  'usage: node incidents.mjs [--group is22] [--consumer one] [--count N] [--snapshots DIR] [--url URL]';

const fail = failer('incidents.mjs', USAGE);

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      group: { type: 'string', default: 'is22' },
      consumer: { type: 'string', default: 'one' },
      count: { type: 'string', default: '0' },
      snapshots: { type: 'string' },
      url: { type: 'string', default: process.env.IS21_REDIS_URL ?? 'redis://127.0.0.1:6379/0' },
    },
  }));
} catch (err) {
  fail(2, err.message);
}
if (!/^[0-9]+$/.test(opts.count)) fail(2, `--count must be a number of messages (0: for ever), not ${opts.count}`);
const limit = Number(opts.count);

const redis = await connect(opts.url, fail);
try {
  await redis.sendCommand(['XGROUP', 'CREATE', 'is21:incidents', opts.group, '0', 'MKSTREAM']);
} catch (err) {
  if (!String(err.message).startsWith('BUSYGROUP')) fail(1, err.message);
}

// One message handled: printed, and on its end the best frame saved, while Redis keeps it.
async function handle(fields) {
  const message = decode(fields.data);
  if (Number(message.protocol ?? PROTOCOL) > PROTOCOL) {
    console.error(`incident ${message.id}: protocol ${message.protocol} is newer than ${PROTOCOL}`);
  }
  const after = message.after;
  let saved = null;
  if (message.type === 'end' && opts.snapshots && after.snapshot) {
    const jpeg = await redis.sendCommand(['GET', after.snapshot]);
    if (jpeg !== null) {
      saved = join(opts.snapshots, `${message.id.replaceAll(':', '_')}.jpg`);
      writeFileSync(saved, jpeg);
    }
  }
  console.log(
    JSON.stringify({
      type: message.type,
      id: message.id,
      camera_id: message.camera_id,
      kind: message.kind,
      start: after.start,
      end: after.end ?? null,
      tracks: after.tracks.length,
      best_frame: after.best?.frame_id ?? null,
      snapshot: saved,
    }),
  );
}

let seen = 0;
let backlog = true; // this consumer's own unacknowledged messages first, from id 0
while (limit === 0 || seen < limit) {
  const start = backlog ? '0' : '>';
  const reply = await redis.sendCommand([
    'XREADGROUP', 'GROUP', opts.group, opts.consumer, 'COUNT', '10',
    ...(backlog ? [] : ['BLOCK', '1000']), 'STREAMS', 'is21:incidents', start,
  ]);
  const entries = reply?.[0]?.[1] ?? [];
  if (backlog && entries.length === 0) backlog = false;
  for (const [id, flat] of entries) {
    if (limit !== 0 && seen >= limit) break;
    if (flat !== null) await handle(fieldsOf(flat)); // null: trimmed while pending
    await redis.sendCommand(['XACK', 'is21:incidents', opts.group, String(id)]);
    seen += 1;
  }
}
await redis.quit();
