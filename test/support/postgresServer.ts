import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { freePort } from './process.js';

/**
 * A throwaway PostgreSQL server from Debian's binaries: the test suite's (postgres.globalSetup.ts)
 * and `npm run bench`'s (bench/lib/postgres.ts, with pg_stat_statements preloaded).
 */

/** The folder holding initdb and pg_ctl: on PATH, or Debian's versioned one (newest first). */
export function findPostgresBin(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const initdb = join(dir, 'initdb');
    if (dir !== '' && existsSync(initdb)) return dirname(realpathSync(initdb));
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

/**
 * initdb into a temporary folder, then pg_ctl start on a free loopback port with the socket in
 * that folder: trust authentication (only this machine can reach it) and no fsync. initdb and
 * postgres refuse to run as root, so as root they run as the `postgres` user. `settings`: more
 * postgresql.conf lines (e.g. `shared_preload_libraries = 'pg_stat_statements'`).
 */
export async function startThrowawayServer(bin: string, settings: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  // From inside the folder: initdb fails when it cannot read the current folder (e.g. /root).
  const run = (program: string, args: string[]) => {
    const argv = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, program), ...args] : [join(bin, program), ...args];
    execFileSync(argv[0]!, argv.slice(1), { cwd: dir, stdio: 'pipe' });
  };
  const stop = async () => {
    try {
      if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    // A port found free can be taken before the server binds it: try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      appendFileSync(
        join(data, 'postgresql.conf'),
        [
          "listen_addresses = '127.0.0.1'",
          `port = ${port}`,
          `unix_socket_directories = '${dir}'`,
          'fsync = off',
          'synchronous_commit = off',
          'full_page_writes = off',
          ...settings,
          '',
        ].join('\n'),
      );
      try {
        run('pg_ctl', ['-D', data, '-l', log, '-w', 'start']);
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  } catch (err) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2_000) : '';
    await stop();
    const output = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`could not start a PostgreSQL server from ${bin}: ${(err as Error).message}\n${output}${serverLog}`, { cause: err });
  }
}
