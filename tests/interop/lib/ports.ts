/** Spare loopback ports for peer processes that need a fixed port number on UDP and TCP at once. */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function tryUdp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

function tryTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A port free on `host` for UDP and TCP, and for the next `span - 1` ports too (e.g. RTP
 * ranges). Picks at random in 20000–59999 so parallel test files rarely collide.
 */
export async function sparePort(host = '127.0.0.1', span = 1): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + 2 * Math.floor(Math.random() * 19_000);
    let free = true;
    for (let p = base; p < base + span && free; p++) {
      free = (await tryUdp(host, p)) && (await tryTcp(host, p));
    }
    if (free) return base;
  }
  throw new Error('no spare port found');
}
