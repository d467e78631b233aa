/**
 * The helpers every generated module carries (inlined as text, so that generated code imports
 * nothing but corpc's public entry). They only build errors: the checks themselves are generated
 * straight-line per field. Names start with `$`, which IDL identifiers cannot, so they never clash.
 */
export interface Helper {
  readonly code: string;
  /** Other helpers (and corpc imports) it uses. */
  readonly uses: readonly string[];
}

/** Helper name → its code, emitted only when used (generated files compile with noUnusedLocals). */
export const HELPERS: Readonly<Record<string, Helper>> = {
  $isArray: {
    uses: [],
    code: `const $isArray = globalThis.Array.isArray;`,
  },
  $isSafeInteger: {
    uses: [],
    code: `const $isSafeInteger = globalThis.Number.isSafeInteger;`,
  },
  $Uint8Array: {
    uses: [],
    code: `const $Uint8Array = globalThis.Uint8Array;`,
  },
  $EMPTY: {
    uses: [],
    code: `const $EMPTY: { readonly [key: string]: unknown } = globalThis.Object.freeze({});`,
  },
  $MAX_SAFE: {
    uses: [],
    code: `const $MAX_SAFE = 9007199254740991n;`,
  },
  $Invalid: {
    uses: [],
    code: `/** A field that failed validation; its path grows as it unwinds through the enclosing messages. */
class $Invalid extends globalThis.Error {
  /** The mark $isInvalid looks for: each generated module has its own class, so instanceof would not do. */
  readonly corpcInvalidField = true;
  path: string;
  readonly problem: string;
  constructor(path: string, problem: string) {
    super(problem);
    this.path = path;
    this.problem = problem;
  }
}`,
  },
  $show: {
    uses: ['$isArray', '$Uint8Array'],
    code: `function $show(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 32 ? \`a string ("\${value.slice(0, 32)}…")\` : \`"\${value}"\`;
  if (typeof value === 'bigint') return \`\${value}n\`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  if ($isArray(value)) return 'a list';
  if (value instanceof $Uint8Array) return 'bytes';
  return typeof value === 'object' ? 'an object' : typeof value;
}`,
  },
  $isInvalid: {
    uses: ['$Invalid'],
    code: `function $isInvalid(error: unknown): error is $Invalid {
  return typeof error === 'object' && error !== null && (error as { corpcInvalidField?: unknown }).corpcInvalidField === true;
}`,
  },
  $fail: {
    uses: ['$Invalid', '$show'],
    code: `function $fail(path: string, expected: string, got: unknown): never {
  throw new $Invalid(path, \`must be \${expected}, got \${$show(got)}\`);
}`,
  },
  $nest: {
    uses: ['$isInvalid'],
    code: `function $nest(error: unknown, segment: string): never {
  if ($isInvalid(error)) {
    error.path = error.path === '' ? segment : error.path[0] === '[' ? segment + error.path : \`\${segment}.\${error.path}\`;
  }
  throw error;
}`,
  },
  $object: {
    uses: ['$isArray', '$Uint8Array', '$EMPTY', '$fail'],
    code: `function $object(value: unknown): { readonly [key: string]: unknown } {
  if (value === undefined || value === null) return $EMPTY;
  if (typeof value !== 'object' || $isArray(value) || value instanceof $Uint8Array) $fail('', 'an object', value);
  return value as { readonly [key: string]: unknown };
}`,
  },
  $map: {
    uses: ['$isArray', '$Uint8Array', '$fail'],
    code: `function $map(value: unknown, path: string): { readonly [key: string]: unknown } {
  if (typeof value !== 'object' || value === null || $isArray(value) || value instanceof $Uint8Array) $fail(path, 'a map', value);
  return value as { readonly [key: string]: unknown };
}`,
  },
  $int64: {
    uses: ['$isSafeInteger', '$MAX_SAFE'],
    code: `/** 64-bit integers are numbers: accepted as a safe-integer number or as a bigint in that range. */
function $int64(value: unknown, unsigned: boolean): number | undefined {
  if (typeof value === 'number') return $isSafeInteger(value) && (!unsigned || value >= 0) ? value : undefined;
  if (typeof value === 'bigint') return value <= $MAX_SAFE && value >= (unsigned ? 0n : -$MAX_SAFE) ? Number(value) : undefined;
  return undefined;
}`,
  },
  $intKey: {
    uses: [],
    code: `function $intKey(key: string, min: number, max: number): boolean {
  const n = Number(key);
  return key !== '' && globalThis.Number.isInteger(n) && n >= min && n <= max && String(n) === key;
}`,
  },
  $put: {
    uses: [],
    code: `function $put<T>(target: { [key: string]: T }, key: string, value: T): void {
  if (key === '__proto__') globalThis.Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}`,
  },
  $decoder: {
    uses: ['$isInvalid', '$RpcError', '$Status'],
    code: `/** Wraps a message decoder for one side of a method: failures become RpcErrors naming the field. */
function $decoder<T>(path: string, side: 'request' | 'response', decode: (value: unknown) => T): (value: unknown) => T {
  return (value) => {
    try {
      return decode(value);
    } catch (error) {
      let problem: string;
      if ($isInvalid(error)) problem = error.path === '' ? \`the \${side} \${error.problem}\` : \`field "\${error.path}" \${error.problem}\`;
      else if (error instanceof globalThis.RangeError) problem = \`the \${side} is nested too deeply\`;
      else throw error;
      if (side === 'request') throw new $RpcError($Status.INVALID_ARGUMENT, \`\${path}: \${problem}\`, { reason: 'invalid_request' });
      throw new $RpcError($Status.INTERNAL, \`\${path}: malformed response: \${problem}\`, { reason: 'invalid_response' });
    }
  };
}`,
  },
};
