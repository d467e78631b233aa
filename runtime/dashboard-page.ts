/**
 * The live dashboard: one HTML page whose script fetches the whole kept history once
 * (`/dashboard.json?since=0`), then only the newer points every second, and draws plain SVG
 * plots (no library, nothing from the network: it works offline). Kept in a module (not a
 * separate file) so the built package needs no copy step. The script avoids template literals:
 * this whole page is one.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corpc dashboard</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 1.2rem 1.6rem; color: #222; background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  h2 { font-size: 1.1rem; margin: 1.4rem 0 .3rem; }
  .state { color: #555; }
  .help { color: #555; max-width: 70rem; margin: .3rem 0 .6rem; }
  .level { font-weight: 600; margin: .2rem 0; }
  .level.shedding { color: #b32; }
  .grid { display: flex; flex-wrap: wrap; gap: .6rem; }
  .chart { background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: .2rem .4rem; width: 330px; }
  .chart .title { font-weight: 600; font-size: 12px; }
  .legend span { margin-right: .7rem; font-size: 11px; white-space: nowrap; }
  table { border-collapse: collapse; margin: .4rem 0; background: #fff; }
  th, td { padding: .15rem .6rem; text-align: right; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
  th:first-child, td:first-child { text-align: left; }
  select { font: inherit; }
</style>
</head>
<body>
<h1>corpc — live</h1>
<div class="state"><span id="state">connecting…</span> · worker <select id="worker"><option value="all">all</option></select> · last <span id="span">0</span> s kept</div>
<p class="help">Each plot shows the last minutes, one point a second. <b>Served</b>: calls a unit's handlers answered with success. <b>Rejected by the server</b>:
refused by the unit's own admission control before a handler ran (<code>admission_level</code>: below its level; <code>queue_full</code>, <code>queue_delay</code>, <code>expired</code>).
<b>Shed by callers</b>: calls other units (channels in these workers) did not send, because the level the unit reported sheds them (<code>local_admission</code>) or the
connection was backed up (<code>client_backlog</code>): the unit never sees them, so its success below counts them as failures. A <b>level BxUy</b> admits calls of business priority
below x (smaller is more important), and of x with user priority up to y; "admits all" sheds nothing. Queuing time includes the event-loop delay.</p>
<h2>Entry requests by business priority</h2>
<p class="help" id="priorities-help">Offered (requests that reached the HTTP entry) against served (answered with success), per business priority from the entry table.</p>
<div class="grid" id="priorities"></div>
<div id="units"></div>
<script>
var MAX = 300;
var points = [];
var seq = 0;
var businessNames = {};
var colors = ['#2a7', '#d54', '#37c', '#e92', '#85c', '#777', '#0aa', '#c5a', '#9a3', '#a63'];
function el(id) { return document.getElementById(id); }
function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;'); }
function fmt(v, digits) {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits === undefined ? 1 : digits);
}
function pct(x) { return x === null ? '–' : (100 * x).toFixed(1) + ' %'; }
function names(b) { var n = businessNames[b]; return n && n.length ? ' (' + n.join(', ') + ')' : ''; }
function levelText(level) {
  if (level.level >= 8191) return 'admits all';
  return 'level B' + level.business + ' U' + level.user;
}
function explainLevel(level) {
  if (level.level >= 8191) return 'admits all: nothing is shed for its level';
  return 'level B' + level.business + ' U' + level.user + ': calls of business priority above ' + level.business +
    ', and of ' + level.business + names(level.business) + ' with user priority above ' + level.user + ', are being shed';
}
function sum(record) { var t = 0; for (var k in record) t += record[k]; return t; }
/* One plot: series = [{label, values (one per point, null for none)}]. */
function chart(title, unit, series, opts) {
  var W = 330, H = 130, L = 44, R = 6, T = 6, B = 16;
  // The x axis spans the kept points (at least a minute, at most MAX seconds), newest on the right.
  var n = points.length, span = Math.max(60, n), max = (opts && opts.max) || 0;
  series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && isFinite(v) && v > max) max = v; }); });
  if (!(max > 0)) max = 1;
  var p = Math.pow(10, Math.floor(Math.log10(max))); var m = [1, 2, 5, 10].find(function (k) { return max <= k * p; }); max = m * p;
  var sx = function (i) { return L + ((span - n + i) * (W - L - R)) / (span - 1); };
  var sy = function (v) { return T + (H - T - B) * (1 - v / max); };
  var svg = '<svg width="' + W + '" height="' + H + '" role="img" aria-label="' + esc(title) + '">';
  for (var g = 0; g <= 2; g++) {
    var v = (max * g) / 2;
    svg += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + sy(v) + '" y2="' + sy(v) + '" stroke="#eee"/>' +
      '<text x="' + (L - 4) + '" y="' + (sy(v) + 4) + '" text-anchor="end" font-size="10" fill="#666">' + fmt(v, v < 10 ? 1 : 0) + '</text>';
  }
  svg += '<text x="' + L + '" y="' + (H - 3) + '" font-size="10" fill="#666">-' + span + ' s</text><text x="' + (W - R) + '" y="' + (H - 3) + '" font-size="10" fill="#666" text-anchor="end">now</text>';
  var legend = '';
  series.forEach(function (s, k) {
    var color = s.color || colors[k % colors.length];
    var pts = [];
    s.values.forEach(function (v, i) { if (v !== null && isFinite(v)) pts.push(sx(i).toFixed(1) + ',' + sy(v).toFixed(1)); });
    svg += '<polyline class="series" data-label="' + esc(s.label) + '" data-points="' + pts.length + '" fill="none" stroke="' + color + '" stroke-width="1.6" points="' + pts.join(' ') + '"/>';
    var last = s.values.length ? s.values[s.values.length - 1] : null;
    legend += '<span style="color:' + color + '">■ ' + esc(s.label) + ' ' + fmt(last) + '</span> ';
  });
  return '<div class="chart" data-chart="' + esc(title) + '"><div class="title">' + esc(title) + ' <small>(' + esc(unit) + ')</small></div>' + svg + '<div class="legend">' + legend + '</div></div>';
}
function keys(pick) {
  var seen = {};
  points.forEach(function (p) { var r = pick(p); if (r) for (var k in r) seen[k] = true; });
  return Object.keys(seen).sort();
}
function unitSeries(name, worker, read) {
  return points.map(function (p) { var u = p.units[name] && p.units[name][worker]; return u ? read(u) : null; });
}
function render(view) {
  var worker = el('worker').value;
  el('state').textContent = view.time + ' — ' + view.workers + ' worker(s), ' + (view.draining ? 'draining' : view.ready ? 'ready' : 'not ready');
  el('span').textContent = points.length;
  var workerIds = keys(function (p) { var all = {}; for (var u in p.units) for (var w in p.units[u]) if (w !== 'all') all[w] = 1; return all; });
  var select = el('worker');
  workerIds.forEach(function (w) { if (!select.querySelector('option[value="' + w + '"]')) select.insertAdjacentHTML('beforeend', '<option value="' + w + '">' + w + '</option>'); });
  // Entry priorities: offered vs served.
  var prios = {};
  points.forEach(function (p) { p.priorities.forEach(function (q) { prios[q.business] = true; }); });
  var pb = Object.keys(prios).map(Number).sort(function (a, b) { return a - b; });
  el('priorities-help').textContent = pb.length === 0
    ? 'No entry requests yet: this fills from the HTTP entry (corpc run with an http section), by the business priority its entry table gives each action. Calls sent straight to a unit port (corpc bench) have no entry priority; see each unit below.'
    : 'Offered (requests that reached the HTTP entry) against served (answered with success), per business priority from the entry table.';
  el('priorities').innerHTML = pb.map(function (b) {
    var read = function (f) { return points.map(function (p) { var q = p.priorities.find(function (x) { return x.business === b; }); return q ? f(q) : 0; }); };
    return chart('B' + b + names(b), 'requests/s', [{ label: 'offered', color: '#777', values: read(function (q) { return q.offered; }) }, { label: 'served', color: '#2a7', values: read(function (q) { return q.served; }) }]);
  }).join('');
  // Units.
  var unitNames = keys(function (p) { return p.units; });
  el('units').innerHTML = unitNames.map(function (name) {
    var now = view.units.find(function (u) { return u.name === name; });
    var cur = points.length ? points[points.length - 1].units[name] : null;
    var u = cur ? cur[worker] || cur.all : now;
    if (!u) return '';
    var reasons = keys(function (p) { var x = p.units[name] && p.units[name][worker]; return x && x.rejected; });
    var shedReasons = keys(function (p) { var x = p.units[name] && p.units[name][worker]; return x && x.shedByCallers; });
    var rejectedSeries = reasons.map(function (r) { return { label: 'server: ' + r, values: unitSeries(name, worker, function (x) { return x.rejected[r] || 0; }) }; })
      .concat(shedReasons.map(function (r) { return { label: 'callers: ' + r, values: unitSeries(name, worker, function (x) { return x.shedByCallers[r] || 0; }) }; }));
    if (rejectedSeries.length === 0) rejectedSeries = [{ label: 'none', color: '#2a7', values: unitSeries(name, worker, function () { return 0; }) }];
    var shedding = u.admission.level < 8191 || (u.callerLevel && u.callerLevel.level < 8191);
    var totals = now ? now.totals : null;
    return '<section class="unit" data-unit="' + esc(name) + '"><h2>' + esc(name) + '</h2>' +
      '<div class="level' + (shedding ? ' shedding' : '') + '">' + esc(explainLevel(u.admission)) +
      (u.callerLevel ? ' · its callers hold: ' + esc(levelText(u.callerLevel)) : '') + (u.overloadedWorkers ? ' · overloaded in ' + u.overloadedWorkers + ' worker(s)' : '') + '</div>' +
      '<table><tr><th>now</th><th>served/s</th><th>rejected by it/s</th><th>shed by callers/s</th><th>success</th><th>p50 ms</th><th>p99 ms</th><th>queuing ms</th><th>loop delay ms</th><th>in flight</th><th>queued</th><th>retries/s</th></tr>' +
      '<tr><td>' + esc(worker === 'all' ? 'all workers' : 'worker ' + worker) + '</td><td data-field="served">' + fmt(u.served) + '</td><td data-field="rejected">' + fmt(sum(u.rejected)) + '</td><td data-field="shed">' + fmt(sum(u.shedByCallers)) +
      '</td><td data-field="success">' + pct(u.successRate) + '</td><td>' + fmt(u.p50Ms, 2) + '</td><td>' + fmt(u.p99Ms, 2) + '</td><td>' + fmt(u.queuingMs, 2) + '</td><td>' + fmt(u.loopDelayMs, 2) +
      '</td><td>' + u.inFlight + '</td><td>' + u.queued + '</td><td>' + fmt(u.retries) + '</td></tr>' +
      (totals ? '<tr><td>since start, all workers</td><td data-total="served">' + totals.served + '</td><td data-total="rejected">' + totals.rejected + '</td><td data-total="shed">' + totals.shedByCallers + '</td><td colspan="8">handler failures ' + totals.failed + '</td></tr>' : '') +
      '</table><div class="grid">' +
      chart('Requests', 'per second', [
        { label: 'served', color: '#2a7', values: unitSeries(name, worker, function (x) { return x.served; }) },
        { label: 'failed in handler', color: '#e92', values: unitSeries(name, worker, function (x) { return x.failed; }) },
        { label: 'rejected by it', color: '#d54', values: unitSeries(name, worker, function (x) { return sum(x.rejected); }) },
        { label: 'shed by callers', color: '#85c', values: unitSeries(name, worker, function (x) { return sum(x.shedByCallers); }) },
      ]) +
      chart('Rejected, by side and reason', 'per second', rejectedSeries) +
      chart('Admission level', 'B and U; 63/127: all', [
        { label: 'B', color: '#37c', values: unitSeries(name, worker, function (x) { return x.admission.level >= 8191 ? 63 : x.admission.business; }) },
        { label: 'U', color: '#0aa', values: unitSeries(name, worker, function (x) { return x.admission.level >= 8191 ? 127 : x.admission.user; }) },
        { label: 'B held by callers', color: '#85c', values: unitSeries(name, worker, function (x) { return x.callerLevel === null ? null : x.callerLevel.level >= 8191 ? 63 : x.callerLevel.business; }) },
      ], { max: 127 }) +
      chart('Queuing and event-loop delay', 'ms', [
        { label: 'queuing', color: '#37c', values: unitSeries(name, worker, function (x) { return x.queuingMs; }) },
        { label: 'loop delay', color: '#e92', values: unitSeries(name, worker, function (x) { return x.loopDelayMs; }) },
      ]) +
      chart('Handler latency', 'ms', [
        { label: 'p50', color: '#2a7', values: unitSeries(name, worker, function (x) { return x.p50Ms; }) },
        { label: 'p99', color: '#d54', values: unitSeries(name, worker, function (x) { return x.p99Ms; }) },
      ]) +
      chart('Retries by its callers', 'per second; tokens', [
        { label: 'retries/s', color: '#37c', values: unitSeries(name, worker, function (x) { return x.retries; }) },
        { label: 'denied by budget/s', color: '#d54', values: unitSeries(name, worker, function (x) { return x.retriesDenied; }) },
        { label: 'fewest tokens left', color: '#777', values: unitSeries(name, worker, function (x) { return x.retryTokensMin; }) },
      ]) +
      '</div></section>';
  }).join('');
}
var last = null;
async function tick() {
  try {
    var view = await (await fetch('dashboard.json?since=' + seq, { cache: 'no-store' })).json();
    businessNames = view.businessNames;
    if (view.seq < seq) points = []; // the supervisor restarted
    (view.history || []).forEach(function (p) { points.push(p); });
    if (points.length > MAX) points.splice(0, points.length - MAX);
    seq = view.seq;
    last = view;
    render(view);
  } catch (error) {
    el('state').textContent = 'no answer from the admin port (' + error.message + ')';
  }
}
el('worker').addEventListener('change', function () { if (last) render(last); });
tick();
setInterval(tick, 1000);
</script>
</body>
</html>
`;
