// Usage: node sse.mjs http://host/path
// Drives the server with the official graphql-sse client (distinct
// connections mode) and prints one JSON line per result.
import { createClient } from 'graphql-sse';

const url = process.argv[2];
const client = createClient({ url, retryAttempts: 0 });

const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

async function run(op, query) {
  try {
    for await (const result of client.iterate({ query })) {
      print({ op, next: result });
    }
    print({ op, complete: true });
  } catch (err) {
    print({ op, error: String(err?.message ?? err) });
  }
}

await run('ticks', 'subscription { ticks(count: 3) }');
await run('hello', '{ hello }');
await run('invalid', '{ nope }');
client.dispose();
