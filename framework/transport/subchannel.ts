import { debuglog } from 'node:util';
import { Reason, RpcError, Status } from '../errors.ts';
import type { BalancedEndpoint } from '../balancer.ts';
import { now } from '../deadline.ts';
import { formatHostPort } from '../resolver/address.ts';
import { ClientConnection, ClientConnectionState, type ConnectionEvents } from './client-connection.ts';
import { CalleeLevelCache } from './callee-level-cache.ts';
import { HealthWatch } from './health-watch.ts';
import type { ClientConnectionOptions } from './keepalive.ts';

const debug = debuglog('corpc:client');

/**
 * What a subchannel needs from the channel that owns it, and nothing more (grpc-js's
 * `ChannelControlHelper` is the model): the channel stays free to keep everything else private.
 */
export interface SubchannelOwner {
  /** False once the channel is closing: a subchannel then reconnects nothing. */
  isOpen(): boolean;
  /** A connection became ready or went away: the channel recomputes which subchannels take calls. */
  subchannelChanged(): void;
  /** A connect failed: the target's name may point elsewhere now, so the channel resolves it again. */
  subchannelFailed(): void;
}

/** The channel-wide settings every subchannel shares (one object, made once per channel). */
export interface SubchannelSettings {
  /** Connections kept to the address (`ChannelOptions.connectionsPerEndpoint`). */
  readonly connections: number;
  /** How each connection is opened and kept alive. */
  readonly connection: ClientConnectionOptions;
  /** First reconnect delay after a failed connect, doubled per failure up to `maxBackoffMs`. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** A reported admission level that no answer refreshed for this long is forgotten. */
  readonly admissionLevelTtlMs: number;
  /** Watch the server's health (`ChannelOptions.healthCheck`). */
  readonly healthCheck: boolean;
  /** Sign the priorities of the subchannel's own calls (its health Watch) with this key (`ChannelOptions.priorityKey`). */
  readonly priorityKey: Buffer | undefined;
}

export interface SubchannelOptions {
  readonly host: string;
  readonly port: number;
  readonly settings: SubchannelSettings;
  readonly owner: SubchannelOwner;
}

/** A subchannel's state as `Channel.endpoints()` reports it (public as `EndpointState`). */
export type EndpointState = 'ready' | 'connecting' | 'backoff' | 'idle';

/**
 * A channel's link to one resolved server address: the connections to it, the reconnect backoff
 * after a failed connect, and the admission level that server last reported. The channel keeps
 * one per address in the resolved set and picks among the ready ones for each call.
 */
export class Subchannel implements ConnectionEvents, BalancedEndpoint {
  readonly host: string;
  readonly port: number;
  /** `host:port`, IPv6 in brackets. */
  readonly address: string;
  /** The admission level this server last reported (compound B*128+U), expiring if not refreshed. */
  readonly calleeLevel: CalleeLevelCache;
  /** SRV weight and priority (1 and 0 when the address gave none). */
  weight = 1;
  priority = 0;
  /** Connections that finished their handshake and take calls. */
  readyConnections = 0;
  /** No longer in the resolved set: its connections drain and it is not reconnected. */
  retired = false;
  private readonly settings: SubchannelSettings;
  private readonly owner: SubchannelOwner;
  private readonly connections: (ClientConnection | null)[];
  private failures = 0;
  private retryAt = 0;
  private lastError: RpcError | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** With `healthCheck`: what the server says of its health; null without. */
  private readonly health: HealthWatch | null;

  constructor(options: SubchannelOptions) {
    this.host = options.host;
    this.port = options.port;
    this.address = formatHostPort(options.host, options.port);
    this.settings = options.settings;
    this.owner = options.owner;
    this.connections = new Array<ClientConnection | null>(options.settings.connections).fill(null);
    this.calleeLevel = new CalleeLevelCache(options.settings.admissionLevelTtlMs);
    this.health = options.settings.healthCheck
      ? new HealthWatch(
          {
            readyConnection: () => this.readyConnection(),
            servingChanged: () => this.owner.subchannelChanged(),
          },
          options.settings.priorityKey,
        )
      : null;
  }

  /** False while its server's health says NOT_SERVING (with `healthCheck`); the channel then prefers the others. */
  get serving(): boolean {
    return this.health?.serving ?? true;
  }

  private readyConnection(): ClientConnection | null {
    for (const connection of this.connections) if (connection?.state === ClientConnectionState.Ready) return connection;
    return null;
  }

  /** Calls in flight on its connections. */
  get inFlight(): number {
    let total = 0;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) total += connections[i]?.load ?? 0;
    return total;
  }

  /** True while a connect is under way. */
  get connecting(): boolean {
    return this.connections.some((connection) => connection?.state === ClientConnectionState.Connecting);
  }

  /** Opens connections in the free slots, unless backing off. */
  connect(): void {
    if (now() >= this.retryAt) this.openConnections();
  }

  private openConnections(): void {
    if (this.retired) return;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) {
      const connection = connections[i];
      if (connection === null || !connection!.usable) this.openSlot(i);
    }
  }

  private openSlot(slot: number): ClientConnection {
    return (this.connections[slot] = new ClientConnection(this.host, this.port, this.settings.connection, this));
  }

  /** The least busy usable connection, opening one where a slot is free; null while backing off. */
  pick(): ClientConnection | null {
    let best: ClientConnection | null = null;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) {
      let connection = connections[i]!;
      if (connection === null || !connection.usable) {
        if (now() < this.retryAt) continue;
        connection = this.openSlot(i);
      }
      if (best === null || connection.load < best.load) best = connection;
    }
    return best;
  }

  /** Why the subchannel cannot take calls now. */
  unavailable(): RpcError {
    return new RpcError(Status.UNAVAILABLE, this.describeFailure(), { reason: Reason.Unavailable });
  }

  describeFailure(): string {
    const wait = Math.max(0, Math.ceil(this.retryAt - now()));
    const cause = this.lastError?.message ?? `no connection to ${this.address}`;
    return `${cause} (next attempt in ${wait} ms)`;
  }

  /** For `Channel.endpoints()`. */
  get state(): EndpointState {
    if (this.readyConnections > 0) return 'ready';
    if (this.connecting) return 'connecting';
    return now() < this.retryAt ? 'backoff' : 'idle';
  }

  onAdmissionLevel(level: number, time: number): void {
    this.calleeLevel.update(level, time);
  }

  onReady(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = null;
    this.recount();
    this.health?.resume();
  }

  onClosed(connection: ClientConnection, error: RpcError | null): void {
    const index = this.connections.indexOf(connection);
    if (index === -1) return;
    this.connections[index] = null;
    if (error !== null) {
      // A connect that failed: back off (exponentially, with jitter) before trying this address again.
      this.lastError = error;
      const base = Math.min(this.settings.maxBackoffMs, this.settings.initialBackoffMs * 2 ** this.failures);
      this.failures++;
      this.retryAt = now() + base * (0.8 + Math.random() * 0.4);
      debug('%s unreachable (%s); retrying in %d ms', this.address, error.message, Math.round(this.retryAt - now()));
    }
    this.recount();
    if (this.retired || !this.owner.isOpen()) return;
    // The watch was on this connection, perhaps: another ready one takes it over.
    this.health?.resume();
    // Reconnect in the background (calls go to the other subchannels meanwhile), and ask DNS
    // again: the address may have moved.
    this.scheduleReconnect();
    if (error !== null) this.owner.subchannelFailed();
  }

  /** Leaves the set: calls in flight finish, nothing new is sent, no reconnects. */
  retire(): void {
    this.retired = true;
    this.stopWatching();
    this.stopReconnecting();
    this.each((connection) => connection.drain());
  }

  /** Stops the health watch (its Watch in flight is cancelled, so a drain does not wait for it). */
  stopWatching(): void {
    this.health?.stop();
  }

  stopReconnecting(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** Connections, for drain and destroy. */
  each(visit: (connection: ClientConnection) => void): void {
    for (const connection of this.connections) if (connection !== null) visit(connection);
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = null;
        // Not connect(): a timer may fire a fraction of a millisecond before retryAt.
        if (this.owner.isOpen()) this.openConnections();
      },
      Math.max(0, Math.ceil(this.retryAt - now())),
    );
    this.reconnectTimer.unref();
  }

  private recount(): void {
    let ready = 0;
    for (const connection of this.connections) if (connection?.state === ClientConnectionState.Ready) ready++;
    this.readyConnections = ready;
    this.owner.subchannelChanged();
  }
}
