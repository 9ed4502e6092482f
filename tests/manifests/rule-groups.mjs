// Prints the rule groups of the PrometheusRule in a kustomize rendering as a Prometheus rule file
// (what the Prometheus Operator hands Prometheus), for promtool (monitoring.sh).
//   node rule-groups.mjs RENDERED.yaml > rules.yaml
import fs from 'node:fs';
import yaml from 'js-yaml';

const rules = yaml.loadAll(fs.readFileSync(process.argv[2], 'utf8')).filter((d) => d?.kind === 'PrometheusRule');
if (rules.length !== 1) {
  console.error(`expected one PrometheusRule, found ${rules.length}`);
  process.exit(1);
}
process.stdout.write(yaml.dump({ groups: rules[0].spec.groups }, { lineWidth: -1 }));
