/** Shared set-up of the `voxlite server` end-to-end tests: a server and UserAgents on 127.0.0.1 sockets. */
import { startServer, UserDirectory, type ServerOptions, type SipServer } from '../../src/proxy/index.js';
import { UserAgent, type UserAgentOptions } from '../../src/ua/user-agent.js';
import type { ListenerConfig } from '../../src/transport/layer.js';
import type { TransportAddress } from '../../src/transport/transport.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';

export const DOMAIN = 'example.com';
export const REALM = 'example.com';

/** alice/bob/carol with password "secret-<name>". */
export function testUsers(): UserDirectory {
  const users = new UserDirectory();
  for (const name of ['alice', 'bob', 'carol']) users.set(UserDirectory.record(name, REALM, `secret-${name}`));
  return users;
}

export interface Rig {
  readonly server: SipServer;
  readonly proxy: TransportAddress;
  readonly agents: UserAgent[];
  ua(name: string, options?: Partial<UserAgentOptions> & { password?: string | null }): Promise<UserAgent>;
  send(ua: UserAgent, request: SipRequest, options?: Parameters<UserAgent['request']>[1]): Promise<SipResponse>;
  register(ua: UserAgent, user: string, options?: { contact?: string; target?: TransportAddress }): Promise<SipResponse>;
  close(): Promise<void>;
}

/** A server with the given options on an ephemeral UDP port (plus `extra` listeners). */
export async function startRig(options: Partial<ServerOptions> & { readonly noUsers?: boolean } = {}, extra: readonly ListenerConfig[] = []): Promise<Rig> {
  const { noUsers, ...serverOptions } = options;
  const server = await startServer({
    listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }, ...extra],
    domains: [DOMAIN],
    realm: REALM,
    ...(noUsers === true ? {} : { users: testUsers() }),
    ...serverOptions,
  });
  const proxy = server.agent.localAddress('udp')!;
  const agents: UserAgent[] = [];
  const rig: Rig = {
    server,
    proxy,
    agents,
    async ua(name, uaOptions = {}) {
      const { password, ...rest } = uaOptions;
      const ua = new UserAgent({
        aor: `sip:${name}@${DOMAIN}`,
        ...(password === null ? {} : { credentials: { username: name, password: password ?? `secret-${name}` } }),
        ...rest,
      });
      agents.push(ua);
      await ua.start();
      return ua;
    },
    send(ua, request, requestOptions = {}) {
      return ua.request(request, { target: proxy, ...requestOptions });
    },
    async register(ua, user, registerOptions = {}) {
      const request = ua.createRequest({ method: 'REGISTER', uri: `sip:${DOMAIN}`, to: `sip:${user}@${DOMAIN}`, from: `sip:${user}@${DOMAIN}` });
      if (registerOptions.contact !== undefined) request.headers.set('Contact', registerOptions.contact);
      return ua.request(request, { target: registerOptions.target ?? proxy });
    },
    async close() {
      for (const ua of agents) await ua.close();
      await server.close();
    },
  };
  return rig;
}

/** Resolves when `predicate` holds, polling every 5 ms; rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
