// The Archive CRD's spec schema is generated from the one the parser checks
// (libcnpgi_pgbackrest/config/archive_schema.cc), so a field is added in one place (run by check.sh):
//
//   node crd-schema.mjs ROOT GENERATOR [--write]
//
// GENERATOR is the built tools/archive-crd-schema, which prints the schema's `spec` node as JSON.
// A node it marks {"x-cnpgi-literal": "<Kubernetes type>"} (the core/v1 types under
// instanceSidecarConfiguration) keeps the CRD's schema as written. Without --write: one check,
// the CRD's spec schema equals the generated one (the status part is the CRD's own). With --write:
// the CRD file is rewritten with the generated spec schema (tools/regenerate-crd.sh does this and
// re-renders manifests/manifest.yaml).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import yaml from 'js-yaml';
import { check, assert, finish } from './checks.mjs';

const [rootArg, generator, mode] = process.argv.slice(2);
const root = path.resolve(rootArg || '.');
const crdPath = path.join(root, 'manifests/crd/pgbackrest.cnpg.opera.com_archives.yaml');
const text = fs.readFileSync(crdPath, 'utf8');
const header = text.slice(0, text.indexOf('---\n'));
const crd = yaml.load(text.slice(text.indexOf('---\n')));
const schema = crd.spec.versions[0].schema.openAPIV3Schema;

// The generated node with each literal replaced by the CRD's node at the same place.
const withLiterals = (gen, current) => {
  if (Array.isArray(gen)) return gen.map((g, i) => withLiterals(g, current?.[i]));
  if (!gen || typeof gen !== 'object') return gen;
  if (gen['x-cnpgi-literal']) {
    assert(current, `the CRD has no schema for the literal ${gen['x-cnpgi-literal']}`);
    return current;
  }
  return Object.fromEntries(Object.entries(gen).map(([k, v]) => [k, withLiterals(v, current?.[k])]));
};
// Equal as JSON values, key order aside; the first difference's path, or ''.
const difference = (a, b, at) => {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) return `${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  if (a && typeof a === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      if (!(k in a) || !(k in b)) return `${at}.${k}: only in the ${k in a ? 'generated schema' : 'CRD'}`;
      const d = difference(a[k], b[k], `${at}.${k}`);
      if (d) return d;
    }
    return '';
  }
  return a === b ? '' : `${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
};

const regenerate = 'tools/regenerate-crd.sh';
let generated;
check('tools/archive-crd-schema prints the spec schema', () => {
  assert(generator && fs.existsSync(generator), `no generator at ${generator} (build the project first: tools/build.sh)`);
  generated = withLiterals(JSON.parse(execFileSync(generator, { encoding: 'utf8' })), schema.properties.spec);
});
if (mode === '--write' && generated) {
  schema.properties.spec = generated;
  fs.writeFileSync(crdPath, header + '---\n' + yaml.dump(crd, { lineWidth: -1, noRefs: true }));
  console.log(`wrote ${path.relative(root, crdPath)}`);
} else if (generated) {
  check('the CRD\'s spec schema is the one config/archive_schema.cc defines', () => {
    const d = difference(generated, schema.properties.spec, 'spec');
    assert(!d, `${d}\nregenerate the CRD with ${regenerate}`);
  });
}
finish('crd-schema.mjs');
