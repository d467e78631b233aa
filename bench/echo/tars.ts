import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { once } from 'node:events';
import { PAYLOAD, type EchoSystem } from './system.ts';

/**
 * The echo on Tars for Node (@tars/rpc, the TARS protocol over TCP), as its README shows it: a
 * servant started on a direct endpoint (`tcp -h 127.0.0.1 -p N`), and a client proxy from
 * `stringToProxy("…Obj@tcp -h 127.0.0.1 -p N")`: no registry, no config file. The servant and
 * proxy classes are what `tars2node` generates for
 *   module bench { interface Echo { string echo(string text); }; };
 * (its TARS-protocol branch; the TUP branch serves other clients), written out here rather than
 * adding tars2node to the project.
 */

const require = createRequire(import.meta.url);
interface TarsStreams {
  TarsOutputStream: new () => { writeString(tag: number, value: string): void; getBinBuffer(): unknown };
  TarsInputStream: new (buffer: unknown) => { readString(tag: number, require: boolean, def?: unknown): string };
  String: unknown;
}
const TarsStream = require('@tars/stream') as TarsStreams;
const Tars = require('@tars/rpc') as {
  server: {
    createServer(): { start(option: unknown): void; stop?(): void };
    BindAdapterOption: new () => Record<string, unknown>;
  };
  client: { stringToProxy<T>(proxy: new () => T, object: string): T };
  error: { SUCCESS: number; SERVER: { FUNC_NOT_FOUND: number } };
};

interface Current {
  sendResponse(ret: string): void;
  doResponse(buffer: unknown): void;
}

/** The servant, as tars2node's `EchoImp` (onDispatch decodes, the method answers). */
class EchoImp {
  initialize(): void {}

  onDispatch(current: Current, name: string, buffer: unknown): number {
    if (name !== 'echo') return Tars.error.SERVER.FUNC_NOT_FOUND;
    const text = new TarsStream.TarsInputStream(buffer).readString(1, true);
    current.sendResponse = (ret: string) => {
      const os = new TarsStream.TarsOutputStream();
      os.writeString(0, ret);
      current.doResponse(os.getBinBuffer());
    };
    this.echo(current, text);
    return Tars.error.SUCCESS;
  }

  echo(current: Current, text: string): void {
    current.sendResponse(text);
  }
}

/** The client proxy, as tars2node's `EchoProxy`. */
class EchoProxy {
  _name: unknown = undefined;
  _worker: { tars_invoke(name: string, buffer: unknown): Promise<{ response: { sBuffer: unknown } }> } | undefined =
    undefined;

  async echo(text: string): Promise<{ text: string }> {
    const os = new TarsStream.TarsOutputStream();
    os.writeString(1, text);
    const data = await this._worker!.tars_invoke('echo', os.getBinBuffer());
    return { text: new TarsStream.TarsInputStream(data.response.sBuffer).readString(0, true, TarsStream.String) };
  }
}

/** A free loopback port: Tars binds the port its endpoint names. */
async function freePort(): Promise<number> {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export const tarsSystem: EchoSystem = {
  name: 'tars',
  async serve() {
    const port = await freePort();
    const option = new Tars.server.BindAdapterOption();
    option.endpoint = `tcp -h 127.0.0.1 -p ${port} -t 60000`;
    option.name = 'bench.EchoServer.EchoObjAdapter';
    option.servant = 'bench.EchoServer.EchoObj';
    option.handleImp = EchoImp;
    const server = Tars.server.createServer();
    server.start(option);
    return { port, close: async () => server.stop?.() };
  },
  async connect(target, connections) {
    if (connections !== 1) throw new Error('tars: one connection per proxy endpoint');
    const [host, port] = target.split(':');
    const proxy = Tars.client.stringToProxy(EchoProxy, `bench.EchoServer.EchoObj@tcp -h ${host} -p ${port} -t 60000`);
    return { send: () => proxy.echo(PAYLOAD.text), close: async () => undefined };
  },
};
