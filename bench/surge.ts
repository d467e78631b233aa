/**
 * `npm run bench -- surge` (or `node --conditions=corpc-source --import tsx bench/surge.ts`):
 * drives the running demo (`npm start`) through its HTTP entry from normal load to a 10x
 * holiday peak and back, open loop, and prints the success rate of each action (login > pay >
 * message > feed) as it goes. With overload control, login and pay stay up while feed posts are
 * shed.
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { startRuntime, stopRuntime, type RunningRuntime } from '../test/helpers/runtime.ts';

const ACTIONS = [
  { name: 'login', path: '/Gateway/Login', share: 0.1, body: (user: string) => ({ userId: user, password: 'pw' }) },
  {
    name: 'pay',
    path: '/Gateway/Pay',
    share: 0.2,
    body: () => ({ toUserId: `u-${Math.floor(Math.random() * 1000)}`, cents: 1 }),
  },
  {
    name: 'message',
    path: '/Gateway/SendMessage',
    share: 0.35,
    body: () => ({ toUserId: `u-${Math.floor(Math.random() * 1000)}`, text: 'hi' }),
  },
  { name: 'feed', path: '/Gateway/PostFeed', share: 0.35, body: () => ({ text: 'happy holidays' }) },
] as const;

interface Tally {
  sent: number;
  ok: number;
  shed: number;
  late: number;
  other: number;
}

const USAGE = `usage: surge.ts [--url http://127.0.0.1:8080] [--admin http://127.0.0.1:9464] [--base 50] [--peak 10] [--step-seconds 5] [--quick] [--start]
  --start         start the demo itself (corpc run services/demo on free ports), drive it, then stop it
  --admin         the demo's admin port: each progress line also shows the units whose admission level sheds
  --base          normal load, requests/s
  --peak          the holiday multiplier (default 10)
  --step-seconds  length of each step: 1x, 3x, 6x, peak, peak, 6x, 3x, 1x
  --quick         2-second steps`;

function tally(): Tally {
  return { sent: 0, ok: 0, shed: 0, late: 0, other: 0 };
}

function rate(t: Tally): string {
  return t.sent === 0 ? '   –  ' : `${((100 * t.ok) / t.sent).toFixed(1).padStart(5)}%`;
}

/** Success among the calls answered (in a progress line, calls still in flight are not failures yet). */
function answeredRate(t: Tally): string {
  const answered = t.ok + t.shed + t.late + t.other;
  return answered === 0 ? '   –  ' : `${((100 * t.ok) / answered).toFixed(1).padStart(5)}%`;
}

interface DashboardUnits {
  units: { name: string; admission: { business: number; user: number; level: number } }[];
}

/** `messages B2/U40` for every unit whose admission level sheds something (from /dashboard.json). */
async function sheddingUnits(admin: URL | null): Promise<string> {
  if (admin === null) return '';
  try {
    const view = (await (
      await fetch(new URL('/dashboard.json', admin), { signal: AbortSignal.timeout(500) })
    ).json()) as DashboardUnits;
    const shedding = view.units
      .filter((u) => u.admission.level < 8191)
      .map((u) => `${u.name} B${u.admission.business}/U${u.admission.user}`);
    return `  levels: ${shedding.length === 0 ? 'all admit' : shedding.join(', ')}`;
  } catch {
    return '  levels: ?';
  }
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string', default: process.env.CORPC_HTTP_URL ?? 'http://127.0.0.1:8080' },
        admin: { type: 'string' },
        base: { type: 'string', default: '50' },
        peak: { type: 'string', default: '10' },
        'step-seconds': { type: 'string', default: '5' },
        quick: { type: 'boolean', default: false },
        start: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    console.error(`surge: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const base = Number(values.base);
  const peak = Number(values.peak);
  const stepSeconds = values.quick ? 2 : Number(values['step-seconds']);
  if (!(base > 0) || !(peak >= 1) || !(stepSeconds > 0)) {
    console.error(`surge: --base, --peak and --step-seconds must be positive numbers\n${USAGE}`);
    return 2;
  }
  for (const [flag, text] of [
    ['--url', values.url],
    ['--admin', values.admin],
  ] as const) {
    if (text !== undefined && !URL.canParse(text)) {
      console.error(`surge: ${flag} ${JSON.stringify(text)} is not a URL (http://host:port)\n${USAGE}`);
      return 2;
    }
  }
  if (!values.start)
    return surge(
      new URL(values.url),
      values.admin === undefined ? null : new URL(values.admin),
      base,
      peak,
      stepSeconds,
    );
  // The same start-up the demo tests use: `corpc run services/demo` on free ports.
  let demo: RunningRuntime;
  try {
    demo = await startRuntime(['services/demo', '--port', '0', '--http-port', '0', '--admin-port', '0']);
  } catch (error) {
    console.error(`surge: ${(error as Error).message}`);
    return 1;
  }
  try {
    console.log(`surge: started the demo (http entry :${demo.httpPort}, admin :${demo.adminPort})`);
    return await surge(
      new URL(`http://127.0.0.1:${demo.httpPort}`),
      new URL(`http://127.0.0.1:${demo.adminPort}`),
      base,
      peak,
      stepSeconds,
    );
  } finally {
    await stopRuntime(demo);
  }
}

async function surge(url: URL, admin: URL | null, base: number, peak: number, stepSeconds: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const send = (path: string, user: string, body: unknown): Promise<number> =>
    new Promise((resolve) => {
      const text = JSON.stringify(body);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: 'POST',
          agent,
          timeout: 3000,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-user-id': user },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end(text);
    });

  const probe = await send('/Gateway/Login', 'u-1', { userId: 'u-1', password: 'pw' });
  if (probe !== 200) {
    console.error(
      `surge: the demo does not answer at ${url.origin} (status ${probe}); start it first with \`npm start\``,
    );
    agent.destroy();
    return 1;
  }

  const steps = [1, 3, 6, peak, peak, 6, 3, 1].map((x) => Math.min(x, peak));
  const perStep = steps.map(() => ACTIONS.map(tally));
  const inFlight = new Set<Promise<void>>();
  console.log(
    `surge: ${url.origin}, base ${base} req/s, steps of ${stepSeconds} s: ${steps.map((x) => `${x}x`).join(' → ')}`,
  );
  console.log(
    `actions: ${ACTIONS.map((a) => `${a.name} ${Math.round(a.share * 100)}%`).join(', ')} (priority login > pay > message > feed)`,
  );
  const started = Date.now();
  let second = ACTIONS.map(tally);
  // Polled beside the load, so a slow admin port never delays the sending loop.
  let levels = '';
  const poll =
    admin === null ? null : setInterval(() => void sheddingUnits(admin).then((text) => (levels = text)), 1000);
  let lastPrint = started;
  let credit = 0;
  let last = started;
  for (let index = 0; index < steps.length; index++) {
    const stepEnd = started + (index + 1) * stepSeconds * 1000;
    const target = base * steps[index]!;
    while (Date.now() < stepEnd) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const now = Date.now();
      credit += ((now - last) / 1000) * target;
      last = now;
      for (; credit >= 1; credit--) {
        const pick = Math.random();
        let sum = 0;
        const a = ACTIONS.findIndex((action) => (sum += action.share) >= pick);
        const action = ACTIONS[a === -1 ? ACTIONS.length - 1 : a]!;
        const user = `u-${Math.floor(Math.random() * 10_000)}`;
        const i = ACTIONS.indexOf(action);
        perStep[index]![i]!.sent++;
        second[i]!.sent++;
        const call = send(action.path, user, action.body(user)).then((status) => {
          // The step's tally by when the call was sent; the progress line's by when it was answered.
          for (const t of [perStep[index]![i]!, second[i]!]) {
            if (status === 200) t.ok++;
            else if (status === 429) t.shed++;
            else if (status === 504 || status === 0) t.late++;
            else t.other++;
          }
          inFlight.delete(call);
        });
        inFlight.add(call);
      }
      if (now - lastPrint >= 1000) {
        const line = `t=${String(Math.round((now - started) / 1000)).padStart(3)}s ${String(steps[index]).padStart(3)}x ${String(Math.round(target)).padStart(5)} req/s  ${ACTIONS.map((a, i) => `${a.name} ${answeredRate(second[i]!)}`).join('  ')}  in flight ${inFlight.size}${levels}`;
        if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
        else console.log(line);
        second = ACTIONS.map(tally);
        lastPrint = now;
      }
    }
  }
  if (poll !== null) clearInterval(poll);
  await Promise.all(inFlight);
  agent.destroy();
  if (process.stdout.isTTY) process.stdout.write('\n');
  console.log('\nsuccess rate by step (ok / sent; 429 = shed, 504 = late):');
  console.log(`step  load     ${ACTIONS.map((a) => a.name.padEnd(24)).join('')}`);
  for (const [index, x] of steps.entries()) {
    const cells = perStep[index]!.map((t) => `${rate(t)} (${t.shed} shed, ${t.late} late)`.padEnd(24));
    console.log(`${String(index + 1).padEnd(6)}${`${x}x`.padEnd(9)}${cells.join('')}`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
