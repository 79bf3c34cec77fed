// Checks recorded HTTP responses against the OpenAPI document: each response (one JSON line per
// response, written by the test harness when LV_TEST_HTTP_RECORD names a file) is matched to its
// operation by method and path template; its status must be one the operation declares, its
// required headers must be present and match their schemas, its Content-Type must be one the
// response declares, and a JSON body (or each `data` of a text/event-stream) must validate against
// the response's schema (Ajv, JSON Schema 2020-12).
//
// usage: node check.mjs NODE_MODULES_DIR OPENAPI.json RECORDING.jsonl... (or a directory of them)
import { createRequire } from "node:module";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { compileDoc } from "./schemas.mjs";

const [modules, file, ...inputs] = process.argv.slice(2);
if (!modules || !file || inputs.length === 0) {
  console.error("usage: check.mjs NODE_MODULES_DIR OPENAPI.json RECORDING.jsonl|DIR...");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "x.js"));
const doc = JSON.parse(readFileSync(file, "utf8"));
const ajv = compileDoc(require, doc);

const esc = (s) => s.replace(/~/g, "~0").replace(/\//g, "~1");
function deref(node, ptr) {
  // Follow $ref (local) and return [node, pointer of node].
  while (node && node.$ref) {
    ptr = node.$ref.slice(1);
    node = ptr.split("/").slice(1).reduce((o, k) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  }
  return [node, ptr];
}
const validators = new Map();
function validatorAt(ptr) {
  if (!validators.has(ptr)) validators.set(ptr, ajv.compile({ $ref: `openapi.json#${ptr}` }));
  return validators.get(ptr);
}

// Path templates -> regular expressions, the most literal first (/v1/videos before /v1/videos/{id}).
const templates = Object.keys(doc.paths)
  .map((p) => ({
    p,
    re: new RegExp("^" + p.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+") + "$"),
    literal: p.replace(/\{[^}]+\}/g, "").length,
  }))
  .sort((a, b) => b.literal - a.literal);
const METHODS = ["get", "post", "put", "patch", "delete"];
// Answers any route may get before routing or outside the operations (edge, unknown route/method).
const GENERIC = doc.components.responses;

const files = [];
for (const i of inputs) {
  if (!statSync(i).isDirectory()) {
    files.push(i);
    continue;
  }
  for (const f of readdirSync(i).sort()) if (f.endsWith(".jsonl")) files.push(path.join(i, f));
}

let checked = 0, skipped = 0;
const failures = [];
const seen = new Map();
const fail = (rec, why) => failures.push(`${rec.method} ${rec.url} -> ${rec.status}: ${why}`);

function mediaType(h) {
  return (h || "").split(";")[0].trim().toLowerCase();
}

function checkResponse(rec, resp, respPtr, headers, where) {
  // Required headers, and the values of documented ones.
  for (const [name, hdef0] of Object.entries(resp.headers || {})) {
    const [hdef, hptr] = deref(hdef0, `${respPtr}/headers/${esc(name)}`);
    const values = headers.get(name.toLowerCase());
    if (!values) {
      if (hdef.required) fail(rec, `${where}: header ${name} is required`);
      continue;
    }
    if (values.length > 1 && name.toLowerCase() !== "set-cookie") fail(rec, `${where}: header ${name} sent ${values.length} times`);
    if (hdef.schema) {
      const v = validatorAt(`${hptr}/schema`);
      let value = values[0];
      if (hdef.schema.type === "integer" && /^[0-9]+$/.test(value)) value = Number(value);
      if (!v(value)) fail(rec, `${where}: header ${name}: ${JSON.stringify(values[0])} ${ajv.errorsText(v.errors)}`);
    }
  }
  const ct = mediaType(headers.get("content-type")?.[0]);
  const content = resp.content;
  if (!content) {
    if (rec.body_len > 0 && rec.method !== "HEAD") fail(rec, `${where}: declares no content, got ${rec.body_len} bytes of ${ct}`);
    return;
  }
  if (rec.status === 204 || rec.status === 304) return;
  if (!ct) return fail(rec, `${where}: no Content-Type`);
  const mt = Object.keys(content).find((k) => k.toLowerCase() === ct) ?? (content["*/*"] ? "*/*" : null);
  if (!mt) return fail(rec, `${where}: Content-Type ${ct} is not one of ${Object.keys(content).join(", ")}`);
  if (rec.method === "HEAD" || rec.body === null) return;
  const mptr = `${respPtr}/content/${esc(mt)}`;
  if (mt === "application/json") {
    let body;
    try {
      body = JSON.parse(rec.body);
    } catch (e) {
      return fail(rec, `${where}: body is not JSON: ${e.message}`);
    }
    const v = validatorAt(`${mptr}/schema`);
    if (!v(body)) fail(rec, `${where}: body does not match the schema: ${ajv.errorsText(v.errors, { separator: "; " })}`);
  } else if (mt === "text/event-stream" && content[mt]["x-event-data"]) {
    const v = validatorAt(`${mptr}/x-event-data`);
    let n = 0;
    for (const block of rec.body.split(/\n\n/)) {
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      const id = block.split("\n").find((l) => l.startsWith("id:"));
      if (!data) continue;
      n++;
      if (!id || !/^id: ?[0-9]+$/.test(id)) fail(rec, `${where}: event ${n} has no integer id`);
      let body;
      try {
        body = JSON.parse(data);
      } catch (e) {
        fail(rec, `${where}: event ${n}: data is not JSON`);
        continue;
      }
      if (!v(body)) fail(rec, `${where}: event ${n}: ${ajv.errorsText(v.errors, { separator: "; " })}`);
    }
  }
}

for (const f of files) {
  for (const line of readFileSync(f, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line);
    let u;
    try {
      u = new URL(rec.url);
    } catch {
      skipped++;
      continue;
    }
    const headers = new Map();
    for (const [n, v] of rec.headers) headers.set(n, [...(headers.get(n) || []), v]);
    const p = u.pathname;
    // Only lvserver's answers: its API, media and probes, and whatever carries its X-Request-Id
    // (fake vendors and object stores answer other paths, without X-Request-Id).
    const ours = /^\/(v1|media)\//.test(p) || ["/healthz", "/readyz", "/metrics"].includes(p);
    if (!ours && !headers.has("x-request-id")) {
      skipped++;
      continue;
    }
    if (!headers.has("x-request-id")) fail(rec, "no X-Request-Id header");
    checked++;
    const method = rec.method === "HEAD" ? "get" : rec.method.toLowerCase();
    const t = templates.find((x) => x.re.test(p));
    let resp, respPtr, where;
    if (!t) {
      [resp, respPtr] = deref(GENERIC.NotFound, "/components/responses/NotFound");
      where = "unknown path";
      if (rec.status !== 404) fail(rec, `unknown path answered ${rec.status} (expected 404 not_found)`);
    } else if (rec.method === "OPTIONS") {
      // A CORS preflight (204) or the methods of the path.
      where = `OPTIONS ${t.p}`;
      if (rec.status === 204) {
        if (!headers.has("allow")) fail(rec, "OPTIONS: no Allow header");
        continue;
      }
      [resp, respPtr] = deref(GENERIC.MethodNotAllowed, "/components/responses/MethodNotAllowed");
    } else if (!doc.paths[t.p][method]) {
      [resp, respPtr] = deref(GENERIC.MethodNotAllowed, "/components/responses/MethodNotAllowed");
      where = `${rec.method} ${t.p} (no such operation)`;
      if (rec.status !== 405) fail(rec, `no ${rec.method} on ${t.p}: expected 405, got ${rec.status}`);
    } else {
      const op = doc.paths[t.p][method];
      where = `${op.operationId}`;
      const key = `${method.toUpperCase()} ${t.p}`;
      seen.set(key, (seen.get(key) || 0) + 1);
      const s = String(rec.status);
      const code = op.responses[s] ? s : op.responses[`${s[0]}XX`] ? `${s[0]}XX` : op.responses.default ? "default" : null;
      if (!code) {
        fail(rec, `${where}: status ${s} is not documented (documented: ${Object.keys(op.responses).join(", ")})`);
        continue;
      }
      [resp, respPtr] = deref(op.responses[code], `/paths/${esc(t.p)}/${method}/responses/${code}`);
    }
    checkResponse(rec, resp, respPtr, headers, where);
  }
}

const ops = [];
for (const [p, item] of Object.entries(doc.paths))
  for (const m of METHODS) if (item[m]) ops.push(`${m.toUpperCase()} ${p}`);
const unseen = ops.filter((o) => !seen.has(o));
console.log(`${checked} responses checked against ${file} (${skipped} from other servers skipped), ` +
  `${ops.length - unseen.length} of ${ops.length} operations exercised`);
if (unseen.length) console.log(`not exercised: ${unseen.join("; ")}`);
if (checked === 0) {
  console.error("no lvserver response was recorded: is LV_TEST_HTTP_RECORD set for the HTTP suites?");
  process.exit(1);
}
if (failures.length) {
  const uniq = [...new Set(failures)];
  console.error(`${failures.length} responses disagree with the document:`);
  for (const f of uniq.slice(0, 200)) console.error("  " + f);
  process.exit(1);
}
console.log("every response conforms");
