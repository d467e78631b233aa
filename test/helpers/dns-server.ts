import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import * as dnsPacket from 'dns-packet';

/** Records of one name, as the test server answers them. */
export interface Records {
  A?: string[];
  AAAA?: string[];
  SRV?: { priority: number; weight: number; port: number; target: string }[];
  /** TTL of every record of the name, in seconds. Default 60. */
  ttl?: number;
}

export type Zone = Record<string, Records>;

type RecordType = 'A' | 'AAAA' | 'SRV';

/**
 * A small authoritative DNS server for tests, on UDP 127.0.0.1 and a free port: answers A, AAAA
 * and SRV from a zone the test can change, NXDOMAIN for names it does not have, counts the
 * queries it gets, and can stop answering (all names, or one) to play a dead server.
 */
export class DnsServer {
  /** `127.0.0.1:port`, for Resolver's servers option. */
  readonly address: string;
  private readonly zone = new Map<string, Records>();
  private readonly counts = new Map<string, number>();
  private readonly silent = new Set<string>();
  private answering = true;

  private constructor(
    private readonly socket: Socket,
    zone: Zone,
  ) {
    const { port } = socket.address();
    this.address = `127.0.0.1:${port}`;
    for (const [name, records] of Object.entries(zone)) this.set(name, records);
    socket.on('message', (message, peer) => this.answer(message, peer));
  }

  static async start(zone: Zone = {}): Promise<DnsServer> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new DnsServer(socket, zone);
  }

  /** Sets (replaces) the records of a name. */
  set(name: string, records: Records): void {
    this.zone.set(name.toLowerCase(), records);
  }

  /** Removes a name: it is answered NXDOMAIN from now on. */
  remove(name: string): void {
    this.zone.delete(name.toLowerCase());
  }

  /** Stops answering (queries are read and dropped, so clients time out), or answers again. */
  setAnswering(answering: boolean): void {
    this.answering = answering;
  }

  /** Never answers queries for this name (others still are). */
  hang(name: string): void {
    this.silent.add(name.toLowerCase());
  }

  /** Queries received for a name (of one type, or of every type). */
  queries(name: string, type?: RecordType): number {
    const key = name.toLowerCase();
    if (type !== undefined) return this.counts.get(`${type} ${key}`) ?? 0;
    let total = 0;
    for (const [counted, count] of this.counts) if (counted.endsWith(` ${key}`)) total += count;
    return total;
  }

  async close(): Promise<void> {
    this.socket.close();
    await once(this.socket, 'close');
  }

  private answer(message: Buffer, peer: RemoteInfo): void {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (question === undefined) return;
    const name = question.name.toLowerCase();
    const countKey = `${question.type} ${name}`;
    this.counts.set(countKey, (this.counts.get(countKey) ?? 0) + 1);
    if (!this.answering || this.silent.has(name)) return;
    const records = this.zone.get(name);
    const answers: dnsPacket.Answer[] = [];
    if (records !== undefined) {
      const ttl = records.ttl ?? 60;
      if (question.type === 'A')
        for (const data of records.A ?? []) answers.push({ type: 'A', name: question.name, ttl, data });
      if (question.type === 'AAAA')
        for (const data of records.AAAA ?? []) answers.push({ type: 'AAAA', name: question.name, ttl, data });
      if (question.type === 'SRV')
        for (const data of records.SRV ?? []) answers.push({ type: 'SRV', name: question.name, ttl, data });
    }
    const NXDOMAIN = 3;
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER |
        ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
        (records === undefined ? NXDOMAIN : 0),
      questions: [question],
      answers,
    });
    this.socket.send(reply, peer.port, peer.address);
  }
}
