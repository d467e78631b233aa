// The user's service module in the consumer test: `npx corpc run src/service.ts`.
import { RpcError, Status } from 'corpc';
import { defineUnit } from 'corpc/runtime';
import { KeyValue, type KeyValueHandlers } from './generated/kv.ts';

const store = new Map<string, { value: string; version: number }>();

const handlers: KeyValueHandlers = {
  async get({ key, minVersion }) {
    const entry = store.get(key);
    if (entry === undefined || entry.version < minVersion) throw new RpcError(Status.NOT_FOUND, `no key "${key}"`);
    return entry;
  },
  async put({ key, value }) {
    if (key === '') throw new RpcError(Status.INVALID_ARGUMENT, 'the key must not be empty');
    const version = (store.get(key)?.version ?? 0) + 1;
    store.set(key, { value, version });
    return { version };
  },
};

export default {
  units: [defineUnit({ name: 'kv', service: KeyValue, port: 7001, handlers: () => handlers })],
};
