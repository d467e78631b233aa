import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reason } from 'corpc';

// The catalog (framework/errors.ts), its page (docs/errors.md) and the sources must agree: a reason
// corpc gives is in the catalog, written as `Reason.X`, and documented; a documented reason exists.
// (fastify's error-catalog test does the same for its codes.)

const catalog = new Map<string, string>(Object.entries(Reason).map(([key, value]) => [value, key]));
const doc = readFileSync('docs/errors.md', 'utf8');

interface Source {
  file: string;
  text: string;
}

function sources(dir: string): Source[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(dir, file))
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}
const code = [...sources('framework'), ...sources('runtime')];

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Every match of `pattern` in the sources, as `file:line: text`. */
function findAll(pattern: RegExp, keep: (match: RegExpExecArray, file: string) => boolean = () => true): string[] {
  const found: string[] = [];
  for (const { file, text } of code) {
    for (const match of text.matchAll(pattern)) {
      if (keep(match, file)) found.push(`${file}:${lineOf(text, match.index)}: ${match[0]}`);
    }
  }
  return found;
}

/** The reasons in the first column of docs/errors.md's tables under "## Reasons". */
function documentedReasons(): string[] {
  const section = doc.slice(doc.indexOf('\n## Reasons'));
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]!);
}

test('the catalog has no value twice, and every value is snake_case', () => {
  const values = Object.values(Reason);
  assert.is(new Set(values).size, values.length);
  for (const value of values) assert.match(value, /^[a-z]+(_[a-z]+)*$/);
});

test('docs/errors.md lists every reason of the catalog, and only those, once each', () => {
  const documented = documentedReasons();
  const missing = [...catalog.keys()].filter((reason) => !documented.includes(reason));
  assert.equal(missing, [], `reasons in framework/errors.ts but not in docs/errors.md: ${missing.join(', ')}`);
  const unknown = documented.filter((reason) => !catalog.has(reason));
  assert.equal(unknown, [], `reasons in docs/errors.md but not in framework/errors.ts: ${unknown.join(', ')}`);
  const twice = documented.filter((reason, i) => documented.indexOf(reason) !== i);
  assert.equal(twice, [], `reasons documented twice: ${twice.join(', ')}`);
});

test("docs/errors.md's status table names only catalog reasons", () => {
  const table = doc.slice(doc.indexOf('\n## Status codes'), doc.indexOf('\n## Reasons'));
  const named = [...table.matchAll(/`([a-z]+(?:_[a-z]+)*)`/g)].map((match) => match[1]!);
  assert.ok(named.length > 20);
  assert.equal(
    named.filter((reason) => !catalog.has(reason)),
    [],
  );
  const listed = new Set(named);
  assert.equal(
    [...catalog.keys()].filter((reason) => !listed.has(reason)),
    [],
    'every reason appears under its status',
  );
});

test('no reason is written as a string literal in framework/ or runtime/: they use Reason.X', () => {
  // `reason: 'x'`, `reason = 'x'`, `reason === 'x'`: a reason that bypasses the catalog.
  const literals = findAll(/\breason\b\??\s*(?:[:=]|[!=]==)\s*(['"])[^'"\n]+\1/g);
  assert.ok(
    literals.length === 0,
    `write these with Reason from framework/errors.ts (add the reason there and to docs/errors.md if it is new):\n${literals.join('\n')}`,
  );
  // A catalog value spelt out anywhere else (an argument, a set of reasons…).
  const spelt = findAll(
    /(['"])([a-z]+(?:_[a-z]+)+)\1/g,
    (match, file) => catalog.has(match[2]!) && file !== join('framework', 'errors.ts'),
  );
  assert.ok(spelt.length === 0, `write these as Reason.X:\n${spelt.join('\n')}`);
});

test('every RpcError corpc makes has a reason', () => {
  const bare: string[] = [];
  for (const { file, text } of code) {
    for (const match of text.matchAll(/new RpcError\(/g)) {
      // The constructor's arguments: up to the parenthesis that closes it.
      let depth = 0;
      let end = match.index + match[0].length - 1;
      for (; end < text.length; end++) {
        if (text[end] === '(') depth++;
        else if (text[end] === ')' && --depth === 0) break;
      }
      if (!/\breason\b/.test(text.slice(match.index, end))) bare.push(`${file}:${lineOf(text, match.index)}`);
    }
  }
  assert.ok(bare.length === 0, `give these a reason from framework/errors.ts:\n${bare.join('\n')}`);
});

test('every reason of the catalog is given somewhere (no dead entries)', () => {
  const unused = [...catalog.values()].filter((key) => findAll(new RegExp(`\\bReason\\.${key}\\b`, 'g')).length === 0);
  assert.equal(unused, [], `catalog entries nothing in framework/ or runtime/ uses: ${unused.join(', ')}`);
});

test.run();
