// What both Node.js clients of docs/protocol.md share: a connection as the protocol wants
// it (RESP2, binary payloads as Buffers, a bounded first connect) and stream entries.

import { createClient, RESP_TYPES } from 'redis';

// One line on stderr and an exit code, never a stack trace: 2 for wrong input (with the
// usage), 1 for a Redis out of reach.
export function failer(script, usage) {
  return (code, message) => {
    console.error(`${script}: ${message}`);
    if (code === 2) console.error(usage);
    process.exit(code);
  };
}

function clientOptions(url, fail) {
  // node-redis takes redis:// and rediss:// URLs; a unix socket is a path of its own.
  // RESP2, whose replies docs/protocol.md shows (RESP3 turns an XREAD reply into a map).
  // A Redis that cannot be reached at the start is an error after 3 tries, not a loop.
  const reconnectStrategy = (retries, cause) =>
    retries >= 3 ? new Error(`cannot reach Redis at ${url}: ${cause.message}`) : 200 * (retries + 1);
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    fail(2, `--url is not a URL: ${url}`);
  }
  if (parsed.protocol === 'unix:') return { RESP: 2, socket: { path: parsed.pathname, reconnectStrategy } };
  if (!['redis:', 'rediss:'].includes(parsed.protocol)) fail(2, `--url must be redis://, rediss:// or unix://, not ${url}`);
  return { RESP: 2, url, socket: { reconnectStrategy } };
}

// A connected client; ``fail(code, message)`` is called when the URL is wrong (2) or Redis
// cannot be reached at the start (1). Once connected, redis reconnects by itself.
export async function connect(url, fail) {
  const redis = createClient(clientOptions(url, fail)).withTypeMapping({
    [RESP_TYPES.BLOB_STRING]: Buffer, // msgpack payloads and JPEGs are binary
  });
  let connected = false;
  redis.on('error', (err) => {
    if (connected) console.error(`redis: ${err.message}`);
  });
  try {
    await redis.connect();
    connected = true;
  } catch (err) {
    fail(1, err.message);
  }
  return redis;
}

// Field/value pairs of a stream entry, as an object of Buffers.
export function fieldsOf(flat) {
  const out = {};
  for (let i = 0; i < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
