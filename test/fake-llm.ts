/**
 * A scripted OpenAI-compatible server for fault tests, installed as Miniflare's outboundService:
 * every fetch the Worker (and its Durable Objects) makes to http://llm.test/ lands here, in Node.
 * The model name is the script:
 *   echo                  answer with the prompt's first line and a digest of the rest
 *   flaky-<n>-<tag>       fail the first n calls of <tag> with 503, then answer
 *   fail-<tag>            fail with 503 until /control?heal=<tag>, then answer
 *   slow-<ms>-<tag>       answer after <ms> milliseconds
 *   prompted-<tag>        behave as the prompt says, so one template can script each map item:
 *                         [fail] fails with 400, [slow:<ms>] answers late, [hold:<key>] waits for
 *                         /control?release=<key>
 *   hold-<tag>            answer only after /control?release=<tag> (or 503 after 60 s): a node that stays
 *                         running exactly as long as a test needs, whatever the machine's speed
 *   reject-<tag>          fail with 400 (not retryable)
 *   ratelimit-<tag>-<s>   429 with `retry-after: <s>` on the first call of <tag>, then answer
 *   quota-<tag>           429 insufficient_quota every time (OpenAI's "no retry can help")
 *   missing-<tag>         404 model_not_found
 *   empty-<tag>           200 with no text (finish_reason "length") every time
 *   emptyonce-<tag>       200 with no text on the first call of <tag>, then answer
 * Structured output (issue 15): a request with `response_format: { type: 'json_schema' }` is
 * answered with an object built from its schema (see structuredAnswer below), whatever the model;
 * these model names script the answer instead:
 *   json-<tag>            a schema-valid object (plain text when the request asks for none)
 *   json-bad-<tag>        text that is not JSON on the first call of <tag>, then a valid object
 *   json-bad2-<tag>       text that is not JSON on the first two calls, then a valid object
 *   json-wrong-<tag>      JSON of the wrong shape (a string) on the first call, then a valid object
 * GET /stats?tag=<tag> returns {calls, prompts, response_formats, traceparents} for a tag (response_formats: each
 * call's `response_format` as received, null when it had none; traceparents: each call's `traceparent`
 * header, null when absent); anything else outside llm.test is refused.
 *
 * http://hooks.test/ is a webhook receiver for webhook_call tasks: POST /<tag>/<script> records
 * the request (method, headers, body) under <tag> and answers by script:
 *   ok                    200
 *   fail                  503 every time
 *   flaky-<n>             503 for the first n calls of <tag>, then 200
 *   status-<code>         that status
 *   redirect              302 to the cloud metadata address (must not be followed)
 * GET http://hooks.test/stats?tag=<tag> returns {calls, requests}.
 *
 * Notification providers (test/fake-providers section below): requests to the hosts in
 * PROVIDER_HOSTS are recorded and answered as the provider documents; see providerReceiver.
 *
 * Every other destination is refused (status 599) and recorded: GET http://hooks.test/foreign
 * lists those URLs, so SSRF tests can assert that nothing reached an address it must not.
 */
type Stat = { calls: number; prompts: string[]; response_formats: unknown[]; traceparents: (string | null)[] };
const stats = new Map<string, Stat>();
const healed = new Set<string>();
/** Calls of hold-<tag> waiting for /control?release=<tag>; released tags answer at once from then on. */
const held = new Map<string, (() => void)[]>();
const released = new Set<string>();
const HOLD_LIMIT_MS = 60_000;

function hold(tag: string): Promise<boolean> {
  if (released.has(tag)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), HOLD_LIMIT_MS);
    const go = () => {
      clearTimeout(timer);
      resolve(true);
    };
    held.set(tag, [...(held.get(tag) ?? []), go]);
  });
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function answer(model: string, prompt: string, stream: boolean): Response {
  const firstLine = prompt.split('\n')[0] ?? '';
  const text = `Answer to: ${firstLine}\n\n${prompt.slice(firstLine.length).trim().slice(0, 400)}`;
  const usage = { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: Math.ceil(text.length / 4) };
  if (!stream) {
    return json({
      id: 'cmpl-1',
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage,
    });
  }
  const words = text.split(/(?<=\s)/);
  const chunks = words.map((w) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ choices: [], usage })}\n\ndata: [DONE]\n\n`);
  return new Response(chunks.join(''), { headers: { 'content-type': 'text/event-stream' } });
}

type Hook = { calls: number; requests: { method: string; path: string; headers: Record<string, string>; body: string }[] };
const hooks = new Map<string, Hook>();

const foreign: string[] = [];

async function hookReceiver(request: Request, url: URL): Promise<Response> {
  if (url.pathname === '/foreign') return json({ urls: foreign });
  if (url.pathname === '/stats') return json(hooks.get(url.searchParams.get('tag') ?? '') ?? { calls: 0, requests: [] });
  const [, tag = '', script = 'ok'] = url.pathname.split('/');
  const hook = hooks.get(tag) ?? { calls: 0, requests: [] };
  hook.calls++;
  hook.requests.push({
    method: request.method,
    path: url.pathname,
    headers: Object.fromEntries(request.headers),
    body: await request.text(),
  });
  hooks.set(tag, hook);
  const [kind, arg] = script.split('-');
  if (kind === 'fail') return json({ error: 'receiver down' }, 503);
  if (kind === 'flaky' && hook.calls <= Number(arg)) return json({ error: 'try again' }, 503);
  if (kind === 'status') return json({ status: Number(arg) }, Number(arg));
  // busy-<n>: 429 asking for n seconds (Retry-After) on the first call, then success.
  if (kind === 'busy' && hook.calls === 1) return new Response(null, { status: 429, headers: { 'retry-after': String(Number(arg)) } });
  if (kind === 'redirect') return new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
  return json({ received: true, tag });
}

// ---- notification providers -------------------------------------------------------------------

/** Hosts answered as Resend, SendGrid, Postmark, Twilio, Slack, Discord, Teams and push services. */
const PROVIDER_HOSTS =
  /^(api\.resend\.com|api\.sendgrid\.com|api\.postmarkapp\.com|api\.twilio\.com|hooks\.slack\.com|discord\.com|[a-z0-9-]+\.webhook\.office\.com|[a-z0-9.-]+\.logic\.azure\.com|fcm\.googleapis\.com|updates\.push\.services\.mozilla\.com)$/;
type Recorded = { host: string; method: string; url: string; headers: Record<string, string>; body: string; body_b64: string };
const providerLog: Recorded[] = [];
/**
 * Scripts keyed by a substring of the request's URL or body: `flaky-<n>` (503 n times), `status-<code>`,
 * `throttle` (429 once), or `once {"status","headers","body"}` (that exact answer once, then success).
 */
const providerScripts = new Map<string, { script: string; calls: number }>();

function providerSuccess(host: string, n: number): Response {
  if (host === 'api.resend.com') return json({ id: `re_msg_${n}` });
  if (host === 'api.sendgrid.com') return new Response(null, { status: 202, headers: { 'x-message-id': `sg_${n}` } });
  if (host === 'api.postmarkapp.com')
    return json({ To: 'x', SubmittedAt: new Date().toISOString(), MessageID: `pm-${n}`, ErrorCode: 0, Message: 'OK' });
  if (host === 'api.twilio.com') return json({ sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' }, 201);
  if (host === 'hooks.slack.com') return new Response('ok', { status: 200, headers: { 'content-type': 'text/plain' } });
  if (host === 'discord.com') return json({ id: `10000000000000000${n}`, type: 0 });
  if (host.endsWith('.webhook.office.com')) return new Response('1', { status: 200 });
  // A Teams Workflows trigger accepts the request and runs the flow later: 202, empty body.
  if (host.endsWith('.logic.azure.com')) return new Response(null, { status: 202 });
  return new Response(null, { status: 201, headers: { location: `https://${host}/message/${n}` } });
}

/**
 * Records the request (method, URL, headers, body as text and base64), then answers: a script
 * matched by substring if one was set with POST http://hooks.test/provider-script
 * {"match", "script"}, else the provider's documented success. GET
 * http://hooks.test/provider-log?host=&match= lists what arrived.
 */
async function providerReceiver(request: Request, url: URL): Promise<Response> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  const body = new TextDecoder().decode(bytes);
  providerLog.push({
    host: url.hostname,
    method: request.method,
    url: request.url,
    headers: Object.fromEntries(request.headers),
    body,
    body_b64: btoa(String.fromCharCode(...bytes)),
  });
  for (const [match, s] of providerScripts) {
    if (!request.url.includes(match) && !body.includes(match)) continue;
    s.calls++;
    if (s.script.startsWith('once ')) {
      if (s.calls > 1) break;
      const once = JSON.parse(s.script.slice(5)) as { status: number; headers?: Record<string, string>; body?: unknown };
      return new Response(once.body === undefined ? null : JSON.stringify(once.body), {
        status: once.status,
        headers: { 'content-type': 'application/json', ...once.headers },
      });
    }
    const [kind, arg] = s.script.split('-');
    if (kind === 'flaky' && s.calls <= Number(arg)) return json({ message: 'try again' }, 503);
    if (kind === 'throttle' && s.calls === 1) return json({ message: 'slow down', retry_after: 0.1 }, 429);
    if (kind === 'status') return json({ message: `scripted ${arg}`, code: 21211 }, Number(arg));
  }
  return providerSuccess(url.hostname, providerLog.length);
}

async function providerControl(request: Request, url: URL): Promise<Response> {
  if (url.pathname === '/provider-script') {
    const { match, script } = (await request.json()) as { match: string; script: string };
    providerScripts.set(match, { script, calls: 0 });
    return json({ ok: true });
  }
  const host = url.searchParams.get('host');
  const match = url.searchParams.get('match') ?? '';
  return json({ requests: providerLog.filter((r) => (!host || r.host === host) && (r.url.includes(match) || r.body.includes(match))) });
}

export async function fakeLlm(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname === 'hooks.test' && (url.pathname === '/provider-script' || url.pathname === '/provider-log'))
    return providerControl(request, url);
  if (url.hostname === 'hooks.test') return hookReceiver(request, url);
  if (PROVIDER_HOSTS.test(url.hostname)) return providerReceiver(request, url);
  if (url.hostname !== 'llm.test') {
    foreign.push(request.url);
    return new Response('outbound network is disabled in tests', { status: 599 });
  }
  if (url.pathname === '/stats')
    return json(stats.get(url.searchParams.get('tag') ?? '') ?? { calls: 0, prompts: [], response_formats: [], traceparents: [] });
  if (url.pathname === '/control') {
    const tag = url.searchParams.get('heal');
    if (tag) healed.add(tag);
    const release = url.searchParams.get('release');
    if (release) {
      released.add(release);
      for (const go of held.get(release) ?? []) go();
      held.delete(release);
    }
    return json({ ok: true });
  }
  if (url.pathname !== '/v1/chat/completions' || request.method !== 'POST') return json({ error: { message: 'not found' } }, 404);
  if (request.headers.get('authorization') !== 'Bearer test-key') return json({ error: { message: 'bad key' } }, 401);
  const body = (await request.json()) as {
    model: string;
    stream?: boolean;
    messages: { role: string; content: string }[];
    response_format?: ResponseFormat;
  };
  const prompt = body.messages
    .filter((m) => m.role === 'user')
    .map((m) => m.content)
    .join('\n');
  const [kind, a, b] = body.model.split('-');
  const jsonScript = kind === 'json' && (a === 'bad' || a === 'bad2' || a === 'wrong') ? a : undefined;
  const tag = (kind === 'flaky' || kind === 'slow' || jsonScript ? b : a) ?? body.model;
  const stat = stats.get(tag) ?? { calls: 0, prompts: [], response_formats: [], traceparents: [] };
  stat.calls++;
  stat.prompts.push(prompt);
  stat.response_formats.push(body.response_format ?? null);
  stat.traceparents.push(request.headers.get('traceparent'));
  stats.set(tag, stat);
  if (kind === 'flaky' && stat.calls <= Number(a)) return json({ error: { message: 'temporarily overloaded' } }, 503);
  if (kind === 'fail' && !healed.has(tag)) return json({ error: { message: 'upstream is down' } }, 503);
  if (kind === 'reject') return json({ error: { message: 'invalid request' } }, 400);
  if (kind === 'slow') await new Promise((r) => setTimeout(r, Number(a)));
  if (kind === 'hold' && !(await hold(tag))) return json({ error: { message: 'held too long: the test never released it' } }, 503);
  if (kind === 'prompted') {
    if (prompt.includes('[fail]')) return json({ error: { message: 'the prompt asked to fail' } }, 400);
    const slow = /\[slow:(\d+)\]/.exec(prompt);
    if (slow) await new Promise((r) => setTimeout(r, Number(slow[1])));
    const held = /\[hold:([a-z0-9]+)\]/.exec(prompt);
    if (held && !(await hold(held[1]!))) return json({ error: { message: 'held too long: the test never released it' } }, 503);
  }
  if (kind === 'ratelimit' && stat.calls === 1)
    return new Response(
      JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }),
      {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': b ?? '1' },
      },
    );
  if (kind === 'quota')
    return json({ error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', code: 'insufficient_quota' } }, 429);
  if (kind === 'missing')
    return json(
      { error: { message: `The model \`${body.model}\` does not exist`, type: 'invalid_request_error', code: 'model_not_found' } },
      404,
    );
  if (kind === 'empty' || (kind === 'emptyonce' && stat.calls === 1)) return emptyAnswer(body.model, body.stream === true);
  if (body.response_format?.type === 'json_schema')
    return structuredAnswer(body.model, body.response_format.json_schema?.schema, jsonScript, stat.calls, body.stream === true);
  return answer(body.model, prompt, body.stream === true);
}

/** A completion with no text: a reasoning model that spent its whole budget thinking. */
function emptyAnswer(model: string, stream: boolean): Response {
  const usage = { prompt_tokens: 12, completion_tokens: 64, completion_tokens_details: { reasoning_tokens: 64 } };
  if (!stream)
    return json({
      id: 'cmpl-empty',
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' }],
      usage,
    });
  const chunk = { choices: [{ index: 0, delta: {}, finish_reason: 'length' }] };
  return new Response(`data: ${JSON.stringify(chunk)}\n\ndata: ${JSON.stringify({ choices: [], usage })}\n\ndata: [DONE]\n\n`, {
    headers: { 'content-type': 'text/event-stream' },
  });
}

// ---- structured output (issue 15) -------------------------------------------------------------

type JsonSchema = { [key: string]: unknown };
type ResponseFormat = { type: string; json_schema?: { name?: string; schema?: JsonSchema; strict?: boolean } };

/**
 * A value that satisfies a JSON Schema of the subset workflows use, built independently of src/
 * (so a bug there cannot hide here): every declared property, `<property> <n>` strings padded or
 * cut to their lengths, the least number the bounds allow, two array items unless minItems or
 * maxItems says otherwise, an enum's first value.
 */
function sampleOf(schema: JsonSchema, key: string, index: number): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const declared = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? 'null') : schema.type;
  const type = declared ?? (schema.properties || schema.required ? 'object' : schema.items ? 'array' : 'string');
  const num = (name: string) => (typeof schema[name] === 'number' ? (schema[name] as number) : undefined);
  if (type === 'object') {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const out: Record<string, unknown> = {};
    for (const [name, sub] of Object.entries(properties)) out[name] = sampleOf(sub, name, index);
    for (const name of (schema.required ?? []) as string[]) if (!(name in out)) out[name] = `${name} ${index + 1}`;
    return out;
  }
  if (type === 'array') {
    const count = Math.max(num('minItems') ?? 0, Math.min(num('maxItems') ?? 2, 2));
    return Array.from({ length: count }, (_, i) => sampleOf((schema.items ?? {}) as JsonSchema, key, i));
  }
  if (type === 'integer' || type === 'number') {
    const min = num('minimum');
    return type === 'integer' ? Math.ceil(min ?? 0) : (min ?? 0);
  }
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  let text = `${key || 'text'} ${index + 1}`;
  while (text.length < (num('minLength') ?? 0)) text += '.';
  return text.slice(0, num('maxLength') ?? text.length);
}

/** The answer to a json_schema request; json-bad/-bad2/-wrong answer wrongly on their first calls. */
function structuredAnswer(model: string, schema: JsonSchema | undefined, script: string | undefined, call: number, stream: boolean) {
  const valid = JSON.stringify(sampleOf(schema ?? {}, '', 0));
  const wrongNow = (script === 'bad' && call === 1) || (script === 'bad2' && call <= 2);
  const text = wrongNow
    ? `Here is the JSON: ${valid.slice(0, Math.ceil(valid.length / 2))}`
    : script === 'wrong' && call === 1
      ? '"not the object the schema asks for"'
      : valid;
  const usage = { prompt_tokens: 20, completion_tokens: Math.ceil(text.length / 4) };
  if (!stream)
    return json({
      id: 'cmpl-json',
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop' }],
      usage,
    });
  const parts = [text.slice(0, 7), text.slice(7, 20), text.slice(20)].filter(Boolean);
  const chunks = parts.map(
    (part) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: part }, finish_reason: null }] })}\n\n`,
  );
  chunks.push(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ choices: [], usage })}\n\ndata: [DONE]\n\n`);
  return new Response(chunks.join(''), { headers: { 'content-type': 'text/event-stream' } });
}
