// Found by apiFuzz.test.ts: a stream message that is JSON but not an object (0, [], null, "x")
// was answered with zod's bare "Invalid input: expected object, received number", which names
// no field; every other refusal on /api/v1/stream starts with what was wrong (`message: …`).
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCluster, streamClient, waitFor, type TestCluster } from './testAgents.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('/api/v1/stream messages that are not objects', () => {
  it('answers each with an error that starts with message:', async () => {
    cluster = await startTestCluster([]);
    const client = await streamClient(cluster.api.url);
    const messages = ['0', '[]', 'null', '"subscribe"', 'true'];
    for (const message of messages) client.send(message);
    const errors = await waitFor(() => {
      const received = client.messages.filter((m) => m.type === 'error');
      return received.length === messages.length ? received : undefined;
    }, 'an error for each message');
    for (const error of errors) expect(error).toMatchObject({ type: 'error', error: expect.stringMatching(/^message: /) });
    client.close();
  });
});
