/**
 * `voxlite/testing`: what voxlite's own tests use, shipped for users' tests — a fake clock, an
 * in-memory network with drop/delay/duplicate knobs, a fake DNS, a transport impairer, and
 * message fixtures — so route functions and UA logic are tested without sockets or waiting.
 */
export { FakeClock } from '../core/clock.js';
export { SeededRandom } from '../core/random.js';
export * from './fake-transport.js';
export * from './fake-dns.js';
export { ImpairedTransport, type Impairment } from './impaired-transport.js';
