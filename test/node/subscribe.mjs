// Usage:
//   node subscribe.mjs --transport ws|legacy|sse --url URL --query QUERY
//                      [--variables JSON] [--token SECRET] [--count N]
//
// Runs one GraphQL operation with an official npm client against the real
// server and prints one JSON line per outcome, as it happens:
//
//   {"next": <ExecutionResult>}            every result
//   {"complete": true}                     the server completed the operation
//   {"error": [<GraphQLFormattedError>]}   the server refused the operation
//   {"closed": {"code": N, "reason": S}}   the socket closed (WebSocket), or
//   {"closed": {"status": N, "body": S}}   the HTTP request failed (SSE)
//   {"done": true}                         --count results were received
//
// transport "ws" is graphql-ws (graphql-transport-ws protocol), "legacy"
// subscriptions-transport-ws (subprotocol graphql-ws), "sse" graphql-sse in
// distinct connections mode. The token goes in the connection_init payload
// as {authToken} on WebSockets and in "Authorization: Bearer" on SSE. With
// --count N the script unsubscribes and exits 0 after N results; otherwise it
// exits when the operation ends. It exits 1 on a usage error.
import { parseArgs } from 'node:util';
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import legacy from 'subscriptions-transport-ws';
import WebSocket from 'ws';

const { values: opts } = parseArgs({
  options: {
    transport: { type: 'string' },
    url: { type: 'string' },
    query: { type: 'string' },
    variables: { type: 'string', default: '{}' },
    token: { type: 'string', default: '' },
    count: { type: 'string', default: '0' },
  },
  strict: true,
});
if (!opts.url || !opts.query || !['ws', 'legacy', 'sse'].includes(opts.transport)) {
  process.stderr.write('usage: node subscribe.mjs --transport ws|legacy|sse --url URL --query QUERY [--variables JSON] [--token SECRET] [--count N]\n');
  process.exit(1);
}
const request = { query: opts.query, variables: JSON.parse(opts.variables) };
const count = Number(opts.count);
const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// fail prints what a client rejected the operation with.
function fail(err) {
  if (Array.isArray(err)) {
    print({ error: err });
  } else if (err && typeof err.code === 'number') {
    print({ closed: { code: err.code, reason: String(err.reason ?? '') } }); // a CloseEvent
  } else if (err?.response) {
    print({ closed: { status: err.response.status, body: String(err.message ?? '') } }); // graphql-sse NetworkError
  } else {
    print({ closed: { reason: String(err?.message ?? err) } });
  }
}

// consume prints the results of an async iterator, leaving after count.
async function consume(iterator) {
  let n = 0;
  try {
    for await (const result of iterator) {
      print({ next: result });
      if (count > 0 && ++n === count) {
        print({ done: true });
        return; // return() on the iterator unsubscribes
      }
    }
    print({ complete: true });
  } catch (err) {
    fail(err);
  }
}

switch (opts.transport) {
  case 'ws': {
    const client = createWSClient({
      url: opts.url,
      webSocketImpl: WebSocket,
      connectionParams: opts.token ? { authToken: opts.token } : {},
      retryAttempts: 0,
      lazy: true,
    });
    await consume(client.iterate(request));
    await client.dispose();
    break;
  }
  case 'sse': {
    const client = createSSEClient({
      url: opts.url,
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
      retryAttempts: 0,
    });
    await consume(client.iterate(request));
    client.dispose();
    break;
  }
  case 'legacy': {
    const client = new legacy.SubscriptionClient(
      opts.url,
      { reconnect: false, connectionParams: opts.token ? { authToken: opts.token } : {} },
      WebSocket,
    );
    await new Promise((resolve) => {
      let n = 0;
      let finished = false;
      const finish = (line) => {
        if (finished) return;
        finished = true;
        print(line);
        resolve();
      };
      // The legacy client reports a lost socket only through this callback.
      client.onDisconnected(() => finish({ closed: { reason: 'disconnected' } }));
      const sub = client.request(request).subscribe({
        next: (result) => {
          if (finished) return;
          print({ next: result });
          if (count > 0 && ++n === count) {
            sub.unsubscribe();
            finish({ done: true });
          }
        },
        error: (err) => finish({ error: Array.isArray(err) ? err : [{ message: String(err?.message ?? err) }] }),
        complete: () => finish({ complete: true }),
      });
    });
    client.close();
    break;
  }
}
