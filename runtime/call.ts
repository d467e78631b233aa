/**
 * `corpc call <target> <Service/Method> -d JSON`: one call from the shell, JSON in and out —
 * what grpcurl is to gRPC. See docs/cli.md.
 */
import {
  BUSINESS_LEVELS,
  HealthService,
  InvalidArgumentError,
  Reason,
  RpcError,
  Status,
  USER_LEVELS,
  createChannel,
  type CallOptions,
  type Channel,
  type MethodDescriptor,
  type MethodKind,
  type ResponseStream,
} from 'corpc';
import { statusName, streamingMethod } from 'corpc/internal';
import { parseCommandLine, readData, UsageError } from './command-line.ts';
import { numberOption } from './loadgen/options.ts';
import { otherSpelling } from './loadgen/method.ts';
import { closestName } from 'corpc/internal';
import { fetchListing, isBuiltIn, methodsByName } from './reflection-client.ts';
import { TARGET_FLAGS, TARGET_FLAGS_USAGE, targetOptions, targetUsage } from './target-flags.ts';

const USAGE = `usage: corpc call <target> <Service/Method> [options]

${targetUsage('<target>')}
  <Service/Method>           as \`corpc list\` shows it: corpc.demo.Gateway/Login, or with the
                             short service name (Gateway/Login) or the client key (Gateway/login)
                             when the server serves reflection

  -d, --data JSON|@FILE|-    the request as JSON (default {}); @FILE reads a file, - stdin
      --timeout MS           deadline of the call, or of the whole stream (default 5000)
      --business-priority B  0..${BUSINESS_LEVELS - 1} (an entry service assigns its own)
      --user-priority U      0..${USER_LEVELS - 1} (an entry service assigns its own)
  -m, --metadata KEY=VALUE   request metadata; repeat for more
${TARGET_FLAGS_USAGE}
  -h, --help

Prints the answer as JSON and exits 0; a server stream prints each message as it comes, one
JSON a line, until the stream ends (or --timeout). On an error, prints its status, reason and
message and exits 1 (2 for a command line that cannot run).`;

interface CallCommand {
  target: string;
  method: string;
  body: unknown;
  options: CallOptions & { timeoutMs: number };
  channel: Channel;
}

function parse(argv: string[]): CallCommand | 'help' {
  const { values, positionals } = parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string', short: 'd' },
      timeout: { type: 'string' },
      'business-priority': { type: 'string' },
      'user-priority': { type: 'string' },
      metadata: { type: 'string', short: 'm', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
      ...TARGET_FLAGS,
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 2) {
    throw new UsageError(
      positionals.length < 2
        ? 'expected a target and a method: corpc call <target> <Service/Method>'
        : `unexpected argument "${positionals[2]}"`,
    );
  }
  const [target, method] = positionals as [string, string];
  if (!/^[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/.test(method))
    throw new UsageError(`method "${method}" is not Service/Method (e.g. Gateway/Login)`);
  const options: CallCommand['options'] = {
    timeoutMs: numberOption('--timeout', values.timeout ?? '5000', { integer: true, min: 1 }),
  };
  const business = values['business-priority'];
  if (business !== undefined)
    options.businessPriority = numberOption('--business-priority', business, {
      integer: true,
      max: BUSINESS_LEVELS - 1,
    });
  const user = values['user-priority'];
  if (user !== undefined)
    options.userPriority = numberOption('--user-priority', user, { integer: true, max: USER_LEVELS - 1 });
  if (values.metadata !== undefined) options.metadata = metadataOption(values.metadata);
  const body = readData(values.data);
  return { target, method, body, options, channel: createChannel(target, targetOptions(values)) };
}

function metadataOption(pairs: readonly string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--metadata "${pair}" is not KEY=VALUE`);
    metadata[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return metadata;
}

export async function main(argv: string[]): Promise<number> {
  let command: CallCommand;
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    command = parsed;
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof InvalidArgumentError)) throw error;
    console.error(`corpc call: ${error.message}\n(corpc call --help for the options)`);
    return 2;
  }
  const { channel, options } = command;
  let hint: string | null = null;
  try {
    const resolved = await resolveMethod(command);
    const method = resolved.method;
    hint = resolved.hint;
    const kind = method.kind ?? 'unary';
    if (kind === 'server-stream') {
      await printStream(channel, method, command.body, options);
      return 0;
    }
    if (kind !== 'unary') {
      console.error(
        `corpc call: ${method.path} is a ${kind} method: corpc call sends one request, to a unary method or a server stream`,
      );
      return 1;
    }
    let result: unknown;
    try {
      result = await channel.call(method.path, command.body, options);
    } catch (error) {
      // Without reflection, `Svc/Get` may be registered as `Svc/get` (or the reverse): an unknown method ran nothing, so try once.
      const other = hint === null ? otherSpelling(method.path) : undefined;
      if (!(error instanceof RpcError) || error.status !== Status.UNIMPLEMENTED || other === undefined) throw error;
      result = await channel.call(other, command.body, options).catch(() => Promise.reject(error));
    }
    console.log(JSON.stringify(result ?? null, jsonValue, 2));
    return 0;
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    console.error(`corpc call: ${describeError(error)}`);
    if (error.status === Status.UNIMPLEMENTED && hint !== null && hint !== '')
      console.error(`  ${command.target}: ${hint}`);
    // Without reflection, a stream is called as a unary method: the server says so, not which kind it is.
    if (error.reason === Reason.WrongMethodKind && hint === null)
      console.error(
        `  ${command.target} serves no reflection, which is how corpc call knows a method streams: start its server with reflection: true`,
      );
    return 1;
  } finally {
    channel.destroy();
  }
}

/** The health service every corpc server has: its methods (and their kinds) are known without reflection. */
const HEALTH_METHODS = new Map<string, MethodDescriptor>(
  Object.values<MethodDescriptor>(HealthService.methods).map((method) => [method.path, method]),
);

/**
 * The method to call, with its wire path and kind: from the server's reflection when it serves
 * it (any name the HTTP entry accepts), else the health service's by its wire path, else the
 * method as given, taken as unary. `hint` lists the methods of a listing that has no such
 * method (null without reflection).
 */
async function resolveMethod(command: CallCommand): Promise<{ method: MethodDescriptor; hint: string | null }> {
  const listing = await fetchListing(command.channel, command.options.timeoutMs);
  if (listing === null) {
    return { method: HEALTH_METHODS.get(command.method) ?? describeMethod(command.method), hint: null };
  }
  const names = methodsByName(listing);
  const found = names.get(command.method);
  if (found !== undefined) return { method: describeMethod(found.method.path, found.method.kind), hint: '' };
  const near = closestName(command.method, names.keys());
  const methods = listing.services
    .filter((service) => !isBuiltIn(service))
    .flatMap((service) => service.methods.map((method) => method.path));
  return {
    method: describeMethod(command.method),
    hint: `${near === undefined ? '' : `did you mean "${near}"? `}methods: ${methods.join(', ')}`,
  };
}

/** A descriptor for a method known by its path (and kind) alone: no decoders, the JSON goes as it is. */
function describeMethod(path: string, kind?: MethodKind): MethodDescriptor {
  return { name: path.slice(path.lastIndexOf('/') + 1), path, ...(kind === undefined ? {} : { kind }) };
}

/** A server stream: each message printed as it comes, one JSON a line; the end of the stream (or `--timeout`) ends the command. */
async function printStream(
  channel: Channel,
  method: MethodDescriptor,
  body: unknown,
  options: CallOptions,
): Promise<void> {
  const open = streamingMethod(channel, method, []) as (
    request: unknown,
    options: CallOptions,
  ) => ResponseStream<unknown>;
  for await (const message of open(body, options)) console.log(JSON.stringify(message ?? null, jsonValue));
}

/** `INVALID_ARGUMENT (3), reason invalid_request: <message>`: the status, its number, the reason and the message. */
export function describeError(error: RpcError): string {
  const reason = error.reason === undefined ? '' : `, reason ${error.reason}`;
  return `${statusName(error.status)} (${error.status})${reason}: ${error.message}`;
}

/**
 * JSON for what msgpack can carry and JSON cannot: bytes as base64, big integers as strings.
 * The holder's own value is read, as a Buffer's `toJSON` has already run on `value`.
 */
function jsonValue(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  if (original instanceof Uint8Array)
    return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}
