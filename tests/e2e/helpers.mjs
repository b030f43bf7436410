// Starts `baagate fake-vendor` and `baagate serve` as real processes on loopback port 0 and
// hands their addresses to the tests. Logs are captured so tests can search them for canaries.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.BAAGATE_BIN || resolve(here, '../../build/baagate');
export const GATEWAY_KEY = 'bg-e2e-key-0123456789';
export const VENDOR_KEY = 'sk-e2e-vendor-secret';

async function waitForFile(path, ms = 10000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8'));
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${path}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits until the gateway's log holds `count` matches of `pattern` (a reload is logged once).
export async function waitForLog(stack, pattern, count = 1, ms = 5000) {
  const all = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((stack.logs.gateway.match(all) || []).length >= count) return;
    await sleep(50);
  }
  throw new Error(`log never matched ${pattern} ${count} times`);
}

export async function startStack() {
  const dir = mkdtempSync(join(tmpdir(), 'baagate-e2e-'));
  const logs = { fake: '', gateway: '' };
  // Bedrock routes sign with these; the fake verifies them (--aws-credentials-from-env).
  const env = { ...process.env, E2E_VENDOR_KEY: VENDOR_KEY, AWS_ACCESS_KEY_ID: 'AKIDE2EFAKE0001',
    AWS_SECRET_ACCESS_KEY: 'e2e/fake+bedrock-secret' };
  delete env.AWS_SESSION_TOKEN;
  // Vertex routes: a service account whose public key the fake's token endpoint verifies.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'google-pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  const fake = spawn(BIN, ['fake-vendor', '--listen', '127.0.0.1:0', '--api-key-env',
    'E2E_VENDOR_KEY', '--aws-credentials-from-env', '--google-key-file',
    join(dir, 'google-pub.pem'), '--ready-file', join(dir, 'fake.json')], { env });
  fake.stderr.on('data', (d) => { logs.fake += d; });
  fake.stdout.on('data', (d) => { logs.fake += d; });
  const fakeAddr = (await waitForFile(join(dir, 'fake.json'))).listen;
  env.E2E_VERTEX_SA = join(dir, 'vertex-sa.json');
  writeFileSync(env.E2E_VERTEX_SA, JSON.stringify({
    type: 'service_account', project_id: 'e2e-proj', private_key_id: 'kid-e2e',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: 'gw@e2e-proj.iam.gserviceaccount.com', token_uri: `http://${fakeAddr}/token` }));
  const sha = createHash('sha256').update(GATEWAY_KEY).digest('hex');
  writeFileSync(join(dir, 'gateway.yaml'), `
server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  limits:
    max_body_bytes: 65536
log:
  level: debug
  access: true
upstreams:
  fake:
    region: us
    base_url: http://${fakeAddr}/v1
    credential: { env: E2E_VENDOR_KEY }
    first_byte_timeout_ms: 1000
  fake-anthropic:
    provider: anthropic
    region: us
    base_url: http://${fakeAddr}/v1
    credential: { env: E2E_VENDOR_KEY }
    first_byte_timeout_ms: 1000
  fake-azure:
    provider: azure_openai
    region: eastus2
    base_url: http://${fakeAddr}
    api_version: "2024-10-21"
    credential: { env: E2E_VENDOR_KEY }
    first_byte_timeout_ms: 1000
  fake-bedrock:
    provider: bedrock
    region: us-east-1
    base_url: http://${fakeAddr}
    credential: aws_environment
    first_byte_timeout_ms: 1000
  fake-bedrock-converse:
    provider: bedrock
    region: us-east-1
    base_url: http://${fakeAddr}
    credential: aws_environment
    bedrock_api: converse
  fake-vertex-gemini:
    provider: vertex_google
    project: e2e-proj
    region: us-central1
    base_url: http://${fakeAddr}
    credential: { google_service_account: { file_env: E2E_VERTEX_SA } }
    first_byte_timeout_ms: 1000
  fake-vertex-claude:
    provider: vertex_anthropic
    project: e2e-proj
    region: us-east5
    base_url: http://${fakeAddr}
    credential: { google_service_account: { file_env: E2E_VERTEX_SA } }
    first_byte_timeout_ms: 1000
routes:
  - { model: gpt-4o-mini, upstream: fake }
  - { model: azure-gpt, upstream: fake-azure, upstream_model: gpt4o-deployment }
  - { model: claude-bedrock, upstream: fake-bedrock, upstream_model: "anthropic.claude-3-5-sonnet-20240620-v1:0" }
  - { model: claude-converse, upstream: fake-bedrock-converse, upstream_model: "us.anthropic.claude-3-5-sonnet-20240620-v1:0" }
  - { model: text-embedding-3-small, upstream: fake }
  - { model: claude-sonnet, upstream: fake-anthropic, upstream_model: claude-3-5-sonnet-20240620 }
  - { model: gemini-flash, upstream: fake-vertex-gemini, upstream_model: gemini-2.0-flash }
  - { model: claude-vertex, upstream: fake-vertex-claude, upstream_model: "claude-3-5-sonnet-v2@20241022" }
keys:
  - { name: e2e, sha256: ${sha}, tenant: t, app: e2e, role: dev, purpose: treatment }
tenant:
  id: t
  contracts:
    - { id: BAA-OPENAI-E2E, vendor: openai, effective_date: "2025-01-01" }
    - { id: BAA-ANTHROPIC-E2E, vendor: anthropic, effective_date: "2025-01-01" }
    - { id: BAA-AWS-E2E, vendor: aws, effective_date: "2025-01-01" }
    - { id: BAA-MICROSOFT-E2E, vendor: microsoft, effective_date: "2025-01-01" }
    - { id: BAA-GOOGLE-E2E, vendor: google, effective_date: "2025-01-01" }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified,
        verified_at: "${new Date().toISOString()}" }
    - { vendor: anthropic, retention: zero_data_retention, source: verified,
        verified_at: "${new Date().toISOString()}" }
    - { vendor: aws, retention: none, source: verified,
        verified_at: "${new Date().toISOString()}" }
    - { vendor: microsoft, retention: abuse_monitoring_off, source: verified,
        verified_at: "${new Date().toISOString()}" }
    - { vendor: google, retention: zero_data_retention, source: verified,
        verified_at: "${new Date().toISOString()}" }
  allowed_regions: [us, "eastus*"]
apps:
  - { id: e2e, purpose: treatment }
`);
  const gw = spawn(BIN, ['serve', '--config', join(dir, 'gateway.yaml'), '--ready-file',
    join(dir, 'gateway.json')], { env });
  gw.stderr.on('data', (d) => { logs.gateway += d; });
  gw.stdout.on('data', (d) => { logs.gateway += d; });
  const ready = await waitForFile(join(dir, 'gateway.json'));
  const exited = new Promise((r) => gw.on('exit', (code) => r(code)));
  return {
    baseURL: `http://${ready.listen}/v1`,
    // The Anthropic SDK appends /v1/messages itself.
    anthropicBaseURL: `http://${ready.listen}`,
    adminURL: `http://${ready.admin_listen}`,
    fakeURL: `http://${fakeAddr}`,
    logs,
    configPath: join(dir, 'gateway.yaml'),
    signal(sig) { gw.kill(sig); },
    async stop() {
      gw.kill('SIGTERM');
      const code = await exited;
      fake.kill('SIGTERM');
      return code;
    },
  };
}
