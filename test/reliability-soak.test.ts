import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { soak } from '../bench/soak.ts';

test('soak at 10x overload: goodput holds, RSS levels off, and every request sent is accounted for by status', async () => {
  const report = await soak({ seconds: 6, overload: 10, concurrency: 4, handlerMs: 20, timeoutMs: 500 });
  assert.is(
    report.answered,
    report.sent,
    `sent ${report.sent}, answered ${report.answered}: ${JSON.stringify(report.outcomes)}`,
  );
  assert.ok(report.sent > report.capacityPerS * report.seconds * 5, 'the load really was several times capacity');
  for (const status of Object.keys(report.outcomes))
    assert.ok(['OK', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED'].includes(status), status);
  assert.ok(
    report.goodputPerS >= report.capacityPerS / 4,
    `goodput ${report.goodputPerS}/s of capacity ${report.capacityPerS}/s`,
  );
  assert.ok(report.rssMiB.end - report.rssMiB.middle < 32, `RSS kept growing: ${JSON.stringify(report.rssMiB)}`);
  assert.is(report.serverInFlightAtEnd, 0, 'the server holds nothing once the answers are in');
});

test.run();
