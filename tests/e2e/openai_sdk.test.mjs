// The unmodified official OpenAI SDK against baagate: only baseURL and apiKey change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, GATEWAY_KEY, VENDOR_KEY } from './helpers.mjs';

let stack;
let client;
before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => { await stack.stop(); });

test('chat completion through the SDK', async () => {
  const r = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hello from the sdk' }],
  });
  assert.equal(r.choices[0].message.content, 'ECHO: hello from the sdk');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.total_tokens > 0);
});

test('streaming chat through the SDK, with usage when asked', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'stream these words please' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'ECHO: stream these words please');
  assert.ok(chunks >= 5);
  assert.ok(usage && usage.completion_tokens > 0);
});

test('streaming without include_usage yields no usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'no usage' }],
    stream: true,
  });
  for await (const chunk of stream) {
    assert.ok(chunk.choices.length > 0, 'usage-only chunk reached the client');
  }
});

test('embeddings through the SDK', async () => {
  const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
  assert.equal(r.data.length, 2);
  assert.ok(r.data[0].embedding.length > 0);
});

test('models list through the SDK', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  // helpers.mjs also routes Claude models to Anthropic and Bedrock upstreams (anthropic_sdk.test.mjs).
  assert.deepEqual(ids.sort(),
    ['azure-gpt', 'claude-bedrock', 'claude-converse', 'claude-sonnet', 'gpt-4o-mini',
      'text-embedding-3-small']);
});

test('a Bedrock Converse route: SigV4-signed Converse and ConverseStream, tools included', async () => {
  const r = await client.chat.completions.create({
    model: 'claude-converse',
    messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi converse' }],
    max_tokens: 64,
  });
  assert.equal(r.choices[0].message.content, 'ECHO: hi converse');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.model, 'claude-converse');
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  const stream = await client.chat.completions.create({
    model: 'claude-converse',
    messages: [{ role: 'user', content: 'stream through converse please' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
    if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'ECHO: stream through converse please');
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens > 0);
  const rec = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  const last = rec.requests[rec.requests.length - 1];
  assert.equal(last.path, '/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream');
  assert.match(last.headers.authorization,
    /^AWS4-HMAC-SHA256 Credential=AKIDE2EFAKE0001\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
  const sent = JSON.parse(last.body);
  assert.deepEqual(sent.messages, [{ role: 'user', content: [{ text: 'stream through converse please' }] }]);

  // The SDK's streaming helper assembles tool calls from the translated chunks.
  const runner = client.chat.completions.stream({
    model: 'claude-converse',
    messages: [{ role: 'user', content: 'find it [[fake:tool-use]]' }],
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
  });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(final.choices[0].message.tool_calls[0].function.name, 'lookup');
  assert.deepEqual(JSON.parse(final.choices[0].message.tool_calls[0].function.arguments), { q: 'fake' });
});

test('a request Converse cannot express is a BadRequestError naming the parameter', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: 'claude-converse',
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_object' },
    }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'response_format');
});

test('a wrong key is an AuthenticationError', async () => {
  const bad = new OpenAI({ baseURL: stack.baseURL, apiKey: VENDOR_KEY, maxRetries: 0 });
  await assert.rejects(
    bad.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key');
});

test('an unknown model is a NotFoundError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
});

test('an oversized body is a 413 APIError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(100000) }] }),
    (e) => e instanceof OpenAI.APIError && e.status === 413);
});

test('a vendor 429 is a RateLimitError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[[fake:429]]' }] }),
    (e) => e instanceof OpenAI.RateLimitError && e.status === 429);
});

test('a vendor timeout is a 504', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[[fake:timeout]]' }] }),
    (e) => e instanceof OpenAI.APIError && e.status === 504);
});

test('a stream the vendor breaks surfaces as an SDK error', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'one two three [[fake:reset-mid-stream]]' }],
    stream: true,
  });
  await assert.rejects(async () => { for await (const _ of stream) { /* drain */ } });
});

test('abandoning a stream cancels the vendor request', async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'a b c d e f g h [[fake:chunk-delay=200]]' }],
    stream: true,
  }, { signal: controller.signal });
  let received = 0;
  try {
    for await (const _ of stream) {
      received++;
      controller.abort();  // the SDK ends the iteration (or throws AbortError)
    }
  } catch (e) {
    assert.equal(e.name, 'APIUserAbortError', String(e));
  }
  assert.equal(received, 1);
  let stats;
  for (let i = 0; i < 60; i++) {
    stats = await (await fetch(`${stack.fakeURL}/_fake/stats`)).json();
    if (stats.streams_aborted >= 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(stats.streams_aborted >= 1, JSON.stringify(stats));
});

test('a call outside the BAA scope is a PermissionDeniedError with reason codes', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'Describe this wound photo for patient Jane Canary-Doe' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      ] }],
    }),
    (err) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError, `got ${err?.constructor?.name}`);
      assert.equal(err.status, 403);
      assert.equal(err.code, 'baa_scope_violation');
      assert.deepEqual(err.error.reasons, ['FEATURE_NOT_COVERED:vision.image_input']);
      assert.ok(!JSON.stringify(err.error).includes('Canary'));
      return true;
    },
  );
});

test('store, metadata and user ids are enforced before the vendor sees them', async () => {
  await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'enforce me' }],
    store: true,
    metadata: { note: 'MRN 55501 CANARY' },
    user: 'jane.canary@example.org',
  });
  const recorded = await (await fetch(`${stack.fakeURL}/_fake/requests`)).json();
  const body = JSON.parse(recorded.requests.at(-1).body);
  assert.equal(body.store, false);
  assert.equal(body.metadata, undefined);
  assert.equal(body.user, undefined);  // no pseudonym key configured: stripped
  assert.ok(!recorded.requests.at(-1).body.includes('CANARY'));
});
