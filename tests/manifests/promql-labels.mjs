// PromQL checked against the metrics a scrape target really exposes (used by monitoring.mjs).
//
//   const checker = new PromqlChecker({ metrics, targetLabels });
//   const { labels, metrics } = checker.check('rate(x_total{pod="a"}[5m]) > 0');   // throws on an error
//
// metrics: Map name → { type: 'counter'|'gauge'|'untyped', labels: Set of label names,
//                       values: Map label → Set of values seen in a scrape }.
// targetLabels: label names the scrape adds to every series (namespace, pod, ...).
//
// The expression is parsed with Prometheus' own grammar (@prometheus-io/lezer-promql); a syntax
// error is an error. Then the labels every subexpression carries are worked out the way the
// Prometheus engine does (selectors: the metric's labels plus the target labels; by/without,
// on/ignoring, group_left/right and label_replace/label_join change them), and each use of a label
// is checked against them: matchers, by (...), on (...), label_replace's source. Also: every
// selector names a defined metric, a matcher's value for one of the metric's own labels matches a
// value the scrape produced, rate/increase/irate/resets get counters, range functions get ranges,
// and a vector-to-vector operation without on/ignoring has the same labels on both sides (else no
// series would match). Only the subset of PromQL this project's rules and dashboards need is
// understood; anything else is reported as such, never passed silently.

import { parser } from '@prometheus-io/lezer-promql';

const RANGE_FUNCTIONS = new Set([
  'rate', 'irate', 'increase', 'resets', 'delta', 'idelta', 'deriv', 'changes', 'avg_over_time',
  'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'last_over_time',
  'present_over_time', 'stddev_over_time', 'stdvar_over_time',
]);
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'resets']);
const INSTANT_FUNCTIONS = new Set(['abs', 'ceil', 'floor', 'round', 'sqrt', 'exp', 'ln', 'sort', 'sort_desc']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar']);
const SET_OPERATORS = new Set(['And', 'Or', 'Unless']);

export class PromqlError extends Error {}

const text = (src, node) => src.slice(node.from, node.to);
const children = (node) => {
  const out = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
};
const unquote = (literal) => JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1).replace(/"/g, '\\"')}"` : literal.replace(/^`|`$/g, '"'));
const names = (set) => [...set].sort().join(', ') || 'none';

export class PromqlChecker {
  constructor({ metrics, targetLabels }) {
    this.metrics = metrics;
    this.targetLabels = new Set(targetLabels);
  }

  // Returns { labels: Set of the result's label names, metrics: Set of metric names used }.
  check(expr) {
    const tree = parser.parse(expr);
    let syntaxError = null;
    tree.iterate({
      enter(n) {
        if (n.type.isError && syntaxError === null) syntaxError = n.from;
      },
    });
    if (syntaxError !== null) {
      throw new PromqlError(`syntax error at offset ${syntaxError}: ...${expr.slice(Math.max(0, syntaxError - 30), syntaxError + 10)}...`);
    }
    const used = new Set();
    const top = children(tree.topNode);
    if (top.length !== 1) throw new PromqlError('not a single expression');
    const result = this.expr(expr, top[0], used);
    if (result.kind !== 'vector' && result.kind !== 'scalar') throw new PromqlError(`the result is a ${result.kind}, not a vector`);
    return { labels: result.labels, metrics: used, kind: result.kind };
  }

  fail(src, node, why) {
    throw new PromqlError(`${why} (in "${text(src, node).replace(/\s+/g, ' ').slice(0, 120)}")`);
  }

  expr(src, node, used) {
    switch (node.name) {
      case 'NumberDurationLiteral':
        return { kind: 'scalar', labels: new Set() };
      case 'StringLiteral':
        return { kind: 'string', labels: new Set(), value: unquote(text(src, node)) };
      case 'ParenExpr':
        return this.expr(src, children(node)[0], used);
      case 'UnaryExpr':
        return this.expr(src, children(node)[1], used);
      case 'VectorSelector':
        return this.selector(src, node, used);
      case 'MatrixSelector': {
        const inner = this.selector(src, children(node)[0], used);
        return { ...inner, kind: 'matrix' };
      }
      case 'SubqueryExpr': {
        const inner = this.expr(src, children(node)[0], used);
        if (inner.kind !== 'vector') this.fail(src, node, 'a subquery needs an instant vector');
        return { ...inner, kind: 'matrix', metric: null };
      }
      case 'FunctionCall':
        return this.call(src, node, used);
      case 'AggregateExpr':
        return this.aggregate(src, node, used);
      case 'BinaryExpr':
        return this.binary(src, node, used);
      default:
        return this.fail(src, node, `${node.name} is not understood by this checker`);
    }
  }

  selector(src, node, used) {
    const parts = children(node);
    const ident = parts.find((p) => p.name === 'Identifier');
    if (!ident) this.fail(src, node, 'a selector without a metric name');
    const name = text(src, ident);
    const metric = this.metrics.get(name);
    if (!metric) this.fail(src, node, `${name} is not a metric the sidecar defines`);
    used.add(name);
    const labels = new Set([...metric.labels, ...this.targetLabels]);
    const matchers = parts.find((p) => p.name === 'LabelMatchers');
    for (const m of matchers ? children(matchers) : []) {
      if (m.name !== 'UnquotedLabelMatcher') this.fail(src, m, `${m.name} is not understood by this checker`);
      const [labelNode, opNode, valueNode] = children(m);
      const label = text(src, labelNode);
      if (label === '__name__') this.fail(src, m, 'name the metric instead of matching __name__');
      if (!labels.has(label)) {
        this.fail(src, m, `${name} has no label "${label}" (its labels: ${names(labels)})`);
      }
      const seen = metric.values.get(label);
      if (seen) {  // one of the metric's own labels: the value must be one the sidecar produces
        const value = unquote(text(src, valueNode));
        const op = text(src, opNode);
        const regex = op.endsWith('~') ? new RegExp(`^(?:${value})$`) : null;
        const matches = [...seen].filter((v) => (regex ? regex.test(v) : v === value));
        const positive = op === '=' || op === '=~';
        if (positive && matches.length === 0) {
          this.fail(src, m, `${name}{${label}${op}"${value}"} matches none of the values the sidecar exports (${names(seen)})`);
        }
      }
    }
    return { kind: 'vector', labels, metric: name };
  }

  call(src, node, used) {
    const [ident, body] = children(node);
    const fn = text(src, ident);
    const args = children(body).map((a) => ({ node: a, ...this.expr(src, a, used) }));
    const arity = (n) => {
      if (args.length !== n) this.fail(src, node, `${fn} takes ${n} argument(s), not ${args.length}`);
    };
    if (fn === 'time') {
      arity(0);
      return { kind: 'scalar', labels: new Set() };
    }
    if (fn === 'vector') {
      arity(1);
      return { kind: 'vector', labels: new Set() };
    }
    if (RANGE_FUNCTIONS.has(fn)) {
      arity(1);
      const [arg] = args;
      if (arg.kind !== 'matrix') this.fail(src, node, `${fn} needs a range vector (metric[5m])`);
      if (COUNTER_FUNCTIONS.has(fn) && arg.metric && this.metrics.get(arg.metric).type !== 'counter') {
        this.fail(src, node, `${fn} of ${arg.metric}, a ${this.metrics.get(arg.metric).type}: ${fn} is for counters`);
      }
      return { kind: 'vector', labels: new Set(arg.labels) };
    }
    if (INSTANT_FUNCTIONS.has(fn)) {
      arity(1);
      if (args[0].kind !== 'vector') this.fail(src, node, `${fn} needs an instant vector`);
      return { kind: 'vector', labels: new Set(args[0].labels) };
    }
    if (fn === 'label_replace' || fn === 'label_join') {
      if (args.length < (fn === 'label_replace' ? 5 : 3)) this.fail(src, node, `${fn}: too few arguments`);
      const [vector, destination, ...rest] = args;
      if (vector.kind !== 'vector') this.fail(src, node, `${fn} needs an instant vector first`);
      if (!rest.every((a) => a.kind === 'string') || destination.kind !== 'string') {
        this.fail(src, node, `${fn}: the other arguments are strings`);
      }
      const sources = fn === 'label_replace' ? [rest[1].value] : rest.slice(1).map((a) => a.value);
      if (fn === 'label_replace') {
        try {
          new RegExp(rest[2].value);
        } catch (e) {
          this.fail(src, node, `label_replace: bad regular expression: ${e.message}`);
        }
      }
      for (const s of sources) {
        if (!vector.labels.has(s)) this.fail(src, node, `${fn} reads label "${s}", which is not there (labels: ${names(vector.labels)})`);
      }
      return { kind: 'vector', labels: new Set([...vector.labels, destination.value]) };
    }
    return this.fail(src, node, `function ${fn} is not understood by this checker`);
  }

  aggregate(src, node, used) {
    const parts = children(node);
    const op = text(src, parts.find((p) => p.name === 'AggregateOp'));
    const body = parts.find((p) => p.name === 'FunctionCallBody');
    const modifier = parts.find((p) => p.name === 'AggregateModifier');
    if (!AGGREGATIONS.has(op)) this.fail(src, node, `aggregation ${op} is not understood by this checker`);
    const args = children(body).map((a) => this.expr(src, a, used));
    if (args.length !== 1 || args[0].kind !== 'vector') this.fail(src, node, `${op} takes one instant vector`);
    const inner = args[0].labels;
    if (!modifier) return { kind: 'vector', labels: new Set() };
    const [kind, grouping] = children(modifier);
    const listed = children(grouping).map((l) => text(src, l));
    for (const l of listed) {
      if (!inner.has(l)) this.fail(src, node, `${op} ${text(src, kind)} (${l}): the series have no label "${l}" (labels: ${names(inner)})`);
    }
    const labels = kind.name === 'By' ? new Set(listed) : new Set([...inner].filter((l) => !listed.includes(l)));
    return { kind: 'vector', labels };
  }

  binary(src, node, used) {
    const parts = children(node);
    const lhs = this.expr(src, parts[0], used);
    const rhs = this.expr(src, parts[parts.length - 1], used);
    const opNode = parts[1];
    const matching = parts.find((p) => p.name === 'MatchingModifierClause');
    if (lhs.kind === 'string' || rhs.kind === 'string' || lhs.kind === 'matrix' || rhs.kind === 'matrix') {
      this.fail(src, node, 'an operator needs scalars or instant vectors on both sides');
    }
    if (SET_OPERATORS.has(opNode.name) && (lhs.kind !== 'vector' || rhs.kind !== 'vector')) {
      this.fail(src, node, `${text(src, opNode)} needs vectors on both sides`);
    }
    const comparison = ['Eql', 'Neq', 'Gtr', 'Lss', 'Gte', 'Lte'].includes(opNode.name);
    if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
      if (comparison && !parts.some((p) => p.name === 'BoolModifier')) this.fail(src, node, 'a comparison of two scalars needs bool');
      return { kind: 'scalar', labels: new Set() };
    }
    if (lhs.kind === 'scalar') return { kind: 'vector', labels: new Set(rhs.labels) };
    if (rhs.kind === 'scalar') return { kind: 'vector', labels: new Set(lhs.labels) };

    // vector to vector
    let on = null;
    let ignoring = null;
    let include = null;
    let side = null;
    if (matching) {
      const m = children(matching);
      const list = (g) => children(g).map((l) => text(src, l));
      if (m[0].name === 'On') on = list(m[1]);
      else ignoring = list(m[1]);
      if (m[2]) {
        side = m[2].name;
        include = m[3] ? list(m[3]) : [];
      }
      for (const l of on || []) {
        for (const [name, s] of [['left', lhs], ['right', rhs]]) {
          if (!s.labels.has(l)) this.fail(src, node, `on (${l}): the ${name} side has no label "${l}" (labels: ${names(s.labels)})`);
        }
      }
    } else if (opNode.name !== 'Or') {
      const a = names(lhs.labels);
      const b = names(rhs.labels);
      if (a !== b) this.fail(src, node, `the two sides have different labels (${a} / ${b}): no series match without on (...)`);
    }
    if (opNode.name === 'Or') return { kind: 'vector', labels: new Set([...lhs.labels, ...rhs.labels]) };
    if (SET_OPERATORS.has(opNode.name)) return { kind: 'vector', labels: new Set(lhs.labels) };
    if (side === 'GroupLeft') return { kind: 'vector', labels: new Set([...lhs.labels, ...include]) };
    if (side === 'GroupRight') return { kind: 'vector', labels: new Set([...rhs.labels, ...include]) };
    // One-to-one: the engine keeps only the on (...) labels, or drops the ignoring (...) ones.
    if (on) return { kind: 'vector', labels: new Set(on) };
    if (ignoring) return { kind: 'vector', labels: new Set([...lhs.labels].filter((l) => !ignoring.includes(l))) };
    return { kind: 'vector', labels: new Set(lhs.labels) };
  }
}
