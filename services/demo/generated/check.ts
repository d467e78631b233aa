// Hand-written stand-in for the validating decoders `npx corpc gen` emits; replaced by generated code.
import { RpcError, Status } from 'corpc';

type FieldKind = 'string' | 'int32' | 'bool';

function bad(message: string, path: string, problem: string): never {
  throw new RpcError(Status.INVALID_ARGUMENT, `${message}.${path}: ${problem}`, { reason: 'invalid_field' });
}

/** A decoder for a flat proto3 message: absent fields take their zero value, wrong types are rejected by name. */
export function decoder<T>(message: string, fields: Readonly<Record<string, FieldKind>>): (value: unknown) => T {
  return (value) => {
    if (value === undefined || value === null) value = {};
    if (typeof value !== 'object' || Array.isArray(value)) bad(message, '', 'expected an object');
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, kind] of Object.entries(fields)) {
      const field = input[name];
      if (kind === 'string') {
        if (field === undefined) out[name] = '';
        else if (typeof field === 'string') out[name] = field;
        else bad(message, name, `expected a string, got ${typeof field}`);
      } else if (kind === 'int32') {
        if (field === undefined) out[name] = 0;
        else if (typeof field === 'number' && Number.isInteger(field) && field >= -0x80000000 && field <= 0x7fffffff) out[name] = field;
        else bad(message, name, `expected a 32-bit integer, got ${JSON.stringify(field)}`);
      } else {
        if (field === undefined) out[name] = false;
        else if (typeof field === 'boolean') out[name] = field;
        else bad(message, name, `expected a boolean, got ${typeof field}`);
      }
    }
    return out as T;
  };
}
