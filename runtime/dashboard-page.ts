/**
 * The live dashboard: one plain HTML page with a little JavaScript that polls /dashboard.json
 * every second. Kept in a module (not a separate file) so the built package needs no copy step.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corpc dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  .state { color: #555; margin-bottom: 1.5rem; }
  table { border-collapse: collapse; margin-bottom: 2rem; min-width: 48rem; }
  th, td { padding: .3rem .8rem; text-align: right; border-bottom: 1px solid #ddd; }
  th:first-child, td:first-child { text-align: left; }
  .bar { display: inline-block; height: .7rem; background: #3a7; vertical-align: middle; margin-right: .4rem; }
  .low { background: #d54; } .mid { background: #ea3; }
  .spark { font-family: monospace; letter-spacing: -1px; color: #3a7; }
</style>
</head>
<body>
<h1>corpc — live</h1>
<div class="state" id="state">connecting…</div>
<h2>Entry requests by business priority</h2>
<table><thead><tr><th>priority</th><th>actions</th><th>requests/s</th><th>success</th><th>last 60 s</th></tr></thead><tbody id="priorities"></tbody></table>
<h2>Units</h2>
<table><thead><tr><th>unit</th><th>admission B</th><th>admission U</th><th>overloaded</th><th>queuing ms</th><th>in flight</th><th>queued</th><th>requests/s</th><th>refused/s</th><th>success</th></tr></thead><tbody id="units"></tbody></table>
<script>
const history = {};
const blocks = ' ▁▂▃▄▅▆▇█';
function pct(x) { return x === null ? '–' : (100 * x).toFixed(1) + ' %'; }
function bar(x) {
  if (x === null) return '';
  const cls = x < 0.5 ? 'bar low' : x < 0.95 ? 'bar mid' : 'bar';
  return '<span class="' + cls + '" style="width:' + Math.round(60 * x) + 'px"></span>';
}
function cell(v) { return '<td>' + v + '</td>'; }
async function tick() {
  try {
    const view = await (await fetch('dashboard.json', { cache: 'no-store' })).json();
    document.getElementById('state').textContent =
      view.time + ' — ' + view.workers + ' worker(s), ' + (view.draining ? 'draining' : view.ready ? 'ready' : 'not ready');
    document.getElementById('priorities').innerHTML = view.priorities.map((p) => {
      const h = (history[p.business] ||= []);
      h.push(p.successRate === null ? null : p.successRate);
      if (h.length > 60) h.shift();
      const spark = h.map((x) => (x === null ? ' ' : blocks[Math.round(x * 8)])).join('');
      return '<tr>' + cell('B' + p.business) + cell(p.actions.join(', ')) + cell(p.requestsPerSecond.toFixed(1)) +
        cell(bar(p.successRate) + pct(p.successRate)) + '<td class="spark">' + spark + '</td></tr>';
    }).join('');
    document.getElementById('units').innerHTML = view.units.map((u) =>
      '<tr>' + cell(u.name) + cell(u.admission.level >= 8191 ? 'all' : u.admission.business) +
      cell(u.admission.level >= 8191 ? 'all' : u.admission.user) +
      cell(u.overloadedWorkers === 0 ? '' : u.overloadedWorkers + '/' + view.workers) + cell(u.queuingMs.toFixed(2)) + cell(u.inFlight) +
      cell(u.queued) + cell(u.callsPerSecond.toFixed(1)) + cell(u.rejectedPerSecond.toFixed(1)) + cell(pct(u.successRate)) + '</tr>').join('');
  } catch (error) {
    document.getElementById('state').textContent = 'no answer from the admin port (' + error.message + ')';
  }
}
tick();
setInterval(tick, 1000);
</script>
</body>
</html>
`;
