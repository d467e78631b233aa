/**
 * `corpc list <target> [Service]`: the services, methods and message schemas of a running
 * server, from its reflection service. See docs/cli.md.
 */
import { InvalidArgumentError, RpcError, createChannel, type Channel, type ReflectedService } from 'corpc';
import { parseCommandLine, UsageError } from './command-line.ts';
import { numberOption } from './loadgen/options.ts';
import { describeError } from './call.ts';
import { fetchListing, findService, formatListing, typesOf } from './reflection-client.ts';
import { TARGET_FLAGS, TARGET_FLAGS_USAGE, targetOptions, targetUsage } from './target-flags.ts';

const USAGE = `usage: corpc list <target> [Service] [options]

${targetUsage('<target>')}
  [Service]                  only this service (full or short name: corpc.demo.Gateway, Gateway)

      --json                 the reflection answer as JSON
      --timeout MS           deadline of the call (default 5000)
${TARGET_FLAGS_USAGE}
  -h, --help

The server must serve reflection (createServer({ reflection: true }); corpc run: \`reflection\`
in the service module or the config).`;

export async function main(argv: string[]): Promise<number> {
  let channel: Channel;
  let options: { target: string; service: string | undefined; json: boolean; timeoutMs: number };
  try {
    const { values, positionals } = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        ...TARGET_FLAGS,
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length === 0 || positionals.length > 2) {
      throw new UsageError(
        positionals.length === 0
          ? 'name a target: corpc list <target> [Service]'
          : `unexpected argument "${positionals[2]}"`,
      );
    }
    options = {
      target: positionals[0]!,
      service: positionals[1],
      json: values.json,
      timeoutMs: numberOption('--timeout', values.timeout ?? '5000', { integer: true, min: 1 }),
    };
    channel = createChannel(options.target, targetOptions(values));
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof InvalidArgumentError)) throw error;
    console.error(`corpc list: ${(error as Error).message}\n(corpc list --help for the options)`);
    return 2;
  }
  try {
    const listing = await fetchListing(channel, options.timeoutMs);
    if (listing === null) {
      console.error(
        `corpc list: ${options.target} does not serve reflection (UNIMPLEMENTED): start its server with reflection: true ` +
          '(corpc run: `reflection: true` in the service module or the config)',
      );
      return 1;
    }
    let only: ReflectedService[] | undefined;
    if (options.service !== undefined) {
      const service = findService(listing, options.service);
      if (service === undefined) {
        console.error(
          `corpc list: ${options.target} has no service "${options.service}" (services: ${listing.services.map((s) => s.name).join(', ')})`,
        );
        return 1;
      }
      only = [service];
    }
    if (!options.json) console.log(formatListing(listing, only));
    else
      console.log(
        JSON.stringify(only === undefined ? listing : { services: only, types: typesOf(listing, only) }, null, 2),
      );
    return 0;
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    console.error(`corpc list: ${describeError(error)}`);
    return 1;
  } finally {
    channel.destroy();
  }
}
