// Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) loaded with the whole OpenAPI document, so
// that "openapi.json#/components/schemas/Task" and the like resolve with their $refs.
export function compileDoc(require, doc) {
  const Ajv2020 = require("ajv/dist/2020").default;
  const addFormats = require("ajv-formats").default || require("ajv-formats");
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(doc, "openapi.json");
  return ajv;
}
