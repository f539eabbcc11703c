// Validates HTTP responses against docs/openapi.yaml: the status must be documented for the
// operation, the content type must be one of the documented media types, the body must match the
// schema (JSON Schema 2020-12 via ajv), and required response headers must be present and valid.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OPENAPI_PATH = path.resolve(here, '../../../docs/openapi.yaml');
const DOC_ID = 'https://loy.test/openapi.json';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function loadDoc() {
  return YAML.parse(readFileSync(OPENAPI_PATH, 'utf8'), { merge: false });
}

const doc = loadDoc();
const ajv = new Ajv2020({ strict: true, allErrors: true, strictTypes: false, strictRequired: false });
addFormats(ajv);
ajv.addFormat('int64', {
  type: 'number',
  validate: (n) => Number.isInteger(n) && BigInt(n) >= INT64_MIN && BigInt(n) <= INT64_MAX,
});
ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
// OpenAPI-only annotation keywords that may appear in schemas.
for (const kw of ['example', 'xml', 'externalDocs', 'discriminator']) ajv.addKeyword(kw);
// Component schemas are registered once as $defs of one schema; every `#/components/schemas/X`
// reference in the document is rewritten to point there.
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        out[k] = `${DOC_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
      } else out[k] = rewriteRefs(v);
    }
    return out;
  }
  return node;
}
const rdoc = rewriteRefs(doc);
ajv.addSchema({ $id: DOC_ID, $defs: rdoc.components.schemas });

function at(pointer) {
  return pointer.split('/').slice(1).reduce((o, k) => (o == null ? o : o[k.replace(/~1/g, '/').replace(/~0/g, '~')]), rdoc);
}

const cache = new Map();
function validatorFor(pointer) {
  let v = cache.get(pointer);
  if (!v) {
    const schema = at(pointer);
    if (schema === undefined) throw new Error(`no schema at ${pointer}`);
    v = ajv.compile(schema);
    cache.set(pointer, v);
  }
  return v;
}

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function deref(obj, pointer) {
  // Follows a local $ref (responses/headers/parameters); returns [object, pointer].
  let guard = 0;
  while (obj && obj.$ref && guard++ < 10) {
    const p = obj.$ref.replace(/^#/, '');
    pointer = p;
    obj = p.split('/').slice(1).reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return [obj, pointer];
}

// Path templates, most specific (fewest parameters) first.
const routes = Object.keys(doc.paths)
  .map((tpl) => {
    const segs = tpl.split('/');
    return { tpl, segs, params: segs.filter((s) => s.startsWith('{')).length };
  })
  .sort((a, b) => a.params - b.params);

export function matchRoute(rawPath) {
  const p = rawPath.split('?')[0];
  const segs = p.split('/');
  for (const r of routes) {
    if (r.segs.length !== segs.length) continue;
    let ok = true;
    for (let i = 0; i < segs.length; i++) {
      const t = r.segs[i];
      if (t.startsWith('{')) {
        if (segs[i] === '') ok = false;
      } else if (t !== segs[i]) ok = false;
      if (!ok) break;
    }
    if (ok) return r.tpl;
  }
  return null;
}

export function operationFor(method, rawPath) {
  const tpl = matchRoute(rawPath);
  if (!tpl) return { tpl: null, op: null };
  const op = doc.paths[tpl][method.toLowerCase()];
  return { tpl, op: op || null };
}

function mediaBase(ct) {
  return (ct || '').split(';')[0].trim().toLowerCase();
}

function fmtErrors(errors) {
  return (errors || []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
}

function checkHeader(name, hdef, hptr, headers, problems) {
  const [h] = deref(hdef, hptr);
  let value = headers[name.toLowerCase()];
  if (value === undefined) {
    if (h.required) problems.push(`missing required header ${name}`);
    return;
  }
  if (Array.isArray(value)) {
    if (name.toLowerCase() === 'set-cookie') {
      value = value.find((c) => c.startsWith('loy_session=')) ?? value[0];
    } else value = value.join(', ');
  }
  if (!h.schema) return;
  let v = value;
  const [s] = deref(h.schema, '');
  if (s && s.type === 'integer') {
    if (!/^-?[0-9]+$/.test(value)) {
      problems.push(`header ${name}: ${JSON.stringify(value)} is not an integer`);
      return;
    }
    v = Number(value);
  }
  const hp = `${hptr}/schema`;
  const [, resolved] = deref(hdef, hptr);
  const validate = validatorFor(`${resolved}/schema`);
  if (!validate(v)) problems.push(`header ${name}: ${JSON.stringify(value)} ${fmtErrors(validate.errors).join('; ')}`);
  void hp;
}

/**
 * Returns a list of problems (empty when the response matches the document).
 * res: { status, headers (lower-case keys, node style), text, body (parsed JSON or undefined) }
 */
export function checkResponse(method, rawPath, res) {
  const problems = [];
  const { tpl, op } = operationFor(method, rawPath);
  const ctBase = mediaBase(res.headers['content-type']);
  const errorSchema = validatorFor('/components/schemas/Error');

  if (!res.headers['x-request-id']) problems.push('missing X-Request-Id');
  const parseJson = () => {
    if (ctBase !== 'application/json') {
      problems.push(`content-type ${JSON.stringify(res.headers['content-type'])}, expected application/json`);
      return undefined;
    }
    if (res.bodyError) problems.push(`body is not JSON: ${res.bodyError}`);
    return res.body;
  };

  if (!tpl || !op) {
    // Undocumented path → 404; documented path, undocumented method → 405.
    const want = !tpl ? 404 : 405;
    const code = !tpl ? 'not_found' : 'method_not_allowed';
    if (res.status !== want) {
      problems.push(`${method} ${rawPath} is not in the document (${!tpl ? 'no such path' : 'no such method'}); expected ${want}, got ${res.status}`);
      return problems;
    }
    const body = parseJson();
    if (body !== undefined && !errorSchema(body)) problems.push(...fmtErrors(errorSchema.errors));
    else if (body && body.error && body.error.code !== code) problems.push(`error.code ${body.error.code}, expected ${code}`);
    return problems;
  }

  const opPtr = `/paths/${esc(tpl)}/${method.toLowerCase()}`;
  const rdef = op.responses[String(res.status)];
  if (!rdef) {
    problems.push(`status ${res.status} is not documented for ${method.toUpperCase()} ${tpl} (documented: ${Object.keys(op.responses).join(', ')})`);
    return problems;
  }
  const [resp, respPtr] = deref(rdef, `${opPtr}/responses/${res.status}`);
  for (const [name, hdef] of Object.entries(resp.headers || {})) {
    checkHeader(name, hdef, `${respPtr}/headers/${esc(name)}`, res.headers, problems);
  }
  if (!resp.content) {
    if (res.text && res.text.length) problems.push(`status ${res.status} documents no body, got ${JSON.stringify(res.text.slice(0, 200))}`);
    return problems;
  }
  const types = Object.keys(resp.content);
  if (!types.includes(ctBase)) {
    problems.push(`content-type ${JSON.stringify(res.headers['content-type'])} not among documented ${types.join(', ')}`);
    return problems;
  }
  if (ctBase === 'application/json') {
    if (res.bodyError) {
      problems.push(`body is not JSON: ${res.bodyError}`);
      return problems;
    }
    const validate = validatorFor(`${respPtr}/content/${esc(ctBase)}/schema`);
    if (!validate(res.body)) problems.push(...fmtErrors(validate.errors));
  } else {
    const validate = validatorFor(`${respPtr}/content/${esc(ctBase)}/schema`);
    if (!validate(res.text)) problems.push(...fmtErrors(validate.errors));
  }
  return problems;
}

/** Validates a value against a named component schema; returns problems. */
export function checkSchema(name, value) {
  const v = validatorFor(`/components/schemas/${name}`);
  return v(value) ? [] : fmtErrors(v.errors);
}

export { doc as openapi };
