import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createTriggerQueue, type PusherBatchApi, type PusherEvent } from './trigger-queue';

/** A batch API whose requests answer when the test says, in any order. */
function controlledApi() {
  const requests: Array<{ events: Array<{ channel: string; name: string }>; answer(): void; fail(): void }> = [];
  const api: PusherBatchApi = {
    triggerBatch: ((batch: Array<{ channel: string; name: string }>) =>
      new Promise((resolve, reject) => {
        requests.push({ events: batch.map(({ channel, name }) => ({ channel, name })), answer: () => resolve({} as never), fail: () => reject(new Error('soketi down')) });
      })) as PusherBatchApi['triggerBatch'],
  };
  return { api, requests };
}

const event = (channel: string, n: number): PusherEvent => ({ channel, name: `e${n}`, data: '{}' });
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('trigger queue', () => {
  it('sends a turn’s events in batches of 10, and resolves each when its request answered', async () => {
    const { api, requests } = controlledApi();
    const queue = createTriggerQueue(api, new Registry());
    const done = Array.from({ length: 25 }, (_, i) => queue.send(event(`room-${i}`, i)));
    await turn();
    expect(requests.map((r) => r.events.length)).toEqual([10, 10, 5]);
    for (const r of requests) r.answer();
    await Promise.all(done);
  });

  it('sends one channel’s requests one after another, in order, while other channels go in parallel', async () => {
    const { api, requests } = controlledApi();
    const queue = createTriggerQueue(api, new Registry());
    // 15 events of one hot room: two requests, and the second must not start before the first answered.
    const hot = Array.from({ length: 15 }, (_, i) => queue.send(event('room-hot', i)));
    await turn();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.events.map((e) => e.name)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
    // A quiet room queued later is not held up by the hot one.
    const quiet = queue.send(event('room-quiet', 0));
    await turn();
    expect(requests.map((r) => r.events[0]!.channel)).toEqual(['room-hot', 'room-quiet']);
    // The hot room's next event, from a later turn, waits behind its second request too.
    const later = queue.send(event('room-hot', 15));
    await turn();
    requests[0]!.answer();
    await turn();
    expect(requests.map((r) => r.events.map((e) => e.name).join(','))).toEqual([
      'e0,e1,e2,e3,e4,e5,e6,e7,e8,e9',
      'e0',
      'e10,e11,e12,e13,e14',
    ]);
    requests[2]!.answer();
    await turn();
    expect(requests.at(-1)!.events.map((e) => e.name)).toEqual(['e15']);
    requests[1]!.answer();
    requests[3]!.answer();
    await Promise.all([...hot, quiet, later]);
  });

  it('rejects a failed request’s events, and the channel’s next request still goes', async () => {
    const { api, requests } = controlledApi();
    const queue = createTriggerQueue(api, new Registry());
    const first = queue.send(event('room-a', 0));
    await turn();
    const second = queue.send(event('room-a', 1));
    await turn();
    expect(requests).toHaveLength(1);
    requests[0]!.fail();
    await expect(first).rejects.toThrow('soketi down');
    await turn();
    expect(requests).toHaveLength(2);
    requests[1]!.answer();
    await second;
  });
});
