/**
 * Real HTTP peers on the Linux host for test/e2e/http-peers.test.ts, each started in the foreground
 * with its configuration, logs, pid file and a copy of the domain's HTTP keytab in a temporary folder
 * of its own, and stopped (with its process group) by `stop()`:
 *
 * - Apache httpd 2.4 + mod_auth_gssapi (Debian's apache2, libapache2-mod-auth-gssapi): `apache2 -X`
 *   (one process), `AuthType GSSAPI` with `GssapiCredStore keytab:`; every path needs a Kerberos
 *   user and `X-Remote-User` names it.
 * - Squid 5 (Debian's squid) with negotiate_kerberos_auth: `squid -N` (no daemon), a forward proxy
 *   requiring `Proxy-Authorization: Negotiate` for every request and CONNECT, caching nothing.
 *
 * Both run as root with their workers as the Debian users www-data and proxy, which must read the
 * keytab and write the replay cache (KRB5RCACHEDIR): the folder is given to them.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { TestBed } from '../support/env';
import { stopGroup } from './server';

export interface LinuxPeer {
  port: number;
  dir: string;
  /** Everything the process printed, and its log files. */
  logs(): string;
  stop(): Promise<void>;
}

const MODULES = '/usr/lib/apache2/modules';

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects after `ms` or when `child` exits. */
async function listening(port: number, child: ChildProcess, ms: number, output: () => string, failed: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || failed()) throw new Error(`exited with ${child.exitCode}:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${ms} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A temporary folder with the keytab, owned by `user` (the peer's worker). */
function folder(name: string, bed: TestBed, user: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sspi-${name}-`));
  fs.copyFileSync(path.join(bed.stateDir, 'domain', 'http.keytab'), path.join(dir, 'http.keytab'));
  fs.mkdirSync(path.join(dir, 'rcache'));
  fs.chmodSync(path.join(dir, 'http.keytab'), 0o600);
  const { uid, gid } = owner(user);
  for (const f of ['.', 'http.keytab', 'rcache']) fs.chownSync(path.join(dir, f), uid, gid);
  return dir;
}

/** uid and gid of a local user (from /etc/passwd). */
function owner(user: string): { uid: number; gid: number } {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}: is its Debian package installed (scripts/setup.sh)?`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function run(name: string, command: string, args: string[], dir: string, port: number, bed: TestBed, logFiles: string[]): Promise<LinuxPeer> {
  const env: NodeJS.ProcessEnv = { ...process.env, KRB5_CONFIG: path.join(bed.stateDir, 'domain', 'krb5.conf'), KRB5RCACHEDIR: path.join(dir, 'rcache') };
  delete env.KRB5_KTNAME; // the configuration names its keytab
  const child = spawn(command, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  let failed: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // Not installed (ENOENT): scripts/setup.sh installs the Debian packages.
    child.once('error', (e) => { failed = e; out += `${command}: ${e.message} (scripts/setup.sh installs it)\n`; resolve(); });
  });
  const logs = (): string => [out, ...logFiles.map((f) => { try { return fs.readFileSync(path.join(dir, f), 'utf8'); } catch { return ''; } })].join('\n');
  const stop = async (): Promise<void> => {
    await stopGroup(child, exited);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await listening(port, child, 20_000, logs, () => failed);
  } catch (e) {
    await stop();
    throw new Error(`${name}: ${(e as Error).message}`);
  }
  return { port, dir, logs, stop };
}

/** Apache httpd + mod_auth_gssapi on 127.0.0.1:`port`, serving `files` (name -> text) to Kerberos users only. */
export async function startApache(bed: TestBed, port: number, files: Record<string, string>): Promise<LinuxPeer> {
  const dir = folder('apache', bed, 'www-data');
  fs.mkdirSync(path.join(dir, 'www'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'www', name), text);
  fs.writeFileSync(path.join(dir, 'httpd.conf'), `ServerRoot ${dir}
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule headers_module ${MODULES}/mod_headers.so
LoadModule auth_gssapi_module ${MODULES}/mod_auth_gssapi.so
Listen 127.0.0.1:${port}
ServerName ${bed.host}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel info
Mutex file:${dir}
DocumentRoot ${dir}/www
User www-data
Group www-data
<Location />
  AuthType GSSAPI
  AuthName "sspi e2e"
  GssapiCredStore keytab:${dir}/http.keytab
  GssapiAllowedMech krb5
  Require valid-user
  Header always set X-Remote-User "expr=%{REMOTE_USER}"
</Location>
`);
  return run('apache2', 'apache2', ['-X', '-f', path.join(dir, 'httpd.conf')], dir, port, bed, ['error.log']);
}

/** Squid on 127.0.0.1:`port` requiring Negotiate (Kerberos, the domain's HTTP keytab) for every request. */
export async function startSquid(bed: TestBed, port: number): Promise<LinuxPeer> {
  const dir = folder('squid', bed, 'proxy');
  fs.writeFileSync(path.join(dir, 'squid.conf'), `http_port 127.0.0.1:${port}
pid_filename ${dir}/squid.pid
cache_effective_user proxy
cache_effective_group proxy
access_log stdio:${dir}/access.log
cache_log ${dir}/cache.log
cache_store_log none
cache deny all
cache_mem 0 MB
coredump_dir ${dir}
netdb_filename none
pinger_enable off
shutdown_lifetime 0 seconds
auth_param negotiate program /usr/lib/squid/negotiate_kerberos_auth -k ${dir}/http.keytab -s GSS_C_NO_NAME
auth_param negotiate children 2 startup=1 idle=1
auth_param negotiate keep_alive on
acl authenticated proxy_auth REQUIRED
http_access allow authenticated
http_access deny all
`);
  return run('squid', 'squid', ['-N', '-f', path.join(dir, 'squid.conf')], dir, port, bed, ['cache.log', 'access.log']);
}
