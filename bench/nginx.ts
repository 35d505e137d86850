// nginx as the reference of what a reverse proxy can cost: one process (no master), keep-alive to the same
// upstream, WebSocket upgrades passed through. Run only when nginx is installed (`apt-get install nginx`).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchConfig } from './config.js';

/** The nginx binary when it is installed and not turned off (BENCH_NGINX=off), else undefined. */
export function findNginx(): string | undefined {
  if (benchConfig.skipNginx) return undefined;
  for (const candidate of ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** nginx's version as it prints it (`nginx/1.22.1`). */
export function nginxVersion(binary: string): string {
  // nginx prints its version on stderr.
  const output = spawnSync(binary, ['-v'], { encoding: 'utf8' }).stderr;
  return /nginx\/\S+/.exec(output)?.[0] ?? 'nginx';
}

// A configuration as one would write it in front of a Node app: HTTP/1.1 with keep-alive to the upstream,
// hop-by-hop headers cleared, X-Forwarded-For set, upgrades passed through.
function configuration(dir: string, port: number, targetPort: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${targetPort}; keepalive 64; }
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`;
}

/** Starts nginx on `port` in front of `targetPort`; `stop()` ends it and removes its files. */
export function startNginx(binary: string, port: number, targetPort: number): { process: ChildProcess; stop(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-nginx-'));
  writeFileSync(path.join(dir, 'nginx.conf'), configuration(dir, port, targetPort));
  const child = spawn(binary, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'inherit', 'inherit'] });
  return {
    process: child,
    stop() {
      child.kill('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
