// Usage: node legacy.mjs ws://host/path
// Drives the server with the deprecated subscriptions-transport-ws client
// (subprotocol "graphql-ws") and prints one JSON line per result.
import pkg from 'subscriptions-transport-ws';
import WebSocket from 'ws';

const { SubscriptionClient } = pkg;
const url = process.argv[2];
const client = new SubscriptionClient(url, { reconnect: false, connectionParams: { user: 'node' } }, WebSocket);

const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function run(op, query) {
  return new Promise((resolve) => {
    client.request({ query }).subscribe({
      next: (result) => print({ op, next: result }),
      error: (err) => {
        // The client hands the first error of the list to the observer.
        print({ op, error: Array.isArray(err) ? err.map((e) => e.message) : [String(err?.message ?? err)] });
        resolve();
      },
      complete: () => {
        print({ op, complete: true });
        resolve();
      },
    });
  });
}

await run('ticks', 'subscription { ticks(count: 3) }');
await run('hello', '{ hello }');
await run('invalid', '{ nope }');
client.close();
