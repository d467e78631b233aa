import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = process.cwd();
const documents = [
  'README.md',
  ...readdirSync('docs')
    .filter((file) => file.endsWith('.md'))
    .map((file) => join('docs', file)),
];

test('every relative link in README and docs/ points to a file inside the repository', () => {
  const broken: string[] = [];
  for (const document of documents) {
    for (const [, target] of readFileSync(document, 'utf8').matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const path = resolve(dirname(document), target!);
      if (relative(root, path).startsWith('..') || !existsSync(path)) broken.push(`${document}: ${target}`);
    }
  }
  assert.equal(broken, []);
});

test('the license package.json names is there', () => {
  const { license } = JSON.parse(readFileSync('package.json', 'utf8')) as { license: string };
  assert.is(license, 'MIT');
  assert.match(readFileSync('LICENSE', 'utf8'), /^MIT License/);
});

test.run();
