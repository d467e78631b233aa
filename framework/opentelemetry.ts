/**
 * OpenTelemetry tracing for corpc, built on its interceptors: `import { openTelemetry } from
 * 'corpc/opentelemetry'`. Only this entry point loads `@opentelemetry/api` (an optional peer
 * dependency); `corpc` itself never does.
 *
 * A span per client call (kind CLIENT) and per server call (kind SERVER), named `Service/Method`
 * with the RPC semantic conventions (`rpc.system` "corpc", `rpc.service`, `rpc.method`) and the
 * outcome (`rpc.corpc.status_code`, and on failure `error.type` with the status name and
 * `rpc.corpc.reason` with corpc's reason: `admission_level`, `local_admission`, `queue_full`…).
 * The trace travels in the request metadata as W3C `traceparent` / `tracestate`, and a request's
 * corpc trace id is its span's trace id, so that logs and traces name one request by one id.
 * The span of a server or bidirectional stream lasts until the stream ends, and counts its
 * responses (`rpc.corpc.stream_messages`).
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  createTraceState,
  isSpanContextValid,
  trace,
  type Context,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { Reason, RpcError, Status, type StatusName } from './errors.ts';
import type { Metadata, RequestContext } from './context.ts';
import { now } from './deadline.ts';
import type { ClientInterceptor, ServerInterceptor } from './interceptors.ts';
import type { MethodDescriptor, MethodKind } from './service.ts';
import { isAsyncIterable } from './streams/types.ts';
import { TRACEPARENT, TRACESTATE, formatTraceParent, parseTraceParent, parseTraceState } from './trace-context.ts';

export interface OpenTelemetryOptions {
  /** Where the tracer comes from. Default: the global provider (`trace.setGlobalTracerProvider`, or an SDK's `register()`). */
  tracerProvider?: TracerProvider;
}

export interface OpenTelemetryInterceptors {
  /** For `ChannelOptions.interceptors` / `createClient(…, { interceptors })`: a CLIENT span per call, its trace sent along. */
  readonly client: ClientInterceptor;
  /** For `ServerOptions.interceptors` (and the HTTP entry's): a SERVER span per request that reaches its handler. */
  readonly server: ServerInterceptor;
}

const TRACER_NAME = 'corpc';

/**
 * Server statuses that are the server's failure (as OpenTelemetry's gRPC conventions count them);
 * the others are the caller's, and leave a server span's status unset. Every failed client call is an error.
 */
const SERVER_ERRORS: ReadonlySet<number> = new Set([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

/**
 * The trace context of each request a server interceptor traces, for the calls its handler makes.
 * An SDK's context manager (AsyncLocalStorage) carries it as well; this also works without one.
 */
const traceOfRequest = new WeakMap<RequestContext, Context>();

/** The client and server interceptors that trace corpc calls with OpenTelemetry. */
export function openTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryInterceptors {
  const tracer: Tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);

  const client: ClientInterceptor = async (call, next) => {
    const parent = parentOfCall(call.context);
    const span = tracer.startSpan(
      call.method.path,
      { kind: SpanKind.CLIENT, attributes: rpcAttributes(call.method) },
      parent,
    );
    span.setAttribute('corpc.target', call.target);
    const traced = span.spanContext();
    if (isSpanContextValid(traced)) {
      call.traceId = traced.traceId;
      call.metadata[TRACEPARENT] = formatTraceParent(traced.traceId, traced.spanId, traced.traceFlags);
      const state = traced.traceState?.serialize();
      if (state) call.metadata[TRACESTATE] = state;
      else delete call.metadata[TRACESTATE];
    }
    try {
      const result = await otelContext.with(trace.setSpan(parent, span), next);
      if (answersWithStream(call.kind, result)) return spanOverStream(span, SpanKind.CLIENT, result, callerLeft);
      ended(span, null, SpanKind.CLIENT);
      return result;
    } catch (error) {
      ended(span, error, SpanKind.CLIENT);
      throw error;
    }
  };

  const server: ServerInterceptor = async (call, next) => {
    const request = call.context;
    const parent = remoteParent(call.metadata);
    const span = tracer.startSpan(
      call.method.path,
      { kind: SpanKind.SERVER, attributes: rpcAttributes(call.method) },
      parent,
    );
    const traced = span.spanContext();
    if (isSpanContextValid(traced) && request.traceId !== traced.traceId) {
      // A caller without tracing sent its own id: the trace's id is the request's from here on.
      if (request.traceId !== '') span.setAttribute('corpc.caller_trace_id', request.traceId);
      request.adoptTraceId(traced.traceId);
    }
    const active = trace.setSpan(parent, span);
    traceOfRequest.set(request, active);
    // A result after the deadline or a cancellation is not sent: the caller gets that instead.
    const outcome = (): RpcError | null => request.cancellationAt(now());
    try {
      const result = await otelContext.with(active, next);
      if (answersWithStream(call.kind, result)) return spanOverStream(span, SpanKind.SERVER, result, outcome);
      ended(span, outcome(), SpanKind.SERVER);
      return result;
    } catch (error) {
      ended(span, error, SpanKind.SERVER);
      throw error;
    }
  };

  return Object.freeze({ client, server });
}

/** Whether the call answers with a stream of responses, which its span lasts as long as. */
function answersWithStream(kind: MethodKind, result: unknown): result is AsyncIterable<unknown> {
  return (kind === 'server-stream' || kind === 'bidi-stream') && isAsyncIterable(result);
}

/** A client's reader that leaves its loop early cancels the stream. */
function callerLeft(): RpcError {
  return new RpcError(Status.CANCELLED, 'the caller stopped reading the stream', { reason: Reason.Cancelled });
}

/**
 * The responses passed on as they come; the span ends with the stream: at its end (OK), with its
 * error, or, when the reader stops early, with `stopped()`'s outcome. It counts the messages.
 */
async function* spanOverStream(
  span: Span,
  kind: SpanKind,
  responses: AsyncIterable<unknown>,
  stopped: () => RpcError | null,
): AsyncGenerator<unknown> {
  let messages = 0;
  let outcome: unknown;
  try {
    for await (const response of responses) {
      messages++;
      yield response;
    }
    outcome = null;
  } catch (error) {
    outcome = error;
    throw error;
  } finally {
    span.setAttribute('rpc.corpc.stream_messages', messages);
    ended(span, outcome === undefined ? stopped() : outcome, kind);
  }
}

function rpcAttributes(method: MethodDescriptor): Record<string, string> {
  const slash = method.path.lastIndexOf('/');
  return {
    'rpc.system': 'corpc',
    'rpc.service': slash < 0 ? '' : method.path.slice(0, slash),
    'rpc.method': method.path.slice(slash + 1),
  };
}

/** The parent of a client span: the active span, else the request's own trace (its server span, or the traceparent it came with). */
function parentOfCall(request: RequestContext | undefined): Context {
  const active = otelContext.active();
  if (request === undefined || trace.getSpan(active) !== undefined) return active;
  return traceOfRequest.get(request) ?? remoteParent(request.metadata);
}

/** The caller's trace from a request's metadata, or a root when it has none (or a malformed one). */
function remoteParent(metadata: Metadata): Context {
  const parent = parseTraceParent(metadata[TRACEPARENT]);
  if (parent === null) return ROOT_CONTEXT;
  const state = parseTraceState(metadata[TRACESTATE]);
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.flags,
    isRemote: true,
    ...(state === null ? {} : { traceState: createTraceState(state) }),
  });
}

/** Records the call's outcome (`failure` null for a success) and ends the span. */
function ended(span: Span, failure: unknown, kind: SpanKind): void {
  if (failure === null) {
    span.setAttribute('rpc.corpc.status_code', Status.OK);
    span.end();
    return;
  }
  const error = RpcError.from(failure);
  const code: StatusName = error.code;
  span.setAttribute('rpc.corpc.status_code', error.status);
  span.setAttribute('error.type', code);
  if (error.reason !== undefined) span.setAttribute('rpc.corpc.reason', error.reason);
  // What the handler threw (not an RpcError): its stack is for the trace backend, as for the log.
  if (error !== failure) span.recordException(failure instanceof Error ? failure : String(failure));
  if (kind === SpanKind.CLIENT || SERVER_ERRORS.has(error.status))
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${code}: ${error.message}` });
  span.end();
}
