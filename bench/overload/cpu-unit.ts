/**
 * The CPU-bound service of `cpu-spike --workers N` as a service module, run by `corpc run` the
 * way a user runs theirs (metrics and logs on): `corpc run bench/overload/cpu-unit.ts --workers 2`.
 */
import { defineUnit } from 'corpc/runtime';
import { Burn, burnCpu } from './cpu-service.ts';

export default {
  units: [
    defineUnit({
      name: 'burn',
      service: Burn,
      port: 0,
      handlers: () => ({
        async burn({ ms }: { ms: number }) {
          burnCpu(ms);
          return { ok: true as const };
        },
      }),
    }),
  ],
};
