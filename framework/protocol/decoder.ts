import { Reason, RpcError, Status } from '../errors.ts';
import {
  FRAME_BASE_BYTES,
  LENGTH_BYTES,
  MAX_FRAME_KIND,
  MAX_V1_FRAME_KIND,
  PREFACE_BYTES,
  PROTOCOL_VERSION,
  describePreface,
  prefaceVersion,
} from './frames.ts';

/** Receives what a FrameDecoder reads. */
export interface FrameSink {
  /** One complete frame; `buf[start]` is its kind byte and `end` is exclusive. The bytes stay valid. */
  onFrame(kind: number, id: number, buf: Buffer, start: number, end: number): void;
  /** The peer's preface arrived and is valid; `version` is the one the connection speaks (the lower of the two sides'). */
  onPreface(version: number): void;
  /** The peer broke the protocol; no more frames follow. */
  onProtocolError(error: RpcError): void;
}

const enum State {
  Preface,
  Frames,
  Failed,
}

/**
 * Turns a byte stream into frames, as a small state machine: preface, then frames. Complete
 * frames are handed over as offsets into the chunk they arrived in (no copy). A partial frame
 * is kept as a list of chunks and joined once, when its last byte arrives; its declared length
 * is checked against the limit first, so a peer cannot make us buffer more than `maxFrameBytes`.
 */
export class FrameDecoder {
  private state = State.Preface;
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the frame at the head of `pending` needs in all (prefix included); 0 while unknown. */
  private needed = 0;
  /** The version the connection speaks, known once the peer's preface has arrived. */
  version = PROTOCOL_VERSION;
  private maxKind: number = MAX_FRAME_KIND;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameBytes: number,
  ) {}

  /** True while a frame (or the preface) has been started but not finished. */
  get midFrame(): boolean {
    return this.pendingBytes > 0 || this.state === State.Preface;
  }

  push(chunk: Buffer): void {
    if (this.state === State.Failed) return;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.needed !== 0 && this.pendingBytes < this.needed) return;
      chunk = Buffer.concat(this.pending, this.pendingBytes);
      this.pending.length = 0;
      this.pendingBytes = 0;
      this.needed = 0;
    }
    this.read(chunk);
  }

  /** Stops decoding; later bytes are ignored. */
  fail(): void {
    this.state = State.Failed;
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  private read(buf: Buffer): void {
    let offset = 0;
    if (this.state === State.Preface) {
      if (buf.length < PREFACE_BYTES) return this.keep(buf, 0);
      const version = prefaceVersion(buf, 0);
      if (version === -1) {
        return this.error(Status.INTERNAL, `protocol error: ${describePreface(buf.subarray(0, PREFACE_BYTES))}`);
      }
      this.state = State.Frames;
      this.version = version;
      if (version === 1) this.maxKind = MAX_V1_FRAME_KIND;
      offset = PREFACE_BYTES;
      this.sink.onPreface(version);
    }
    const limit = buf.length;
    while (limit - offset >= LENGTH_BYTES) {
      const length = buf.readUInt32BE(offset);
      if (length > this.maxFrameBytes) {
        return this.error(
          Status.RESOURCE_EXHAUSTED,
          `protocol error: frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes (maxFrameBytes)`,
          Reason.FrameTooLarge,
        );
      }
      if (length < FRAME_BASE_BYTES) {
        return this.error(Status.INTERNAL, `protocol error: frame of ${length} bytes is shorter than a frame header`);
      }
      const start = offset + LENGTH_BYTES;
      const end = start + length;
      if (end > limit) {
        this.needed = LENGTH_BYTES + length;
        break;
      }
      const kind = buf[start]!;
      if (kind === 0 || kind > this.maxKind) {
        const version = kind <= MAX_FRAME_KIND ? ` in protocol version ${this.version}` : '';
        return this.error(Status.INTERNAL, `protocol error: unknown frame kind ${kind}${version}`);
      }
      this.sink.onFrame(kind, buf.readUInt32BE(start + 1), buf, start, end);
      if (this.state === State.Failed) return;
      offset = end;
    }
    if (offset < limit) this.keep(buf, offset);
  }

  private keep(buf: Buffer, offset: number): void {
    const rest = offset === 0 ? buf : buf.subarray(offset);
    this.pending.push(rest);
    this.pendingBytes = rest.length;
  }

  private error(status: RpcError['status'], message: string, reason: Reason = Reason.ProtocolError): void {
    this.fail();
    this.sink.onProtocolError(new RpcError(status, message, { reason }));
  }
}
