import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { killRuntime, startRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { scopedTest } from './helpers/scope.ts';

interface GrafanaDashboard {
  templating: { list: { name: string; query?: string | { query: string } }[] };
  panels: { title: string; targets: { expr: string }[] }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../runtime/deploy/grafana-dashboard.json', import.meta.url), 'utf8'),
) as GrafanaDashboard;

/** Every series selector of a PromQL expression: a metric name followed by its label matchers or a range. */
function selectors(expr: string): { metric: string; labels: string[] }[] {
  const found: { metric: string; labels: string[] }[] = [];
  for (const match of expr.matchAll(/\b([a-z_][a-z0-9_]*)(\{([^}]*)\})?\s*(?=[[{)]|$)/g)) {
    const [, metric, braces, matchers] = match;
    if (
      braces === undefined &&
      !expr
        .slice(match.index + metric!.length)
        .trimStart()
        .startsWith('[')
    )
      continue;
    found.push({
      metric: metric!,
      labels: [...(matchers ?? '').matchAll(/([a-z_]+)\s*(?:=~|!=|=)/g)].map((m) => m[1]!),
    });
  }
  return found;
}

scopedTest(
  'every metric the Grafana dashboard queries is in /metrics of a running group, with the labels it filters on',
  async (t) => {
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    assert.ok(exprs.length >= 16, `the page's panels: ${dashboard.panels.map((p) => p.title).join(', ')}`);
    const runtime = await startRuntime(['services/demo', '--workers', '1', ...FREE_PORTS]);
    t.defer(() => killRuntime(runtime));
    // One entry request: the channels inside the worker make calls, so their series have samples.
    await fetch(`http://127.0.0.1:${runtime.httpPort}/Gateway/Login`, {
      method: 'POST',
      body: JSON.stringify({ userId: 'u-1', password: 'pw' }),
    });
    const text = await (await runtime.admin('/metrics')).text();
    const types = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const variable = dashboard.templating.list.find((v) => v.name === 'unit')!.query;
    const queries = [...exprs, typeof variable === 'string' ? variable : variable!.query];
    let checked = 0;
    for (const expr of queries) {
      const found = selectors(expr.replace(/label_values\((\w+),[^)]*\)/, '$1{}'));
      assert.ok(found.length > 0, `no metric found in ${expr}`);
      for (const { metric, labels } of found) {
        const family = metric.replace(/_(bucket|sum|count)$/, '');
        assert.ok(types.has(metric) || types.has(family), `${metric} (in ${expr}) is not in /metrics`);
        const lines = samples.filter((line) => line.startsWith(`${metric}{`));
        for (const label of labels) {
          if (lines.length > 0)
            assert.ok(
              lines.some((line) => line.includes(`${label}="`)),
              `${metric} has no label ${label}`,
            );
        }
        checked++;
      }
    }
    assert.ok(checked >= exprs.length);
  },
);

test.run();
