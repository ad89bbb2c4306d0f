/** The health routes: /healthz answers while serving, /readyz only once no collection is loading; other requests pass through. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withHealthRoutes } from '../../lib/api/health.ts';
import type { LoadState } from '../../lib/engine/database.ts';
import { NOOP_LOGGER } from '../../lib/engine/ports/logger.ts';

/** Databases of collections in the given load states. */
function fleet(states: Record<string, LoadState>) {
  return {
    listDatabases: async () => ['default'],
    listCollections: async () => Object.keys(states),
    getLoadState: async (_db: string, name: string) => ({ loadState: states[name], loadProgress: states[name] === 'LoadStateLoaded' ? 100 : 0 }),
  };
}

const get = (path: string) => ({ method: 'GET', path, headers: {}, body: '' });
const passedThrough = { status: 299, headers: {}, body: 'router' };

describe('health routes', () => {
  it('readyz is 503 while a collection loads and 200 once none does; healthz is 200 either way', async () => {
    const states: Record<string, LoadState> = { a: 'LoadStateLoaded', b: 'LoadStateLoading', c: 'LoadStateNotLoad' };
    const handle = withHealthRoutes(async () => passedThrough, fleet(states));
    const loading = await handle(get('/readyz'), NOOP_LOGGER);
    assert.equal(loading.status, 503);
    assert.deepEqual(JSON.parse(loading.body as string), { status: 'loading', loadingCollections: 1 });
    assert.equal((await handle(get('/healthz'), NOOP_LOGGER)).status, 200);
    states.b = 'LoadStateLoaded';
    const ready = await handle(get('/readyz'), NOOP_LOGGER);
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body as string), { status: 'ready' });
  });

  it('leaves every other request, and a POST to a health path, to the router', async () => {
    const handle = withHealthRoutes(async () => passedThrough, fleet({}));
    assert.equal((await handle(get('/v2/vectordb/collections/list'), NOOP_LOGGER)).status, 299);
    assert.equal((await handle({ ...get('/healthz'), method: 'POST' }, NOOP_LOGGER)).status, 299);
  });
});
