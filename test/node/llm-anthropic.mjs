// Usage: node llm-anthropic.mjs < args.json
//
// Runs one scenario with the official `@anthropic-ai/sdk` npm SDK,
// unchanged, against the server's Anthropic-compatible API, and prints one
// JSON line:
//
//   {"result": …}   what the scenario returned
//   {"error": {"class", "status", "message", "body", "stack"}}
//                   what the SDK threw; class is the SDK's error class
//                   (RateLimitError, BadRequestError, …) when the error is
//                   one of the SDK's own, else "foreign:<name>"
//
// args.json: {"baseURL": "<server>", "apiKey": "…", "scenario": "…",
//             "body": {…}, "maxRetries": N (optional)}
//
// Scenarios:
//   create   messages.create(body).withResponse(): the message and the
//            x-circuit-breaker-* response headers
//   stream   messages.stream(body) and finalMessage(): the SDK's own
//            accumulation, the text events and the raw stream event types
//            (with the delta type of content_block_delta events)
//
// Every scenario also returns "attempts": how many HTTP requests the SDK
// sent (its retries included), seen through a fetch wrapper.
import Anthropic from '@anthropic-ai/sdk';

const args = JSON.parse(await new Promise((resolve, reject) => {
  let s = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
  process.stdin.on('error', reject);
}));

let attempts = 0;
const client = new Anthropic({
  baseURL: args.baseURL,
  apiKey: args.apiKey ?? 'unused-when-auth-is-off',
  maxRetries: args.maxRetries ?? 2,
  timeout: 30_000,
  fetch: async (url, init) => {
    attempts++;
    return fetch(url, init);
  },
});

const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function routeHeaders(response) {
  const out = {};
  for (const [k, v] of response.headers.entries()) {
    if (k.startsWith('x-circuit-breaker-')) out[k] = v;
  }
  return out;
}

async function run() {
  switch (args.scenario) {
    case 'create': {
      const { data, response } = await client.messages.create(args.body).withResponse();
      return { message: data, headers: routeHeaders(response) };
    }
    case 'stream': {
      const stream = client.messages.stream(args.body);
      const texts = [];
      const events = [];
      stream.on('text', (t) => texts.push(t));
      stream.on('streamEvent', (e) => {
        events.push(e.type === 'content_block_delta' ? `${e.type}:${e.delta.type}` : e.type);
      });
      const message = await stream.finalMessage();
      return { message, texts, events };
    }
    default:
      throw new Error(`unknown scenario ${args.scenario}`);
  }
}

try {
  const result = await run();
  print({ result: { ...result, attempts } });
} catch (err) {
  const name = err?.constructor?.name ?? typeof err;
  const own = typeof Anthropic[name] === 'function' && err instanceof Anthropic[name];
  print({
    error: {
      class: own ? name : `foreign:${name}`,
      status: err?.status ?? 0,
      message: String(err?.message ?? err),
      body: err?.error ?? null,
      stack: String(err?.stack ?? ''),
      attempts,
    },
  });
}
