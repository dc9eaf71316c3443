/**
 * A real DNS server for discovery tests: Debian's dnsmasq on a loopback high port, answering only
 * the records a test writes (no upstream, no /etc/hosts). A records come from a hosts file that
 * `setHosts` rewrites and reloads with SIGHUP, so a test can change answers while Vigil polls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exited, peerBinary, tempDir, waitFor } from './helpers.js';
import * as dns from 'node:dns';

export interface Dnsmasq {
  /** `127.0.0.1:PORT`, for `discovery.dns_servers`. */
  readonly server: string;
  /** Replaces the A/AAAA records (`hosts` file lines: `IP name…`) and waits until they are served. */
  setHosts(lines: readonly string[], probe: { name: string; expect: string[] }): Promise<void>;
  stop(): Promise<void>;
}

export interface DnsmasqRecords {
  /** SRV records: `name` → `target:port` entries. */
  readonly srv?: Readonly<Record<string, readonly string[]>>;
  /** Initial hosts file lines. */
  readonly hosts?: readonly string[];
  /** Domains answered locally (NXDOMAIN for unknown names instead of REFUSED). */
  readonly localDomain?: string;
}

function dnsmasqBinary(): string {
  // /usr/sbin is not on every user's PATH.
  return fs.existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : peerBinary('dnsmasq', 'dnsmasq-base');
}

async function freeUdpPort(): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', resolve);
  });
  const port = sock.address().port;
  await new Promise<void>((resolve) => sock.close(resolve));
  return port;
}

/**
 * Starts dnsmasq serving `records`; resolves once it answers. The port is free for UDP when
 * picked, but dnsmasq also listens on TCP and another process may take either meanwhile: a start
 * that finds its port taken tries again on a new one.
 */
export async function startDnsmasq(records: DnsmasqRecords): Promise<Dnsmasq> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(records);
    } catch (err) {
      if (attempt >= 5 || !String((err as Error).message).includes('Address already in use')) throw err;
    }
  }
}

async function startOnce(records: DnsmasqRecords): Promise<Dnsmasq> {
  const { dir, cleanup } = tempDir('vigil-dns-');
  const hostsFile = path.join(dir, 'hosts');
  fs.writeFileSync(hostsFile, (records.hosts ?? []).join('\n') + '\n');
  const port = await freeUdpPort();
  const conf = [
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-negcache',
    `addn-hosts=${hostsFile}`,
    ...(records.localDomain ? [`local=/${records.localDomain}/`] : []),
    ...Object.entries(records.srv ?? {}).flatMap(([name, targets]) =>
      targets.map((t) => {
        const i = t.lastIndexOf(':');
        return `srv-host=${name},${t.slice(0, i)},${t.slice(i + 1)},0,10`;
      }),
    ),
  ];
  const confFile = path.join(dir, 'dnsmasq.conf');
  fs.writeFileSync(confFile, conf.join('\n') + '\n');
  // `--user` keeps root from dropping to nobody, who could not read the test's temporary files.
  const args = ['--keep-in-foreground', `--conf-file=${confFile}`, '--pid-file=', '--log-facility=-'];
  if (process.getuid?.() === 0) args.push('--user=root');
  const proc: ChildProcess = spawn(dnsmasqBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const server = `127.0.0.1:${port}`;
  const resolver = new dns.promises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([server]);
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited(proc);
    cleanup();
  };
  try {
    await waitFor(
      'dnsmasq to answer',
      async () => {
        if (proc.exitCode !== null) throw new Error(`dnsmasq exited with ${proc.exitCode}: ${err}`);
        // Any answer, even NXDOMAIN, means it is up; a timeout or refusal to connect means not yet.
        return resolver.resolve4('probe.invalid').then(
          () => true,
          (e: NodeJS.ErrnoException) => (e.code === 'ECONNREFUSED' || e.code === 'ETIMEOUT' ? undefined : true),
        );
      },
      10_000,
      100,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    server,
    async setHosts(lines, probe) {
      fs.writeFileSync(hostsFile, lines.join('\n') + '\n');
      proc.kill('SIGHUP');
      await waitFor(
        `dnsmasq to serve ${probe.name} as ${probe.expect.join(',')}`,
        async () => {
          const got = await resolver.resolve4(probe.name).catch(() => [] as string[]);
          return got.sort().join(',') === [...probe.expect].sort().join(',') ? true : undefined;
        },
        10_000,
        100,
      );
    },
    stop,
  };
}
