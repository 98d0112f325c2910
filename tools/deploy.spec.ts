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
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
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
    const soketi = dev.find((o) => o.kind === 'Deployment' && o.metadata.name === 'soketi')!;
    expect(containerEnv(podSpec(soketi).containers[0], dev, filled)['SOKETI_ADAPTER_NATS_NODES_NUMBER']).toBe('1');

    const prod = built.prod;
    const prodConfig = prod.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'onair-config')!;
    expect(prodConfig['data'].NATS_STREAM_REPLICAS).toBe('3');
    expect(prod.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name).sort()).toEqual(['chat-writer', 'ingest']);
    const prodSoketi = prod.find((o) => o.kind === 'Deployment' && o.metadata.name === 'soketi')!;
    expect(containerEnv(podSpec(prodSoketi).containers[0], prod, filled)['SOKETI_ADAPTER_NATS_NODES_NUMBER']).toBe(String(prodSoketi['spec'].replicas));
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
});
