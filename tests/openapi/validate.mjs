// Validates an OpenAPI document with @seriousme/openapi-schema-validator (the official 3.1 JSON
// schema of the OpenAPI Initiative, plus $ref resolution) and compiles every schema under
// components/schemas with Ajv (JSON Schema 2020-12), so that a schema the checker cannot use fails
// here first.
// usage: node validate.mjs NODE_MODULES_DIR OPENAPI.json
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [modules, file] = process.argv.slice(2);
if (!modules || !file) {
  console.error("usage: validate.mjs NODE_MODULES_DIR OPENAPI.json");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "x.js"));
const { Validator } = await import(require.resolve("@seriousme/openapi-schema-validator"));
const doc = JSON.parse(readFileSync(file, "utf8"));
const validator = new Validator();
const res = await validator.validate(doc);
if (!res.valid) {
  console.error(`${file}: not a valid OpenAPI ${validator.version} document:`);
  console.error(JSON.stringify(res.errors, null, 2));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.error(`${file}: OpenAPI ${validator.version}, expected 3.1`);
  process.exit(1);
}
const { compileDoc } = await import("./schemas.mjs");
const ajv = compileDoc(require, doc);
let n = 0;
for (const name of Object.keys(doc.components.schemas)) {
  ajv.getSchema(`openapi.json#/components/schemas/${name}`);
  n++;
}
// Every operation has an operationId, and every operation's responses are described.
const ops = [];
for (const [p, item] of Object.entries(doc.paths))
  for (const m of ["get", "post", "put", "patch", "delete"])
    if (item[m]) {
      if (!item[m].operationId) throw new Error(`${m.toUpperCase()} ${p}: no operationId`);
      ops.push(`${m.toUpperCase()} ${p}`);
    }
console.log(`${file}: valid OpenAPI ${validator.version}; ${ops.length} operations, ${n} schemas compiled`);
