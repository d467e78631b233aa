import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SpanKind, SpanStatusCode, context as otelContext, propagation, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import pino from 'pino';
import {
  RpcError,
  Status,
  context,
  createClient,
  createServer,
  defineService,
  method,
  serverStream,
  type AdmissionPolicy,
  type Server,
  type ServerInterceptor,
} from 'corpc';
import { ADMIT_ALL, EntryPriorities } from 'corpc/internal';
import { openTelemetry, type OpenTelemetryInterceptors } from 'corpc/opentelemetry';
import { HttpEntry } from '../runtime/http-entry.ts';
import { rejection } from './helpers/servers.ts';

interface Seen {
  traceId: string;
  metadata: Record<string, string>;
}
const Hop = defineService('test.Hop', { hop: method<{ left: number }, { seen: Seen[] }>() });
const Gate = defineService('test.Gate', { enter: method<{ left: number }, { seen: Seen[] }>() }, { entry: true });

function tracing(withContextManager: boolean): {
  exporter: InMemorySpanExporter;
  otel: OpenTelemetryInterceptors;
  stop(): void;
} {
  const exporter = new InMemorySpanExporter();
  const spanProcessors = [new SimpleSpanProcessor(exporter)];
  if (!withContextManager) {
    const provider = new BasicTracerProvider({ spanProcessors });
    return { exporter, otel: openTelemetry({ tracerProvider: provider }), stop: () => void provider.shutdown() };
  }
  // The usual set-up of an application: the SDK registered globally (an AsyncLocalStorage context
  // manager, the W3C propagator), corpc's interceptors on the global provider.
  const provider = new NodeTracerProvider({ spanProcessors });
  provider.register();
  return {
    exporter,
    otel: openTelemetry(),
    stop() {
      void provider.shutdown();
      trace.disable();
      otelContext.disable();
      propagation.disable();
    },
  };
}

function seenHere(): Seen {
  const ctx = context();
  return { traceId: ctx.traceId, metadata: { ...ctx.metadata } };
}

/** Servers of the Hop service, each calling the next through a traced client; the first is returned first. */
async function hops(count: number, otel: OpenTelemetryInterceptors, servers: Server[]): Promise<string[]> {
  const targets: string[] = [];
  let next: ReturnType<typeof createClient<typeof Hop>> | undefined;
  for (let i = 0; i < count; i++) {
    const downstream = next;
    const server = createServer({ interceptors: [otel.server] }).addService(Hop, {
      async hop({ left }) {
        if (downstream === undefined || left === 0) return { seen: [seenHere()] };
        const reply = await downstream.hop({ left: left - 1 });
        return { seen: [seenHere(), ...reply.seen] };
      },
    });
    const { port } = await server.listen({ port: 0 });
    servers.push(server);
    targets.unshift(`127.0.0.1:${port}`);
    next = createClient(Hop, targets[0]!, { interceptors: [otel.client] });
    clients.push(next);
  }
  return targets;
}

const clients: { close(): Promise<void> }[] = [];
async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
}

/** The spans from `root` down, each the parent of the next (fails if they do not form one line). */
function lineage(
  spans: readonly ReadableSpan[],
  root = spans.find((span) => span.parentSpanContext === undefined),
): ReadableSpan[] {
  const line: ReadableSpan[] = [];
  let parent = root;
  while (parent !== undefined) {
    line.push(parent);
    const id = parent.spanContext().spanId;
    const children = spans.filter((span) => span.parentSpanContext?.spanId === id);
    assert.ok(children.length <= 1, `span ${parent.name} has ${children.length} children`);
    parent = children[0];
  }
  assert.is(line.length, spans.length, 'every span is on the one line from the root');
  return line;
}

function assertRpcSpan(span: ReadableSpan, kind: SpanKind, service: string, methodName: string, status: number): void {
  assert.is(span.kind, kind, `${span.name} kind`);
  assert.is(span.name, `${service}/${methodName}`);
  assert.is(span.attributes['rpc.system'], 'corpc');
  assert.is(span.attributes['rpc.service'], service);
  assert.is(span.attributes['rpc.method'], methodName);
  assert.is(span.attributes['rpc.corpc.status_code'], status);
}

for (const withContextManager of [true, false]) {
  test(`a three-hop call makes three linked server spans and their client spans, one trace id (${withContextManager ? 'SDK registered' : 'no context manager'})`, async () => {
    const { exporter, otel, stop } = tracing(withContextManager);
    const servers: Server[] = [];
    try {
      const [first] = await hops(3, otel, servers);
      const client = createClient(Hop, first!, { interceptors: [otel.client] });
      clients.push(client);
      const { seen } = await client.hop({ left: 2 });

      const spans = exporter.getFinishedSpans();
      const line = lineage(spans);
      assert.equal(
        line.map((span) => span.kind),
        [SpanKind.CLIENT, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.SERVER],
      );
      for (const span of line) assertRpcSpan(span, span.kind, 'test.Hop', 'hop', Status.OK);
      const traceId = line[0]!.spanContext().traceId;
      assert.ok(line.every((span) => span.spanContext().traceId === traceId));
      // corpc's trace id in every handler is the OpenTelemetry trace id, and each hop got the
      // traceparent of the client span that called it.
      assert.is(seen.length, 3);
      seen.forEach((hop, index) => {
        assert.is(hop.traceId, traceId);
        const caller = line[index * 2]!.spanContext();
        assert.is(hop.metadata.traceparent, `00-${traceId}-${caller.spanId}-01`);
      });
    } finally {
      await closeAll(servers);
      stop();
    }
  });
}

/** Sheds every request from its header, and tells callers nothing (so they keep sending). */
const shedEverything: AdmissionPolicy = {
  name: 'shed-everything',
  level: -1,
  advertisedLevel: ADMIT_ALL,
  overloaded: true,
  admit: () => false,
  dequeue: () => true,
  onWindow: () => undefined,
};

test('an admission rejection is recorded on the caller’s span with its reason; the server makes no span for it', async () => {
  const { exporter, otel, stop } = tracing(false);
  const server = createServer({ interceptors: [otel.server], admission: { policy: shedEverything } }).addService(Hop, {
    hop: async () => ({ seen: [] }),
  });
  const { port } = await server.listen({ port: 0 });
  const client = createClient(Hop, `127.0.0.1:${port}`, { interceptors: [otel.client], maxRetries: 0 });
  try {
    const error = (await rejection(client.hop({ left: 0 }))) as RpcError;
    assert.is(error.code, 'RESOURCE_EXHAUSTED');
    const spans = exporter.getFinishedSpans();
    assert.is(spans.length, 1);
    const span = spans[0]!;
    assertRpcSpan(span, SpanKind.CLIENT, 'test.Hop', 'hop', Status.RESOURCE_EXHAUSTED);
    assert.is(span.attributes['rpc.corpc.reason'], 'admission_level');
    assert.is(span.attributes['error.type'], 'RESOURCE_EXHAUSTED');
    assert.is(span.status.code, SpanStatusCode.ERROR);
    assert.match(span.status.message ?? '', /overloaded/);
  } finally {
    await client.close();
    await server.close();
    stop();
  }
});

test('a rejection by a later server interceptor is on the server span: the caller’s fault leaves its status unset', async () => {
  const { exporter, otel, stop } = tracing(false);
  const deny: ServerInterceptor = async () => {
    throw new RpcError(Status.UNAUTHENTICATED, 'no token', { reason: 'no_token' });
  };
  const server = createServer({ interceptors: [otel.server, deny] }).addService(Hop, {
    hop: async () => ({ seen: [] }),
  });
  const { port } = await server.listen({ port: 0 });
  const client = createClient(Hop, `127.0.0.1:${port}`, { interceptors: [otel.client] });
  try {
    assert.is(((await rejection(client.hop({ left: 0 }))) as RpcError).code, 'UNAUTHENTICATED');
    const serverSpan = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
    assertRpcSpan(serverSpan, SpanKind.SERVER, 'test.Hop', 'hop', Status.UNAUTHENTICATED);
    assert.is(serverSpan.attributes['rpc.corpc.reason'], 'no_token');
    assert.is(serverSpan.status.code, SpanStatusCode.UNSET);
    const clientSpan = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.CLIENT)!;
    assert.is(clientSpan.status.code, SpanStatusCode.ERROR);
  } finally {
    await client.close();
    await server.close();
    stop();
  }
});

/** The HTTP entry in front of a Gate server that calls a Hop server: curl → entry → gateway → basic. */
async function entryInFront(
  otel: OpenTelemetryInterceptors | null,
  servers: Server[],
): Promise<{ url: string; entry: HttpEntry }> {
  const serverSide = otel === null ? [] : [otel.server];
  const clientSide = otel === null ? [] : [otel.client];
  const basic = createServer({ interceptors: serverSide }).addService(Hop, {
    hop: async () => ({ seen: [seenHere()] }),
  });
  const basicPort = (await basic.listen({ port: 0 })).port;
  const hop = createClient(Hop, `127.0.0.1:${basicPort}`, { interceptors: clientSide });
  const gateway = createServer({ interceptors: serverSide }).addService(Gate, {
    async enter({ left }) {
      const reply = await hop.hop({ left });
      return { seen: [seenHere(), ...reply.seen] };
    },
  });
  const gatewayPort = (await gateway.listen({ port: 0 })).port;
  const gate = createClient(Gate, `127.0.0.1:${gatewayPort}`, { interceptors: clientSide });
  servers.push(gateway, basic);
  clients.push(hop, gate);
  const entry = new HttpEntry({
    plan: { port: 0, host: '127.0.0.1', userIdHeader: 'x-user-id', timeoutMs: 2000, maxBodyBytes: 65536 },
    services: [{ service: Gate, channel: gate.channel }],
    priorities: new EntryPriorities({ secret: 'test' }),
    logger: pino({ level: 'silent' }),
    interceptors: serverSide,
  });
  const { port } = await entry.listen();
  return { url: `http://127.0.0.1:${port}/test.Gate/enter`, entry };
}

function post(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"left":1}',
  });
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

const Feed = defineService('test.Feed', { follow: serverStream<{ upTo: number }, { n: number }>() });

test('a server stream’s spans last until the stream ends, count its messages, and record a failure', async () => {
  const { exporter, otel, stop } = tracing(false);
  let downstreamTrace = '';
  const server = createServer({ interceptors: [otel.server] }).addService(Feed, {
    async *follow({ upTo }) {
      downstreamTrace = context().traceId;
      for (let n = 1; n <= upTo; n++) yield { n };
      if (upTo === 2) throw new RpcError(Status.DATA_LOSS, 'the feed broke', { reason: 'broken' });
    },
  });
  const { port } = await server.listen({ port: 0 });
  const client = createClient(Feed, `127.0.0.1:${port}`, { interceptors: [otel.client] });
  try {
    const got: number[] = [];
    for await (const { n } of client.follow({ upTo: 3 })) {
      got.push(n);
      const clientSpans = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT);
      assert.is(clientSpans.length, 0, 'the caller’s span lasts while it reads');
    }
    assert.equal(got, [1, 2, 3]);
    const [serverSpan, clientSpan] = finishedByKind(exporter);
    assertRpcSpan(clientSpan!, SpanKind.CLIENT, 'test.Feed', 'follow', Status.OK);
    assertRpcSpan(serverSpan!, SpanKind.SERVER, 'test.Feed', 'follow', Status.OK);
    assert.is(clientSpan!.attributes['rpc.corpc.stream_messages'], 3);
    assert.is(serverSpan!.attributes['rpc.corpc.stream_messages'], 3);
    assert.is(serverSpan!.parentSpanContext?.spanId, clientSpan!.spanContext().spanId);
    assert.is(downstreamTrace, clientSpan!.spanContext().traceId, 'the handler’s context has the trace’s id');

    exporter.reset();
    const failed = await rejection(
      (async () => {
        for await (const _ of client.follow({ upTo: 2 }));
      })(),
    );
    assert.is((failed as RpcError).reason, 'broken');
    const [failedServer, failedClient] = finishedByKind(exporter);
    assertRpcSpan(failedClient!, SpanKind.CLIENT, 'test.Feed', 'follow', Status.DATA_LOSS);
    assertRpcSpan(failedServer!, SpanKind.SERVER, 'test.Feed', 'follow', Status.DATA_LOSS);
    assert.is(failedClient!.attributes['rpc.corpc.reason'], 'broken');
    assert.is(failedServer!.status.code, SpanStatusCode.ERROR);
  } finally {
    await client.close();
    await server.close();
    stop();
  }
});

/** The finished spans, server first, then client. */
function finishedByKind(exporter: InMemorySpanExporter): ReadableSpan[] {
  const spans = exporter.getFinishedSpans();
  return [SpanKind.SERVER, SpanKind.CLIENT].map((kind) => {
    const span = spans.find((candidate) => candidate.kind === kind);
    assert.ok(span, `a span of kind ${kind}`);
    return span;
  });
}

test('traceparent from HTTP: the trace runs from the caller through the entry and the gateway to the basic service', async () => {
  const { exporter, otel, stop } = tracing(true);
  const servers: Server[] = [];
  const { url, entry } = await entryInFront(otel, servers);
  try {
    const res = await post(url, { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=x' });
    assert.is(res.status, 200);
    assert.is(res.headers.get('x-trace-id'), TRACE);
    const { seen } = (await res.json()) as { seen: Seen[] };

    const spans = exporter.getFinishedSpans();
    // The entry's span is the child of the HTTP caller's (remote) span.
    const entrySpan = spans.find((span) => span.parentSpanContext?.spanId === PARENT)!;
    assert.ok(entrySpan, 'a span whose parent is the traceparent of the HTTP request');
    assert.ok(entrySpan.parentSpanContext!.isRemote);
    const line = lineage(spans, entrySpan);
    assert.equal(
      line.map((span) => `${span.kind === SpanKind.SERVER ? 'server' : 'client'} ${span.name}`),
      [
        'server test.Gate/enter',
        'client test.Gate/enter',
        'server test.Gate/enter',
        'client test.Hop/hop',
        'server test.Hop/hop',
      ],
    );
    assert.ok(spans.every((span) => span.spanContext().traceId === TRACE));
    assert.equal(
      seen.map((hop) => [hop.traceId, hop.metadata.tracestate]),
      [
        [TRACE, 'vendor=x'],
        [TRACE, 'vendor=x'],
      ],
    );

    // Without a traceparent, the entry's span starts the trace, and the answer names its id.
    exporter.reset();
    const fresh = await post(url, {});
    const freshId = fresh.headers.get('x-trace-id');
    assert.match(freshId ?? '', /^[0-9a-f]{32}$/);
    assert.ok(exporter.getFinishedSpans().every((span) => span.spanContext().traceId === freshId));
    assert.ok(((await fresh.json()) as { seen: Seen[] }).seen.every((hop) => hop.traceId === freshId));
  } finally {
    await entry.close(100);
    await closeAll(servers);
    stop();
  }
});

test('without OpenTelemetry, the HTTP entry still takes the traceparent’s trace id and passes the trace on', async () => {
  const servers: Server[] = [];
  const { url, entry } = await entryInFront(null, servers);
  try {
    const res = await post(url, { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=x' });
    assert.is(res.headers.get('x-trace-id'), TRACE);
    const { seen } = (await res.json()) as { seen: Seen[] };
    for (const hop of seen) {
      assert.is(hop.traceId, TRACE);
      assert.is(hop.metadata.traceparent, `00-${TRACE}-${PARENT}-01`);
      assert.is(hop.metadata.tracestate, 'vendor=x');
    }
    // A malformed traceparent is ignored whole (the specification's rule): no trace id taken from it, nothing passed on.
    const bad = await post(url, { traceparent: `00-${TRACE}-0000000000000000-01`, 'x-trace-id': 'my-own-id' });
    assert.is(bad.headers.get('x-trace-id'), 'my-own-id');
    const badSeen = ((await bad.json()) as { seen: Seen[] }).seen;
    assert.ok(badSeen.every((hop) => hop.traceId === 'my-own-id' && hop.metadata.traceparent === undefined));
  } finally {
    await entry.close(100);
    await closeAll(servers);
  }
});

test.run();
