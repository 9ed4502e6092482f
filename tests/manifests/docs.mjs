// README.md against what it documents (run by check.sh), so the user's manual cannot drift:
//
//   node docs.mjs ROOT
//
//   - examples: every file of tests/manifests/examples/ (validated by validate.mjs against the CRDs)
//     is a ```yaml block of README.md byte for byte, and every ```yaml block of README.md that is a
//     whole object (a line `apiVersion: ...`) is one of those files;
//   - the Archive configuration reference (the README section of that name): every field below
//     spec.configuration and spec.instanceSidecarConfiguration of the Archive CRD's schema has a
//     row, every row names a field of the CRD, and each row's type, default, allowed values and
//     integer range are the schema's. A row whose type is "Secret key" (a {name, key} reference)
//     or a Kubernetes type ("core/v1 ...", only under instanceSidecarConfiguration) stands for the
//     fields below it;
//   - the Troubleshooting section quotes the plugin's messages as the code writes them: in every
//     quoted message (a `code span` of 30 characters or more), each fixed part between the values
//     the code inserts is a run of words of one source file's string literals in
//     libcnpgi_pgbackrest/ (pgBackRest's text after `ERROR: [`, and the other programs' messages
//     listed below, are not checked);
//   - the FLAGS_ table of "Sidecar configuration" lists exactly the flags hosts/sidecar/main.cc
//     takes from the environment, each with its default;
//   - every link to a heading (#anchor) or to a file of the repository resolves.
// Ends with "docs.mjs: N checks passed, N failed"; exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { check, assert, finish, loadAll, forEachSchemaNode, yamlBlocks } from './checks.mjs';

const root = path.resolve(process.argv[2] || '.');
const here = path.join(root, 'tests/manifests');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

// --- examples ---------------------------------------------------------------------------------
console.log('== README.md shows the validated examples (tests/manifests/examples)');
const exDir = path.join(here, 'examples');
const examples = fs.readdirSync(exDir).filter((f) => f.endsWith('.yaml')).sort()
  .map((f) => [f, fs.readFileSync(path.join(exDir, f), 'utf8')]);
const blocks = yamlBlocks(readme);
for (const [f, text] of examples) {
  check(`README.md has ${f} as a yaml block, unchanged`, () => assert(blocks.includes(text), 'not found verbatim'));
}
check('every whole object in a yaml block of README.md is an example file', () => {
  const strays = blocks.filter((b) => /^apiVersion:/m.test(b) && !examples.some(([, t]) => t === b));
  assert(strays.length === 0, `${strays.length} block(s) not in tests/manifests/examples, starting:\n` +
    strays.map((b) => b.split('\n').slice(0, 4).join(' / ')).join('\n'));
});

// --- the Archive configuration reference ------------------------------------------------------
console.log('== README.md "Archive configuration reference" against the Archive CRD');
const heading = 'Archive configuration reference';
const lines = readme.split('\n');
const start = lines.findIndex((l) => new RegExp(`^#+ ${heading}$`).test(l));
const level = start >= 0 ? /^#+/.exec(lines[start])[0].length : 0;
let end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)[0].length <= level);
if (end < 0) end = lines.length;
// Table rows whose first cell is a field path; cells split on unescaped '|'.
const rows = new Map();
const duplicates = [];
for (const l of lines.slice(Math.max(start, 0), end)) {
  const m = /^\|\s*`(spec\.[^`]+)`\s*\|(.*)\|\s*$/.exec(l);
  if (!m) continue;
  const [type, def, values, what] = m[2].split(/(?<!\\)\|/).map((c) => c.trim());
  if (rows.has(m[1])) duplicates.push(m[1]);
  rows.set(m[1], { type, def, values, what });
}
check(`README.md has a section "${heading}" with field rows`, () => {
  assert(start >= 0, 'no such heading');
  assert(rows.size > 0, 'no table row starting with a `spec....` field path');
  assert(duplicates.length === 0, `fields with two rows: ${duplicates.join(', ')}`);
});

const crd = loadAll(path.join(root, 'manifests/crd/pgbackrest.cnpg.opera.com_archives.yaml'))
  .find((d) => d.kind === 'CustomResourceDefinition');
const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
const fields = new Map(); // path -> schema node, below spec, without combinator branches
// Array items (`[]`) and map values (`{}`) are not fields of their own: their parent's row covers them.
forEachSchemaNode(spec, 'spec', (node, at) => { if (at !== 'spec' && !/<|\[\]$|\{\}$/.test(at)) fields.set(at, node); });

const ticked = (cell) => [...(cell || '').matchAll(/`([^`]*)`/g)].map((m) => m[1]);
const isSecretKey = (node) => node.type === 'object' &&
  JSON.stringify(Object.keys(node.properties || {}).sort()) === '["key","name"]';
const standsForSubtree = (row) => /^Secret key\b/.test(row.type) || /^core\/v1 /.test(row.type);

check('every row names a field of the CRD', () => {
  const unknown = [...rows.keys()].filter((p) => !fields.has(p));
  assert(unknown.length === 0, `not in the CRD: ${unknown.join(', ')}`);
});
check('every field of the CRD has a row (or is part of a Secret key or core/v1 row)', () => {
  const covered = (p) => rows.has(p) || [...rows.entries()].some(([r, row]) => standsForSubtree(row) &&
    (p.startsWith(`${r}.`) || p.startsWith(`${r}[]`)));
  const missing = [...fields.keys()].filter((p) => !covered(p));
  assert(missing.length === 0, `no row for: ${missing.join(', ')}`);
});
check('each row\'s type, default, allowed values and range are the schema\'s', () => {
  const problems = [];
  for (const [p, row] of rows) {
    const node = fields.get(p);
    if (!node) continue; // reported above
    if (/^Secret key\b/.test(row.type)) {
      if (!isSecretKey(node)) problems.push(`${p}: typed Secret key, but the schema is not a {name, key} object`);
    } else if (/^core\/v1 /.test(row.type)) {
      if (!p.startsWith('spec.instanceSidecarConfiguration.')) problems.push(`${p}: a core/v1 type outside instanceSidecarConfiguration`);
    } else if (row.type.split(/[\s,(]/)[0] !== node.type) {
      problems.push(`${p}: type "${row.type}" but the schema says ${node.type}`);
    }
    if (node.default !== undefined && !ticked(row.def).includes(String(node.default))) {
      problems.push(`${p}: default "${row.def}" does not show the schema's \`${node.default}\``);
    }
    if (node.enum) {
      const documented = ticked(row.values).sort();
      const allowed = node.enum.map(String).sort();
      if (JSON.stringify(documented) !== JSON.stringify(allowed)) {
        problems.push(`${p}: values ${JSON.stringify(documented)} but the schema allows ${JSON.stringify(allowed)}`);
      }
    }
    for (const bound of ['minimum', 'maximum', 'minItems', 'maxItems']) {
      const digits = row.values.replace(/(\d),(?=\d{3})/g, '$1'); // 9,999,999 is 9999999
      if (node[bound] !== undefined && !new RegExp(`(?<!\\d)${node[bound]}(?!\\d)`).test(digits)) {
        problems.push(`${p}: values "${row.values}" do not show the schema's ${bound} ${node[bound]}`);
      }
    }
    if (!row.what) problems.push(`${p}: says nothing about what it does`);
  }
  assert(problems.length === 0, problems.join('\n'));
});

// --- the messages quoted in Troubleshooting ---------------------------------------------------
console.log('== README.md "Troubleshooting" quotes the messages of libcnpgi_pgbackrest/');
// The section's text, one line per paragraph so that code spans may wrap.
const section = (title) => {
  const from = lines.findIndex((l) => l === `## ${title}`);
  const to = lines.findIndex((l, i) => i > from && /^## /.test(l));
  return from < 0 ? '' : lines.slice(from, to < 0 ? lines.length : to).join('\n');
};
const troubleshooting = section('Troubleshooting');
// The words of the library's string literals (tests excluded), file by file in source order:
// a message is built from literals and inserted values, so its fixed parts are runs of these words.
const words = (text) => text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean).join(' ');
const sources = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) walk(f);
    else if (/\.(cc|h)$/.test(e.name) && !/_test\.cc$/.test(e.name)) {
      const literals = [...fs.readFileSync(f, 'utf8').matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map((m) => m[1]);
      sources.push(` ${words(literals.join(' '))} `);
    }
  }
};
walk(path.join(root, 'libcnpgi_pgbackrest'));
// Quoted in the section but written by other programs, or not messages.
const others = new Set([
  'rpc error: code = <code> desc = <message>', // gRPC's text of a status, as CNPG logs it
  'cnpg.io/skipEmptyWalArchiveCheck: enabled', // the annotation
  "couldn't find key … in Secret …", // the kubelet
  "unable to verify certificate presented by '…'", // pgBackRest
  'recovery ended before configured recovery target was reached', // PostgreSQL
  'instanceSidecarConfiguration.env', // a field
]);
// What the code inserts into a message: quoted values, elisions, placeholders, field paths, WAL
// names, numbers, and the other values the manual's examples show unquoted.
const inserted = new RegExp([
  "Archive '[^']*' stanza '[^']*'", "'[^']*'", '…', '<[^>]*>', '(?:…|\\b[a-z]\\w*)(?:\\[\\d*\\])?(?:\\.\\w+(?:\\[\\d*\\])?)+',
  '[0-9A-F]{24}', 'cluster-example-\\d', 'cluster definition', 'valid \\w+ name', '\\btype\\b', 'full, diff, incr',
  'targetTime \\S+ \\S+', '(?<![A-Za-z])\\d+',
].join('|'), 'g');
const quoted = [...troubleshooting.matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/\s+/g, ' '))
  .filter((q) => q.length >= 30 && !/^kubectl /.test(q) && !/^repo\d: \[/.test(q) && !others.has(q));
check(`README.md's Troubleshooting quotes ${quoted.length} messages of the plugin`, () => assert(quoted.length >= 20, 'too few found: is the section there?'));
check('each of them is the code\'s wording (values aside; pgBackRest\'s part after ERROR: aside)', () => {
  const problems = [];
  for (const q of quoted) {
    const own = q.split(/ ?ERROR: \[/)[0];
    const missing = own.split(inserted).map(words).filter((w) => w.replace(/ /g, '').length >= 8)
      .filter((w) => !sources.some((src) => src.includes(` ${w} `)));
    if (missing.length) problems.push(`${q.slice(0, 70)}…: not in the code: ${missing.map((w) => JSON.stringify(w)).join(', ')}`);
  }
  assert(problems.length === 0, problems.join('\n'));
});

// --- the sidecar's tunables -------------------------------------------------------------------
console.log('== README.md "Sidecar configuration" against hosts/sidecar/main.cc');
check('the FLAGS_ table lists the flags an Archive may set, with their defaults', () => {
  const main = fs.readFileSync(path.join(root, 'hosts/sidecar/main.cc'), 'utf8');
  // The flags NormalizeFlags takes from FLAGS_<name> env, and each ABSL_FLAG's default as written
  // in the manual (absl::Minutes(5) is 5m).
  const envFlags = [...(/NormalizeFlags\([^{]*\{([^}]*)\}/.exec(main)?.[1] ?? '').matchAll(/"(\w+)"/g)].map((m) => m[1]);
  assert(envFlags.length > 0, 'no NormalizeFlags(..., {...}) list in hosts/sidecar/main.cc');
  const unit = { Hours: 'h', Minutes: 'm', Seconds: 's', Milliseconds: 'ms' };
  const defaults = new Map([...main.matchAll(/ABSL_FLAG\([^,]+,\s*(\w+),\s*([^,]+?),/g)].map(([, name, d]) => {
    const dur = /^absl::(\w+)\((\d+)\)$/.exec(d.trim());
    return [name, dur ? `${dur[2]}${unit[dur[1]]}` : d.trim()];
  }));
  const documented = new Map([...readme.matchAll(/^\| `FLAGS_(\w+)` \| `([^`]*)` \|/gm)].map(([, n, d]) => [n, d]));
  const problems = [];
  for (const f of envFlags) {
    if (!documented.has(f)) problems.push(`FLAGS_${f}: no row`);
    else if (documented.get(f) !== defaults.get(f)) problems.push(`FLAGS_${f}: default \`${documented.get(f)}\`, main.cc has ${defaults.get(f)}`);
  }
  for (const f of documented.keys()) if (!envFlags.includes(f)) problems.push(`FLAGS_${f}: not a flag the sidecar reads from the environment`);
  assert(problems.length === 0, problems.join('\n'));
});

// --- links within the README ------------------------------------------------------------------
// GitHub's anchor of a heading: lower case, punctuation other than '-' and '_' dropped, spaces as '-'.
const slug = (h) => h.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
const anchors = new Set(lines.filter((l) => /^#+ /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
check('every #link of README.md names one of its headings', () => {
  const broken = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]).filter((a) => !anchors.has(a));
  assert(broken.length === 0, `no heading for: ${[...new Set(broken)].join(', ')}`);
});
check('every relative link of README.md names a file of the repository', () => {
  const missing = [...readme.matchAll(/\]\((?!#|https?:)([^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1])
    .filter((f) => !fs.existsSync(path.join(root, f)));
  assert(missing.length === 0, `missing: ${missing.join(', ')}`);
});

finish('docs.mjs');
