import { parseCancelMessage } from './cancel.listener.js';

describe('parseCancelMessage', () => {
  it('reads the experiment id the API publishes, or a JSON object carrying it', () => {
    expect(parseCancelMessage('6f1c0e0a-0000-4000-8000-000000000001')).toBe('6f1c0e0a-0000-4000-8000-000000000001');
    expect(parseCancelMessage('{"experimentId":"abc"}')).toBe('abc');
  });

  it('ignores empty and malformed messages', () => {
    expect(parseCancelMessage('  ')).toBeUndefined();
    expect(parseCancelMessage('{not json')).toBeUndefined();
    expect(parseCancelMessage('{"id":1}')).toBeUndefined();
  });
});
