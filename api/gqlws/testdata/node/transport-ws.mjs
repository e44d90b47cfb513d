// Usage: node transport-ws.mjs ws://host/path
// Drives the server with the official graphql-ws client (graphql-transport-ws)
// and prints one JSON line per result: {"op": name, "next"|"error": ...}.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.argv[2];
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { user: 'node' },
  retryAttempts: 0,
  lazy: true,
});

const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

async function run(op, query) {
  try {
    for await (const result of client.iterate({ query })) {
      print({ op, next: result });
    }
    print({ op, complete: true });
  } catch (err) {
    print({ op, error: Array.isArray(err) ? err.map((e) => e.message) : String(err?.reason ?? err) });
  }
}

await run('ticks', 'subscription { ticks(count: 3) }');
await run('hello', '{ hello }');
await run('invalid', '{ nope }');
await client.dispose();
