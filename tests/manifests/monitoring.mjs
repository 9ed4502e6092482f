// Offline checks of manifests/monitoring against the metrics the real sidecar exports (run by
// monitoring.sh, which starts the sidecar and scrapes it as CloudNativePG's exporter does).
//
//   node monitoring.mjs ROOT SCRAPE.json RENDERED.yaml [QUERIES.yaml]
//
// SCRAPE.json: `cnpgi-instance-standin metrics --format=json`, the sidecar's Define answer
// (names, types, label names) and Collect samples (label values). RENDERED.yaml: `kubectl
// kustomize manifests/monitoring`. QUERIES.yaml, when given, receives every dashboard query (its
// variables replaced by sample values) as a recording rule, for `promtool check rules`: Prometheus'
// own parser then checks them too. Checks, each printed as one line:
//   - the rendering: the PrometheusRule (Prometheus Operator schema, no unknown fields) and the
//     dashboard ConfigMap (Kubernetes schema, Grafana's sidecar label, the JSON file unchanged);
//   - every alert: PromQL syntax (Prometheus' grammar), each metric one the sidecar defines, each
//     label one its definition or the scrape gives (promql-labels.mjs), severity, summary,
//     description naming the Pod or Cluster, runbook, and the template's $labels present in the
//     result; each alert documented in README.md;
//   - the dashboard: Grafana's fields (uid, title, schemaVersion, templating with namespace,
//     cluster and pod, panels with unique ids, a grid without overlaps, targets with unique refIds),
//     every target and variable query checked like the alerts, legends naming labels the result
//     has, and every metric the sidecar defines shown by some panel;
//   - the series of the promtool unit tests (monitoring-rules.test.yaml) are the sidecar's too;
//   - the checker itself rejects a wrong metric, label, label value, grouping and function.
// Ends with "monitoring.mjs: N checks passed, N failed"; exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import yaml from 'js-yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { PromqlChecker } from './promql-labels.mjs';

const [root, scrapePath, renderedPath, queriesPath] = process.argv.slice(2);
if (!renderedPath) {
  console.error('usage: node monitoring.mjs ROOT SCRAPE.json RENDERED.yaml');
  process.exit(2);
}
const PLUGIN = 'pgbackrest.cnpg.opera.com';
const dir = path.join(root, 'manifests/monitoring');
const dashboardFile = path.join(dir, 'grafana-dashboard.json');

let passed = 0;
let failed = 0;
const check = (what, fn) => {
  try {
    const r = fn();
    if (r === undefined || r === true) {
      passed++;
      console.log(`ok    ${what}`);
      return;
    }
    throw new Error(r);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${what}\n      ${String(e && e.message ? e.message : e).split('\n').join('\n      ')}`);
  }
};
const assert = (cond, msg) => {
  if (!cond) throw new Error(msg);
};
const sorted = (xs) => [...xs].sort().join(', ');

// --- the sidecar's answer ------------------------------------------------------------------
const scrape = JSON.parse(fs.readFileSync(scrapePath, 'utf8'));
const metrics = new Map();
check(`the sidecar answered Define and Collect as plugin ${PLUGIN}`, () => {
  assert(scrape[PLUGIN], `no answer from ${PLUGIN} (plugins: ${sorted(Object.keys(scrape))})`);
  const { definitions, samples } = scrape[PLUGIN];
  assert(definitions.length > 0, 'no definitions');
  for (const d of definitions) {
    metrics.set(d.name, {
      type: d.type,
      labels: new Set([...d.labels, ...Object.keys(d.const_labels)]),
      values: new Map(d.labels.map((l) => [l, new Set()])),
    });
  }
  for (const s of samples) {
    const m = metrics.get(s.name);
    assert(m, `sample ${s.name} has no definition`);
    for (const [l, v] of Object.entries(s.labels)) m.values.get(l).add(v);
  }
  for (const [name, m] of metrics) {
    for (const [l, vs] of m.values) assert(vs.size > 0, `${name}: no sample carries a value of label ${l}`);
  }
});
console.log(`      ${metrics.size} metrics: ${[...metrics].map(([n, m]) => n + (m.labels.size ? `{${sorted(m.labels)}}` : '')).join(' ')}`);

// The labels every series gets from the scrape: the Prometheus Operator's PodMonitor (which
// CloudNativePG creates with spec.monitoring.enablePodMonitor) sets namespace, pod, container,
// endpoint (the port name), job and instance. `cluster` is not among them: rules and panels derive
// it from the Pod name, and the checker insists on that.
const checker = new PromqlChecker({
  metrics,
  targetLabels: ['namespace', 'pod', 'container', 'endpoint', 'job', 'instance'],
});

// --- the rendering -------------------------------------------------------------------------
const rendered = yaml.loadAll(fs.readFileSync(renderedPath, 'utf8')).filter((d) => d != null);
const byKind = (kind) => rendered.filter((d) => d.kind === kind);
check('manifests/monitoring renders one PrometheusRule and one ConfigMap, nothing else', () => {
  assert(rendered.length === 2 && byKind('PrometheusRule').length === 1 && byKind('ConfigMap').length === 1,
    `rendered: ${rendered.map((d) => `${d.kind}/${d.metadata?.name}`).join(', ')}`);
});
const rule = byKind('PrometheusRule')[0] || { spec: { groups: [] } };
const configMap = byKind('ConfigMap')[0] || { data: {} };

check('the PrometheusRule is a valid monitoring.coreos.com/v1 PrometheusRule', () => {
  new PrometheusRule(JSON.parse(JSON.stringify(rule))).validate();
});
// The API server prunes or rejects fields the CRD does not declare (the generated validator
// accepts them): the fields of prometheus-operator's RuleGroup and Rule (pkg/apis/monitoring/v1).
check('the PrometheusRule has no field the CRD does not declare', () => {
  const allowed = {
    spec: ['groups'],
    group: ['name', 'interval', 'rules', 'limit', 'partial_response_strategy', 'query_offset', 'labels'],
    rule: ['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'],
  };
  const unknown = (o, keys, where) => Object.keys(o).filter((k) => !keys.includes(k)).map((k) => `${where}.${k}`);
  const bad = unknown(rule.spec, allowed.spec, 'spec');
  rule.spec.groups.forEach((g, i) => {
    bad.push(...unknown(g, allowed.group, `spec.groups[${i}]`));
    g.rules.forEach((r, j) => bad.push(...unknown(r, allowed.rule, `spec.groups[${i}].rules[${j}]`)));
  });
  assert(bad.length === 0, `unknown fields: ${bad.join(', ')}`);
});
check('the rendered PrometheusRule is manifests/monitoring/prometheusrule.yaml unchanged', () => {
  const source = yaml.load(fs.readFileSync(path.join(dir, 'prometheusrule.yaml'), 'utf8'));
  assert(isDeepStrictEqual(source.spec, rule.spec), 'the rendering changed spec');
});

const dashboardText = fs.readFileSync(dashboardFile, 'utf8');
check('the dashboard ConfigMap is a valid v1 ConfigMap for Grafana\'s dashboard sidecar', () => {
  new ConfigMap(JSON.parse(JSON.stringify(configMap))).validate();
  assert(configMap.metadata.labels?.grafana_dashboard === '1', 'label grafana_dashboard: "1" missing');
  const keys = Object.keys(configMap.data || {});
  assert(keys.length === 1 && keys[0].endsWith('.json'), `data keys: ${keys.join(', ')}`);
  assert(configMap.data[keys[0]] === dashboardText, 'the data is not grafana-dashboard.json byte for byte');
  // kubectl apply (client side) copies the object into an annotation limited to 256 KiB.
  assert(Buffer.byteLength(dashboardText) < 200 * 1024, `the dashboard is ${Buffer.byteLength(dashboardText)} bytes`);
});

// --- alerts --------------------------------------------------------------------------------
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const templateLabels = (s) => [...s.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
const alertNames = new Set();
const groupNames = new Set();
for (const group of rule.spec.groups) {
  check(`rule group ${group.name}: a unique name and rules`, () => {
    assert(!groupNames.has(group.name), 'duplicate group name');
    groupNames.add(group.name);
    assert(group.rules.length > 0, 'no rules');
  });
  for (const r of group.rules) {
    const name = r.alert || r.record;
    check(`alert ${name}: its expression uses only the sidecar's metrics and labels`, () => {
      assert(r.alert, 'recording rules would define new metric names; this file has alerts only');
      assert(!alertNames.has(r.alert), 'duplicate alert name');
      alertNames.add(r.alert);
      assert(/^Pgbackrest[A-Z][A-Za-z0-9]+$/.test(r.alert), 'alert names are PgbackrestCamelCase');
      const { labels, metrics: used, kind } = checker.check(r.expr);
      assert(kind === 'vector', 'an alert expression must be a vector');
      assert(used.size > 0, 'uses no sidecar metric');
      const annotations = Object.values(r.annotations || {}).join('\n') + Object.values(r.labels || {}).join('\n');
      const missing = templateLabels(annotations).filter((l) => !labels.has(l));
      assert(missing.length === 0, `the annotations use $labels.${missing.join(', $labels.')}, which the result lacks (it has ${sorted(labels)})`);
    });
    check(`alert ${name}: severity, summary, description naming the Pod or Cluster, runbook`, () => {
      assert(['critical', 'warning', 'info'].includes(r.labels?.severity), `severity: ${r.labels?.severity}`);
      for (const a of ['summary', 'description', 'runbook']) assert((r.annotations?.[a] || '').trim(), `no ${a}`);
      assert(/\$labels\.(pod|cluster)\b/.test(r.annotations.description), 'the description names neither $labels.pod nor $labels.cluster');
      for (const [k, v] of Object.entries(r.annotations)) {
        assert((v.match(/\{\{/g) || []).length === (v.match(/\}\}/g) || []).length, `${k}: unbalanced {{ }}`);
      }
      if (r.for) assert(/^([0-9]+(ms|s|m|h|d|w|y))+$/.test(r.for), `for: ${r.for}`);
      assert(readme.includes(`\`${r.alert}\``), 'not documented in README.md');
    });
  }
}

// --- dashboard -----------------------------------------------------------------------------
let dashboard = { panels: [], templating: { list: [] } };
check('grafana-dashboard.json is JSON with uid, title, schemaVersion, time, panels and templating', () => {
  dashboard = JSON.parse(dashboardText);
  assert(typeof dashboard.uid === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid), `uid: ${dashboard.uid}`);
  assert(typeof dashboard.title === 'string' && dashboard.title, 'no title');
  assert(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36, `schemaVersion: ${dashboard.schemaVersion}`);
  assert(dashboard.time?.from && dashboard.time?.to, 'no time range');
  assert(Array.isArray(dashboard.panels) && dashboard.panels.length > 0, 'no panels');
  assert(Array.isArray(dashboard.templating?.list), 'no templating.list');
  assert(dashboard.id === undefined || dashboard.id === null, 'a provisioned dashboard has no id');
});
const variables = new Map((dashboard.templating.list || []).map((v) => [v.name, v]));
check('templating: a Prometheus data source variable and query variables namespace, cluster, pod', () => {
  assert(variables.get('datasource')?.type === 'datasource' && variables.get('datasource').query === 'prometheus',
    'no datasource variable of type prometheus');
  for (const v of ['namespace', 'cluster', 'pod']) assert(variables.get(v)?.type === 'query', `no query variable ${v}`);
  assert(variables.size === dashboard.templating.list.length, 'duplicate variable names');
});
// Grafana's variables and built-ins, replaced by sample values so the query parses as PromQL.
const sampleValues = {
  namespace: 'default', cluster: 'cluster-example', pod: 'cluster-example-1',
  __rate_interval: '5m', __interval: '1m', __range: '1h',
};
const interpolate = (expr) => expr.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, v) => {
  if (!(v in sampleValues) || (!v.startsWith('__') && !variables.has(v))) throw new Error(`unknown variable ${whole}`);
  return sampleValues[v];
});
const queries = [];  // [record name, interpolated expression] for promtool
const usesDatasource = (ds) => ds && ds.type === 'prometheus' && ds.uid === '${datasource}';

for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
  check(`variable ${v.name}: label_values of a sidecar metric and one of its labels`, () => {
    assert(usesDatasource(v.datasource), 'datasource is not ${datasource}');
    const query = typeof v.query === 'string' ? v.query : v.query?.query;
    assert(query === v.definition, 'query and definition differ');
    // Grafana's label_values(selector, label) wraps a PromQL selector.
    const m = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(query);
    assert(m, `not label_values(selector, label): ${query}`);
    const selector = interpolate(m[1]);
    queries.push([`dashboard:variable_${v.name}`, selector]);
    const { labels } = checker.check(selector);
    assert(labels.has(m[2]), `the selector's series have no label ${m[2]}`);
    if (v.regex) new RegExp(v.regex.replace(/^\/(.*)\/[a-z]*$/, '$1'));
  });
}

const shown = new Set();
const ids = new Set();
const boxes = [];
for (const p of dashboard.panels) {
  check(`panel ${p.id} "${p.title}": id, type and grid position`, () => {
    assert(Number.isInteger(p.id) && p.id > 0 && !ids.has(p.id), `id ${p.id} is not a unique positive integer`);
    ids.add(p.id);
    assert(['row', 'stat', 'timeseries', 'bargauge', 'gauge', 'table', 'text'].includes(p.type), `type ${p.type}`);
    assert(p.title, 'no title');
    const g = p.gridPos || {};
    assert([g.h, g.w, g.x, g.y].every(Number.isInteger) && g.w > 0 && g.h > 0 && g.x >= 0 && g.x + g.w <= 24,
      `gridPos ${JSON.stringify(g)}`);
    const overlap = boxes.find((b) => g.x < b.x + b.w && b.x < g.x + g.w && g.y < b.y + b.h && b.y < g.y + g.h);
    assert(!overlap, `overlaps panel ${overlap?.id}`);
    boxes.push({ ...g, id: p.id });
    if (p.type === 'row') assert(!p.targets && (p.panels || []).length === 0, 'an expanded row holds no targets or panels');
  });
  if (p.type === 'row') continue;
  check(`panel ${p.id} "${p.title}": targets over the sidecar's metrics and labels`, () => {
    assert(usesDatasource(p.datasource), 'datasource is not ${datasource}');
    assert(Array.isArray(p.targets) && p.targets.length > 0, 'no targets');
    const refIds = new Set();
    for (const t of p.targets) {
      assert(t.refId && !refIds.has(t.refId), `refId ${t.refId} missing or repeated`);
      refIds.add(t.refId);
      assert(usesDatasource(t.datasource), `${t.refId}: datasource is not \${datasource}`);
      assert(typeof t.expr === 'string' && t.expr, `${t.refId}: no expr`);
      let result;
      try {
        const expr = interpolate(t.expr);
        queries.push([`dashboard:panel_${p.id}_${t.refId}`, expr]);
        result = checker.check(expr);
      } catch (e) {
        throw new Error(`${t.refId}: ${e.message}`);
      }
      assert(result.metrics.size > 0, `${t.refId}: uses no sidecar metric`);
      result.metrics.forEach((m) => shown.add(m));
      const legend = [...(t.legendFormat || '').matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].map((x) => x[1]);
      const missing = legend.filter((l) => !result.labels.has(l));
      assert(missing.length === 0, `${t.refId}: the legend names ${missing.join(', ')}, which the result lacks (it has ${sorted(result.labels)})`);
    }
  });
}
check('every metric the sidecar defines is shown by a panel', () => {
  const unshown = [...metrics.keys()].filter((m) => !shown.has(m));
  assert(unshown.length === 0, `not on the dashboard: ${unshown.join(', ')}`);
});

// --- the promtool unit tests' series look like a scrape of the sidecar --------------------------
check('monitoring-rules.test.yaml: every input series is a metric the sidecar defines, with its labels', () => {
  const tests = yaml.load(fs.readFileSync(path.join(root, 'tests/manifests/monitoring-rules.test.yaml'), 'utf8'));
  let n = 0;
  for (const t of tests.tests) {
    for (const s of t.input_series) {
      n++;
      checker.check(s.series);  // the metric, each label and each value of the metric's own labels
    }
  }
  assert(n > 0, 'no input series');
});

// --- the checker rejects what it must --------------------------------------------------------
const p = 'pgbackrest_cnpg_opera_com_';
const mustFail = [
  [`${p}wal_ready{`, /syntax error/],
  [`${p}wal_readyy > 0`, /not a metric the sidecar defines/],
  [`${p}wal_ready{cluster="a"} > 0`, /has no label "cluster"/],
  [`${p}backups{kind="full"}`, /has no label "kind"/],
  [`${p}backups{type="differential"}`, /matches none of the values/],
  [`sum by (mode) (${p}wal_ready)`, /no label "mode"/],
  [`rate(${p}wal_ready[5m])`, /is for counters/],
  [`rate(${p}wal_archived_total)`, /needs a range vector/],
  [`${p}wal_ready > on (cluster) ${p}wal_dropped_total`, /no label "cluster"/],
  [`max by (namespace) (${p}wal_ready) > ${p}wal_ready`, /different labels/],
  [`label_replace(${p}wal_ready, "cluster", "$1", "pods", "(.+)")`, /reads label "pods"/],
];
for (const [expr, why] of mustFail) {
  check(`the checker rejects ${expr}`, () => {
    try {
      checker.check(expr);
    } catch (e) {
      assert(why.test(e.message), `rejected for another reason: ${e.message}`);
      return;
    }
    throw new Error('accepted');
  });
}
check('the checker accepts the Cluster derived from the Pod name and grouped by', () => {
  const { labels } = checker.check(`max by (namespace, cluster) (label_replace(${p}backups{type="full"}, "cluster", "$1", "pod", "(.+)-[0-9]+"))`);
  assert(sorted(labels) === 'cluster, namespace', sorted(labels));
});

if (queriesPath) {
  const rules = queries.map(([record, expr]) => ({ record, expr }));
  fs.writeFileSync(queriesPath, yaml.dump({ groups: [{ name: 'dashboard-queries', rules }] }, { lineWidth: -1 }));
}
console.log(`monitoring.mjs: ${passed} checks passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
