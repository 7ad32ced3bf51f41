/**
 * A `voxlite server --script` route: registrar with digest, then "proxy to the user's phones,
 * and to voicemail when they are busy or do not answer" (the seed's programmable-server idea).
 *
 *   voxlite server -t udp -l 127.0.0.1:5060 -r example.com --users users.txt \
 *     --script examples/voicemail-route.ts
 *
 * Environment (read when the script is (re)loaded):
 * - `VOICEMAIL`: host:port of the voicemail server (default 127.0.0.1:5090); calls go there as
 *   `sip:<user>@<VOICEMAIL>`, so the voicemail server knows whose box it is;
 * - `NO_ANSWER_MS`: how long the phones ring before voicemail takes the call (default 20000).
 *
 * In-dialog requests (ACK, BYE, re-INVITE) never reach this route: the agent loose-routes
 * them along the Record-Route it created (and refuses forged ones, G34).
 */
import type { ProxyTarget, RequestContext, RouteModule } from '../src/proxy/index.js';
import { onMethod } from '../src/proxy/index.js';

const VOICEMAIL = process.env.VOICEMAIL ?? '127.0.0.1:5090';
const NO_ANSWER_MS = Number(process.env.NO_ANSWER_MS ?? 20_000);
/** Final responses that mean "the user did not take the call". */
const UNAVAILABLE = new Set([408, 480, 486, 487, 600, 603]);

/** The voicemail box of the user in the Request-URI. */
function voicemailOf(ctx: RequestContext): ProxyTarget | undefined {
  const uri = ctx.uri;
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return undefined;
  if (!('user' in uri) || uri.user === null) return undefined;
  return `sip:${uri.user}@${VOICEMAIL}`;
}

export default [
  // REGISTER: digest first (G20), then only your own AOR (G21), then the registrar.
  onMethod('REGISTER', async (ctx) => {
    const user = await ctx.authenticate();
    if (user === undefined) return ctx.challenge();
    const to = ctx.request.to().uri;
    if (!('user' in to) || to.user !== user) return ctx.reject(403, 'Forbidden (not your address-of-record)');
    return ctx.accept();
  }),

  // Only our own users are served: no relaying to other domains (G31).
  (ctx) => {
    if (!ctx.local || ctx.request.routes().length > 0) ctx.reject(403, 'Relaying Denied');
  },

  async (ctx) => {
    const bindings = await ctx.location.lookup(ctx.request.uri);
    const voicemail = voicemailOf(ctx);
    if (ctx.method !== 'INVITE') {
      return bindings.length > 0 ? ctx.proxy(bindings, { recordRoute: true }) : ctx.reject(480);
    }
    if (bindings.length === 0) {
      // Nobody registered: straight to voicemail.
      return voicemail === undefined ? ctx.reject(480) : ctx.proxy(voicemail, { recordRoute: true });
    }
    await ctx.proxy(bindings, {
      recordRoute: true,
      timeoutMs: NO_ANSWER_MS,
      // Busy, declined or no answer: voicemail takes the call in the same transaction.
      onFailure: (response, { timedOut }) => (timedOut || UNAVAILABLE.has(response.status) ? voicemail : undefined),
    });
  },
] satisfies RouteModule;
