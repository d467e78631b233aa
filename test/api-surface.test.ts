import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPORT_PATH, apiReport } from '../scripts/api-report.ts';

// The public surface is what the `.d.ts` build shows. A change to it must be a reviewed change:
// the checked-in report is regenerated with `npm run api-report` and its diff committed.
test('the public API is the one in test/fixtures/api-surface.txt', () => {
  const expected = readFileSync(REPORT_PATH, 'utf8').split('\n');
  const actual = apiReport().split('\n');
  const added = actual.filter((line) => !expected.includes(line));
  const removed = expected.filter((line) => !actual.includes(line));
  assert.ok(
    added.length === 0 && removed.length === 0,
    `the public API changed; if that is intended, run \`npm run api-report\` and commit ${REPORT_PATH}.\n` +
      `new or changed:\n${added.map((line) => `+ ${line}`).join('\n')}\ngone or changed:\n${removed.map((line) => `- ${line}`).join('\n')}`,
  );
  assert.equal(actual, expected, `the order of the API changed: run \`npm run api-report\` and commit ${REPORT_PATH}`);
});

test.run();
