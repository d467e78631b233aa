import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '../errors.ts';
import { LOWEST_BUSINESS_PRIORITY, LOWEST_USER_PRIORITY } from '../priority.ts';
import type { RequestHeaderReader } from '../protocol/index.ts';

/**
 * Priorities that only trusted peers may set. A caller holding the shared key signs each
 * request's (business priority, user priority, trace id) with HMAC-SHA256 and sends the tag in
 * the request metadata under PRIORITY_SIGNATURE_KEY; a server holding the same key checks it
 * before admission and serves any request without a valid tag at the lowest priority, so an
 * outside caller cannot jump the queue by claiming priority 0.
 *
 * The tag binds the priorities to the trace id, so it cannot be moved to other priorities; it
 * can be replayed with the same trace id and priorities, which gains nothing a trusted peer
 * did not already grant.
 */
export const PRIORITY_SIGNATURE_KEY = 'corpc-priority-sig';

/** 128 bits of the HMAC, base64url. */
const TAG_CHARS = 22;

export function priorityKeyOption(value: unknown): Buffer | undefined {
  if (value === undefined) return undefined;
  const key = typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : null;
  if (key === null || key.length < 16) {
    throw new InvalidArgumentError('priorityKey must be a string or Buffer of at least 16 bytes (a shared secret)');
  }
  return key;
}

export function signPriority(key: Buffer, business: number, user: number, traceId: string): string {
  return createHmac('sha256', key).update(`${business}:${user}:${traceId}`).digest('base64url').slice(0, TAG_CHARS);
}

/** A request's metadata with its priorities' signature added (a copy: the caller's object is left alone). */
export function signedMetadata(
  key: Buffer,
  metadata: Readonly<Record<string, string>> | null,
  business: number,
  user: number,
  traceId: string,
): Record<string, string> {
  return { ...metadata, [PRIORITY_SIGNATURE_KEY]: signPriority(key, business, user, traceId) };
}

/** The server's side: downgrades requests whose priorities are not signed with the key. */
export class PriorityGuard {
  constructor(private readonly key: Buffer) {}

  /** `header` passed the shape checks; its priorities are lowered to the lowest when untrusted. */
  check(header: RequestHeaderReader): void {
    const metadata = header.metadata;
    const tag = metadata?.[PRIORITY_SIGNATURE_KEY];
    if (tag !== undefined) delete metadata![PRIORITY_SIGNATURE_KEY];
    const { business, user } = header;
    if (business === LOWEST_BUSINESS_PRIORITY && user === LOWEST_USER_PRIORITY) return;
    if (tag !== undefined && tag.length === TAG_CHARS) {
      const expected = signPriority(this.key, business, user, header.traceId);
      if (timingSafeEqual(Buffer.from(tag, 'latin1'), Buffer.from(expected, 'latin1'))) return;
    }
    header.business = LOWEST_BUSINESS_PRIORITY;
    header.user = LOWEST_USER_PRIORITY;
  }
}
