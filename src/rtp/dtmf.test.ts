import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../core/random.js';
import {
  DTMF_DIGITS,
  DtmfReceiver,
  DtmfSender,
  dtmfDigitToEvent,
  dtmfEventToDigit,
  parseTelephoneEvent,
  serializeTelephoneEvent,
  type DtmfPacket,
} from './dtmf.js';
import { RtpPacket } from './packet.js';

const ALL = '0123456789*#ABCD';

/** Feeds packets to a receiver and returns the digits reported (type 'digit'), in order. */
function receiveAll(packets: readonly DtmfPacket[], receiver = new DtmfReceiver()): string {
  let digits = '';
  for (const p of packets) {
    const report = receiver.receive(p.payload, p.timestamp);
    if (report?.type === 'digit') digits += report.digit;
  }
  return digits;
}

describe('telephone-event payload (RFC 4733 §2.3)', () => {
  test('parse', () => {
    assert.deepEqual(parseTelephoneEvent(Uint8Array.of(11, 0x8a, 0x03, 0x20)), {
      event: 11,
      end: true,
      volume: 10,
      duration: 800,
    });
    // The R bit is ignored.
    assert.deepEqual(parseTelephoneEvent(Uint8Array.of(1, 0x40 | 63, 0, 0)), { event: 1, end: false, volume: 63, duration: 0 });
    assert.equal(parseTelephoneEvent(Uint8Array.of(1, 2, 3)), null);
  });

  test('serialise round trip, fresh and into a buffer', () => {
    const event = { event: 15, end: true, volume: 63, duration: 65535 };
    assert.deepEqual([...serializeTelephoneEvent(event)], [15, 0xbf, 0xff, 0xff]);
    assert.deepEqual(parseTelephoneEvent(serializeTelephoneEvent(event)), event);
    const target = new Uint8Array(8);
    const view = serializeTelephoneEvent({ event: 5, end: false, volume: 10, duration: 160 }, target, 4);
    assert.equal(view.byteOffset, 4);
    assert.deepEqual([...target], [0, 0, 0, 0, 5, 10, 0, 160]);
  });

  test('range checks', () => {
    assert.throws(() => serializeTelephoneEvent({ event: 256, end: false, volume: 0, duration: 0 }), RangeError);
    assert.throws(() => serializeTelephoneEvent({ event: 1, end: false, volume: 64, duration: 0 }), RangeError);
    assert.throws(() => serializeTelephoneEvent({ event: 1, end: false, volume: 0, duration: 65536 }), RangeError);
  });

  test('digit ↔ event code for 0-9 * # A-D', () => {
    assert.equal(DTMF_DIGITS, ALL);
    for (let code = 0; code < 16; code++) assert.equal(dtmfDigitToEvent(dtmfEventToDigit(code)!), code);
    assert.equal(dtmfDigitToEvent('*'), 10);
    assert.equal(dtmfDigitToEvent('#'), 11);
    assert.equal(dtmfDigitToEvent('a'), 12);
    assert.equal(dtmfDigitToEvent('E'), undefined);
    assert.equal(dtmfDigitToEvent('12'), undefined);
    assert.equal(dtmfEventToDigit(16), undefined);
  });
});

describe('DtmfSender (RFC 4733 §2.5.1)', () => {
  test('one digit, defaults: marker first, same timestamp, growing duration, three end packets', () => {
    const packets = new DtmfSender().plan('5', 1000);
    assert.deepEqual(
      packets.map((p) => [p.offsetMs, p.marker, p.timestamp, p.event.event, p.event.end, p.event.duration, p.event.volume]),
      [
        [0, true, 1000, 5, false, 160, 10],
        [20, false, 1000, 5, false, 320, 10],
        [40, false, 1000, 5, false, 480, 10],
        [60, false, 1000, 5, false, 640, 10],
        [80, false, 1000, 5, true, 800, 10],
        [100, false, 1000, 5, true, 800, 10],
        [120, false, 1000, 5, true, 800, 10],
      ],
    );
    for (const p of packets) assert.deepEqual(parseTelephoneEvent(p.payload), p.event);
  });

  test('configurable duration, interval, gap and repeats', () => {
    const sender = new DtmfSender({ durationMs: 250, intervalMs: 50, gapMs: 100, endRepeats: 2, volume: 5 });
    const packets = sender.plan('19', 0);
    const one = packets.filter((p) => p.digit === '1');
    assert.deepEqual(one.map((p) => p.event.duration), [400, 800, 1200, 1600, 2000, 2000]);
    const nine = packets.filter((p) => p.digit === '9');
    // Second digit starts 250 + 100 ms later, 350 ms = 2800 timestamp units.
    assert.equal(nine[0]?.offsetMs, 350);
    assert.equal(nine[0]?.timestamp, 2800);
    assert.equal(nine[0]?.marker, true);
  });

  test('a tone shorter than one interval is a single marked end packet, repeated', () => {
    const packets = new DtmfSender({ durationMs: 10 }).plan('#', 0);
    assert.deepEqual(
      packets.map((p) => [p.marker, p.event.end, p.event.duration]),
      [
        [true, true, 80],
        [false, true, 80],
        [false, true, 80],
      ],
    );
  });

  test('digit timestamps advance with the start timestamp and wrap at 2^32', () => {
    const packets = new DtmfSender().plan('12', 0xffffff00);
    const starts = packets.filter((p) => p.marker).map((p) => p.timestamp);
    assert.deepEqual(starts, [0xffffff00, (0xffffff00 + 150 * 8) % 2 ** 32]);
  });

  test('packets send in order and do not overlap the next digit', () => {
    const packets = new DtmfSender().plan(ALL, 0);
    for (let i = 1; i < packets.length; i++) assert.ok(packets[i]!.offsetMs >= packets[i - 1]!.offsetMs);
    assert.equal(packets.filter((p) => p.marker).length, 16);
  });

  test('rejects bad digits and options', () => {
    assert.throws(() => new DtmfSender().plan('12x', 0), RangeError);
    assert.throws(() => new DtmfSender({ durationMs: 9000 }), RangeError); // > 65535 units at 8 kHz
    assert.throws(() => new DtmfSender({ volume: 64 }), RangeError);
    assert.throws(() => new DtmfSender({ endRepeats: 0 }), RangeError);
  });

  test('payloads ride an RTP packet with the marker bit', () => {
    const first = new DtmfSender().plan('7', 480)[0]!;
    const rtp = new RtpPacket({ payloadType: 101, marker: first.marker, timestamp: first.timestamp, payload: first.payload });
    const parsed = RtpPacket.parse(rtp.serialize());
    assert.equal(parsed.marker, true);
    assert.deepEqual(parseTelephoneEvent(parsed.payload)?.event, 7);
  });
});

describe('DtmfReceiver (RFC 4733 §2.5.2)', () => {
  const sender = new DtmfSender();

  test('0-9*#ABCD through sender → receiver', () => {
    assert.equal(receiveAll(sender.plan(ALL, 12345)), ALL);
  });

  test('every packet duplicated', () => {
    const packets = sender.plan(ALL, 0).flatMap((p) => [p, p]);
    assert.equal(receiveAll(packets), ALL);
  });

  test('start packets lost: reported from an update', () => {
    assert.equal(receiveAll(sender.plan(ALL, 0).filter((p) => !p.marker)), ALL);
  });

  test('only end packets arrive: reported once, already ended, with the final duration', () => {
    const receiver = new DtmfReceiver();
    const reports = sender
      .plan(ALL, 0)
      .filter((p) => p.event.end)
      .map((p) => receiver.receive(p.payload, p.timestamp))
      .filter((r) => r !== undefined);
    assert.equal(reports.map((r) => r.digit).join(''), ALL);
    for (const r of reports) {
      assert.equal(r.type, 'digit');
      if (r.type === 'digit') {
        assert.equal(r.ended, true);
        assert.equal(r.durationMs, 100);
      }
    }
  });

  test('only the last end packet of each digit survives', () => {
    const packets = sender.plan(ALL, 0).filter((p, i, all) => p.event.end && all[i + 1]?.timestamp !== p.timestamp);
    assert.equal(packets.length, 16);
    assert.equal(receiveAll(packets), ALL);
  });

  test('repeated digits are distinct events (different timestamps)', () => {
    assert.equal(receiveAll(sender.plan('1111##', 0)), '1111##');
  });

  test('reports a start then one end for a clean event', () => {
    const receiver = new DtmfReceiver();
    const reports = sender.plan('3', 0).map((p) => receiver.receive(p.payload, p.timestamp));
    assert.deepEqual(
      reports.map((r) => r?.type),
      ['digit', undefined, undefined, undefined, 'end', undefined, undefined],
    );
    const end = reports[4];
    assert.equal(end?.type === 'end' ? end.durationMs : 0, 100);
  });

  test('random loss, duplication and reordering (seeded): each digit exactly once, in order', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = new SeededRandom(seed);
      const packets = sender.plan(ALL, random.int(2 ** 32));
      const received: DtmfPacket[] = [];
      for (const p of packets) {
        if (random.int(100) < 30) continue; // 30 % loss…
        received.push(p);
        if (random.int(100) < 20) received.push(p); // …20 % duplicates
      }
      // Local reordering: swap neighbours now and then (never across more than one packet).
      for (let i = 1; i < received.length; i++) {
        if (random.int(100) < 15) [received[i - 1], received[i]] = [received[i]!, received[i - 1]!];
      }
      // A digit whose 7 packets were all lost cannot be reported; with 30 % loss that is rare.
      const survivors = ALL.split('').filter((d) => received.some((p) => p.digit === d)).join('');
      assert.equal(receiveAll(received), survivors, `seed ${seed}`);
    }
  });

  test('end packets retransmitted after the next digit started are still absorbed', () => {
    const packets = sender.plan('12', 0);
    const lateEnd = packets.find((p) => p.digit === '1' && p.event.end)!;
    assert.equal(receiveAll([...packets, lateEnd, lateEnd]), '12');
  });

  test('ignores non-DTMF events and short payloads', () => {
    const receiver = new DtmfReceiver();
    assert.equal(receiver.receive(Uint8Array.of(16, 0x80, 0, 160), 0), undefined); // event 16 (flash is 16)
    assert.equal(receiver.receive(Uint8Array.of(1, 0), 0), undefined);
  });

  test('memory is bounded: old events fall out of the ring', () => {
    const receiver = new DtmfReceiver({ memory: 2 });
    const packets = sender.plan('123', 0);
    assert.equal(receiveAll(packets, receiver), '123');
    // Digit '1' has been forgotten (ring of 2), so a very late copy reports again: the cost of bounding.
    const first = packets[0]!;
    assert.equal(receiver.receive(first.payload, first.timestamp)?.type, 'digit');
  });
});
