import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@onair/service-kit';
import { describe, expect, it } from 'vitest';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { parseChatBotConfig } from '../apps/chat-bot/src/config';
import { parseGiftsConfig } from '../apps/gifts/src/config';
import { parseChatWriterConfig } from '../apps/chat-writer/src/config';
import { parseIngestConfig } from '../apps/ingest/src/config';
import { parseProbeSchedulerConfig } from '../apps/probe-scheduler/src/config';
import { parseGatewayConfig } from '../apps/realtime-gateway/src/config';
import { parseSummaryConfig } from '../apps/summary/src/config';
import { BODY_LIMIT as INGEST_BODY_LIMIT } from '../apps/ingest/src/app';

/**
 * The Kubernetes manifests as they would be applied: each overlay is built with `kubectl kustomize`, every
 * object is validated against the Kubernetes API schemas (kubernetes-models), and each service's container
 * environment (ConfigMap + env + the Secret template with its placeholders filled) goes through that
 * service's own config parser, so a manifest that would crash-loop fails here instead. The shipped
 * placeholders are checked the other way: a service that can tell must refuse them.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const K8S = join(ROOT, 'deploy/k8s');
const OVERLAYS = ['dev', 'prod'] as const;
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}
type Env = Record<string, string>;

const PARSERS: Record<string, (env: Env) => { SHUTDOWN_GRACE_MS: number; PORT: number; HOST: string; METRICS_TOKEN: string }> = {
  ingest: parseIngestConfig,
  'realtime-gateway': parseGatewayConfig,
  summary: parseSummaryConfig,
  'probe-scheduler': parseProbeSchedulerConfig,
  'chat-writer': parseChatWriterConfig,
  'chat-bot': parseChatBotConfig,
  gifts: parseGiftsConfig,
};

/** Public edges: traffic from outside keeps arriving until endpoint removal has spread, so they sleep first. */
const PUBLIC = ['ingest', 'realtime-gateway', 'soketi', 'gifts'];

/**
 * Placeholders a service starts with. None: secrets that take any string (a Pusher secret, a Kick client id)
 * refuse the template's placeholders by name (service-kit's `str({ secret: true })`).
 */
const PLACEHOLDERS_ACCEPTED: Record<string, string[]> = {};

const PLACEHOLDER = 'REPLACE_ME';
const token = () => randomBytes(24).toString('hex');
/** What an operator fills in: one plausible value per key of the template. */
const FILLED: Env = {
  DATABASE_URL: 'postgres://onair:correct-horse@postgres.db.svc.cluster.local:5432/onair',
  SESSION_JWT_SECRET: token(),
  KICK_PUBLIC_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  PUSHER_APP_SECRET: token(),
  ADMIN_TOKEN: token(),
  METRICS_TOKEN: token(),
  KICK_CLIENT_ID: '01JABCDEFGHJKMNPQRSTVWXYZ0',
  KICK_CLIENT_SECRET: token(),
  SOKETI_NATS_USER: 'soketi',
  SOKETI_NATS_PASSWORD: token(),
};

function loadYaml(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw doc.errors[0];
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function build(overlay: string): K8sObject[] {
  expect(kubectl, 'kubectl is missing (kubectl kustomize builds the overlays)').toBeDefined();
  return loadYaml(execFileSync(kubectl!, ['kustomize', join(K8S, 'overlays', overlay)], { encoding: 'utf8' }));
}

const template = loadYaml(readFileSync(join(K8S, 'secret/onair-secrets.example.yaml'), 'utf8'))[0]!;
const templateText = readFileSync(join(K8S, 'secret/onair-secrets.example.yaml'), 'utf8');
const shipped: Env = template['stringData'];
const filled: Env = Object.fromEntries(Object.entries(shipped).map(([k, v]) => [k, v === PLACEHOLDER ? FILLED[k]! : v]));
const migrateJob = loadYaml(readFileSync(join(K8S, 'jobs/migrate.yaml'), 'utf8'));
const built = Object.fromEntries(OVERLAYS.map((o) => [o, build(o)])) as Record<(typeof OVERLAYS)[number], K8sObject[]>;

const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const ours = (objects: K8sObject[]) => workloads(objects).filter((o) => o.metadata.labels?.['app.kubernetes.io/part-of'] === 'onair');
const podSpec = (o: K8sObject) => o['spec'].template.spec;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** A container's environment as the kubelet makes it: envFrom first, then `env` (which wins). */
function containerEnv(container: any, objects: K8sObject[], secret: Env): Env {
  const configMap = (name: string): Env => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!cm) throw new Error(`ConfigMap ${name} is not in the build`);
    return cm['data'] ?? {};
  };
  const secretData = (name: string): Env => {
    if (name !== 'onair-secrets') throw new Error(`Secret ${name} has no template`);
    return secret;
  };
  const env: Env = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMap(from.configMapRef.name));
    else if (from.secretRef) Object.assign(env, secretData(from.secretRef.name));
    else throw new Error(`unsupported envFrom ${JSON.stringify(from)}`);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      env[e.name] = e.value ?? '';
      continue;
    }
    const ref = e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef;
    if (!ref) throw new Error(`${e.name}: unsupported valueFrom ${JSON.stringify(e.valueFrom)}`);
    const data = e.valueFrom.configMapKeyRef ? configMap(ref.name) : secretData(ref.name);
    if (ref.key in data) env[e.name] = data[ref.key]!;
    else if (!ref.optional) throw new Error(`${e.name}: key ${ref.key} is missing from ${ref.name}`);
  }
  return env;
}

/** Keys of onair-secrets a container reads, with whether each is optional. */
function secretRefs(container: any): { key: string; optional: boolean }[] {
  return (container.env ?? [])
    .map((e: any) => e.valueFrom?.secretKeyRef)
    .filter((ref: any) => ref?.name === 'onair-secrets')
    .map((ref: any) => ({ key: ref.key as string, optional: Boolean(ref.optional) }));
}

const serviceOf = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/name'] ?? o.metadata.name;

function mebibytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`unsupported memory quantity ${quantity}`);
  const n = Number(m[1]);
  return { Mi: n, Gi: n * 1024, M: (n * 1e6) / 2 ** 20, G: (n * 1e9) / 2 ** 20, undefined: n / 2 ** 20 }[String(m[2])]!;
}

/**
 * V8's heap limit in MB from a container's node flags: old space plus the young generation, which V8 sizes
 * at three semi-spaces (16 MB each by default). Checked on Node 20: `--max-old-space-size=310` gives
 * heap_size_limit 358 MB, and 346 with `--max-semi-space-size=64` gives 538.
 */
function heapCapMb(args: string[]): number | undefined {
  const flag = (name: string) => args.map((a) => new RegExp(`^--${name}=(\\d+)$`).exec(a)?.[1]).find(Boolean);
  const oldSpace = flag('max-old-space-size');
  if (!oldSpace) return undefined;
  return Number(oldSpace) + 3 * Number(flag('max-semi-space-size') ?? 16);
}

/** The kinds the manifests use, each with its API schema; a new kind needs its model here. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

function validateSchema(o: K8sObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o as never).validate();
}

describe('deploy/k8s', () => {
  it.each(OVERLAYS)('overlay %s: every object is valid against the Kubernetes schemas', (overlay) => {
    const problems: string[] = [];
    for (const o of [...built[overlay], ...migrateJob, template]) {
      try {
        validateSchema(o);
      } catch (error) {
        problems.push(`${o.kind} ${o.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(built[overlay].map((o) => o.metadata.namespace ?? o.metadata.name).every((ns) => ns === 'onair')).toBe(true);
  });

  it.each(OVERLAYS)('overlay %s: every service starts with its environment as shipped (template filled in)', (overlay) => {
    const objects = built[overlay];
    const started: string[] = [];
    for (const w of ours(objects)) {
      for (const container of podSpec(w).containers) {
        const env = containerEnv(container, objects, filled);
        const parse = PARSERS[serviceOf(w)];
        if (!parse) continue; // Soketi: its env assembled above (keys present) is what it needs
        // The image holds the build (deploy/Dockerfile), not the sources: `nx build` writes this file.
        expect(container.command.slice(-1), serviceOf(w)).toEqual([`dist/apps/${serviceOf(w)}/main.js`]);
        const config = parse(env);
        const http = container.ports.find((p: { name: string }) => p.name === 'http');
        expect(config.PORT, serviceOf(w)).toBe(http.containerPort);
        expect(w['spec'].template.metadata.annotations['prometheus.io/port']).toBe(String(config.PORT));
        expect(config.HOST, `${serviceOf(w)} must listen on every interface`).toBe('0.0.0.0');
        expect(config.METRICS_TOKEN, `${serviceOf(w)}: /metrics must be guarded`).not.toBe('');
        started.push(serviceOf(w));
      }
    }
    expect(started.sort()).toEqual(Object.keys(PARSERS).sort());
    // The migrate Job reads only the ConfigMap and DATABASE_URL.
    const job = migrateJob[0]!;
    expect(podSpec(job).containers[0].command.slice(-1)).toEqual(['dist/tools/migrate.js']);
    const jobEnv = containerEnv(podSpec(job).containers[0], objects, filled);
    expect(jobEnv['DATABASE_URL']).toBe(FILLED['DATABASE_URL']);
  });

  it('the Secret template has every key the manifests require, and nothing they do not read', () => {
    const required = new Set<string>();
    const optional = new Set<string>();
    for (const objects of Object.values(built)) {
      for (const w of [...workloads(objects), ...migrateJob]) {
        for (const container of podSpec(w).containers) {
          for (const ref of secretRefs(container)) (ref.optional ? optional : required).add(ref.key);
        }
      }
    }
    expect([...required].filter((key) => !(key in shipped))).toEqual([]);
    expect(Object.keys(shipped).filter((key) => !required.has(key))).toEqual([]);
    // Optional keys are documented in the template, commented out: as shipped, their features are off.
    expect([...optional].filter((key) => !new RegExp(`^  # ${key}: `, 'm').test(templateText))).toEqual([]);
    expect([...optional].filter((key) => key in shipped)).toEqual([]);
    // Every required key ships as the placeholder, and the test knows a plausible value for each.
    expect(Object.entries(shipped).filter(([, v]) => v !== PLACEHOLDER)).toEqual([]);
    expect(Object.keys(shipped).filter((key) => !(key in FILLED))).toEqual([]);
  });

  it('each placeholder as shipped is refused by every service that reads it (but the known few)', () => {
    const accepted: Record<string, string[]> = {};
    for (const w of ours(built.prod)) {
      const parse = PARSERS[serviceOf(w)];
      if (!parse) continue;
      const container = podSpec(w).containers[0];
      for (const { key } of secretRefs(container).filter((r) => r.key in shipped)) {
        const env = containerEnv(container, built.prod, { ...filled, [key]: PLACEHOLDER });
        try {
          parse(env);
          (accepted[serviceOf(w)] ??= []).push(key);
        } catch (error) {
          expect(error, `${serviceOf(w)} ${key}`).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).variable.split(', '), `${serviceOf(w)} names the bad variable`).toContain(key);
        }
      }
    }
    expect(accepted).toEqual(PLACEHOLDERS_ACCEPTED);
    // The whole template as shipped: nothing that checks its secrets starts.
    for (const w of ours(built.prod)) {
      const parse = PARSERS[serviceOf(w)];
      if (parse) expect(() => parse(containerEnv(podSpec(w).containers[0], built.prod, shipped)), serviceOf(w)).toThrow(ConfigError);
    }
  });

  it.each(OVERLAYS)('overlay %s: heap caps, disruption budgets, spread and graceful stop fit every workload', (overlay) => {
    const objects = built[overlay];
    const problems: string[] = [];
    for (const w of ours(objects)) {
      const name = serviceOf(w);
      const spec = podSpec(w);
      const labels: Record<string, string> = w['spec'].template.metadata.labels;
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o['spec'].scaleTargetRef.name === w.metadata.name);
      const replicas: number = hpa ? hpa['spec'].maxReplicas : (w['spec'].replicas ?? 1);
      if (replicas > 1) {
        const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && matches(o['spec'].selector.matchLabels, labels));
        if (!pdb) problems.push(`${name}: ${replicas} replicas and no PodDisruptionBudget`);
        const spread = (spec.topologySpreadConstraints ?? []).find(
          (c: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }) =>
            c.topologyKey === 'kubernetes.io/hostname' && matches(c.labelSelector.matchLabels, labels),
        );
        if (!spread) problems.push(`${name}: ${replicas} replicas and no topology spread across nodes`);
      }
      for (const container of spec.containers) {
        const env = containerEnv(container, objects, filled);
        const limit = mebibytes(container.resources?.limits?.memory ?? '0');
        const cap = heapCapMb([...(container.command ?? []), ...(container.args ?? []), ...(env['NODE_OPTIONS'] ?? '').split(/\s+/)]);
        if (!limit) problems.push(`${name}: no memory limit`);
        else if (cap === undefined) problems.push(`${name}: no --max-old-space-size`);
        else if (cap / limit < 0.65 || cap / limit > 0.72) problems.push(`${name}: heap ${cap} MB is ${Math.round((100 * cap) / limit)} % of the ${limit} Mi limit, not ~70 %`);

        const preStop: string[] | undefined = container.lifecycle?.preStop?.exec?.command;
        const sleepS = preStop ? Number(/^sleep$/.test(preStop[0]!) ? preStop[1] : NaN) : 0;
        if (Number.isNaN(sleepS)) problems.push(`${name}: preStop is not a plain sleep`);
        if (PUBLIC.includes(name) && !(sleepS >= 3)) problems.push(`${name}: public, needs a preStop sleep so endpoint removal spreads first`);
        const parse = PARSERS[name];
        const drainMs = parse ? parse(env).SHUTDOWN_GRACE_MS : Number(env['SOKETI_SHUTDOWN_GRACE_PERIOD'] ?? 3000);
        const graceS: number = spec.terminationGracePeriodSeconds ?? 30;
        if (!(graceS > sleepS + drainMs / 1000)) problems.push(`${name}: terminationGracePeriodSeconds ${graceS} <= preStop ${sleepS} s + drain ${drainMs / 1000} s`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('dev is one replica of everything on one JetStream server; prod keeps R3 streams and autoscaling', () => {
    const dev = built.dev;
    expect(workloads(dev).filter((w) => w['spec'].replicas !== 1).map((w) => w.metadata.name)).toEqual([]);
    expect(dev.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    const devConfig = dev.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'onair-config')!;
    expect(devConfig['data'].NATS_STREAM_REPLICAS).toBe('1');
    expect(devConfig['data'].NATS_URL).toBe('nats://nats.onair.svc.cluster.local:4222');
    expect(workloads(dev).map((w) => w.metadata.name)).toEqual(expect.arrayContaining(['nats', 'postgres']));

    const prod = built.prod;
    const prodConfig = prod.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'onair-config')!;
    expect(prodConfig['data'].NATS_STREAM_REPLICAS).toBe('3');
    expect(prod.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name).sort()).toEqual(['chat-writer', 'ingest', 'soketi']);
  });

  it.each(OVERLAYS)('overlay %s: Soketi gets NATS servers in a form it reads, the gateway a heap its history tail fits', (overlay) => {
    const objects = built[overlay];
    const soketi = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'soketi')!;
    // Soketi JSON-parses the value or takes it as one URL; our services also take `a,b,c`, Soketi does not.
    const servers = containerEnv(podSpec(soketi).containers[0], objects, filled)['SOKETI_ADAPTER_NATS_SERVERS']!;
    expect(servers.startsWith('[') || !servers.includes(','), servers).toBe(true);

    const gateway = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'realtime-gateway')!;
    const container = podSpec(gateway).containers[0];
    const config = parseGatewayConfig(containerEnv(container, objects, filled));
    // ~250 B per kept message (apps/realtime-gateway/src/config.ts): the full tail within half the heap.
    const tailMb = (250 * config.HISTORY_TAIL_PER_ROOM * config.HISTORY_TAIL_ROOMS) / 2 ** 20;
    expect(tailMb).toBeLessThanOrEqual(heapCapMb(container.command)! / 2);
  });

  it.each(OVERLAYS)('overlay %s: Soketi counts its nodes in a NATS account of its own and caps sockets as the alerts assume', (overlay) => {
    const objects = built[overlay];
    const soketi = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'soketi')!;
    const container = podSpec(soketi).containers[0];
    const env = containerEnv(container, objects, filled);
    // A fixed node count cannot follow an HPA: the adapter counts its account's connections instead.
    expect(env).not.toHaveProperty('SOKETI_ADAPTER_NATS_NODES_NUMBER');
    expect(secretRefs(container).map((r) => r.key)).toEqual(expect.arrayContaining(['SOKETI_NATS_USER', 'SOKETI_NATS_PASSWORD']));
    expect(env['SOKETI_ADAPTER_NATS_USER']).toBe(FILLED['SOKETI_NATS_USER']);
    expect(env['SOKETI_ADAPTER_NATS_PASSWORD']).toBe(FILLED['SOKETI_NATS_PASSWORD']);
    // The per-node cap the alert rules use; Soketi's own cap is per app over all nodes.
    const alerts = readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8');
    const perNode = Number(/record: onair:soketi_connections_cap_per_node\s+expr: vector\((\d+)\)/.exec(alerts)?.[1]);
    expect(perNode).toBe(19000);
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o['spec'].scaleTargetRef.name === 'soketi');
    if (overlay === 'prod') {
      expect(hpa, 'Soketi scales with an HPA').toBeDefined();
      expect(soketi['spec'].replicas, 'the HPA owns replicas').toBeUndefined();
      expect(Number(env['SOKETI_DEFAULT_APP_MAX_CONNS'])).toBe(perNode * hpa!['spec'].maxReplicas);
    } else {
      // dev: its own NATS has the Soketi account, fed by the same Secret keys; the services connect without
      // credentials (no_auth_user), so their NATS_URL carries none.
      const nats = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'nats')!;
      const natsEnv = containerEnv(podSpec(nats).containers[0], objects, filled);
      expect(natsEnv['SOKETI_NATS_USER']).toBe(env['SOKETI_ADAPTER_NATS_USER']);
      expect(natsEnv['SOKETI_NATS_PASSWORD']).toBe(env['SOKETI_ADAPTER_NATS_PASSWORD']);
      const conf: string = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'nats-config')!['data']['nats.conf'];
      expect(conf).toMatch(/SOKETI: \{ users: \[ \{ user: \$SOKETI_NATS_USER, password: \$SOKETI_NATS_PASSWORD \} \] \}/);
      expect(conf).toMatch(/ONAIR: \{ jetstream: enabled, users: \[ \{ user: onair \} \] \}/);
      expect(conf).toMatch(/^no_auth_user: onair$/m);
      expect(env['SOKETI_ADAPTER_NATS_SERVERS']).not.toContain('@');
    }
  });

  /** Whether an Ingress path (Exact or Prefix, matched by path element as Kubernetes defines it) takes `url`. */
  const takes = (p: { path: string; pathType: string }, url: string) =>
    p.pathType === 'Exact' ? url === p.path : url === p.path || url.startsWith(p.path.endsWith('/') ? p.path : `${p.path}/`);
  const bytes = (size: string) => {
    const m = /^(\d+)([kKmM]?)$/.exec(size);
    if (!m) throw new Error(`unsupported body size ${size}`);
    return Number(m[1]) * ({ k: 1024, m: 1024 ** 2, '': 1 } as Record<string, number>)[m[2]!.toLowerCase()]!;
  };
  const ingressRoutes = (objects: K8sObject[]) =>
    objects
      .filter((o) => o.kind === 'Ingress')
      .flatMap((ing) =>
        ing['spec'].rules.flatMap((rule: any) =>
          rule.http.paths.map((p: any) => ({ ingress: ing, host: rule.host as string, path: p.path as string, pathType: p.pathType as string, service: p.backend.service.name as string, port: p.backend.service.port.name as string })),
        ),
      );

  it.each(OVERLAYS)('overlay %s: the Ingresses expose the public routes only, with TLS, body limits and WebSocket timeouts', (overlay) => {
    const objects = built[overlay];
    const routes = ingressRoutes(objects);
    // Never /metrics (nor anything internal), on any host.
    const internal = [
      '/metrics', '/healthz', '/readyz', '/', '/pusher/webhooks', '/apps/onair/events', '/v1/audit/stream-starts', '/v1/streamers',
      '/v1/summaries', '/v1/jobs', '/openapi.json', '/v1/channels/1/bot-settings', '/v1/ledger/check', '/v1/wallets/u1/grants',
      '/v1/catalog/rose', '/v1/gifts/g1/refund',
    ];
    expect(routes.filter((r) => internal.some((url) => takes(r, url))).map((r) => `${r.host}${r.path}`)).toEqual([]);
    expect(routes.filter((r) => r.path.includes('metrics'))).toEqual([]);
    // What must be public, on the host of the service that serves it.
    const reach = (service: string, url: string) => routes.some((r) => r.service === service && takes(r, url));
    const publicRoutes: Array<[string, string]> = [
      ['ingest', '/webhooks/kick'], ['ingest', '/webhooks/livekit'], ['ingest', '/v1/rooms/r1/messages'],
      ['realtime-gateway', '/pusher/auth'], ['realtime-gateway', '/pusher/user-auth'], ['realtime-gateway', '/v1/rooms/r1/messages'],
      ['realtime-gateway', '/v1/rooms/r1/join'], ['realtime-gateway', '/v1/rooms/r1/leaderboard'], ['realtime-gateway', '/rooms/r1'],
      ['realtime-gateway', '/assets/room-page.js'], ['realtime-gateway', '/gifts/v1/catalog'], ['realtime-gateway', '/gifts/v1/rooms/r1/gifts'],
      ['gifts', '/v1/catalog'], ['gifts', '/v1/wallet'], ['gifts', '/v1/rooms/r1/gifts'], ['gifts', '/v1/rooms/r1/gifting'], ['gifts', '/v1/payments/webhook'],
      ['soketi', '/app/onair-key'],
    ];
    expect(publicRoutes.filter(([service, url]) => !reach(service, url))).toEqual([]);
    // Each backend is a Service of the build, by a port name it has.
    for (const r of routes) {
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === r.service);
      expect(svc?.['spec'].ports.map((p: { name: string }) => p.name), `${r.host}${r.path}`).toContain(r.port);
    }
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'onair-config')!['data'];
    for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
      const name = ing.metadata.name;
      const annotations = ing.metadata.annotations ?? {};
      expect(ing['spec'].ingressClassName, name).toBe('nginx');
      expect(annotations['cert-manager.io/cluster-issuer'], `${name}: cert-manager issues its certificate`).toBeTruthy();
      const tlsHosts = ing['spec'].tls.flatMap((t: { hosts: string[] }) => t.hosts);
      for (const rule of ing['spec'].rules) expect(tlsHosts, `${name}: ${rule.host} has TLS`).toContain(rule.host);
      // Body limits as the services' own: ingest's bodyLimit, service-kit's 1 MiB for the others.
      expect(bytes(annotations['nginx.ingress.kubernetes.io/proxy-body-size']!), name).toBe(name === 'ingest' ? INGEST_BODY_LIMIT : 1024 ** 2);
      // No affinity anywhere: any replica (any Soketi node) serves any client.
      expect(Object.keys(annotations).filter((k) => /affinity|session-cookie|upstream-hash-by/.test(k)), name).toEqual([]);
    }
    const ws = objects.find((o) => o.kind === 'Ingress' && o.metadata.name === 'soketi')!;
    const wsAnnotations = ws.metadata.annotations ?? {};
    // Pusher clients ping after 30 s of silence; an hour leaves idle sockets alone.
    for (const key of ['proxy-read-timeout', 'proxy-send-timeout']) expect(Number(wsAnnotations[`nginx.ingress.kubernetes.io/${key}`]), key).toBeGreaterThanOrEqual(3600);
    // Browsers are sent to PUSHER_WS_HOST: in prod, Soketi's host (dev port-forwards to 127.0.0.1).
    if (overlay === 'prod') expect(ws['spec'].rules.map((r: { host: string }) => r.host)).toEqual([config['PUSHER_WS_HOST']]);
  });

  it.each(OVERLAYS)('overlay %s: every workload is selected by a NetworkPolicy of its own, under a default deny, and the allowed paths agree', (overlay) => {
    const objects = built[overlay];
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const deny = policies.find((p) => Object.keys(p['spec'].podSelector).length === 0 && !p['spec'].ingress && !p['spec'].egress);
    expect(deny?.['spec'].policyTypes.sort(), 'a default deny of both directions').toEqual(['Egress', 'Ingress']);
    const podLabels = (w: K8sObject): Record<string, string> => w['spec'].template.metadata.labels;
    const own = (labels: Record<string, string>) =>
      policies.filter((p) => Object.keys(p['spec'].podSelector.matchLabels ?? {}).length > 0 && matches(p['spec'].podSelector.matchLabels, labels));
    const all = [...workloads(objects), ...migrateJob];
    expect(all.filter((w) => own(podLabels(w)).length === 0).map((w) => w.metadata.name), 'workloads no policy of their own selects').toEqual([]);

    // Whether some policy of the pod with `labels` lets `from` in on `port`.
    const admits = (labels: Record<string, string>, port: number, from: (peer: any) => boolean) =>
      own(labels).some((p) => (p['spec'].ingress ?? []).some((rule: any) => rule.ports.some((x: any) => x.port === port) && rule.from.some(from)));
    const controller = (peer: any) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'ingress-nginx';
    const prometheus = (peer: any) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'prometheus';
    const problems: string[] = [];
    // The ingress controller reaches each Ingress backend's pods on the port the Service targets.
    for (const r of ingressRoutes(objects)) {
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === r.service)!;
      const w = workloads(objects).find((o) => matches(svc['spec'].selector, podLabels(o)))!;
      const target = svc['spec'].ports.find((p: { name: string }) => p.name === r.port).targetPort;
      const port = podSpec(w).containers.flatMap((c: any) => c.ports).find((p: any) => p.name === target || p.containerPort === target).containerPort;
      if (!admits(podLabels(w), port, controller)) problems.push(`${w.metadata.name}: the ingress controller cannot reach port ${port}`);
    }
    // Prometheus reaches every scraped pod on its metrics port.
    for (const w of workloads(objects)) {
      const port = Number(w['spec'].template.metadata.annotations?.['prometheus.io/port']);
      if (port && !admits(podLabels(w), port, prometheus)) problems.push(`${w.metadata.name}: Prometheus cannot reach port ${port}`);
    }
    // Every egress to a pod of the namespace is let in on the other side (gateway → Soketi and gifts, Soketi → gateway).
    for (const w of all) {
      for (const p of own(podLabels(w))) {
        for (const rule of p['spec'].egress ?? []) {
          for (const peer of (rule.to ?? []).filter((x: any) => x.podSelector && !x.namespaceSelector)) {
            const targets = workloads(objects).filter((o) => matches(peer.podSelector.matchLabels, podLabels(o)));
            if (targets.length === 0) problems.push(`${p.metadata.name}: egress to pods no workload has`);
            for (const t of targets) {
              for (const { port } of rule.ports) {
                if (!admits(podLabels(t), port, (from) => from.podSelector && !from.namespaceSelector && matches(from.podSelector.matchLabels, podLabels(w)))) {
                  problems.push(`${w.metadata.name} → ${t.metadata.name}:${port} is allowed out but not in`);
                }
              }
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
