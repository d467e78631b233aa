/**
 * The Echo service as a service module: `npx corpc run services/echo`. One unit, `echo`, on port
 * 7000; its `relay` calls the `echo` unit itself (its own address), so the context carried through
 * one hop can be seen (`services/echo/call.ts 127.0.0.1:7000 relay`).
 */
import { defineUnit } from 'corpc/runtime';
import { Echo, echoHandlers } from './echo.ts';

export default {
  units: [
    defineUnit({ name: 'echo', service: Echo, port: 7000, handlers: (env) => echoHandlers(env.client(Echo, 'echo')) }),
  ],
};
