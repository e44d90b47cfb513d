// Usage: node llm-openai.mjs < args.json
//
// Runs one scenario with the official `openai` npm SDK, unchanged, against
// the server's OpenAI-compatible API, and prints one JSON line:
//
//   {"result": …}   what the scenario returned
//   {"error": {"class", "status", "message", "body", "stack"}}
//                   what the SDK threw; class is the SDK's error class
//                   (NotFoundError, BadRequestError, …) when the error is
//                   one of the SDK's own, else "foreign:<name>"
//
// args.json: {"baseURL": "<server>/v1", "apiKey": "…", "scenario": "…",
//             "body": {…}, "maxRetries": N (optional), "headers": {…}}
//
// Scenarios:
//   create   chat.completions.create(body).withResponse(): the completion and
//            the x-circuit-breaker-* response headers
//   stream   chat.completions.create({...body, stream: true}): every chunk,
//            the concatenated content deltas and the last usage seen
//   helper   chat.completions.stream(body) and finalChatCompletion(): the
//            SDK's own accumulation of a streamed completion
//   models   models.list(), every page
//   embed    embeddings.create(body) (the SDK asks for base64 and decodes)
//
// Every scenario also returns "sent": the JSON bodies the SDK sent, seen
// through a fetch wrapper, so that a test can check what the SDK asked for.
import OpenAI from 'openai';

const args = JSON.parse(await new Promise((resolve, reject) => {
  let s = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
  process.stdin.on('error', reject);
}));

const sent = [];
const client = new OpenAI({
  baseURL: args.baseURL,
  apiKey: args.apiKey ?? 'unused-when-auth-is-off',
  maxRetries: args.maxRetries ?? 2,
  timeout: 30_000,
  defaultHeaders: args.headers ?? {},
  fetch: async (url, init) => {
    if (typeof init?.body === 'string') {
      try { sent.push({ url: String(url), body: JSON.parse(init.body) }); } catch { sent.push({ url: String(url), body: init.body }); }
    } else {
      sent.push({ url: String(url) });
    }
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
      const { data, response } = await client.chat.completions.create(args.body).withResponse();
      return { completion: data, headers: routeHeaders(response) };
    }
    case 'stream': {
      const { data: stream, response } = await client.chat.completions
        .create({ ...args.body, stream: true })
        .withResponse();
      const chunks = [];
      let text = '';
      let usage = null;
      for await (const chunk of stream) {
        chunks.push(chunk);
        for (const c of chunk.choices ?? []) text += c.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      return { chunks, text, usage, headers: routeHeaders(response) };
    }
    case 'helper': {
      const runner = client.chat.completions.stream(args.body);
      let deltas = 0;
      runner.on('chunk', () => { deltas++; });
      const final = await runner.finalChatCompletion();
      return { final, chunks: deltas };
    }
    case 'models': {
      const models = [];
      for await (const m of client.models.list()) models.push(m);
      return { models };
    }
    case 'embed': {
      const res = await client.embeddings.create(args.body);
      return { embeddings: res };
    }
    default:
      throw new Error(`unknown scenario ${args.scenario}`);
  }
}

try {
  const result = await run();
  print({ result: { ...result, sent } });
} catch (err) {
  const name = err?.constructor?.name ?? typeof err;
  const own = typeof OpenAI[name] === 'function' && err instanceof OpenAI[name];
  print({
    error: {
      class: own ? name : `foreign:${name}`,
      status: err?.status ?? 0,
      message: String(err?.message ?? err),
      body: err?.error ?? null,
      stack: String(err?.stack ?? ''),
    },
  });
}
