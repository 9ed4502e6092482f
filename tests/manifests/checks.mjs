// What the offline manifest checks share (validate.mjs, docs.mjs): one printed line per check,
// the closing count line check.sh adds up, YAML loading and the walk over an OpenAPI schema.
import fs from 'node:fs';
import yaml from 'js-yaml';

let passed = 0;
let failed = 0;
const ok = (what) => { passed++; console.log(`ok    ${what}`); };
const fail = (what, why) => { failed++; console.log(`FAIL  ${what}\n      ${String(why).split('\n').join('\n      ')}`); };

// check(WHAT, FN): FN passes when it returns undefined or true; a throw or another value fails it.
export const check = (what, fn) => {
  try {
    const r = fn();
    if (r === undefined || r === true) ok(what); else fail(what, r);
  } catch (e) {
    fail(what, e && e.message ? e.message : e);
  }
};
export const assert = (cond, msg) => { if (!cond) throw new Error(msg); };

// Prints "NAME: N checks passed, N failed" (the line check.sh reads) and exits 1 on any failure.
export const finish = (name) => {
  console.log(`${name}: ${passed} checks passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
};

// The contents of the ```yaml fenced blocks of a Markdown text, in order.
export const yamlBlocks = (text) => [...text.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => m[1]);

export const loadAll = (file) => yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d != null);

// Calls fn(node, path) for node and every schema below it. Paths: `.name` for a property, `[]` for
// array items, `{}` for additionalProperties, `<anyOf0>` and the like for combinators.
export function forEachSchemaNode(node, at, fn) {
  if (!node || typeof node !== 'object') return;
  fn(node, at);
  for (const [k, v] of Object.entries(node.properties || {})) forEachSchemaNode(v, `${at}.${k}`, fn);
  if (node.items) forEachSchemaNode(node.items, `${at}[]`, fn);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    forEachSchemaNode(node.additionalProperties, `${at}{}`, fn);
  }
  for (const key of ['anyOf', 'allOf', 'oneOf']) (node[key] || []).forEach((n, i) => forEachSchemaNode(n, `${at}<${key}${i}>`, fn));
}
