import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient } from 'corpc';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Echo } from '../services/echo/echo.ts';
import { killRuntime, startRuntime, FREE_PORTS } from './helpers/runtime.ts';

const services = fileURLToPath(new URL('../services/', import.meta.url));
/** Every example under services/ (services/generated is `npm run gen`'s output, not an example). */
const examples = readdirSync(services).filter(
  (name) => name !== 'generated' && statSync(services + name).isDirectory(),
);

test('every example under services/ runs with `corpc run services/<name>`', async () => {
  assert.ok(examples.includes('echo') && examples.includes('demo'), examples.join(', '));
  for (const name of examples) {
    const runtime = await startRuntime([`services/${name}`, '--workers', '1', ...FREE_PORTS]);
    try {
      assert.is((await runtime.admin('/readyz')).status, 200, name);
      if (name !== 'echo') continue;
      const client = createClient(Echo, `127.0.0.1:${runtime.units.echo}`);
      try {
        assert.equal(await client.echo({ text: 'hi' }), { text: 'hi' });
        // relay goes through the unit's own env.client(Echo, 'echo'): the unit reaches itself by name.
        const relayed = await client.relay({ text: 'again' }, { metadata: { tenant: 't1' } });
        assert.is(relayed.text, 'again');
        assert.is(relayed.inner.metadata.tenant, 't1');
      } finally {
        await client.close();
      }
    } finally {
      await killRuntime(runtime);
    }
  }
});

test.run();
