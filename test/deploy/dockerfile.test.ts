import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../daemon/daemon-process.js';

/**
 * The Dockerfile's invariants, checked without building (the build and the running image:
 * npm run container-check, scripts/container-check.sh).
 */
const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  scripts: Record<string, string>;
};

/** Instructions per stage, continuation lines joined; comments dropped. */
function stages(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  const joined = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  for (const line of joined) {
    const from = /^FROM \S+ AS (\S+)$/.exec(line);
    if (from) out.set(from[1]!, (current = []));
    current.push(line.replace(/\s+/g, ' ').trim());
  }
  return out;
}

describe('Dockerfile', () => {
  const byStage = stages();
  const runtime = byStage.get('runtime') ?? [];

  it('passes the dockerfile-utils linter with no problems', () => {
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('is multi-stage from one Node base: production deps from the lock file, a build stage for dist/, a runtime stage', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:22-[a-z]+-slim$/m);
    expect([...byStage.keys()]).toEqual(['deps', 'build', 'runtime']);
    expect(text.match(/^FROM \$\{NODE_IMAGE\} AS /gm)).toHaveLength(3);
    expect(byStage.get('deps')).toContainEqual(expect.stringMatching(/^RUN npm ci --omit=dev\b/));
    expect(byStage.get('build')).toContainEqual(expect.stringMatching(/^RUN npm run build$/));
    expect(runtime).toContain('COPY --from=deps /app/node_modules ./node_modules');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    // no sources, tests or dev tooling in the runtime stage
    expect(runtime.filter((l) => /^COPY (src|test|bench|tsconfig)/.test(l))).toEqual([]);
  });

  it('leaves no apt lists or cache in the image: apt runs in the build stage only, tini is copied', () => {
    expect(runtime.filter((l) => /\bapt(-get)?\b/.test(l))).toEqual([]);
    expect(runtime).toContain('COPY --from=build /usr/bin/tini-static /usr/bin/tini');
    for (const line of byStage.get('build')!.filter((l) => /apt-get install/.test(l)))
      expect(line).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
  });

  it('carries the OCI labels, its version that of package.json', () => {
    const label = (key: string) =>
      new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}="([^"]*)"`).exec(
        runtime.find((l) => l.startsWith('LABEL ')) ?? '',
      )?.[1];
    for (const key of ['title', 'description', 'version', 'revision', 'licenses', 'base.name'])
      expect(label(key), key).toBeTruthy();
    expect(label('licenses')).toBe(pkg.license);
    expect(label('version')).toBe('$' + '{VERSION}'); // the build argument, filled in at build time
    expect(runtime).toContain(`ARG VERSION=${pkg.version}`);
  });

  it('serves the socket in /data by default, with a one-shot HEALTHCHECK and privileges dropped by the entrypoint', () => {
    expect(runtime).toContain('VOLUME ["/data"]');
    expect(runtime).toContainEqual(
      expect.stringMatching(/^ENV .*AAOS_DATA_DIR=\/data .*AAOS_SOCKET=\/data\/run\/agentd\.sock/),
    );
    expect(runtime).toContainEqual(
      expect.stringMatching(
        /^HEALTHCHECK --interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD \["agentd", "health"\]$/,
      ),
    );
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "aaos-entrypoint"]');
    expect(runtime.at(-1)).toBe('CMD ["run"]');
    expect(runtime).toContain('COPY deploy/docker/entrypoint.sh /usr/local/bin/aaos-entrypoint');
    // agentd itself never runs as root: no USER root, and the entrypoint drops it before agentd starts
    expect(runtime.filter((l) => /^USER (root|0)\b/.test(l))).toEqual([]);
    const entrypoint = readFileSync(join(ROOT, 'deploy', 'docker', 'entrypoint.sh'), 'utf8');
    expect(entrypoint).toMatch(
      /exec setpriv --reuid="\$uid" --regid="\$gid" --init-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- agentd "\$@"/,
    );
  });

  it('the compose example builds this Dockerfile, keeps /data in a volume and writes no secret', () => {
    const compose = parse(readFileSync(join(ROOT, 'deploy', 'docker', 'compose.yaml'), 'utf8')) as {
      services: Record<
        string,
        { build: { context: string }; volumes: string[]; command?: unknown; environment: Record<string, string> }
      >;
    };
    const svc = compose.services['agentd']!;
    expect(existsSync(join(resolve(ROOT, 'deploy', 'docker', svc.build.context), 'Dockerfile'))).toBe(true);
    expect(resolve(ROOT, 'deploy', 'docker', svc.build.context)).toBe(ROOT);
    expect(svc.volumes).toContain('aaos-data:/data');
    expect(svc.command).toBeUndefined();
    for (const [key, value] of Object.entries(svc.environment)) expect(value, key).toMatch(/^\$\{[A-Z_]+:-\}$/);
  });

  it('what the Docker docs name is in the repository', () => {
    expect(pkg.scripts['container-check']).toBe('bash scripts/container-check.sh');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const docs = readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8');
    expect(readme).not.toMatch(/\.\.\/shared\b/);
    for (const file of new Set(
      [...`${readme}\n${docs}`.matchAll(/`((?:deploy|scripts)\/[\w./-]+)`/g)].map((m) => m[1]!),
    )) {
      expect(existsSync(join(ROOT, file)), file).toBe(true);
    }
  });
});
