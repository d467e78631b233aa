import { randomBytes } from 'node:crypto';
import { debuglog } from 'node:util';
import { InvalidArgumentError } from '../errors.ts';
import { knownKeys, optionNames, stringOption } from '../options.ts';
import { userPriorityOfTrace } from '../context.ts';
import { LOWEST_BUSINESS_PRIORITY, checkBusinessPriority } from '../priority.ts';
import type { MethodDescriptor } from '../service.ts';
import { UserPriorities } from './user-priority.ts';

const debug = debuglog('corpc:admission');

export interface EntryOptions {
  /**
   * Shared by every entry service: user priorities derive from it (with an hourly key). Without
   * one, a random per-process secret is used, which is only right for a single entry process.
   */
  secret?: string | Buffer;
  /** The request metadata key that holds the user id. Default `"user-id"`. */
  userIdKey?: string;
  /** Business priority per method path (`"Shop/checkout": 0`), overriding the descriptors'. */
  businessPriorities?: Readonly<Record<string, number>>;
  /** Treat every service on this server as an entry service, not only those marked `entry`. Default false. */
  all?: boolean;
}

const ENTRY_OPTIONS = optionNames<EntryOptions>({ secret: true, userIdKey: true, businessPriorities: true, all: true });

/**
 * How an entry server assigns priorities, ignoring what outside callers sent: the business
 * priority from the method (config table, else the descriptor's `businessPriority`, else the
 * lowest), the user priority from the user id in the request metadata.
 */
export class EntryPriorities {
  readonly userIdKey: string;
  readonly all: boolean;
  private readonly users: UserPriorities;
  private readonly table: ReadonlyMap<string, number>;

  constructor(options: EntryOptions = {}) {
    knownKeys('entry', options, ENTRY_OPTIONS);
    this.userIdKey = stringOption('entry.userIdKey', options.userIdKey, 'user-id');
    this.all = options.all === true;
    let secret = options.secret;
    if (secret === undefined) {
      debug('no entry.secret configured: user priorities use a per-process random key');
      secret = randomBytes(32);
    } else if ((typeof secret !== 'string' && !Buffer.isBuffer(secret)) || secret.length === 0) {
      throw new InvalidArgumentError(`entry.secret must be a non-empty string or Buffer, got ${String(secret)}`);
    }
    this.users = new UserPriorities(secret);
    const table = new Map<string, number>();
    for (const [path, level] of Object.entries(options.businessPriorities ?? {})) {
      table.set(path, checkBusinessPriority(`entry.businessPriorities["${path}"]`, level)!);
    }
    this.table = table;
  }

  /** The business priority an entry assigns to a method. */
  businessOf(descriptor: MethodDescriptor): number {
    return this.table.get(descriptor.path) ?? descriptor.businessPriority ?? LOWEST_BUSINESS_PRIORITY;
  }

  /**
   * The user priority of a request, from its metadata's user id; when it names none, derived
   * from its trace id (so a task's calls still share one level).
   */
  userOf(metadata: Readonly<Record<string, string>> | null, traceId: string): number {
    const userId = metadata?.[this.userIdKey];
    return userId === undefined || userId === '' ? userPriorityOfTrace(traceId) : this.users.of(userId);
  }
}
