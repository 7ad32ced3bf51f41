/**
 * Shared fixtures for the transaction layer's own tests (not part of `voxlite/transaction`'s
 * public surface): request builders and a two-node fake network context.
 *
 * Requests are built fresh on every call (transactions mutate the Via of what they send), from
 * frozen defaults (STYLE §9).
 */
import { FakeClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { createResponse, type ResponseOptions } from '../sip/build.js';
import { Headers } from '../sip/headers.js';
import { SipRequest, type SipResponse } from '../sip/message.js';
import { FakeNetwork, type FakeTransport, type WireMessage } from '../testing/fake-transport.js';
import type { TransportAddress, TransportProtocol } from '../transport/transport.js';
import { TransactionLayer, type TransactionLayerOptions } from './layer.js';

/** Alice (the client side) and Bob (the server side). */
export const ALICE = '127.0.1.1:5060';
export const BOB = '127.0.1.2:5060';

/** Defaults of {@link makeRequest}. */
export const REQUEST_DEFAULTS = Object.freeze({
  uri: 'sip:bob@127.0.1.2:5060',
  from: '<sip:alice@example.com>',
  fromTag: 'a1b2c3',
  to: '<sip:bob@example.com>',
  callId: 'call-1@127.0.1.1',
  seq: 1,
  sentBy: ALICE,
  transport: 'UDP',
});

/** Options of {@link makeRequest}. */
export interface RequestFixture {
  readonly uri?: string;
  /** Branch of the top Via; `null` for a Via without branch. Default: a fresh `z9hG4bK…`. */
  readonly branch?: string | null;
  /** The whole top Via value, overriding sentBy/transport/branch; `null` for no Via at all. */
  readonly via?: string | null;
  readonly sentBy?: string;
  readonly transport?: string;
  readonly fromTag?: string;
  readonly toTag?: string;
  readonly callId?: string;
  readonly seq?: number;
  readonly body?: string;
}

let branchCounter = 0;

/** A unique RFC 3261 branch for a fixture. */
export function fixtureBranch(): string {
  branchCounter += 1;
  return `z9hG4bK-fixture-${branchCounter}`;
}

/** A new request of `method` with the usual headers (Via, Max-Forwards, From, To, Call-ID, CSeq, Content-Length). */
export function makeRequest(method: string, options: RequestFixture = {}): SipRequest {
  const d = REQUEST_DEFAULTS;
  const headers = new Headers();
  if (options.via !== null) {
    const branch = options.branch === undefined ? fixtureBranch() : options.branch;
    const via =
      options.via ??
      `SIP/2.0/${options.transport ?? d.transport} ${options.sentBy ?? d.sentBy}${branch === null ? '' : `;branch=${branch}`}`;
    headers.append('Via', via);
  }
  headers.append('Max-Forwards', '70');
  headers.append('From', `${d.from};tag=${options.fromTag ?? d.fromTag}`);
  headers.append('To', options.toTag === undefined ? d.to : `${d.to};tag=${options.toTag}`);
  headers.append('Call-ID', options.callId ?? d.callId);
  headers.append('CSeq', `${options.seq ?? d.seq} ${method}`);
  if (method === 'INVITE') headers.append('Contact', '<sip:alice@127.0.1.1:5060>');
  const request = new SipRequest({ method, uri: options.uri ?? d.uri, headers });
  request.setBody(options.body ?? '', options.body === undefined ? undefined : 'text/plain');
  return request;
}

/** A response to `request` (copied Via/From/To/Call-ID/CSeq), with To tag `b-tag` for non-100 unless told otherwise. */
export function makeResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  return createResponse(request, status, { toTag: 'b-tag', ...options });
}

/** A fresh test context: a clock, a network, and Alice's and Bob's transports (UDP and TCP each). */
export interface NetContext {
  readonly clock: FakeClock;
  readonly net: FakeNetwork;
  readonly aliceTransport: FakeTransport;
  readonly bobTransport: FakeTransport;
  /** Bob's address for `protocol`, as a send target. */
  bob(protocol?: TransportProtocol): TransportAddress;
  /** Alice's address for `protocol`, as a send target. */
  alice(protocol?: TransportProtocol): TransportAddress;
}

/** Builds a {@link NetContext} (seeded, so lossy runs repeat). */
export function createNetContext(seed = 1): NetContext {
  const clock = new FakeClock();
  const net = new FakeNetwork({ clock, random: new SeededRandom(seed) });
  const aliceTransport = net.endpoint(ALICE, ['udp', 'tcp']);
  const bobTransport = net.endpoint(BOB, ['udp', 'tcp']);
  return {
    clock,
    net,
    aliceTransport,
    bobTransport,
    bob: (protocol = 'udp') => net.target(BOB, protocol),
    alice: (protocol = 'udp') => net.target(ALICE, protocol),
  };
}

/** A layer on `transport` with a seeded random and the given extra options. */
export function createLayer(
  ctx: NetContext,
  transport: FakeTransport,
  options: Partial<Omit<TransactionLayerOptions, 'transport' | 'clock'>> = {},
): TransactionLayer {
  return new TransactionLayer({ transport, clock: ctx.clock, random: new SeededRandom(7), ...options });
}

/** Send times (ms) of the recorded messages with this label. */
export function timesOf(wires: readonly WireMessage[], label: string): number[] {
  return wires.filter((w) => w.label === label).map((w) => w.sentAt);
}

/** Lets pending promise callbacks (transport send rejections) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Handlers that record what a client transaction reports. */
export interface ClientRecorder {
  readonly responses: SipResponse[];
  readonly events: string[];
  readonly handlers: {
    onResponse(response: SipResponse): void;
    onTimeout(): void;
    onTransportError(error: Error): void;
  };
}

/** A fresh {@link ClientRecorder}. */
export function recordClient(): ClientRecorder {
  const responses: SipResponse[] = [];
  const events: string[] = [];
  return {
    responses,
    events,
    handlers: {
      onResponse: (r) => {
        responses.push(r);
        events.push(`response:${r.status}`);
      },
      onTimeout: () => events.push('timeout'),
      onTransportError: (e) => events.push(`transportError:${e.message}`),
    },
  };
}
