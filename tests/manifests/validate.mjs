// Offline validation of the install manifest and the documented examples (run by check.sh).
//
//   node validate.mjs ROOT [MANIFEST]   (MANIFEST defaults to ROOT/manifests/manifest.yaml)
//
// For an overlay's rendering, the environment names what it changes: VALIDATE_NAMESPACE (default
// cnpg-system) and VALIDATE_REGISTRY (default ghcr.io/cnpgi-pgbackrest/, the prefix of the images
// operator and sidecar); the images' tag is always the project version from ROOT/meson.build.
//
// ROOT is the repository root. Checks, each printed as one line:
//   - every object of manifests/manifest.yaml against the Kubernetes schemas (kubernetes-models,
//     @kubernetes-models/cert-manager), plus hand checks of what CloudNativePG relies on
//     (Service label and annotations, Secret names, DNS names, mounts, probes, RBAC);
//   - the Archive CRD: apiextensions.k8s.io/v1 model, structural-schema rules, CEL rules parse;
//   - every example of tests/manifests/examples/ against its CRD (ours or CloudNativePG's in
//     tests/manifests/cnpg-crds/): OpenAPI schema with ajv, with unknown fields rejected as the
//     API server's strict field validation does, defaults applied, then the x-kubernetes-validations
//     CEL rules evaluated;
//   - negative cases that each must be rejected for the expected reason, and extra positive cases;
//   - when ../shared/seeds/001_*.txt is beside the repository, the first examples equal its YAML blocks
//     (docs.mjs checks that README.md shows every example).
// Ends with "validate.mjs: N checks passed, N failed"; exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { run as celRun, parse as celParse, isCelError } from '@bufbuild/cel';
import { check, assert, finish, loadAll, forEachSchemaNode, yamlBlocks } from './checks.mjs';

const root = path.resolve(process.argv[2] || '.');
const here = path.join(root, 'tests/manifests');
const manifestPath = process.argv[3] || path.join(root, 'manifests/manifest.yaml');

const clone = (x) => JSON.parse(JSON.stringify(x));
const id = (o) => `${o.kind}/${o.metadata?.name}`;

// --- Kubernetes models ---------------------------------------------------------------------
async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const candidates = group === ''
    ? [`kubernetes-models/${version}`]
    : group.endsWith('cert-manager.io')
      ? [`@kubernetes-models/cert-manager/${group}/${version}`]
      : [`kubernetes-models/${group}/${version}`];
  for (const spec of candidates) {
    try {
      const mod = await import(spec);
      if (mod[kind]) return mod[kind];
    } catch { /* try the next one */ }
  }
  return null;
}

// --- CRD schema → JSON Schema for ajv -------------------------------------------------------
// The API server rejects unknown fields (kubectl's default strict field validation) unless a
// node preserves them; ajv does that with additionalProperties: false. x-kubernetes-* keywords
// are dropped (ajv runs with strict: false), int-or-string becomes integer|string.
const objectMeta = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
    namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

function toJsonSchema(node, isRoot = true) {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, false));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, toJsonSchema(pv, false)]));
    } else if (k === 'description' || k === 'example') {
      // documentation only
    } else if (typeof v === 'object') {
      out[k] = toJsonSchema(v, false);
    } else {
      out[k] = v;
    }
  }
  if (node['x-kubernetes-int-or-string']) {
    delete out.type;
    if (!out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.properties && out.additionalProperties === undefined && !node['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  if (isRoot && out.properties?.metadata) out.properties.metadata = objectMeta;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
addFormats(ajv);
const int = (bits) => ({ type: 'number', validate: (n) => Number.isInteger(n) && Math.abs(n) <= 2 ** (bits - 1) });
ajv.addFormat('int32', int(32));
ajv.addFormat('int64', int(64));
ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
for (const f of ['double', 'float']) ajv.addFormat(f, { type: 'number', validate: () => true });

// --- CEL (x-kubernetes-validations) -----------------------------------------------------------
function toCel(v) {
  if (Array.isArray(v)) return v.map(toCel);
  if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v;
}

// Visits every schema node that has CEL rules, with the matching part of the object.
function evalCel(schema, data, at, errors) {
  if (data === undefined || data === null || !schema || typeof schema !== 'object') return;
  for (const r of schema['x-kubernetes-validations'] || []) {
    if (/\boldSelf\b/.test(r.rule)) continue; // transition rules need the stored object
    let res;
    try {
      res = celRun(r.rule, { self: toCel(data) });
    } catch (e) {
      res = e;
    }
    if (res !== true) {
      const why = isCelError(res) || res instanceof Error ? ` (CEL error: ${res.message})` : '';
      errors.push(`${at || '/'}: ${r.message || `failed rule: ${r.rule}`}${why}`);
    }
  }
  if (Array.isArray(data) && schema.items) {
    data.forEach((d, i) => evalCel(schema.items, d, `${at}/${i}`, errors));
  } else if (typeof data === 'object' && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data)) {
      if (schema.properties?.[k]) evalCel(schema.properties[k], v, `${at}/${k}`, errors);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        evalCel(schema.additionalProperties, v, `${at}/${k}`, errors);
      }
    }
  }
}

// --- CRD registry ----------------------------------------------------------------------------
const crds = new Map(); // "group/version/Kind" -> { crd, schema, validate }
function registerCrd(crd, source) {
  for (const v of crd.spec.versions) {
    if (!v.served) continue;
    const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
    const schema = v.schema.openAPIV3Schema;
    crds.set(key, { crd, source, schema, validate: ajv.compile(toJsonSchema(schema)) });
  }
}

// Validates one custom object; returns a list of error strings (empty when valid).
function validateCustom(obj) {
  const entry = crds.get(`${obj.apiVersion}/${obj.kind}`);
  if (!entry) return [`no CRD serves ${obj.apiVersion} ${obj.kind}`];
  const data = clone(obj); // ajv applies defaults in place, as the API server defaults before CEL
  if (!entry.validate(data)) {
    return entry.validate.errors.map((e) => `${e.instancePath || '/'}: ${e.message}${e.params?.additionalProperty ? ` '${e.params.additionalProperty}'` : ''}${e.params?.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
  }
  const errors = [];
  evalCel(entry.schema, data, '', errors);
  return errors;
}

// ============================================================================================
// 1. manifests/manifest.yaml
// ============================================================================================
console.log('== manifests/manifest.yaml');
const docs = loadAll(manifestPath);
const byKind = (kind) => docs.filter((d) => d.kind === kind);
const one = (kind, name) => {
  const found = docs.filter((d) => d.kind === kind && (!name || d.metadata?.name === name));
  assert(found.length === 1, `expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
};

for (const d of docs) {
  const Model = await modelFor(d.apiVersion, d.kind);
  if (!Model) { fail(`${id(d)} schema`, `no model for ${d.apiVersion} ${d.kind}`); continue; }
  check(`${id(d)} is a valid ${d.apiVersion} ${d.kind}`, () => { new Model(clone(d)).validate(); });
}

const plugin = 'pgbackrest.cnpg.opera.com';
const ns = process.env.VALIDATE_NAMESPACE || 'cnpg-system';
const registry = process.env.VALIDATE_REGISTRY || 'ghcr.io/cnpgi-pgbackrest/';
const version = /^\s*version:\s*'([^']+)'/m.exec(fs.readFileSync(path.join(root, 'meson.build'), 'utf8'))[1];
check(`every namespaced object is in ${ns}`, () => {
  const cluster = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
  for (const d of docs) {
    if (cluster.has(d.kind)) assert(!d.metadata.namespace, `${id(d)} is cluster-scoped but has a namespace`);
    else assert(d.metadata.namespace === ns, `${id(d)} namespace is ${d.metadata.namespace}`);
  }
});

check('Service: cnpg.io/pluginName label, the three annotations, port = pluginPort, selects the Deployment', () => {
  const svc = one('Service', 'pgbackrest');
  const dep = one('Deployment', 'pgbackrest');
  assert(svc.metadata.labels?.['cnpg.io/pluginName'] === plugin, 'label cnpg.io/pluginName');
  const a = svc.metadata.annotations || {};
  assert(a['cnpg.io/pluginClientSecret'] === 'pgbackrest-client-tls', 'annotation cnpg.io/pluginClientSecret');
  assert(a['cnpg.io/pluginServerSecret'] === 'pgbackrest-server-tls', 'annotation cnpg.io/pluginServerSecret');
  assert(a['cnpg.io/pluginPort'] === '9090', 'annotation cnpg.io/pluginPort must be the string "9090"');
  const port = svc.spec.ports.find((p) => p.port === Number(a['cnpg.io/pluginPort']));
  assert(port && port.targetPort === 9090, 'no Service port equal to cnpg.io/pluginPort targeting 9090');
  const tl = dep.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(svc.spec.selector)) assert(tl[k] === v, `selector ${k}=${v} does not match the Pod template`);
  for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) assert(tl[k] === v, `Deployment selector ${k} does not match its template`);
});

check('Deployment: image, args, SIDECAR_IMAGE, TLS Secrets mounted read-only, probes, restricted securityContext', () => {
  const dep = one('Deployment', 'pgbackrest');
  const svc = one('Service', 'pgbackrest');
  const pod = dep.spec.template.spec;
  assert(pod.containers.length === 1, 'one container');
  const c = pod.containers[0];
  assert(c.image === `${registry}operator:${version}`, `image ${c.image}`);
  assert(JSON.stringify(c.args) === JSON.stringify(['operator', '--server-cert=/server/tls.crt', '--server-key=/server/tls.key',
    '--client-cert=/client/tls.crt', '--server-address=:9090']), `args ${JSON.stringify(c.args)}`);
  assert(c.env?.find((e) => e.name === 'SIDECAR_IMAGE')?.value === `${registry}sidecar:${version}`, 'env SIDECAR_IMAGE');
  const vols = Object.fromEntries((pod.volumes || []).map((v) => [v.name, v]));
  for (const m of c.volumeMounts) assert(vols[m.name], `volumeMount ${m.name} has no volume`);
  const secretAt = (dir) => {
    const m = c.volumeMounts.find((x) => x.mountPath === dir);
    assert(m && m.readOnly === true, `${dir} must be mounted read-only`);
    return vols[m.name].secret?.secretName;
  };
  assert(secretAt('/server') === svc.metadata.annotations['cnpg.io/pluginServerSecret'], '/server is not the pluginServerSecret');
  assert(secretAt('/client') === svc.metadata.annotations['cnpg.io/pluginClientSecret'], '/client is not the pluginClientSecret');
  for (const p of ['readinessProbe', 'livenessProbe']) assert(c[p]?.tcpSocket?.port === 9090, `${p} must be tcpSocket 9090`);
  assert(c.ports?.some((p) => p.containerPort === 9090), 'containerPort 9090');
  assert(c.resources?.requests && c.resources?.limits, 'resources requests and limits');
  const sc = c.securityContext || {};
  assert(sc.runAsNonRoot === true && sc.runAsUser === 65532, 'runAsNonRoot, runAsUser 65532');
  assert(sc.allowPrivilegeEscalation === false, 'allowPrivilegeEscalation false');
  assert(sc.readOnlyRootFilesystem === true, 'readOnlyRootFilesystem');
  assert(JSON.stringify(sc.capabilities?.drop) === '["ALL"]', 'capabilities drop ALL');
  assert((sc.seccompProfile || pod.securityContext?.seccompProfile)?.type === 'RuntimeDefault', 'seccomp RuntimeDefault');
  assert(pod.serviceAccountName === one('ServiceAccount').metadata.name, 'serviceAccountName');
});

check('Deployment: 2 replicas, a PodDisruptionBudget keeping one, POD_NAME for the Lease holder', () => {
  const dep = one('Deployment', 'pgbackrest');
  const pdb = one('PodDisruptionBudget', 'pgbackrest');
  assert(dep.spec.replicas === 2, `replicas ${dep.spec.replicas}`);
  assert(pdb.spec.minAvailable === 1 && pdb.spec.minAvailable < dep.spec.replicas, `minAvailable ${pdb.spec.minAvailable}`);
  const tl = dep.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) assert(tl[k] === v, `PDB selector ${k}=${v} does not match the Pod template`);
  const env = dep.spec.template.spec.containers[0].env || [];
  assert(env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath === 'metadata.name', 'env POD_NAME from metadata.name');
});

check('cert-manager: selfSigned Issuer; server and client Certificates match the Service', () => {
  const svc = one('Service', 'pgbackrest');
  const issuers = byKind('Issuer');
  for (const d of [...issuers, ...byKind('Certificate')]) {
    assert(d.apiVersion === 'cert-manager.io/v1', `${id(d)} apiVersion ${d.apiVersion}`);
    assert(d.spec && typeof d.spec === 'object', `${id(d)} needs spec`);
  }
  assert(issuers.length === 1 && issuers[0].spec.selfSigned, 'one selfSigned Issuer');
  const certs = byKind('Certificate');
  const bySecret = (s) => {
    const c = certs.filter((x) => x.spec.secretName === s);
    assert(c.length === 1, `one Certificate must write Secret ${s}`);
    return c[0];
  };
  const server = bySecret(svc.metadata.annotations['cnpg.io/pluginServerSecret']);
  const client = bySecret(svc.metadata.annotations['cnpg.io/pluginClientSecret']);
  for (const c of [server, client]) {
    assert(c.spec.issuerRef?.name === issuers[0].metadata.name, `${id(c)} issuerRef.name`);
    assert((c.spec.issuerRef.kind || 'Issuer') === 'Issuer', `${id(c)} issuerRef.kind`);
  }
  const s = svc.metadata.name;
  const want = [s, `${s}.${ns}`, `${s}.${ns}.svc`, `${s}.${ns}.svc.cluster.local`];
  for (const n of want) assert(server.spec.dnsNames?.includes(n), `server dnsNames lacks ${n}`);
  assert(server.spec.usages?.includes('server auth'), 'server usages need server auth');
  assert(!server.spec.usages?.includes('client auth'), 'server certificate must not be a client certificate');
  assert(client.spec.usages?.includes('client auth'), 'client usages need client auth');
  assert(client.spec.commonName === 'pgbackrest-client', 'client commonName');
});

check('RBAC: bindings name the ServiceAccount; least privilege (no wildcards, Secrets get only)', () => {
  const sa = one('ServiceAccount');
  for (const b of [...byKind('ClusterRoleBinding'), ...byKind('RoleBinding')]) {
    const role = one(b.roleRef.kind, b.roleRef.name);
    assert(role, `${id(b)} refers to missing ${b.roleRef.kind} ${b.roleRef.name}`);
    assert(b.subjects.every((x) => x.kind === 'ServiceAccount' && x.name === sa.metadata.name && x.namespace === ns),
      `${id(b)} subjects`);
  }
  for (const r of [...byKind('ClusterRole'), ...byKind('Role')]) {
    for (const rule of r.rules) {
      for (const f of ['apiGroups', 'resources', 'verbs']) assert(!rule[f].includes('*'), `${id(r)} uses a wildcard in ${f}`);
      if (rule.resources.includes('secrets')) {
        assert(JSON.stringify(rule.verbs) === '["get"]', `${id(r)} may only get secrets, has ${rule.verbs}`);
      }
    }
  }
  const op = one('ClusterRole', 'pgbackrest');
  const can = (group, res, verb) => op.rules.some((x) => x.apiGroups.includes(group) && x.resources.includes(res) && x.verbs.includes(verb));
  for (const v of ['get', 'list', 'watch']) assert(can('pgbackrest.cnpg.opera.com', 'archives', v), `archives ${v}`);
  for (const v of ['get', 'update', 'patch']) assert(can('pgbackrest.cnpg.opera.com', 'archives/status', v), `archives/status ${v}`);
  assert(!can('pgbackrest.cnpg.opera.com', 'archives', 'update'), 'the plugin must not write Archive specs');
  const le = byKind('Role').find((x) => x.rules.some((y) => y.apiGroups.includes('coordination.k8s.io') && y.resources.includes('leases')));
  assert(le, 'a namespaced Role for leader-election leases');
  const leaseRule = le.rules.find((y) => y.resources.includes('leases'));
  assert(JSON.stringify(leaseRule.verbs) === '["get","create","update"]', `leases verbs ${leaseRule.verbs}`);
  assert(byKind('RoleBinding').some((b) => b.roleRef.kind === 'Role' && b.roleRef.name === le.metadata.name),
    'the leases Role is bound');
  for (const name of ['pgbackrest-archive-editor', 'pgbackrest-archive-viewer']) one('ClusterRole', name);
});

// ============================================================================================
// 2. The Archive CRD
// ============================================================================================
console.log('== Archive CRD');
const crd = one('CustomResourceDefinition', 'archives.pgbackrest.cnpg.opera.com');
check('CRD names, scope, v1 served + storage, status subresource, printer columns', () => {
  const s = crd.spec;
  assert(s.group === 'pgbackrest.cnpg.opera.com' && s.scope === 'Namespaced', 'group/scope');
  assert(s.names.kind === 'Archive' && s.names.plural === 'archives' && s.names.singular === 'archive', 'names');
  assert(crd.metadata.name === `${s.names.plural}.${s.group}`, 'metadata.name must be plural.group');
  assert(s.versions.length === 1 && s.versions[0].name === 'v1' && s.versions[0].served && s.versions[0].storage, 'v1 served+storage');
  assert(s.versions[0].subresources?.status, 'status subresource');
  assert(s.versions[0].additionalPrinterColumns?.length >= 3, 'printer columns');
});
check('CRD schema is structural (every node typed, no properties beside additionalProperties) and strict everywhere under spec', () => {
  const schema = crd.spec.versions[0].schema.openAPIV3Schema;
  const problems = [];
  forEachSchemaNode(schema, '', (n, at) => {
    if (at.includes('<')) return; // anyOf branches carry only types
    if (!n.type && !n['x-kubernetes-int-or-string'] && !n['x-kubernetes-preserve-unknown-fields']) problems.push(`${at || '.'}: no type`);
    if (n.properties && n.additionalProperties) problems.push(`${at}: properties and additionalProperties`);
    if (n['x-kubernetes-preserve-unknown-fields'] && (at === '.spec' || at.startsWith('.spec.'))) {
      problems.push(`${at}: preserves unknown fields`);
    }
    if (n.default !== undefined && n.enum && !n.enum.includes(n.default)) problems.push(`${at}: default not in enum`);
  });
  assert(problems.length === 0, problems.join('\n'));
});
check('every CEL rule of every CRD parses', () => {
  const problems = [];
  let n = 0;
  const all = [crd, ...fs.readdirSync(path.join(here, 'cnpg-crds')).filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => loadAll(path.join(here, 'cnpg-crds', f)))];
  for (const c of all) {
    for (const v of c.spec.versions) {
      forEachSchemaNode(v.schema.openAPIV3Schema, c.metadata.name, (node, at) => {
        for (const r of node['x-kubernetes-validations'] || []) {
          n++;
          try { celParse(r.rule); } catch (e) { problems.push(`${at}: ${r.rule}: ${e.message}`); }
        }
      });
    }
  }
  assert(n > 0, 'no CEL rules found');
  assert(problems.length === 0, problems.join('\n'));
});

// The parser (libcnpgi_pgbackrest/config/archive.cc) is the source of truth: its field sets,
// enums and integer ranges must be the CRD's, so the two cannot drift apart unnoticed.
check('CRD fields, enums and integer ranges equal those of config/archive.cc', () => {
  const src = fs.readFileSync(path.join(root, 'libcnpgi_pgbackrest/config/archive.cc'), 'utf8');
  const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  const conf = spec.properties.configuration;
  const repo = conf.properties.repositories.items;
  const nodes = {
    known_spec: spec, known_conf: conf, known_creds: repo.properties.s3Credentials,
    known_azure: repo.properties.azureCredentials, known_gcs: repo.properties.gcsCredentials,
    repository: repo, retention: repo.properties.retention,
  };
  const problems = [];
  const sets = [...src.matchAll(/static const std::set<std::string> (\w+) = \{([^}]*)\}/g)];
  assert(sets.length === 7, `expected 7 known-field sets in archive.cc, found ${sets.length}`);
  for (const [, name, body] of sets) {
    const fields = [...body.matchAll(/"(\w+)"/g)].map((m) => m[1]).sort();
    // The two sets named "known" are the repository's (the one with endpointURL) and retention's.
    const node = name === 'known' ? (fields.includes('endpointURL') ? nodes.repository : nodes.retention) : nodes[name];
    if (!node) { problems.push(`unknown set ${name}`); continue; }
    const crdFields = Object.keys(node.properties).sort();
    if (JSON.stringify(fields) !== JSON.stringify(crdFields)) {
      problems.push(`${name}: archive.cc ${fields.join(',')} vs CRD ${crdFields.join(',')}`);
    }
  }
  // All schema nodes (below spec) that define a property of this name.
  const propsNamed = (field) => {
    const found = [];
    forEachSchemaNode(spec, 'spec', (n, at) => {
      if (!at.includes('instanceSidecarConfiguration') && n.properties?.[field]) found.push([`${at}.${field}`, n.properties[field]]);
    });
    return found;
  };
  const enums = [...src.matchAll(/CheckEnum\([^,]+,\s*\{([^}]*)\},\s*(?:absl::StrCat\(\w+,\s*"\.(\w+)"\)|"[\w.]*\.(\w+)")/g)];
  assert(enums.length >= 7, `expected at least 7 CheckEnum calls, found ${enums.length}`);
  for (const [, body, f1, f2] of enums) {
    const field = f1 || f2;
    const values = [...body.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    // The parser treats encryption "none" (and "") as no encryption before CheckEnum.
    if (field === 'encryption') values.push('none');
    // Several nodes may share a name (each credentials block has a keyType): one of them must match.
    const found = propsNamed(field);
    if (!found.length) problems.push(`${field}: not in the CRD`);
    const same = ([, node]) => JSON.stringify([...(node.enum || [])].sort()) === JSON.stringify([...values].sort());
    if (found.length && !found.some(same)) {
      problems.push(`${field}: enums ${found.map(([at, n]) => `${at} ${JSON.stringify(n.enum)}`).join(', ')} vs archive.cc ${JSON.stringify(values)}`);
    }
  }
  const ints = [...src.matchAll(/OptInt\([^,]+,\s*"(\w+)",\s*[^,]+,\s*(\d+),\s*(\d+)\)/g)];
  assert(ints.length >= 5, `expected at least 5 OptInt calls, found ${ints.length}`);
  for (const [, field, min, max] of ints) {
    const found = propsNamed(field);
    if (!found.length) problems.push(`${field}: not in the CRD`);
    for (const [at, node] of found) {
      if (node.type !== 'integer' || node.minimum !== Number(min) || node.maximum !== Number(max)) {
        problems.push(`${at}: ${node.type} ${node.minimum}..${node.maximum} vs archive.cc integer ${min}..${max}`);
      }
    }
  }
  if (conf.properties.repositories.maxItems !== Number(/repos->size\(\) > (\d+)/.exec(src)?.[1])) problems.push('repositories maxItems');
  assert(problems.length === 0, problems.join('\n'));
});

registerCrd(crd, 'manifests/manifest.yaml');
for (const f of fs.readdirSync(path.join(here, 'cnpg-crds')).filter((x) => x.endsWith('.yaml')).sort()) {
  for (const c of loadAll(path.join(here, 'cnpg-crds', f))) registerCrd(c, `cnpg-crds/${f}`);
}

// ============================================================================================
// 3. Examples from the user documentation
// ============================================================================================
console.log('== examples (tests/manifests/examples, from the user documentation)');
const exDir = path.join(here, 'examples');
const exFiles = fs.readdirSync(exDir).filter((f) => f.endsWith('.yaml')).sort();
const examples = {};
for (const f of exFiles) {
  const ds = loadAll(path.join(exDir, f));
  examples[f] = ds[0];
  check(`${f}: one ${ds[0]?.kind ?? '?'} valid against ${crds.get(`${ds[0]?.apiVersion}/${ds[0]?.kind}`)?.source ?? 'its CRD'}`, () => {
    assert(ds.length === 1, `${ds.length} documents`);
    const m = /^(\d\d)-([a-z]+)-(.+)\.yaml$/.exec(f);
    assert(m && m[2] === ds[0].kind.toLowerCase() && m[3] === ds[0].metadata.name, 'file name must be NN-<kind>-<name>.yaml');
    const errs = validateCustom(ds[0]);
    assert(errs.length === 0, errs.join('\n'));
    // Every plugin reference uses the name the Service advertises.
    const names = [];
    JSON.stringify(ds[0], (k, v) => { if ((k === 'plugins' || k === 'plugin' || k === 'pluginConfiguration') && v) names.push(v); return v; });
    for (const p of names.flat()) assert(p.name === plugin, `plugin name ${p.name} is not ${plugin}`);
  });
}
check('the examples cover Archive, Cluster and Backup', () => {
  const kinds = new Set(Object.values(examples).map((d) => d.kind));
  for (const k of ['Archive', 'Cluster', 'Backup']) assert(kinds.has(k), `no ${k} example`);
});

const seedDir = path.join(root, '..', 'shared', 'seeds');
const seed = fs.existsSync(seedDir) ? fs.readdirSync(seedDir).find((f) => f.startsWith('001_')) : undefined;
if (seed) {
  // The first examples are the seed document's, in its order; later ones are the README's own.
  check(`the first examples equal the YAML blocks of shared/seeds/${seed}`, () => {
    const blocks = yamlBlocks(fs.readFileSync(path.join(seedDir, seed), 'utf8'));
    assert(blocks.length <= exFiles.length, `${blocks.length} YAML blocks in the doc, ${exFiles.length} example files`);
    blocks.forEach((b, i) => assert(fs.readFileSync(path.join(exDir, exFiles[i]), 'utf8') === b, `${exFiles[i]} differs from block ${i + 1}`));
  });
} else {
  console.log('skip  examples vs. the user documentation (../shared/seeds not found beside the repository)');
}

// ============================================================================================
// 4. Negative and extra positive cases
// ============================================================================================
console.log('== the validation bites (each must be rejected for the stated reason)');
const archive = Object.values(examples).find((d) => d.kind === 'Archive');
const clusterEx = Object.values(examples).find((d) => d.kind === 'Cluster');
const backupEx = Object.values(examples).find((d) => d.kind === 'Backup');
const withArchive = (edit) => { const a = clone(archive); edit(a, a.spec.configuration.repositories[0]); return a; };
const posixRepo = { type: 'posix', destinationPath: '/var/lib/pgbackrest' };
// Opera PR #137's Azure repository: no type, the bucket is the container, account and key are Secret keys.
const azure = { destinationPath: '/', bucket: 'backups',
  azureCredentials: { account: { name: 'azure', key: 'AZURE_STORAGE_ACCOUNT' }, key: { name: 'azure', key: 'AZURE_STORAGE_KEY' } } };

const negatives = [
  ['Archive with a typo field (spec.configuration.compresion)', withArchive((a) => { a.spec.configuration.compresion = 'zst'; }), /additional properties 'compresion'/],
  ['Archive with a typo field in a repository (endpointUrl)', withArchive((a, r) => { r.endpointUrl = r.endpointURL; delete r.endpointURL; }), /additional properties 'endpointUrl'/],
  ['Archive with a typo field in spec (instanceSidecarConfig)', withArchive((a) => { a.spec.instanceSidecarConfig = {}; }), /additional properties 'instanceSidecarConfig'/],
  ['Archive with encryption: aes-128', withArchive((a, r) => { r.encryption = 'aes-128'; }), /must be equal to one of the allowed values/],
  ['Archive with aes-256-cbc but no encryptionKey', withArchive((a, r) => { delete r.encryptionKey; }), /encryptionKey is required when encryption is aes-256-cbc/],
  ['Archive with an encryptionKey but no encryption', withArchive((a, r) => { delete r.encryption; }), /encryptionKey needs encryption/],
  ['Archive with an s3 repository without bucket', withArchive((a, r) => { delete r.bucket; }), /needs bucket, endpointURL and s3Credentials/],
  ['Archive with an s3 repository without s3Credentials', withArchive((a, r) => { delete r.s3Credentials; }), /needs bucket, endpointURL and s3Credentials/],
  ['Archive with a posix repository with a bucket', withArchive((a) => { a.spec.configuration.repositories = [{ ...posixRepo, bucket: 'b' }]; }), /only apply to object store repositories/],
  ['Archive with a posix repository with azureCredentials', withArchive((a) => { a.spec.configuration.repositories = [{ ...posixRepo, azureCredentials: azure.azureCredentials }]; }), /credentials must be those of the repository's type/],
  ['Archive with an azure repository without bucket', withArchive((a) => { const r = clone(azure); delete r.bucket; a.spec.configuration.repositories = [r]; }), /azure repository needs bucket \(the container\) and azureCredentials/],
  ['Archive with azureCredentials without key', withArchive((a) => { const r = clone(azure); delete r.azureCredentials.key; a.spec.configuration.repositories = [r]; }), /must have required property 'key'/],
  ['Archive with azureCredentials.keyType: auto', withArchive((a) => { const r = clone(azure); r.azureCredentials.keyType = 'auto'; a.spec.configuration.repositories = [r]; }), /keyType: must be equal to one of the allowed values/],
  ['Archive with s3Credentials and azureCredentials', withArchive((a, r) => { r.azureCredentials = azure.azureCredentials; }), /exclude each other/],
  ['Archive with type: azure and s3Credentials', withArchive((a, r) => { r.type = 'azure'; }), /credentials must be those of the repository's type/],
  ['Archive with a gcs repository without gcsCredentials', withArchive((a) => { a.spec.configuration.repositories = [{ type: 'gcs', bucket: 'b' }]; }), /gcs repository needs bucket and gcsCredentials/],
  ['Archive with gcsCredentials keyType auto and a key', withArchive((a) => { a.spec.configuration.repositories = [{ bucket: 'b', gcsCredentials: { keyType: 'auto', key: { name: 'g', key: 'k' } } }]; }), /keyType auto takes none/],
  ['Archive with gcsCredentials keyType service without key', withArchive((a) => { a.spec.configuration.repositories = [{ bucket: 'b', gcsCredentials: {} }]; }), /keyType service and token need key/],
  ['Archive with a gcs repository with uriStyle', withArchive((a) => { a.spec.configuration.repositories = [{ bucket: 'b', uriStyle: 'path', gcsCredentials: { keyType: 'auto' } }]; }), /uriStyle only applies to s3 and azure/],
  ['Archive with a posix repository at /', withArchive((a) => { a.spec.configuration.repositories = [{ type: 'posix' }]; }), /posix repository needs a directory/],
  ['Archive with an http:// endpoint', withArchive((a, r) => { r.endpointURL = 'http://minio:9000'; }), /endpointURL: must match pattern/],
  ['Archive with an endpoint with a path', withArchive((a, r) => { r.endpointURL = 'https://minio:9000/bucket'; }), /endpointURL: must match pattern/],
  ['Archive with a relative destinationPath', withArchive((a, r) => { r.destinationPath = 'backups'; }), /destinationPath: must match pattern/],
  ['Archive with .. in destinationPath', withArchive((a, r) => { r.destinationPath = '/a/../b'; }), /must not contain '\.\.'/],
  ['Archive with compressLevel 23', withArchive((a) => { a.spec.configuration.compressLevel = 23; }), /compressLevel: must be <= 22/],
  ['Archive with compression: xz', withArchive((a) => { a.spec.configuration.compression = 'xz'; }), /compression: must be equal to one of the allowed values/],
  ['Archive with archivePushQueueMax 4GB', withArchive((a) => { a.spec.configuration.archivePushQueueMax = '4GB'; }), /archivePushQueueMax: must match pattern/],
  ['Archive with no repositories', withArchive((a) => { a.spec.configuration.repositories = []; }), /must NOT have fewer than 1 items/],
  ['Archive with 5 repositories', withArchive((a, r) => { a.spec.configuration.repositories = [r, r, r, r, r]; }), /must NOT have more than 4 items/],
  ['Archive with keyType shared and no accessKeyId', withArchive((a, r) => { delete r.s3Credentials.accessKeyId; }), /keyType shared needs accessKeyId and secretAccessKey/],
  ['Archive with keyType: iam', withArchive((a, r) => { r.s3Credentials.keyType = 'iam'; }), /keyType: must be equal to one of the allowed values/],
  ['Archive with an empty region', withArchive((a, r) => { r.s3Credentials.region = ''; }), /region: must NOT have fewer than 1 characters/],
  ['Archive with an upper-case Secret name', withArchive((a, r) => { r.encryptionKey.name = 'Minio'; }), /encryptionKey\/name: must match pattern/],
  ['Archive with a Secret reference without key', withArchive((a, r) => { delete r.s3Credentials.secretAccessKey.key; }), /must have required property 'key'/],
  ['Archive with retention.full: 0', withArchive((a, r) => { r.retention = { full: 0 }; }), /full: must be >= 1/],
  ['Archive with retention.archiveType: weekly', withArchive((a, r) => { r.retention = { archiveType: 'weekly' }; }), /archiveType: must be equal to one of the allowed values/],
  ['Archive with disableVerifyTLS: "yes"', withArchive((a, r) => { r.disableVerifyTLS = 'yes'; }), /disableVerifyTLS: must be boolean/],
  ['Archive with a typo in the sidecar resources (request)', withArchive((a) => { a.spec.instanceSidecarConfiguration.resources.request = { cpu: '1' }; }), /additional properties 'request'/],
  ['Archive with a sidecar env entry without name', withArchive((a) => { a.spec.instanceSidecarConfiguration.env = [{ value: 'x' }]; }), /must have required property 'name'/],
  ['Archive without spec', withArchive((a) => { delete a.spec; }), /must have required property 'spec'/],
  ['Cluster with instances: "three"', (() => { const c = clone(clusterEx); c.spec.instances = 'three'; return c; })(), /instances: must be integer/],
  ['Cluster with a typo in plugins (paramters)', (() => { const c = clone(clusterEx); c.spec.plugins[0].paramters = c.spec.plugins[0].parameters; delete c.spec.plugins[0].parameters; return c; })(), /additional properties 'paramters'/],
  ['Cluster with a non-string plugin parameter', (() => { const c = clone(clusterEx); c.spec.plugins[0].parameters.pgbackrestObjectName = 3; return c; })(), /must be string/],
  ['Backup with method: plugins', (() => { const b = clone(backupEx); b.spec.method = 'plugins'; return b; })(), /method: must be equal to one of the allowed values/],
  ['Backup without pluginConfiguration.name', (() => { const b = clone(backupEx); delete b.spec.pluginConfiguration.name; return b; })(), /must have required property 'name'/],
];
for (const [what, obj, expect] of negatives) {
  check(`rejects: ${what}`, () => {
    const errs = validateCustom(obj);
    assert(errs.length > 0, 'was accepted');
    assert(errs.some((e) => expect.test(e)), `rejected, but not for the expected reason ${expect}:\n${errs.join('\n')}`);
  });
}

console.log('== valid variants (each must be accepted)');
const positives = [
  ['posix repository', withArchive((a) => { a.spec.configuration.repositories = [posixRepo]; })],
  ['encryption: none without a key', withArchive((a, r) => { r.encryption = 'none'; delete r.encryptionKey; })],
  ['s3 with keyType web-id, no keys, https:// endpoint, CA, path style, retention', withArchive((a, r) => {
    r.s3Credentials = { region: 'eu-west-1', keyType: 'web-id', uriStyle: 'path' };
    r.endpointURL = 'https://s3.eu-west-1.amazonaws.com/';
    r.endpointCA = { name: 'minio-ca', key: 'ca.crt' };
    r.uriStyle = 'host';
    r.disableVerifyTLS = false;
    r.retention = { full: 2, fullType: 'count', diff: 7, archive: 2, archiveType: 'full', history: 0 };
  })],
  ['four repositories (s3, posix, IPv6 endpoint) with compressLevel 0', withArchive((a, r) => {
    a.spec.configuration.repositories = [r, posixRepo, { ...clone(r), endpointURL: '[fd00::1]:9000' }, { ...clone(r), bucket: 'other' }];
    a.spec.configuration.compressLevel = 0;
    a.spec.configuration.archivePushQueueMax = '8Gi';
    a.spec.configuration.compression = 'lz4';
  })],
  ['sidecar env, securityContext and resources in the core/v1 shapes', withArchive((a) => {
    a.spec.instanceSidecarConfiguration = {
      env: [{ name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::1:role/x' }, { name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
      securityContext: { runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: 1073741824 } },
    };
  })],
  ['an azure repository in Opera\'s shape (no type) and one against Azurite (path style, SAS, CA)', withArchive((a) => {
    a.spec.configuration.repositories = [azure, { ...clone(azure), type: 'azure', endpointURL: 'https://127.0.0.1:10000',
      endpointCA: { name: 'azurite', key: 'ca.crt' }, azureCredentials: { ...azure.azureCredentials, keyType: 'sas', uriStyle: 'path' } }];
  })],
  ['gcs repositories: a service key, a token with an endpoint, the instance account', withArchive((a) => {
    a.spec.configuration.repositories = [
      { bucket: 'b', gcsCredentials: { key: { name: 'gcs', key: 'sa.json' } } },
      { type: 'gcs', bucket: 'b', endpointURL: 'gcs.local:4443', gcsCredentials: { keyType: 'token', key: { name: 'gcs', key: 'token' } } },
      { bucket: 'b', destinationPath: '/pg', gcsCredentials: { keyType: 'auto' } }];
  })],
  ['only the required fields', { apiVersion: 'pgbackrest.cnpg.opera.com/v1', kind: 'Archive', metadata: { name: 'minimal' },
    spec: { configuration: { repositories: [{ bucket: 'b', endpointURL: 's3.example.com', s3Credentials: { region: 'r', keyType: 'auto' } }] } } }],
];
for (const [what, obj] of positives) {
  check(`accepts: Archive with ${what}`, () => {
    const errs = validateCustom(obj);
    assert(errs.length === 0, errs.join('\n'));
  });
}

finish('validate.mjs');
