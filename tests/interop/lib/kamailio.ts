/**
 * A minimal Kamailio registrar/proxy with digest auth for interop tests, on a spare loopback
 * port. Every user has the same password; the realm is the To domain for REGISTER (401) and
 * the From domain for INVITE/MESSAGE from local users (407), as in Kamailio's usual config.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { sparePort } from './ports.js';
import { startPeer, type PeerProcess } from './process.js';

export interface Kamailio {
  readonly host: string;
  readonly port: number;
  readonly process: PeerProcess;
  stop(): Promise<void>;
}

function config(o: { host: string; port: number; password: string; algorithm: 'MD5' | 'SHA-256'; runDir: string }): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
listen=udp:${o.host}:${o.port}
listen=tcp:${o.host}:${o.port}
alias="${o.host}:${o.port}"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
loadmodule "ctl.so"
modparam("ctl", "binrpc", "unix:${o.runDir}/kamailio_ctl")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "gruu_enabled", 0)
modparam("auth", "algorithm", "${o.algorithm}")
modparam("auth", "nonce_expire", 30)

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  xlog("L_INFO", "REQ $rm $ru from $si:$sp AUTH[$hdr(Authorization)$hdr(Proxy-Authorization)]\\n");
  force_rport();
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) t_relay(); exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
  if (is_method("REGISTER")) {
    if (!pv_auth_check("$td", "${o.password}", "0", "1")) { auth_challenge("$td", "1"); exit; }
    consume_credentials();
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (is_method("INVITE|MESSAGE") && $fd == "${o.host}") {
    if (!pv_auth_check("$fd", "${o.password}", "0", "1")) { auth_challenge("$fd", "1"); exit; }
    consume_credentials();
  }
  if (is_method("INVITE")) record_route();
  if ($rd == "${o.host}") {
    if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  }
  if (!t_relay()) sl_reply_error();
  exit;
}
`;
}

/** Starts Kamailio and waits until it listens. The caller must `stop()` it. */
export async function startKamailio(options: { password: string; algorithm?: 'MD5' | 'SHA-256'; host?: string }): Promise<Kamailio> {
  const host = options.host ?? '127.0.0.1';
  const port = await sparePort(host);
  const runDir = mkdtempSync(join(tmpdir(), 'voxlite-kamailio-'));
  const cfg = join(runDir, 'kamailio.cfg');
  writeFileSync(cfg, config({ host, port, password: options.password, algorithm: options.algorithm ?? 'MD5', runDir }));
  const check = spawnSync('kamailio', ['-c', '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio config check failed:\n${check.stdout}${check.stderr}`);
  const proc = startPeer('kamailio', ['-DD', '-E', '-f', cfg, '-Y', runDir, '-w', runDir, '-P', join(runDir, 'kamailio.pid')], { maxMs: 120_000 });
  await proc.waitFor(/(udp_rcv_loop|tcp_main_loop|ready to process|init_tcp|INFO: .*listening)/i, 10_000).catch(async () => {
    // Some builds log nothing at this level once ready; give it a moment and check it is alive.
    await new Promise((r) => setTimeout(r, 1000));
    if (proc.child.exitCode !== null) throw new Error(`kamailio exited:\n${proc.output()}`);
  });
  return {
    host,
    port,
    process: proc,
    async stop() {
      await proc.stop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}
