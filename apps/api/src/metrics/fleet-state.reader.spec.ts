import { pausedAware } from './fleet-state.reader.js';

describe('pausedAware', () => {
  const counts = { waiting: 2, prioritized: 3, delayed: 1, active: 1, completed: 7, failed: 0, 'waiting-children': 0 };

  it('reports every state, paused 0 while the queue runs', () => {
    expect(pausedAware(counts, false)).toEqual({ ...counts, paused: 0 });
    expect(pausedAware({}, false)).toEqual({ waiting: 0, prioritized: 0, delayed: 0, active: 0, completed: 0, failed: 0, paused: 0, 'waiting-children': 0 });
  });

  it('reports the runnable jobs of a paused queue as paused, not as backlog', () => {
    expect(pausedAware(counts, true)).toEqual({ ...counts, waiting: 0, prioritized: 0, paused: 5 });
  });
});
