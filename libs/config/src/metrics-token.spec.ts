import { metricsTokenAccepted } from './metrics-token.js';

describe('metricsTokenAccepted', () => {
  it('lets every scrape in when no token is configured', () => {
    expect(metricsTokenAccepted(undefined, undefined)).toBe(true);
    expect(metricsTokenAccepted(undefined, 'Bearer anything')).toBe(true);
  });

  it.each([
    ['Bearer s3cret', true],
    ['bearer s3cret', true],
    ['Bearer  s3cret ', true],
    ['Bearer s3cre', false],
    ['Bearer s3cret2', false],
    ['Basic s3cret', false],
    ['s3cret', false],
    ['Bearer', false],
    [undefined, false],
    [['Bearer s3cret', 'Bearer s3cret'], false],
  ])('with a token, %p -> %p', (header, ok) => {
    expect(metricsTokenAccepted('s3cret', header)).toBe(ok);
  });
});
